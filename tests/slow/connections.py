#!/usr/bin/env python3
"""Slow connection run (make check-slow): a minute of 2000 idle and trickling connections against a
server limited to 1024 open files while a normal client keeps being answered (p99 under a second,
CPU and log bounded), then a SIGTERM drain after ten seconds of keep-alive submitters, and a drain
held by a client stalled in its body, which ends at the 10 s drain limit with exit 0.
EARSHOT_FLOOD_SECONDS overrides the length of the flood."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import TAP  # noqa: E402
import test_connections as conn  # noqa: E402

SECONDS = int(os.environ.get("EARSHOT_FLOOD_SECONDS", "60"))


def main():
    tap = TAP()

    def run_flood():
        figures = conn.flood(total=2000, seconds=SECONDS, log_lines_bound=12 + SECONDS // 10)
        conn.log("flood: " + json.dumps(figures))

    tap.run(f"{SECONDS} s of 2000 idle and trickling connections at 1024 open files", run_flood)
    tap.run("SIGTERM drain after 10 s of 16 keep-alive submitters",
            lambda: conn.drain(clients=16, load_seconds=10.0))
    tap.run("a body stalled at SIGTERM holds the drain 10 s at most, exit 0", conn.drain_limit)
    tap.finish()


if __name__ == "__main__":
    main()
