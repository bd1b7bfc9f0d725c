#!/usr/bin/env python3
"""Helpers for bench/run that wrk cannot do:
  pace URL RATE SECONDS CONNS     POST bench answers at a fixed RATE per second; prints
                                  "sent ok non2xx p99_ms"
  coldstart RUNS PORT BIN ARGS... start BIN RUNS times, time from exec to the first /healthz 200;
                                  prints the median and the worst in ms
  rsswatch PID OUT                write PID's peak VmRSS (kB) to OUT every 0.2 s until it exits
  rss PID                         print PID's VmRSS (kB)"""
import os
import socket
import subprocess
import sys
import threading
import time


def load_tokens():
    """The timing tokens of the file BENCH_TOKENS names (bench/tokens.lua), or none."""
    path = os.environ.get("BENCH_TOKENS")
    if not path:
        return []
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


TOKENS = load_tokens()


def post_request(host, port, path, i):
    token = ',"timing_token":"%s"' % TOKENS[i - 1] if i <= len(TOKENS) else ""
    body = ('{"answers":{"reason":"Price","score":%d,"email":"ann%d@example.com"},'
            '"meta":{"page":"https://shop.example.com/cart"}%s}' % (i % 11, i, token)).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def read_response(sock, buf):
    """Reads one HTTP response (Content-Length framed) from sock; returns (status, rest of buf)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        rest += chunk
    return status, rest[length:]


def pace(url, rate, seconds, conns):
    hostport, _, path = url.removeprefix("http://").partition("/")
    host, _, port = hostport.partition(":")
    port, path = int(port), "/" + path
    per_conn = rate / conns
    counter = [0]
    results = []
    lock = threading.Lock()
    start = time.monotonic() + 0.2
    end = start + seconds

    def worker(k):
        sock = socket.create_connection((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf, n, mine = b"", 0, []
        while True:
            due = start + (n + k / conns) / per_conn
            if due >= end:
                break
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            with lock:
                counter[0] += 1
                i = counter[0]
            t0 = time.monotonic()
            sock.sendall(post_request(host, port, path, i))
            status, buf = read_response(sock, buf)
            mine.append((status, time.monotonic() - t0))
            n += 1
        sock.close()
        with lock:
            results.extend(mine)
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    lat = sorted(r[1] for r in results)
    ok = sum(1 for r in results if 200 <= r[0] < 300)
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000 if lat else 0
    print(len(results), ok, len(results) - ok, f"{p99:.2f}")


def healthz_ok(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def coldstart(runs, port, argv):
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not healthz_ok(port):
            if p.poll() is not None or time.monotonic() - t0 > 20:
                print("coldstart: the server did not start", file=sys.stderr)
                p.kill()
                sys.exit(1)
            time.sleep(0.001)
        times.append((time.monotonic() - t0) * 1000)
        p.terminate()
        p.wait()
    times.sort()
    print(f"{times[len(times) // 2]:.1f} {times[-1]:.1f}")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def rsswatch(pid, out):
    peak = 0
    while True:
        try:
            peak = max(peak, rss_kb(pid))
        except OSError:
            return
        with open(out, "w") as f:
            f.write(f"{peak}\n")
        time.sleep(0.2)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "pace":
        pace(args[0], float(args[1]), float(args[2]), int(args[3]))
    elif cmd == "coldstart":
        coldstart(int(args[0]), int(args[1]), args[2:])
    elif cmd == "rsswatch":
        rsswatch(int(args[0]), args[1])
    elif cmd == "rss":
        print(rss_kb(int(args[0])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
