"""A throwaway PostgreSQL for tests: Debian's server binaries (/usr/lib/postgresql/*/bin), a cluster made
by initdb in a temporary directory, listening on a free loopback port only, stopped and deleted after.
No system service is used. Run as root, the server runs as the unprivileged user nobody (PostgreSQL
refuses to run as root).

    pg = Postgres()            # initdb + pg_ctl start
    url = pg.new_database()    # postgresql://earshot@127.0.0.1:PORT/es_…, a fresh empty database
    pg.stop(); pg.start()      # a restart keeps the data
    pg.cleanup()

shared() gives one cluster per test process (started on first use, removed at exit)."""
import atexit
import glob
import os
import queue
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time

USER = "earshot"


def bindir():
    """The newest installed server's bin directory, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return os.path.dirname(found[-1]) if found else None


def available():
    return bindir() is not None and shutil.which("psql") is not None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    def __init__(self, fsync=False):
        """fsync: keep PostgreSQL's default of syncing its WAL (benchmarks); tests run without."""
        self.bin = bindir()
        if not self.bin:
            raise RuntimeError("PostgreSQL's server binaries are not installed (scripts/install-deps)")
        self.dir = tempfile.mkdtemp(prefix="earshot-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.sockets = os.path.join(self.dir, "run")
        self.log = os.path.join(self.dir, "postgres.log")
        self.port = free_port()
        self.as_user = []
        if os.geteuid() == 0:
            self.as_user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
        os.mkdir(self.sockets)
        open(self.log, "w").close()
        if self.as_user:
            for p in (self.dir, self.sockets, self.log):
                shutil.chown(p, "nobody", "nogroup")
        self._run(["initdb", "-D", self.data, "-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
                   "--no-sync"])
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.sockets}'\n"
                    "max_connections = 200\n" +
                    # throwaway data: no fsync (a restart is a server restart, not a power cut)
                    ("" if fsync else "fsync = off\nfull_page_writes = off\n"))
        self.start()

    def _run(self, args, check=True):
        cmd = self.as_user + [os.path.join(self.bin, args[0])] + args[1:]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=self.dir)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({r.returncode}): {r.stderr}{r.stdout}")
        return r

    def start(self):
        self._run(["pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start"])

    def stop(self, mode="fast"):
        """Stops the server (mode fast, or immediate: like a crash)."""
        self._run(["pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"], check=False)

    def running(self):
        return self._run(["pg_ctl", "-D", self.data, "status"], check=False).returncode == 0

    def url(self, dbname="postgres"):
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{dbname}"

    def psql(self, sql, dbname="postgres"):
        """Runs sql through psql; returns its unaligned, tuples-only output."""
        r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.url(dbname),
                            "-c", sql], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"psql: {r.stderr}")
        return r.stdout.strip()

    def session(self, dbname):
        """An interactive psql on dbname (Session), to hold locks or a transaction open during a test."""
        return Session(self.url(dbname))

    def new_database(self):
        name = "es_" + secrets.token_hex(6)
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def cleanup(self):
        if os.path.isdir(self.data):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class Session:
    """One psql process kept open: send() a statement without waiting, wait() for its output."""

    def __init__(self, url):
        self.proc = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-d", url], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.marks = 0
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def send(self, sql):
        """Sends sql (one statement, with its semicolon) and a marker after it; returns at once."""
        self.marks += 1
        self.proc.stdin.write(f"{sql}\n\\echo __done{self.marks}\n")
        self.proc.stdin.flush()
        return self.marks

    def wait(self, mark, timeout):
        """The output lines of statement mark, or None when it has not finished within timeout s."""
        out, deadline = [], time.time() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                return None
            if line is None or line == f"__done{mark}":
                return out
            if not line.startswith("__done"):
                out.append(line)

    def run(self, sql, timeout=10):
        return self.wait(self.send(sql), timeout)

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


_shared = None


def shared():
    """The cluster of this test process, started on first use and removed when the process exits."""
    global _shared
    if _shared is None:
        _shared = Postgres()
        atexit.register(_shared.cleanup)
    return _shared


if __name__ == "__main__":
    pg = Postgres()
    try:
        url = pg.new_database()
        print(url)
        print(pg.psql("SELECT version()"))
        pg.stop()
        pg.start()
        deadline = time.time() + 5
        print("restarted:", pg.running())
    finally:
        pg.cleanup()
