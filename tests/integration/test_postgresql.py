#!/usr/bin/env python3
"""The PostgreSQL backend on a real PostgreSQL (postgres.py: a throwaway server from Debian's packages):
answers, idempotency, listings, exports, summaries and erasure; plugins (complaint-router's webhook
through the outbox, incentive's coupon pool); the database going away (503 `unavailable`, never a false
201, recovery by itself); two nodes sharing one database, one of them kill -9'd under load (every
acknowledged answer stored once, every delivery delivered, every coupon handed out once); and the plugin
crash record kept per node (on_crash).
The whole integration suite runs against PostgreSQL in `make check-slow` (tests/slow/postgresql.py)."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import postgres  # noqa: E402
from harness import BIN, TAP, Receiver, Server, expect, expect_eq, run_earshot  # noqa: E402
from test_deliveries import RULES, SHOP, destinations, router, verify_signature  # noqa: E402
from test_hosted import incentive_config, page, post, thanks, code_on, token_of  # noqa: E402
from test_plugins import BUILDDIR, NPS_FORM  # noqa: E402

os.environ["EARSHOT_TEST_BACKOFF_MS"] = "100"

SURVEY = """id: fb
title: Feedback
questions:
  - id: choice
    type: single_choice
    label: Which?
    options: [a, b, c]
  - id: email
    type: email
    label: Email
"""


def wait_for(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def listing(s, form):
    """Every stored answer of form through the admin API: a list of ids, in store order."""
    ids, after = [], None
    while True:
        path = f"/api/v1/forms/{form}/responses?limit=500" + (f"&after={after}" if after else "")
        st, _, body = s.request("GET", path, admin=True)
        expect_eq(st, 200, "listing")
        ids += [r["id"] for r in body["responses"]]
        after = body.get("next")
        if not after:
            return ids


def t_answers(pg):
    s = Server(forms={"fb": SURVEY}, database=pg.new_database())
    try:
        s.start()
        ids = []
        for i in range(12):
            st, _, body = s.submit("fb", {"choice": "abc"[i % 3], "email": f"p{i % 4}@example.com"},
                                   headers={"Idempotency-Key": f"key-{i}"})
            expect_eq(st, 201, "stored")
            ids.append(body["id"])
        st, _, body = s.submit("fb", {"choice": "c"}, headers={"Idempotency-Key": "key-3"})
        expect_eq((st, body["id"]), (201, ids[3]), "an idempotency key replays the stored 201")
        expect_eq(listing(s, "fb"), ids, "listed once each, in store order")
        st, _, csv = s.request("GET", "/api/v1/forms/fb/export?format=csv", admin=True, raw=True)
        expect_eq((st, csv.decode().count("\r\n")), (200, 13), "CSV export: a header and twelve rows")
        st, _, summary = s.request("GET", "/api/v1/forms/fb/summary", admin=True)
        options = {o["value"]: o["count"] for o in summary["questions"][0]["options"]}
        expect_eq((summary["answers"], options), (12, {"a": 4, "b": 4, "c": 4}), "summary counts")
        st, _, body = s.request("GET", "/api/v1/forms/fb/responses?q=P1%40EXAMPLE", admin=True)
        expect_eq(len(body["responses"]), 3, "a text filter, any case")
        st, _, one = s.request("GET", f"/api/v1/forms/fb/responses/{ids[1]}", admin=True)
        expect_eq((st, one["response"]["id"], one["contacts"]), (200, ids[1], [{"kind": "email", "key": "p1@example.com"}]),
                  "one answer in full, with its contact")
        st, _, _ = s.request("GET", "/api/v1/forms/fb/responses/r_nosuchanswer", admin=True)
        expect_eq(st, 404, "an unknown answer")
        st, _, body = s.request("DELETE", "/api/v1/contacts/p1@example.com", admin=True)
        expect_eq((st, body["deleted"]["responses"]), (200, 3), "erasure by contact")
        expect_eq(len(listing(s, "fb")), 9, "the erased answers are gone")
        # The CLI reaches the same database through the configuration.
        rc, out, err = run_earshot("export", "-c", s.config_path, "--form", "fb", "--format", "ndjson")
        expect_eq((rc, len(out.splitlines())), (0, 9), f"earshot export: {err}")
        schema = pg.psql("SELECT version FROM earshot_schema", s.database.rsplit("/", 1)[1])
        expect(schema.isdigit() and int(schema) >= 1, f"versioned schema: {schema}")
    finally:
        s.cleanup()


def t_plugins_and_outbox(pg):
    rv = Receiver(fail_first=1)
    s = Server(forms={"shop": SHOP}, database=pg.new_database(),
               extra_config=destinations(rv.url) + router(RULES))
    try:
        s.start()
        st, _, body = s.submit("shop", {"nps": 2, "comment": "the parcel never arrived", "email": "x@example.com"})
        expect_eq(st, 201, "stored")
        got = wait_for(lambda: rv.seen() if len(rv.seen()) >= 2 else None, 20, "the webhook, after one retry")
        expect_eq(len({r["headers"]["webhook-id"] for r in got}), 1, "one webhook-id across attempts")
        expect_eq(json.loads(got[-1]["body"])["response"]["id"], body["id"], "about the answer")
        verify_signature(got[-1])
        wait_for(lambda: len(s.request("GET", "/api/v1/deliveries?state=delivered", admin=True)[2]["deliveries"]) == 1,
                 10, "recorded as delivered")
        st, _, newest = s.request("GET", "/api/v1/deliveries?order=newest", admin=True)
        expect_eq([d["state"] for d in newest["deliveries"]], ["delivered"], "deliveries newest first")
        st, _, one = s.request("GET", f"/api/v1/forms/shop/responses/{body['id']}", admin=True)
        expect_eq([d["state"] for d in one["deliveries"]], ["delivered"], "the answer's deliveries")
    finally:
        s.cleanup()
        rv.close()


def t_database_down(pg):
    s = Server(forms={"fb": SURVEY}, database=pg.new_database())
    try:
        s.start()
        expect_eq(s.submit("fb", {"choice": "a"})[0], 201, "stored while up")
        pg.stop(mode="immediate")
        acked, refused = [], 0
        try:
            for i in range(5):
                st, _, body = s.submit("fb", {"choice": "b"})
                expect(st in (503,), f"no 201 while the database is down: {st} {body}")
                expect_eq(body.get("error"), "unavailable", "the error")
                refused += 1
            st, _, body = s.request("GET", "/healthz")
            expect_eq(st, 503, f"/healthz says so: {body}")
        finally:
            pg.start()

        def back():
            st, _, body = s.submit("fb", {"choice": "c"})
            if st == 201:
                acked.append(body["id"])
            return st == 201
        wait_for(back, 30, "a 201 once the database is back, without a restart")
        wait_for(lambda: s.request("GET", "/healthz")[0] == 200, 30, "/healthz recovers")
        expect_eq(len(listing(s, "fb")), 2, f"the answer from before and the one after; none of the {refused} refused")
    finally:
        s.cleanup()


NEWSLETTER_POOL = [f"POOL-{i:02d}" for i in range(10)]


def node(pg_url, receiver_url, pool_codes):
    """A server on pg_url with complaint-router (to receiver_url) and incentive (a file pool)."""
    s = Server(forms={"shop": SHOP}, forms_from_repo=True, database=pg_url, limits={"min_fill_seconds": 0},
               extra_config=destinations(receiver_url))
    pool = os.path.join(s.dir, "coupons.txt")
    with open(pool, "w") as f:
        f.write("\n".join(pool_codes) + "\n")
    with open(s.config_path) as f:
        text = f.read()
    plugins = incentive_config(pool) + router(RULES)[len("plugins:\n"):]
    with open(s.config_path, "w") as f:
        f.write(text.replace("plugins: []\n", plugins))
    return s


def two_nodes(pg, complaints_per_node):
    """Two nodes on one database; node a is kill -9'd halfway. Returns nothing; checks everything."""
    rv = Receiver()
    url = pg.new_database()
    a, b = node(url, rv.url, NEWSLETTER_POOL), node(url, rv.url, NEWSLETTER_POOL)
    acked_complaints, acked_signups, codes = [], [], []
    lock = threading.Lock()
    try:
        a.start()
        b.start()

        def load(s, n, tag):
            for i in range(n):
                try:
                    st, _, body = s.submit("shop", {"nps": 1, "comment": f"never arrived {tag}{i}"})
                except OSError:
                    return  # the node is gone
                if st == 201:
                    with lock:
                        acked_complaints.append(body["id"])
                try:
                    tok = token_of(page(s, "newsletter")[2])
                    st, h, _ = post(s, "newsletter", {"email": f"{tag}{i}@example.com", "consent": "yes"}, tok)
                    if st == 303:
                        code = code_on(thanks(s, h["location"]))
                        with lock:
                            acked_signups.append(h["location"])
                            if code:
                                codes.append(code)
                except OSError:
                    return

        ta = threading.Thread(target=load, args=(a, complaints_per_node, "a"))
        tb = threading.Thread(target=load, args=(b, complaints_per_node, "b"))
        ta.start()
        tb.start()
        wait_for(lambda: len(acked_complaints) >= complaints_per_node // 2, 60, "load on both nodes")
        a.proc.kill()  # kill -9 mid-load
        a.proc.wait()
        ta.join()
        tb.join()
        stored = listing(b, "shop")
        expect_eq(len(stored), len(set(stored)), "no answer stored twice")
        expect(set(acked_complaints) <= set(stored), "every acknowledged answer is stored")
        expect_eq(len(set(codes)), len(codes), f"no coupon handed out twice: {sorted(codes)}")
        expect(set(codes) <= set(NEWSLETTER_POOL), "codes from the pool")

        def delivered():
            seen = {json.loads(r["body"])["response"]["id"] for r in rv.seen()}
            return set(stored) <= seen
        wait_for(delivered, 90, "every stored complaint delivered (node b takes over node a's claims)")
        print(f"# {len(stored)} complaints stored ({len(acked_complaints)} acknowledged), "
              f"{len(acked_signups)} signups, {len(codes)} codes, {len(rv.seen())} webhook requests", flush=True)
    finally:
        a.cleanup()
        b.cleanup()
        rv.close()


def restart_under_load(pg, seconds_down):
    """Two nodes under load while PostgreSQL is stopped (immediate: like a crash) and started again:
    503 while it is down, no false 201, and both nodes answer 201 again by themselves."""
    url = pg.new_database()
    nodes = [Server(forms={"fb": SURVEY}, database=url) for _ in range(2)]
    acked, statuses, stop = [], [], threading.Event()
    lock = threading.Lock()
    try:
        for s in nodes:
            s.start()

        def load(s):
            while not stop.is_set():
                st, _, body = s.submit("fb", {"choice": "a"})
                with lock:
                    statuses.append(st)
                    if st == 201:
                        acked.append(body["id"])
                    else:
                        expect_eq((st, body.get("error")), (503, "unavailable"), "only 503 unavailable otherwise")
                time.sleep(0.02)
        threads = [threading.Thread(target=load, args=(s,)) for s in nodes]
        for th in threads:
            th.start()
        wait_for(lambda: len(acked) >= 20, 30, "answers before the restart")
        pg.stop(mode="immediate")
        down_from = len(statuses)
        time.sleep(seconds_down)
        pg.start()
        wait_for(lambda: statuses[down_from:].count(503) > 0 and statuses[-10:] == [201] * 10, 60,
                 "503s while down, then 201s again on both nodes")
        stop.set()
        for th in threads:
            th.join()
        stored = listing(nodes[0], "fb")
        expect_eq(len(stored), len(set(stored)), "nothing stored twice")
        expect(set(acked) <= set(stored), "every acknowledged answer is stored (no false 201)")
        # A COMMIT that reached PostgreSQL just before it stopped is kept although its reply was lost
        # (the node answered 503): at most the one answer each node's single client had in flight.
        in_doubt = set(stored) - set(acked)
        expect(len(in_doubt) <= len(nodes), f"{len(in_doubt)} stored answers were not acknowledged")
        print(f"# {len(acked)} acknowledged, {statuses.count(503)} refused with 503 while PostgreSQL was down, "
              f"{len(in_doubt)} of those stored by a COMMIT whose reply was lost", flush=True)
    finally:
        stop.set()
        for s in nodes:
            s.cleanup()


def t_same_contact_on_two_nodes(pg):
    """A new address arriving on both nodes at once: both answers stored, one contact holding both."""
    url = pg.new_database()
    a, b = Server(forms={"fb": SURVEY}, database=url), Server(forms={"fb": SURVEY}, database=url)
    try:
        a.start()
        b.start()
        for i in range(10):
            barrier, results = threading.Barrier(2), {}

            def send(s, name, i=i, barrier=barrier, results=results):
                barrier.wait()
                results[name] = s.submit("fb", {"choice": "a", "email": f"same{i}@example.com"})[0]
            threads = [threading.Thread(target=send, args=(s, n)) for s, n in ((a, "a"), (b, "b"))]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            expect_eq(results, {"a": 201, "b": 201}, f"both answers of same{i} stored")
            st, _, card = b.request("GET", f"/api/v1/contacts/same{i}@example.com", admin=True)
            expect_eq((st, len(card["responses"])), (200, 2), f"one contact with both answers of same{i}")
    finally:
        a.cleanup()
        b.cleanup()


def t_two_nodes(pg):
    two_nodes(pg, 30)


def t_migrate(pg):
    """A SQLite server's answers, deliveries, contacts, offers and plugin values copied by earshot
    migrate, twice (the second run adds nothing); then a server on PostgreSQL serves the same data."""
    rv = Receiver()
    s = node("data.db", rv.url, NEWSLETTER_POOL[:3])
    url = pg.new_database()
    try:
        s.start()
        ids = []
        for i in range(6):
            st, _, body = s.submit("shop", {"nps": 1, "comment": f"never arrived {i}", "email": f"m{i}@example.com"},
                                   headers={"Idempotency-Key": f"m-{i}"})
            expect_eq(st, 201, "stored on SQLite")
            ids.append(body["id"])
        codes = []
        for i in range(4):
            st, h, _ = post(s, "newsletter", {"email": f"n{i}@example.com", "consent": "yes"},
                            token_of(page(s, "newsletter")[2]))
            expect_eq(st, 303, "signup")
            codes.append(code_on(thanks(s, h["location"])))
        expect_eq(sorted(c for c in codes if c), NEWSLETTER_POOL[:3], "three codes handed out on SQLite")
        wait_for(lambda: len(rv.seen()) >= 6, 20, "the deliveries")
        s.stop()
        rc, out, err = run_earshot("migrate", "-c", s.config_path, "--to", url)
        expect_eq(rc, 0, f"migrate: {out} {err}")
        expect("responses: 10 in the SQLite database, 10 copied now, 10 in PostgreSQL" in out, out)
        expect("every row is in" in out and "[" in err and "#" in err, f"counts and a progress bar: {out} {err}")
        rc, out, err = run_earshot("migrate", "-c", s.config_path, "--to", url)
        expect_eq(rc, 0, f"migrate again: {err}")
        expect("responses: 10 in the SQLite database, 0 copied now, 10 in PostgreSQL" in out, out)
        with open(s.config_path) as f:
            text = f.read()
        with open(s.config_path, "w") as f:
            f.write(text.replace('database: "data.db"', f'database: "{url}"'))
        s.database = url
        s.start()
        expect_eq(listing(s, "shop"), ids, "the answers, in the same order")
        st, _, body = s.submit("shop", {"nps": 1, "comment": "x"}, headers={"Idempotency-Key": "m-2"})
        expect_eq(body["id"], ids[2], "idempotency keys came along")
        st, h, _ = post(s, "newsletter", {"email": "n9@example.com", "consent": "yes"}, token_of(page(s, "newsletter")[2]))
        expect_eq(code_on(thanks(s, h["location"])), None, "the pool's position came along: no code is handed out twice")
        st, _, card = s.request("GET", "/api/v1/contacts/n0@example.com", admin=True)
        expect_eq((st, len(card["offers"])), (200, 1), "contacts and offers came along")
        st, _, body = s.submit("shop", {"nps": 9, "comment": "fine"})
        expect_eq(st, 201, "new answers after the copy")
        expect_eq(len(listing(s, "shop")), 7, "numbered after the copied ones")
    finally:
        s.cleanup()
        rv.close()


def t_migrate_interrupted(pg):
    """earshot migrate kill -9'd part-way through the answers, then run again: it finishes, every row is
    in PostgreSQL once and the counts are verified."""
    s = Server(forms={"shop": SHOP}, database="data.db")
    url = pg.new_database()
    n = 40000
    try:
        s.start()
        st, _, _ = s.submit("shop", {"nps": 5, "comment": "the first"})
        expect_eq(st, 201, "stored on SQLite")
        s.stop()
        # Many answers written straight into the file, so that the copy takes long enough to be stopped.
        con = sqlite3.connect(os.path.join(s.dir, "data.db"))
        con.executemany("INSERT INTO responses (id, form, created_ms, answers, meta, tags) VALUES (?, 'shop', ?, ?, '{}', '[]')",
                        ((f"r_bulk{i:06d}", 1790000000000 + i, json.dumps({"nps": i % 11, "comment": f"answer {i}"}))
                         for i in range(n)))
        con.commit()
        con.close()
        p = subprocess.Popen([BIN, "migrate", "-c", s.config_path, "--to", url], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        copied = 0
        deadline = time.time() + 60
        while time.time() < deadline and p.poll() is None:
            try:
                copied = int(pg.psql("SELECT count(*) FROM responses", url.rsplit("/", 1)[1]) or 0)
            except RuntimeError:
                copied = 0  # the schema is not there yet
            if copied > 0:
                break
            time.sleep(0.02)
        expect(p.poll() is None and 0 < copied < n + 1, f"stopped part-way: {copied} of {n + 1} answers copied")
        p.send_signal(signal.SIGKILL)
        p.communicate()
        rc, out, err = run_earshot("migrate", "-c", s.config_path, "--to", url, timeout=300)
        expect_eq(rc, 0, f"migrate again: {out} {err}")
        expect(f"responses: {n + 1} in the SQLite database" in out and f"{n + 1} in PostgreSQL" in out, out)
        expect("every row is in" in out, out)
        dbname = url.rsplit("/", 1)[1]
        expect_eq(pg.psql("SELECT count(*), count(DISTINCT id) FROM responses", dbname), f"{n + 1}|{n + 1}",
                  "every answer once")
    finally:
        s.cleanup()


def brittle_node(database, extra=""):
    """A node on database with the behave fixture as plugin brittle, asked to crash in on_response."""
    s = Server(forms={"nps": NPS_FORM}, database=database,
               extra_config=f"plugins:\n  - name: brittle\n    path: behave.so\n    config: {{crash: true}}\n{extra}")
    shutil.copyfile(os.path.join(BUILDDIR, "tests", "plugins", "behave.so"), os.path.join(s.dir, "behave.so"))
    os.chmod(os.path.join(s.dir, "behave.so"), 0o755)
    return s


def t_plugin_crash_record(pg):
    """on_crash with a shared PostgreSQL: the crash record is the node's own, in its state directory
    (the config's directory unless state_dir says otherwise), so the node that died refuses to start
    and the other node does not."""
    db = pg.new_database()
    a = brittle_node(db)
    b = brittle_node(db, "state_dir: node-b\n")
    os.mkdir(os.path.join(b.dir, "node-b"))
    try:
        a.start()
        b.start()
        expect(os.path.exists(os.path.join(b.dir, "node-b", "earshot.plugin-hook")),
               "node b keeps its marker in its state_dir")
        expect(os.path.exists(os.path.join(a.dir, "earshot.plugin-hook")),
               "node a keeps its marker beside its earshot.yaml")
        try:
            a.submit("nps", {"score": 5})
        except Exception:
            pass
        a.proc.wait(30)
        a.log.close()
        expect(a.proc.returncode != 0, "the plugin took node a down")
        expect_eq(b.request("GET", "/healthz")[0], 200, "node b serves on")
        # Node a's next start is refused, naming the plugin and the hook; check says it too.
        expect_eq(a.start(expect_fail=True), 1, "node a refuses to start after its crash")
        a.log.close()
        log = a.read_log()
        expect("plugin brittle crashed in on_response at " in log and "on_crash: disable" in log,
               f"the refusal names plugin, hook and the way out: {log}")
        expect(os.path.exists(os.path.join(a.dir, "earshot.plugin-crash")), "the crash record is on node a")
        rc, out, err = run_earshot("check", "-c", a.config_path)
        expect_eq(rc, 1, f"check refuses node a's configuration: {out}{err}")
        expect("plugin brittle crashed in on_response" in out, f"check's problem line: {out}")
        # Node b, same plugin and the same database, restarts: the crash was not its own.
        expect_eq(b.stop(), 0, "node b stops cleanly")
        expect(not os.path.exists(os.path.join(b.dir, "node-b", "earshot.plugin-hook")),
               "node b's marker removed at a clean stop")
        b.start()
        st, _, health = b.request("GET", "/healthz")
        expect_eq(st, 200, f"node b starts: {health}")
        expect(not health.get("warnings"), f"no warning on node b: {health}")
        rc, out, err = run_earshot("check", "-c", b.config_path)
        expect_eq(rc, 0, f"check accepts node b: {out}{err}")
        expect_eq(b.stop(), 0, "node b stops cleanly again")
        # on_crash: disable: node a starts without the plugin and says so; answers go to PostgreSQL.
        text = open(a.config_path).read().replace("    path: behave.so\n", "    path: behave.so\n    on_crash: disable\n")
        open(a.config_path, "w").write(text)
        rc, out, err = run_earshot("check", "-c", a.config_path)
        expect_eq(rc, 0, f"check accepts it with on_crash: disable: {out}{err}")
        expect("plugin brittle disabled: it crashed in on_response" in err, f"check says it is disabled: {err}")
        a.start()
        st, _, health = a.request("GET", "/healthz")
        expect_eq(st, 200, "node a serving")
        expect(any("plugin brittle disabled: it crashed in on_response" in w for w in health.get("warnings", [])),
               f"/healthz says it: {health}")
        expect_eq(a.submit("nps", {"score": 5})[0], 201, "answers stored without the plugin")
        a.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        expect_eq(a.submit("nps", {"score": 6})[0], 201, "still disabled after a reload")
        expect_eq(a.stop(), 0, "clean stop")
        # A replaced plugin file runs again, and the record is gone.
        so = os.path.join(a.dir, "behave.so")
        os.unlink(so)
        shutil.copyfile(os.path.join(BUILDDIR, "tests", "plugins", "behave.so"), so)
        os.chmod(so, 0o755)
        text = open(a.config_path).read().replace("{crash: true}", "{tag: fixed}")
        open(a.config_path, "w").write(text)
        a.start()
        expect_eq(a.submit("nps", {"score": 7})[0], 201, "stored")
        st, _, body = a.request("GET", "/api/v1/forms/nps/responses", admin=True)
        expect_eq(len(body["responses"]), 3, "the three answers in the shared database")
        expect("fixed" in [t for r in body["responses"] for t in r["tags"]], f"the replaced plugin runs again: {body}")
        expect("its file has changed since, so it runs again" in a.read_log(), "the log says why")
        expect(not os.path.exists(os.path.join(a.dir, "earshot.plugin-crash")), "the crash record dropped")
    finally:
        a.cleanup()
        b.cleanup()


def main():
    tap = TAP()
    if not postgres.available():
        print("1..0 # SKIP PostgreSQL's server is not installed (scripts/install-deps)")
        return
    pg = postgres.shared()
    tap.run("answers, idempotency, listing, export, summary, filter, erasure, CLI export", t_answers, pg)
    tap.run("complaint-router webhook through the outbox: retried, one webhook-id, signed", t_plugins_and_outbox, pg)
    tap.run("database down: 503 unavailable, never a false 201; recovery by itself", t_database_down, pg)
    tap.run("two nodes, one kill -9'd mid-load: answers once, deliveries all, coupons once", t_two_nodes, pg)
    tap.run("a new address on two nodes at once: one contact, both answers", t_same_contact_on_two_nodes, pg)
    tap.run("PostgreSQL restarted under load on two nodes: 503s, no false 201, recovery", restart_under_load, pg, 2)
    tap.run("earshot migrate: SQLite into PostgreSQL, counts checked, run twice, then served", t_migrate, pg)
    tap.run("earshot migrate kill -9'd part-way, then run again: every answer once, counts verified", t_migrate_interrupted, pg)
    tap.run("a crash inside a plugin is kept on its node: refuse there, not elsewhere; on_crash: disable", t_plugin_crash_record, pg)
    tap.finish()


if __name__ == "__main__":
    main()
