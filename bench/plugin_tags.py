#!/usr/bin/env python3
"""How the cost of add_tag grows with the number of calls in one answer: a test plugin calls add_tag N
times over 200 distinct tags, for N = 1,000 to 100,000; the time of one submit is printed per N and per
call. Linear handling keeps the time per call flat; a scan of the tags on every call would multiply it
by the number of tags held.

    EARSHOT_BUILDDIR=_build python3 bench/plugin_tags.py
"""
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
BUILDDIR = os.path.abspath(os.environ.get("EARSHOT_BUILDDIR", os.path.join(HERE, "..", "_build")))
os.environ.setdefault("EARSHOT_BIN", os.path.join(BUILDDIR, "earshot"))
os.environ.setdefault("EARSHOT_SRCDIR", os.path.join(HERE, ".."))
from harness import Server  # noqa: E402

FORM = "id: f\ntitle: F\nquestions:\n  - id: score\n    type: nps\n    label: Score\n"


def one(n):
    s = Server(forms={"f": FORM}, extra_config=f"plugins:\n  - name: tags\n    path: behave.so\n    config: {{tag_calls: {n}}}\n")
    shutil.copyfile(os.path.join(BUILDDIR, "tests", "plugins", "behave.so"), os.path.join(s.dir, "behave.so"))
    os.chmod(os.path.join(s.dir, "behave.so"), 0o755)
    try:
        s.start()
        s.submit("f", {"score": 1})  # warm up
        t0 = time.perf_counter()
        st, h, body = s.submit("f", {"score": 2})
        dt = time.perf_counter() - t0
        assert st == 201, body
        return dt
    finally:
        s.cleanup()


def main():
    print(f"{'add_tag calls':>14} {'submit ms':>10} {'us per call':>12}")
    for n in (1000, 10000, 100000):
        dt = one(n)
        print(f"{n:>14} {dt * 1000:>10.1f} {dt / n * 1e6:>12.3f}")


if __name__ == "__main__":
    main()
