"""Integration-test harness: starts the real earshot binary on a free loopback port with a config
written for the test, talks HTTP to it, receives its webhooks on a loopback receiver, and reports in
TAP (read by automake's tap-driver)."""
import hashlib
import http.client
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SRCDIR = os.environ.get("EARSHOT_SRCDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BIN = os.environ.get("EARSHOT_BIN", os.path.join(SRCDIR, "_build", "earshot"))
# Set EARSHOT_VALGRIND=1 to run every server under valgrind's leak checker.
VALGRIND = os.environ.get("EARSHOT_VALGRIND") == "1"
# Set EARSHOT_TEST_DB=postgresql to give every server a fresh database in a throwaway PostgreSQL
# (postgres.py) instead of a SQLite file.
TEST_DB = os.environ.get("EARSHOT_TEST_DB", "sqlite")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def yaml_quote(s):
    return json.dumps(s)  # JSON strings are valid YAML double-quoted scalars


class Server:
    """One earshot server with its own directory, config, forms and database."""

    def __init__(self, forms=None, extra_config="", forms_from_repo=False, limits=None, database=None):
        """database: a postgresql:// URL; by default data.db, or a new PostgreSQL database when
        EARSHOT_TEST_DB=postgresql."""
        self.dir = tempfile.mkdtemp(prefix="earshot-it-")
        if database is None and TEST_DB == "postgresql":
            import postgres
            database = postgres.shared().new_database()
        self.database = database or "data.db"
        self.port = free_port()
        self.token = "es_" + secrets.token_hex(16)
        digest = hashlib.sha256(self.token.encode()).hexdigest()
        self.forms_dir = os.path.join(self.dir, "forms")
        if forms_from_repo:
            shutil.copytree(os.path.join(SRCDIR, "forms"), self.forms_dir)
        else:
            os.mkdir(self.forms_dir)
        for name, text in (forms or {}).items():
            self.write_form(name, text)
        lim = {"max_body_bytes": 4096, "submissions_per_minute": 100000, "min_fill_seconds": 0,
               "header_timeout_seconds": 2}
        lim.update(limits or {})
        self.config_path = os.path.join(self.dir, "earshot.yaml")
        with open(self.config_path, "w") as f:
            f.write(f"listen: 127.0.0.1:{self.port}\n"
                    f"public_url: http://127.0.0.1:{self.port}\n"
                    f"database: {yaml_quote(self.database)}\n"
                    f"forms_dir: forms\n"
                    f"static_dir: {yaml_quote(os.path.join(SRCDIR, 'static'))}\n"
                    "limits:\n" + "".join(f"  {k}: {v}\n" for k, v in lim.items()) +
                    f"admin:\n  tokens: [\"sha256:{digest}\"]\n" + extra_config +
                    # without plugins: the shipped ones would load; a test names the plugins it wants
                    ("" if "\nplugins:" in "\n" + extra_config else "plugins: []\n"))
        self.proc = None
        self.prefix = []          # a command that runs the server, e.g. ["prlimit", "--nofile=1024"]
        self.log_path = os.path.join(self.dir, "server.log")

    def write_form(self, name, text):
        with open(os.path.join(self.forms_dir, name + ".yaml"), "w") as f:
            f.write(text)

    def start(self, expect_fail=False, cwd=None):
        cmd = [BIN, "serve", "-c", self.config_path]
        if VALGRIND:
            cmd = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
                   "--error-exitcode=99", "--quiet"] + cmd
        cmd = self.prefix + cmd
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, cwd=cwd or self.dir)
        deadline = time.time() + (60 if VALGRIND else 15)
        while time.time() < deadline:
            if self.proc.poll() is not None:
                if expect_fail:
                    return self.proc.returncode
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return 0
            except OSError:
                time.sleep(0.05)
        raise AssertionError("server did not start listening")

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        return rc

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, method, path, body=None, headers=None, admin=False, raw=False):
        """Returns (status, headers dict lower-cased, body bytes or parsed JSON)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        hdrs = dict(headers or {})
        if admin:
            hdrs["Authorization"] = "Bearer " + self.token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        h = {k.lower(): v for k, v in resp.getheaders()}
        conn.close()
        if not raw and h.get("content-type", "").startswith("application/json") and data:
            data = json.loads(data)
        return resp.status, h, data

    def submit(self, form, answers, meta=None, headers=None, **extra):
        body = {"answers": answers}
        if meta is not None:
            body["meta"] = meta
        body.update(extra)
        return self.request("POST", f"/api/v1/forms/{form}/responses", body, headers)

    def raw(self, data, read_timeout=5):
        """Sends raw bytes on a new connection; returns what came back before close or timeout."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=read_timeout) as s:
            s.sendall(data)
            out = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    out += chunk
            except socket.timeout:
                pass
            return out


class Receiver:
    """A loopback webhook receiver: answers 503 to the first `fail_first` requests, then 204;
    in hang mode it accepts and never answers. Every request is recorded."""

    def __init__(self, fail_first=0, hang=False):
        self.fail_first = fail_first
        self.hang = hang
        self.release = threading.Event()
        self.requests = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                              "body": body, "at": time.time(), "path": self.path})
                    n = len(receiver.requests)
                if receiver.hang:
                    receiver.release.wait(60)
                    return
                self.send_response(503 if n <= receiver.fail_first else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def seen(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def run_earshot(*args, cwd=None, timeout=60):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class TAP:
    """Minimal TAP producer: each check is one numbered test line."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def run(self, name, fn, *args):
        self.n += 1
        try:
            fn(*args)
            print(f"ok {self.n} - {name}", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
            self.failed += 1
            print(f"not ok {self.n} - {name}", flush=True)
            for line in (traceback.format_exc() + str(e)).splitlines():
                print("# " + line, flush=True)

    def finish(self):
        print(f"1..{self.n}", flush=True)
        sys.exit(1 if self.failed else 0)


def expect(cond, msg="expectation failed"):
    if not cond:
        raise AssertionError(msg)


def expect_eq(got, want, what="value"):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")
