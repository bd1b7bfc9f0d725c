#!/usr/bin/env python3
"""The PostgreSQL matrix (make check-slow): the integration suite run again with every server on a
fresh database of a throwaway PostgreSQL (EARSHOT_TEST_DB=postgresql), then two nodes sharing one
database under a longer load with one node kill -9'd, and PostgreSQL restarted under load on two nodes.

A few integration cases inspect the SQLite file itself (opening data.db, making it unwritable); they
are listed in SQLITE_ONLY with the reason and reported as skipped."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(HERE, "..", "integration")
sys.path.insert(0, INTEGRATION)
import postgres  # noqa: E402
from harness import TAP  # noqa: E402
import test_postgresql  # noqa: E402

SUITES = ["test_http", "test_cli", "test_plugins", "test_hosted", "test_deliveries", "test_erase",
          "test_reliability", "test_addresses_origins", "test_json_spam", "test_export_xlsx",
          "test_surveys_cache", "test_outbox_batch", "test_alerts", "test_targeting", "test_confirm",
          "test_views"]
# Not run here: test_summary and test_response_detail fill their databases through Python's sqlite3 (the PostgreSQL summary is
# checked by test_postgresql.py), test_connections is about the HTTP layer only.

# (suite, case number) → why the case is about SQLite.
SQLITE_ONLY = {
    ("test_http", 28): "makes the SQLite file unwritable",
    ("test_http", 29): "reads stored client addresses from data.db",
    ("test_addresses_origins", 1): "reads stored client addresses from data.db",
    ("test_addresses_origins", 2): "reads stored client addresses from data.db",
    ("test_hosted", 12): "reads contacts from data.db",
    ("test_export_xlsx", 3): "fills data.db with 20,000 answers through Python's sqlite3",
    ("test_json_spam", 1): "counts rows in data.db",
    ("test_json_spam", 2): "counts rows in data.db",
    ("test_json_spam", 3): "counts rows in data.db",
    ("test_confirm", 1): "reads pending confirmations from data.db",
    ("test_views", 6): "writes view counts into data.db",
    ("test_views", 8): "reads view counts from data.db",
    ("test_targeting", 1): "a schedule 3 s ahead: creating a PostgreSQL database takes longer than that",
    ("test_reliability", 1): "reads the summary tables from data.db after each kill -9",
    ("test_export_xlsx", 3): "fills data.db with 20,000 answers through Python's sqlite3",
}


def run_suite(name):
    """Runs one integration file against PostgreSQL; returns (passed, failed, skipped, failure lines)."""
    env = dict(os.environ, EARSHOT_TEST_DB="postgresql")
    p = subprocess.run([sys.executable, os.path.join(INTEGRATION, name + ".py")], capture_output=True, text=True,
                       env=env, timeout=1800)
    passed = failed = skipped = 0
    failures = []
    detail = False
    for line in p.stdout.splitlines():
        m = re.match(r"^(not ok|ok) (\d+) - (.*)$", line)
        if not m:
            if detail and line.startswith("#"):
                failures.append("  " + line)  # the failed case's traceback
            continue
        detail = False
        if m.group(1) == "ok":
            passed += 1
        elif (name, int(m.group(2))) in SQLITE_ONLY:
            skipped += 1
        else:
            failed += 1
            failures.append(line)
            detail = True
    if p.returncode != 0 and not failures and failed == 0 and skipped == 0:
        failed += 1
        failures.append(f"{name} exited with {p.returncode}: {p.stderr[-2000:]}")
    return passed, failed, skipped, failures


def main():
    tap = TAP()
    if not postgres.available():
        print("1..0 # SKIP PostgreSQL's server is not installed (scripts/install-deps)")
        return
    for name in SUITES:
        def suite(name=name):
            passed, failed, skipped, failures = run_suite(name)
            print(f"# {name}: {passed} passed, {failed} failed, {skipped} skipped (SQLite only)", flush=True)
            if failures:
                raise AssertionError("\n".join(failures))
        tap.run(f"{name} against PostgreSQL", suite)
    pg = postgres.shared()
    tap.run("two nodes, one kill -9'd under a longer load", test_postgresql.two_nodes, pg, 150)
    tap.run("PostgreSQL restarted under load on two nodes", test_postgresql.restart_under_load, pg, 5)
    tap.finish()


if __name__ == "__main__":
    main()
