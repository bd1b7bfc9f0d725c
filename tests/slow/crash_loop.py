#!/usr/bin/env python3
"""Slow reliability run (make check-slow): about twenty rounds of kill -9 at random moments while
eight submitters send answers; afterwards every acknowledged answer is stored and the database passes
PRAGMA integrity_check (RELIABILITY.md #1). EARSHOT_CRASH_ROUNDS overrides the number of rounds."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import TAP  # noqa: E402
import test_reliability as rel  # noqa: E402

ROUNDS = int(os.environ.get("EARSHOT_CRASH_ROUNDS", "20"))


def main():
    tap = TAP()

    def run():
        figures = rel.crash_loop(rounds=ROUNDS, pause=(0.5, 3.0), threads=8)
        rel.log("crash loop: " + json.dumps(figures))

    tap.run(f"{ROUNDS} rounds of kill -9 under load: every acknowledged answer kept, integrity ok", run)
    tap.finish()


if __name__ == "__main__":
    main()
