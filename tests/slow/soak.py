#!/usr/bin/env python3
"""Slow reliability run (make check-slow): a minute of eight submitters at a bounded rate plus an
export loop, with no 5xx, resident memory flat and the WAL bounded (RELIABILITY.md #2, #3); then 1000
stalled connections while a normal client keeps fast answers (#6). EARSHOT_SOAK_SECONDS overrides the
length of the soak."""
import json
import os
import resource
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import TAP  # noqa: E402
import test_reliability as rel  # noqa: E402

SECONDS = int(os.environ.get("EARSHOT_SOAK_SECONDS", "60"))
SLOW_CONNECTIONS = 1000


def raise_fd_limit(want):
    """Lifts the soft limit on open files (inherited by the server) so that both ends of the slow
    connections fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def main():
    tap = TAP()

    def run_soak():
        figures = rel.soak(SECONDS, threads=8, rate=50, rss_bound=16 * rel.MB, wal_bound=64 * rel.MB)
        rel.log("soak: " + json.dumps(figures))

    tap.run(f"{SECONDS} s of submits and exports: no 5xx, memory flat, WAL bounded", run_soak)
    raise_fd_limit(SLOW_CONNECTIONS * 2 + 256)
    tap.run(f"{SLOW_CONNECTIONS} stalled connections: others answered fast, stalled ones closed",
            rel.slow_connections, SLOW_CONNECTIONS)
    tap.finish()


if __name__ == "__main__":
    main()
