#!/usr/bin/env python3
"""The browser runners against PostgreSQL (make check-slow, and a short version in scripts/test-all):
starts a throwaway PostgreSQL (tests/integration/postgres.py), gives each runner of tests/browser a
fresh empty database through EARSHOT_TEST_DATABASE (tests/browser/lib.mjs writes it into the server's
config as `database:`), runs it in headless Chromium and stops PostgreSQL afterwards. One TAP line
per runner, with its own "N passed, N failed" figures as a comment; the last line adds up the cases of
every runner.

    python3 tests/slow/browser_postgresql.py [RUNNER.mjs ...]   (default: every runner below)

Env: EARSHOT_BIN, EARSHOT_BUILDDIR (set by make), CHROMIUM, TEST_FILTER (passed on to the runners).

No runner case is skipped: the only one that reaches into the database itself, admin.mjs's answers
written ten days back, writes them with psql instead of sqlite3 (lib.mjs's ON_POSTGRES)."""
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER = os.path.join(HERE, "..", "browser")
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import postgres  # noqa: E402
from harness import TAP  # noqa: E402

RUNNERS = ["run.mjs", "hosted.mjs", "inbox.mjs", "admin.mjs", "target.mjs", "a11y.mjs"]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def missing():
    """Why the browser runners cannot run here, or None."""
    if not postgres.available():
        return "PostgreSQL's server is not installed (scripts/install-deps)"
    if not shutil.which("node"):
        return "node is not installed"
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM}"
    return None


def run_runner(pg, runner):
    """Runs one browser runner on a new database of pg; returns (passed, failed, its output)."""
    env = dict(os.environ, EARSHOT_TEST_DATABASE=pg.new_database())
    p = subprocess.run(["node", os.path.join(BROWSER, runner)], capture_output=True, text=True, env=env,
                       timeout=1200)
    out = p.stdout + p.stderr
    m = None
    for m in re.finditer(r"^(\d+) passed, (\d+) failed$", p.stdout, re.M):
        pass
    if not m:
        return 0, 1, out
    passed, failed = int(m.group(1)), int(m.group(2))
    if p.returncode != 0 and failed == 0:
        failed = 1
    return passed, failed, out


def main():
    runners = sys.argv[1:] or RUNNERS
    why = missing()
    if why:
        print(f"1..0 # SKIP {why}")
        print("0 passed, 0 failed")
        return
    tap = TAP()
    pg = postgres.Postgres()
    total = [0, 0]
    try:
        for runner in runners:
            def one(runner=runner):
                passed, failed, out = run_runner(pg, runner)
                total[0] += passed
                total[1] += failed
                print(f"# {runner} against PostgreSQL: {passed} passed, {failed} failed", flush=True)
                if failed:
                    failures = [line for line in out.splitlines() if line.startswith(("not ok", "  #", "Bail out", "# "))]
                    raise AssertionError("\n".join(failures[-80:]))
            tap.run(f"{runner} against PostgreSQL", one)
    finally:
        pg.cleanup()
    print("# browser runners against PostgreSQL, their cases together:", flush=True)
    print(f"{total[0]} passed, {total[1]} failed", flush=True)
    tap.finish()


if __name__ == "__main__":
    main()
