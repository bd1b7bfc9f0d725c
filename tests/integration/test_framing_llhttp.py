#!/usr/bin/env python3
"""Framing against the yardstick of http.md: the same raw requests go to earshot and to a bare Node.js
server (llhttp, strict by default; llhttp_server.js). Whatever llhttp refuses, earshot must refuse too:
its last answer a 400 (414, 431 or 501) and the connection closed, and never more answers than Node
gave. Requests both accept are listed too, so that a change in either shows. Skipped (with a TAP plan
of 0) when node is not installed."""
import os
import shutil
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TAP, expect  # noqa: E402
import test_reliability as rel  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
GET = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"


def post(headers, body):
    return rel.post(headers, body)


def chunked_body(*lines):
    return post(b"Transfer-Encoding: chunked\r\n", b"".join(lines))


# Shapes beyond the reliability suite's: edges of the grammar where parsers tend to differ.
EXTRA = {
    "plain GET": GET + b"\r\n",
    "two pipelined GETs": GET + b"\r\n" + GET + b"\r\n",
    "leading empty line": b"\r\n" + GET + b"\r\n",
    "JSON submit with Content-Length": post(b"Content-Length: 24\r\n", rel.BODY),
    "JSON submit, Content-Length with leading zeros": post(b"Content-Length: 0024\r\n", rel.BODY),
    "chunked submit": chunked_body(b"18\r\n", rel.BODY, b"\r\n0\r\n\r\n"),
    "chunked submit, leading zeros in the size": chunked_body(b"0018\r\n", rel.BODY, b"\r\n0\r\n\r\n"),
    "chunked submit with chunk extensions": chunked_body(b"1;a=b\r\n", rel.BODY[:1], b"\r\n",
                                                         b"17;q=\"x y\"\r\n", rel.BODY[1:],
                                                         b"\r\n0\r\n\r\n"),
    "two empty lines before the request line": b"\r\n\r\n" + GET + b"\r\n",
    "chunked submit with a trailer": chunked_body(b"18\r\n", rel.BODY, b"\r\n0\r\nX-T: 1\r\n\r\n"),
    "Transfer-Encoding: Chunked (case)": post(b"Transfer-Encoding: Chunked\r\n",
                                              b"18\r\n" + rel.BODY + b"\r\n0\r\n\r\n"),
    "obs-text in a header value": GET + b"X-A: caf\xc3\xa9\r\n\r\n",
    "tab inside a header value": GET + b"X-A: a\tb\r\n\r\n",
    "empty header value": GET + b"X-A:\r\n\r\n",
    "tab before a header colon": GET + b"X-A\t: b\r\n\r\n",
    "header line without a colon": GET + b"X-A b\r\n\r\n",
    "header line with an empty name": GET + b": b\r\n\r\n",
    "DEL in a header value": GET + b"X-A: a\x7fb\r\n\r\n",
    "ESC in a header value": GET + b"X-A: a\x1bb\r\n\r\n",
    "CR alone ending the request line": b"GET /healthz HTTP/1.1\rHost: x\r\n\r\n",
    "LF alone ending the head": GET + b"\n",
    "two spaces after the method": b"GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "tab between method and target": b"GET\t/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "space after the version": b"GET /healthz HTTP/1.1 \r\nHost: x\r\n\r\n",
    "lower-case HTTP version": b"GET /healthz http/1.1\r\nHost: x\r\n\r\n",
    "HTTP/1.10": b"GET /healthz HTTP/1.10\r\nHost: x\r\n\r\n",
    "HTTP/0.9 request line": b"GET /healthz\r\n\r\n",
    "unknown method": b"BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "space inside the target": b"GET /health z HTTP/1.1\r\nHost: x\r\n\r\n",
    "control byte in the target": b"GET /health\x01z HTTP/1.1\r\nHost: x\r\n\r\n",
    "Content-Length: 0x18": post(b"Content-Length: 0x18\r\n", rel.BODY),
    "Content-Length with a decimal point": post(b"Content-Length: 24.0\r\n", rel.BODY),
    "empty Content-Length": post(b"Content-Length:\r\n", rel.BODY),
    "Content-Length overflowing 64 bits": post(b"Content-Length: 99999999999999999999999\r\n", rel.BODY),
    "chunk size with a space before the extension": chunked_body(b"18 ;a=b\r\n", rel.BODY, b"\r\n0\r\n\r\n"),
    "chunk extension with a control byte": chunked_body(b"18;a=\x01\r\n", rel.BODY, b"\r\n0\r\n\r\n"),
    "chunk data ended by LF alone": chunked_body(b"18\r\n", rel.BODY, b"\n0\r\n\r\n"),
    "chunk data not ended by CRLF": chunked_body(b"18\r\n", rel.BODY, b"XX0\r\n\r\n"),
    "last chunk ended by LF alone": chunked_body(b"18\r\n", rel.BODY, b"\r\n0\n\r\n"),
    "trailer line ended by LF alone": chunked_body(b"18\r\n", rel.BODY, b"\r\n0\r\nX-T: 1\n\r\n"),
    "Transfer-Encoding: chunked;q=1": post(b"Transfer-Encoding: chunked;q=1\r\n",
                                           b"18\r\n" + rel.BODY + b"\r\n0\r\n\r\n"),
    "empty Transfer-Encoding": post(b"Transfer-Encoding:\r\n", rel.BODY),
}


def start_node():
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        return None, None
    proc = subprocess.Popen([node, os.path.join(HERE, "llhttp_server.js")], stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    return proc, port


def send_and_read(port, data, first=3.0, idle=0.3):
    """Sends data on a new connection; reads until the server closes it, or until nothing more came
    for `idle` seconds after the first byte (`first` seconds before it). Returns (bytes, closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=first) as c:
        try:
            c.sendall(data)
        except OSError:
            pass
        out = b""
        try:
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    return out, True
                out += chunk
                c.settimeout(idle)
        except socket.timeout:
            return out, False
        except ConnectionResetError:
            return out, True


def exchange(port, data, out, key):
    out[key] = send_and_read(port, data)


def compare(node_port, earshot, name, data):
    """Sends data to both servers; earshot must refuse whatever Node refuses."""
    out = {}
    threads = [threading.Thread(target=exchange, args=(node_port, data, out, "node")),
               threading.Thread(target=exchange, args=(earshot.port, data, out, "earshot"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (node_reply, node_closed), (ours, ours_closed) = out["node"], out["earshot"]
    node_st, our_st = rel.response_statuses(node_reply), rel.response_statuses(ours)
    node_refused = any(st >= 400 for st in node_st) or (not node_st and node_closed)
    our_refused = bool(our_st) and our_st[-1] in (400, 414, 431, 501) and ours_closed
    rel.log(f"{name}: node {node_st or '-'}{' closed' if node_closed else ''}; "
            f"earshot {our_st or '-'}{' closed' if ours_closed else ''}")
    rel.healthy(earshot)
    if node_refused:
        expect(our_refused, f"llhttp refuses it, earshot answered {our_st} (closed: {ours_closed})")
        node_answers = len([st for st in node_st if st < 400])
        expect(len([st for st in our_st if st < 400]) <= node_answers,
               f"earshot answered more requests ({our_st}) than llhttp framed ({node_st})")
    return node_refused, our_refused


def main():
    tap = TAP()
    node, node_port = start_node()
    if not node:
        print("1..0 # SKIP node is not installed", flush=True)
        return
    s = rel.new_server()
    tally = {"both refuse": 0, "both accept": 0, "only earshot refuses": 0}
    try:
        shapes = dict(rel.SMUGGLING)
        shapes.update(rel.SMUGGLING_501)
        shapes.update(EXTRA)
        for name, data in shapes.items():
            def one(name=name, data=data):
                theirs, ours = compare(node_port, s, name, data)
                key = "both refuse" if theirs and ours else "only earshot refuses" if ours else "both accept"
                tally[key] += 1
            tap.run(f"llhttp yardstick: {name}", one)
        rel.log("llhttp yardstick: " + ", ".join(f"{k} {v}" for k, v in tally.items()))
    finally:
        s.cleanup()
        node.terminate()
        node.wait()
    tap.finish()


if __name__ == "__main__":
    main()
