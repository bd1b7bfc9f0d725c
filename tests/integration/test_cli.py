#!/usr/bin/env python3
"""Integration tests: the earshot command line (check, serve refusing bad files, token, export, version)."""
import csv
import io
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, SRCDIR, TAP, Server, expect, expect_eq, run_earshot  # noqa: E402

GOOD = "id: hello\ntitle: Hello\nquestions:\n  - id: q\n    type: text\n    label: Q\n"


def t_version():
    rc, out, err = run_earshot("--version")
    expect_eq(rc, 0, "exit")
    expect(re.search(r"earshot \d+\.\d+\.\d+", out), "earshot version")
    expect(re.search(r"plugin ABI \d+\.\d+", out), "ABI version")
    for lib in ["libevent", "SQLite", "libyaml"]:
        expect(lib in out, f"{lib} version")
    expect(re.search(r"libpq \d+\.\d+ \(for postgresql:// databases\)", out), f"libpq, loaded on demand: {out}")


def t_usage_errors():
    rc, out, err = run_earshot("frobnicate")
    expect_eq(rc, 2, "unknown command")
    expect("hint" in err, "a hint")
    rc, out, err = run_earshot("serve", "--bogus")
    expect_eq(rc, 2, "unknown option")
    rc, out, err = run_earshot("export")
    expect_eq(rc, 2, "missing --form")
    rc, out, err = run_earshot("check", "--help")
    expect_eq(rc, 0, "help")
    expect("usage: earshot check" in out, "help text")


def t_token():
    rc, out, err = run_earshot("token")
    expect_eq(rc, 0, "exit")
    m = re.search(r"token: (\S+)", out)
    h = re.search(r'"sha256:([0-9a-f]{64})"', out)
    expect(m and h, f"token and hash printed: {out}")
    import hashlib
    expect_eq(hashlib.sha256(m.group(1).encode()).hexdigest(), h.group(1), "hash matches token")
    rc2, out2, _ = run_earshot("token")
    expect(out != out2, "tokens differ")


def t_check_good():
    s = Server(forms={"hello": GOOD})
    try:
        rc, out, err = run_earshot("check", "-c", s.config_path)
        expect_eq((rc, out), (0, ""), f"valid config: {err}")
        expect("valid" in err, "summary on stderr")
    finally:
        s.cleanup()


def t_check_repo_forms():
    s = Server(forms_from_repo=True)
    try:
        rc, out, err = run_earshot("check", "-c", s.config_path)
        expect_eq(rc, 0, f"bundled example forms are valid: {out}{err}")
    finally:
        s.cleanup()


def t_check_broken_forms_dir():
    broken = os.path.join(SRCDIR, "tests", "data", "forms-broken")
    s = Server()
    try:
        with open(s.config_path, "a") as f:
            pass
        text = open(s.config_path).read().replace("forms_dir: forms", f'forms_dir: "{broken}"')
        open(s.config_path, "w").write(text)
        rc, out, err = run_earshot("check", "-c", s.config_path)
        expect_eq(rc, 1, "problems found")
        got = [line.replace(broken, "tests/data/forms-broken") for line in out.splitlines()]
        want = [line for line in open(os.path.join(broken, "EXPECTED")).read().splitlines() if line]
        expect_eq(got, want, "every problem with its position")
        rc = s.start(expect_fail=True)
        expect_eq(rc, 1, "serve refuses to start")
        log = s.read_log().replace(broken, "tests/data/forms-broken")
        for line in want:
            expect(line in log, f"serve prints {line}")
    finally:
        s.cleanup()


def t_check_broken_config():
    s = Server(forms={"hello": GOOD})
    try:
        text = open(s.config_path).read() + "durability: fulll\nlimts:\n  x: 1\n"
        open(s.config_path, "w").write(text)
        rc, out, err = run_earshot("check", "-c", s.config_path)
        expect_eq(rc, 1, "problems found")
        lines = out.splitlines()
        expect(any(re.match(re.escape(s.config_path) + r":\d+:\d+: .*durability", x) for x in lines),
               f"durability problem with position: {out}")
        expect(any(re.match(re.escape(s.config_path) + r":\d+:\d+: .*limts", x) for x in lines),
               f"unknown key with position: {out}")
        rc = s.start(expect_fail=True)
        expect_eq(rc, 1, "serve refuses a bad config")
    finally:
        s.cleanup()


def t_export_cli_matches_http():
    s = Server(forms={"hello": GOOD})
    try:
        s.start()
        for i in range(25):
            s.submit("hello", {"q": f"answer, number {i} \"quoted\""})
        st, h, http_csv = s.request("GET", "/api/v1/forms/hello/export?format=csv", admin=True, raw=True)
        # While the server runs, the CLI reads its own snapshot.
        p = subprocess.run([BIN, "export", "-c", s.config_path, "--form", "hello"], capture_output=True)
        expect_eq(p.returncode, 0, p.stderr.decode())
        expect_eq(p.stdout, http_csv, "CLI and HTTP exports agree")
        rows = list(csv.reader(io.StringIO(p.stdout.decode(), newline="")))
        expect_eq(len(rows), 26, "header + 25")
        out = os.path.join(s.dir, "out.ndjson")
        rc, o, e = run_earshot("export", "-c", s.config_path, "--form", "hello", "--format", "ndjson", "-o", out)
        expect_eq(rc, 0, e)
        expect_eq(len(open(out).read().splitlines()), 25, "ndjson lines")
        rc, o, e = run_earshot("export", "-c", s.config_path, "--form", "hello", "--since", "2999-01-01")
        expect_eq((rc, len(o.splitlines())), (0, 1), "since filters: header only")
        rc, o, e = run_earshot("export", "-c", s.config_path, "--form", "nosuch")
        expect_eq(rc, 1, "unknown form")
        expect("nosuch" in e, "says which")
    finally:
        s.cleanup()


def t_embedded_default():
    # No config file in the working directory (the source tree has none): the embedded default,
    # serving the bundled forms of ./forms.
    rc, out, err = run_earshot("check", cwd=SRCDIR)
    expect_eq(rc, 0, f"embedded default is valid: {out}{err}")
    expect("embedded" in err, f"says it used the embedded default: {err}")


def t_postgresql_without_libpq():
    # libpq is loaded only for a postgresql:// database; without it the start stops with the reason,
    # and the address (which may hold a password) is not repeated.
    s = Server(forms={"hello": GOOD}, database="postgresql://ann:s3cret@127.0.0.1:1/nowhere")
    os.environ["EARSHOT_LIBPQ"] = "/nonexistent/libpq.so.5"
    try:
        expect_eq(s.start(expect_fail=True), 1, "serve refuses to start")
        log = s.read_log()
        expect("needs libpq (Debian package libpq5): cannot load /nonexistent/libpq.so.5" in log, log)
        expect("s3cret" not in log, f"the password stays out of the log: {log}")
        rc, out, err = run_earshot("--version")
        expect("libpq: not available" in out and "/nonexistent/libpq.so.5" in out, f"--version says so: {out}")
    finally:
        del os.environ["EARSHOT_LIBPQ"]
        s.cleanup()


def main():
    tap = TAP()
    for name, fn in [("--version", t_version), ("usage errors exit 2", t_usage_errors), ("token", t_token),
                     ("check on a valid config", t_check_good), ("bundled forms are valid", t_check_repo_forms),
                     ("check and serve on broken forms", t_check_broken_forms_dir),
                     ("check and serve on a broken config", t_check_broken_config),
                     ("export CLI equals HTTP export", t_export_cli_matches_http),
                     ("embedded default", t_embedded_default),
                     ("a postgresql:// database without libpq: a clear refusal", t_postgresql_without_libpq)]:
        tap.run(name, fn)
    tap.finish()


if __name__ == "__main__":
    main()
