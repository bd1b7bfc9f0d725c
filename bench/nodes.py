#!/usr/bin/env python3
"""Durable JSON submits on one node with SQLite, one node with PostgreSQL and two nodes sharing one
PostgreSQL, measured with wrk in one run and printed as ratios to the one-node SQLite figure.

    bench/nodes.py [SECONDS] [CONNECTIONS]     (defaults 10 s per scenario, 50 connections in all)

EARSHOT_BIN names the binary (default _build/earshot). PostgreSQL is a throwaway server started from
Debian's packages in a temporary directory (tests/integration/postgres.py) with its defaults, fsync
on. With two nodes, two wrk processes run at once, each with half the connections against one node,
and their requests per second are added. Every scenario runs on this machine: the nodes, wrk and
PostgreSQL share its cores, so the two-node figure shows what coordination through one database costs,
not what a second machine would add. Not a pass/fail test."""
import hashlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import postgres  # noqa: E402

BIN = os.environ.get("EARSHOT_BIN", os.path.join(HERE, "..", "_build", "earshot"))
SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
CONNECTIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 50
PATH = "/api/v1/forms/bench/responses"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, database):
        self.dir = tempfile.mkdtemp(prefix="earshot-bench-")
        self.port = free_port()
        os.mkdir(os.path.join(self.dir, "forms"))
        shutil.copy(os.path.join(HERE, "bench-form.yaml"), os.path.join(self.dir, "forms", "bench.yaml"))
        digest = hashlib.sha256(secrets.token_hex(16).encode()).hexdigest()
        with open(os.path.join(self.dir, "earshot.yaml"), "w") as f:
            f.write(f"listen: 127.0.0.1:{self.port}\ndatabase: {database}\ndurability: full\nforms_dir: forms\n"
                    "limits: {submissions_per_minute: 100000000, min_fill_seconds: 0, max_connections: 4096}\n"
                    f"admin: {{tokens: [\"sha256:{digest}\"]}}\nplugins: []\n")
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen([BIN, "serve", "-c", "earshot.yaml"], cwd=self.dir, stdout=self.log,
                                     stderr=self.log)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"bench: the server did not start: {open(self.log.name).read()}")

    def url(self):
        return f"http://127.0.0.1:{self.port}{PATH}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def wrk(urls):
    """Runs one wrk per URL at once (the connections split between them); returns (req/s summed,
    worst p99 text, non-2xx summed)."""
    per = max(1, CONNECTIONS // len(urls))
    procs = [subprocess.Popen(["wrk", "-t1", f"-c{per}", f"-d{SECONDS}s", "-s", os.path.join(HERE, "post.lua"),
                               "--latency", u], stdout=subprocess.PIPE, text=True) for u in urls]
    rps, p99s, bad = 0.0, [], 0
    for p in procs:
        out = p.communicate()[0]
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        rps += float(m.group(1)) if m else 0.0
        m = re.search(r"^\s+99%\s+(\S+)", out, re.M)
        p99s.append(m.group(1) if m else "?")
        m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        bad += int(m.group(1)) if m else 0
    return rps, ", ".join(p99s), bad


def scenario(label, databases):
    nodes = [Node(db) for db in databases]
    try:
        time.sleep(0.5)
        rps, p99, bad = wrk([n.url() for n in nodes])
    finally:
        for n in nodes:
            n.stop()
    print(f"{label:<40} {rps:10.0f} req/s  p99 {p99:<18} non-2xx {bad}", flush=True)
    return rps


def main():
    for tool in ("wrk",):
        if not shutil.which(tool):
            raise SystemExit(f"bench: {tool} is missing")
    if not postgres.available():
        raise SystemExit("bench: PostgreSQL's server is missing (scripts/install-deps)")
    print(f"earshot nodes benchmark: {SECONDS}s per scenario, {CONNECTIONS} connections, {os.cpu_count()} cores, "
          f"load {open('/proc/loadavg').read().split()[0]}", flush=True)
    pg = postgres.Postgres(fsync=True)
    work = tempfile.mkdtemp(prefix="earshot-bench-db-")
    try:
        sqlite = scenario("one node, SQLite", [os.path.join(work, "bench.db")])
        one = scenario("one node, PostgreSQL", [pg.new_database()])
        url = pg.new_database()
        two = scenario("two nodes, one PostgreSQL", [url, url])
    finally:
        pg.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("| durable submits | req/s | ratio to one node on SQLite |")
    print("| --- | --- | --- |")
    for label, v in (("one node, SQLite", sqlite), ("one node, PostgreSQL", one), ("two nodes, one PostgreSQL", two)):
        print(f"| {label} | {v:.0f} | {v / sqlite if sqlite else 0:.2f} |")


if __name__ == "__main__":
    main()
