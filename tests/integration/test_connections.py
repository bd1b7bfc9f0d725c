#!/usr/bin/env python3
"""Connection handling: a flood of idle and trickling connections against a server limited to 1024
open files (prlimit) while a normal client keeps being answered; the oldest idle connection closed
first at limits.max_connections; accepting paused, not spinning, when descriptors run out; and the
SIGTERM drain with keep-alive clients (every request gets its
reply or a clean close before it was read, nothing acknowledged is lost, the WAL is checkpointed).

The functions take their durations and counts as parameters: tests/slow/connections.py runs the flood
for a minute (`make check-slow`)."""
import json
import os
import re
import resource
import selectors
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TAP, VALGRIND, Server, expect, expect_eq  # noqa: E402
import test_reliability as rel  # noqa: E402

FORM_ID, FORM, SUBMIT_PATH = rel.FORM_ID, rel.FORM, rel.SUBMIT_PATH
log = rel.log


def raise_own_fd_limit(want):
    """Lifts this process's soft limit on open files (the client side of a flood needs many)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def submit_bytes(note, close=False):
    body = json.dumps({"answers": {"note": note}}).encode()
    return (f"POST {SUBMIT_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n" + ("Connection: close\r\n" if close else "") + "\r\n").encode() + body


def read_response(sock):
    """Reads one response framed by Content-Length. Returns (status, headers dict, body), or None when
    the connection closed before a single byte came; raises AssertionError on a partial response."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            expect(data == b"", f"connection closed inside a response head: {data[:80]!r}")
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        expect(chunk, f"connection closed inside a response body ({len(body)} of {length} bytes)")
        body += chunk
    expect_eq(len(body), length, "body length (a second response glued on?)")
    return status, headers, body


def stored_notes(s):
    """Notes of every stored answer, read from the (stopped) server's database."""
    db = sqlite3.connect(os.path.join(s.dir, "data.db"))
    try:
        return {json.loads(a).get("note") for (a,) in db.execute("SELECT answers FROM responses")}
    finally:
        db.close()


# ---- flood ---------------------------------------------------------------------------------------

class Flood:
    """`total` connections from one client: half send nothing, half trickle a request head one byte
    every half second. Connections the server closes are replaced, at most `reopen_per_s` a second,
    so that the pressure lasts."""

    def __init__(self, port, total, reopen_per_s=200):
        self.port = port
        self.total = total
        self.reopen_per_s = reopen_per_s
        self.sel = selectors.DefaultSelector()
        self.trickling = set()
        self.opened = 0
        self.closed_by_server = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, trickle):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", self.port))
        self.sel.register(c, selectors.EVENT_READ, trickle)
        if trickle:
            self.trickling.add(c)
        self.opened += 1

    def _drop(self, c):
        self.sel.unregister(c)
        self.trickling.discard(c)
        c.close()

    def _run(self):
        for i in range(self.total):
            self._open(trickle=i % 2 == 1)
        head = f"POST {SUBMIT_PATH} HTTP/1.1\r\nHost: x\r\nX-Trickle: ".encode()
        started = {}
        next_trickle = time.monotonic()
        budget = 0.0
        last = time.monotonic()
        while not self.stopping.is_set():
            for key, _ in self.sel.select(timeout=0.05):
                c = key.fileobj
                try:
                    gone = c.recv(4096) == b""
                except BlockingIOError:
                    gone = False
                except OSError:
                    gone = True
                if gone:
                    self.closed_by_server += 1
                    self._drop(c)
            now = time.monotonic()
            if now >= next_trickle:
                next_trickle = now + 0.5
                for c in list(self.trickling):
                    try:
                        c.send(b"a" if started.get(c) else head)
                        started[c] = True
                    except (BlockingIOError, OSError):
                        pass
            budget = min(budget + (now - last) * self.reopen_per_s, self.reopen_per_s)
            last = now
            while len(self.sel.get_map()) < self.total and budget >= 1:
                budget -= 1
                try:
                    self._open(trickle=self.opened % 2 == 1)
                except OSError:
                    break
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        self.sel.close()

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=30)


def probe_once(s, n):
    """One /healthz and one JSON submit, each on a connection of its own. Returns their latencies."""
    out = []
    t = time.monotonic()
    st, _, body = s.request("GET", "/healthz")
    out.append(time.monotonic() - t)
    expect_eq(st, 200, "healthz status during the flood")
    t = time.monotonic()
    st, _, body = s.submit(FORM_ID, {"note": f"probe-{n}"})
    out.append(time.monotonic() - t)
    expect_eq(st, 201, f"submit status during the flood: {body}")
    return out


def flood(total=2000, seconds=4.0, nofile=1024, p99_bound=1.0, cpu_bound=0.6, log_lines_bound=12):
    """`total` idle and trickling connections against a server run under `prlimit --nofile`, for
    `seconds`, while a normal client asks /healthz and submits answers: all answered, p99 under
    p99_bound, the server's CPU share under cpu_bound of one core, and its log a handful of lines.
    Returns the figures."""
    raise_own_fd_limit(total + 512)
    s = Server(forms={FORM_ID: FORM}, limits={"header_timeout_seconds": 60})
    s.prefix = ["prlimit", f"--nofile={nofile}"]
    s.start()
    fl = None
    try:
        fl = Flood(s.port, total).start()
        time.sleep(1.0)                            # the flood is in place
        cpu0, t0 = cpu_seconds(s.proc.pid), time.monotonic()
        lat, n = [], 0
        while time.monotonic() - t0 < seconds:
            lat += probe_once(s, n)
            n += 1
            time.sleep(0.05)
        cpu = (cpu_seconds(s.proc.pid) - cpu0) / (time.monotonic() - t0)
        fl.stop()
        lat.sort()
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        log_text = s.read_log()
        lines = [line for line in log_text.splitlines() if line.strip()]
        figures = {"connections_opened": fl.opened, "closed_by_server": fl.closed_by_server,
                   "probes": len(lat), "p50_ms": round(statistics.median(lat) * 1000, 1),
                   "p99_ms": round(p99 * 1000, 1), "max_ms": round(lat[-1] * 1000, 1),
                   "server_cpu_share": round(cpu, 2), "log_lines": len(lines)}
        logged = re.search(r"open files limit (\d+)", log_text)
        # valgrind keeps a few descriptors of the limit for itself
        expect(logged and nofile - 64 <= int(logged.group(1)) <= nofile, "the open-files figure is not logged")
        expect(fl.closed_by_server > 0, "the server closed none of the flood's connections")
        if not VALGRIND:                           # timings under valgrind say nothing
            expect(p99 < p99_bound, f"p99 {p99 * 1000:.0f} ms")
            expect(cpu < cpu_bound, f"server CPU share {cpu:.2f} of a core")
        expect(len(lines) <= log_lines_bound, f"{len(lines)} log lines:\n" + "\n".join(lines[:20]))
        rel.healthy(s)
        expect_eq(s.stop(), 0, "exit status after SIGTERM")
        return figures
    finally:
        if fl:
            fl.stop()
        s.cleanup()


# ---- the limit -----------------------------------------------------------------------------------

def oldest_idle_closed_first(limit=20):
    """At limits.max_connections, a new connection closes the oldest idle one; the newest ones and
    the new client stay served."""
    s = rel.new_server(max_connections=limit, header_timeout_seconds=30)
    conns = []
    try:
        for _ in range(limit):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=2)
            conns.append(c)
            time.sleep(0.01)
        time.sleep(0.2)
        rel.healthy(s)                              # one more connection: over the limit
        conns[0].settimeout(2)
        try:
            expect_eq(conns[0].recv(1), b"", "the oldest idle connection is closed")
        except ConnectionResetError:
            pass
        for c in conns[1:]:
            c.settimeout(0.05)
            try:
                c.recv(1)
                raise AssertionError("a newer idle connection was closed")
            except socket.timeout:
                pass
        # the newest connection is still served
        conns[-1].settimeout(5)
        conns[-1].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = read_response(conns[-1])
        expect(reply and reply[0] == 200, f"newest connection answered {reply}")
        expect_eq(s.read_log().count("connections open"), 1, "limit log lines")
    finally:
        for c in conns:
            c.close()
        s.cleanup()


def out_of_descriptors(seconds=3.0, nofile=64, extra=100):
    """When accept() fails for want of descriptors (the limit lowered under a running server, below
    what its connection cap expects), the server pauses accepting instead of spinning: its CPU stays
    low, the failure is logged about once a second with a count, and once descriptors are free again
    new clients are served."""
    s = rel.new_server(header_timeout_seconds=60)
    conns = []
    try:
        subprocess.run(["prlimit", "--pid", str(s.proc.pid), f"--nofile={nofile}:{nofile}"], check=True)
        for _ in range(extra):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", s.port))
            conns.append(c)
        time.sleep(0.5)
        cpu0, t0 = cpu_seconds(s.proc.pid), time.monotonic()
        time.sleep(seconds)
        cpu = (cpu_seconds(s.proc.pid) - cpu0) / (time.monotonic() - t0)
        text = s.read_log()
        failures = [line for line in text.splitlines() if "accept failed: Too many open files" in line]
        expect(failures, "no accept failure logged:\n" + text)
        expect(len(failures) <= seconds + 2, f"{len(failures)} accept failure lines in {seconds + 0.5:.1f} s")
        if not VALGRIND:
            expect(cpu < 0.3, f"server CPU share {cpu:.2f} of a core while out of descriptors")
        for c in conns:
            c.close()
        conns = []
        time.sleep(0.5)
        rel.healthy(s)
        log(f"out of descriptors: {len(failures)} log line(s), CPU share {cpu:.2f}")
    finally:
        for c in conns:
            c.close()
        s.cleanup()


# ---- drain ---------------------------------------------------------------------------------------

class KeepAliveSubmitter:
    """Submits answers one after another on a keep-alive connection, reconnecting when the server
    closes it, until connecting fails. Records each request's outcome: ("reply", status, headers,
    note) or ("closed", note) when the connection closed before any byte of a reply."""

    def __init__(self, port, name):
        self.port = port
        self.name = name
        self.outcomes = []
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        sock, n = None, 0
        try:
            while True:
                if sock is None:
                    try:
                        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                    except OSError:
                        return                                 # the listener is gone
                note = f"{self.name}-{n}"
                n += 1
                try:
                    sock.sendall(submit_bytes(note))
                except OSError:
                    self.outcomes.append(("closed", note))
                    sock.close()
                    sock = None
                    continue
                reply = read_response(sock)
                if reply is None:
                    self.outcomes.append(("closed", note))
                    sock.close()
                    sock = None
                    continue
                status, headers, _ = reply
                self.outcomes.append(("reply", status, headers, note))
                if headers.get("connection", "").lower() == "close":
                    sock.close()
                    sock = None
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e


def drain(clients=8, load_seconds=1.0, drain_bound=5.0):
    """SIGTERM while keep-alive clients submit: every request gets its reply or a clean close before
    the server read it; a request whose body is still arriving at SIGTERM is answered with
    `Connection: close`; a keep-alive connection that was idle at SIGTERM reads nothing more; the
    server exits 0 quickly; every acknowledged answer is stored, no unacknowledged one is; the WAL is
    empty after exit."""
    s = rel.new_server(header_timeout_seconds=30)
    subs = []
    try:
        subs = [KeepAliveSubmitter(s.port, f"c{i}") for i in range(clients)]
        for k in subs:
            k.thread.start()
        idle = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        idle.sendall(submit_bytes("idle-0"))
        expect_eq(read_response(idle)[0], 201, "idle client's first answer")
        slow = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        slow_req = submit_bytes("slow-0")
        time.sleep(load_seconds)
        slow.sendall(slow_req[:-5])                       # the body is not complete yet
        time.sleep(0.1)
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        slow.sendall(slow_req[-5:])
        slow_reply = read_response(slow)
        try:
            idle.sendall(submit_bytes("idle-1"))
            idle_reply = read_response(idle)
        except (BrokenPipeError, ConnectionResetError):
            idle_reply = None
        rc = s.proc.wait(timeout=30)
        took = time.monotonic() - t0
        s.log.close()
        for k in subs:
            k.thread.join(timeout=15)
        slow.close()
        idle.close()
        expect_eq(rc, 0, "exit status")
        expect(took < drain_bound, f"the drain took {took:.1f} s")
        for k in subs:
            expect(k.error is None, f"{k.name}: {k.error!r}")
        expect(slow_reply is not None and slow_reply[0] == 201, f"in-flight request answered {slow_reply}")
        expect_eq(slow_reply[1].get("connection", "").lower(), "close", "in-flight reply's Connection header")
        expect(idle_reply is None, f"a request sent after SIGTERM on an idle connection was answered: {idle_reply}")
        notes = stored_notes(s)
        replied = [o for k in subs for o in k.outcomes if o[0] == "reply"]
        closed = [o for k in subs for o in k.outcomes if o[0] == "closed"]
        expect(replied, "no request was answered")
        expect_eq({o[1] for o in replied}, {201}, "statuses")
        lost = [o[3] for o in replied if o[3] not in notes]
        expect(not lost, f"acknowledged answers missing: {lost[:5]}")
        read_anyway = [o[1] for o in closed if o[1] in notes]
        expect(not read_anyway, f"answers stored without a reply: {read_anyway[:5]}")
        expect("slow-0" in notes and "idle-1" not in notes, "the in-flight answer stored, the late one not")
        wal = os.path.join(s.dir, "data.db-wal")
        expect(not os.path.exists(wal) or os.path.getsize(wal) == 0,
               f"WAL left with {os.path.getsize(wal) if os.path.exists(wal) else 0} bytes")
        text = s.read_log()
        expect("stopped cleanly" in text and "drain limit reached" not in text, text[-400:])
        log(f"drain: {len(replied)} answered, {len(closed)} closed before being read, exit after {took:.2f} s")
    finally:
        s.cleanup()


def drain_limit(limit=10.0):
    """A client that stalls in the middle of its body at SIGTERM holds the drain at most `limit`
    seconds; the server then logs it and still exits 0."""
    s = rel.new_server(header_timeout_seconds=60)
    try:
        stalled = socket.create_connection(("127.0.0.1", s.port), timeout=30)
        stalled.sendall(submit_bytes("stalled")[:-3])
        time.sleep(0.2)
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        rc = s.proc.wait(timeout=limit + 20)
        took = time.monotonic() - t0
        s.log.close()
        stalled.close()
        expect_eq(rc, 0, "exit status")
        expect(limit - 1 <= took <= limit + 3, f"exit after {took:.1f} s")
        expect("drain limit reached with 0 requests waiting and 1 connection(s) open" in s.read_log(),
               s.read_log()[-300:])
    finally:
        s.cleanup()


def main():
    tap = TAP()
    tap.run("at max_connections the oldest idle connection is closed first", oldest_idle_closed_first)

    def short_flood():
        # The normal suite runs beside other tests on a shared machine: its bounds only catch a
        # server that spins or stops answering (the failure this guards against: ~95 % CPU, /healthz
        # silent). make check-slow holds the one-second p99 on a minute-long flood.
        log("flood: " + json.dumps(flood(total=2000, seconds=4.0, p99_bound=3.0, cpu_bound=0.9)))

    tap.run("2000 idle and trickling connections at 1024 open files: others answered, CPU and log bounded",
            short_flood)
    tap.run("out of descriptors: accepting pauses, no spinning, a log line a second", out_of_descriptors)
    tap.run("SIGTERM drain with keep-alive clients: a reply or a clean close for each, WAL empty", drain)
    tap.finish()


if __name__ == "__main__":
    main()
