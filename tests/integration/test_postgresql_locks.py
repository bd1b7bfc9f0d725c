#!/usr/bin/env python3
"""What answers lock on PostgreSQL, and what they cost in round trips (postgres.py: a throwaway server).
Two nodes hand out one coupon file to many different people at once: every code at most once, none
lost. An answer waits only for transactions holding the same person: another node in the middle of a
batch about one person does not hold up answers about anyone else. Two transactions that lock two
people in opposite orders deadlock; PostgreSQL undoes one answer of the node, which stores it again in
its next transaction: both answers are stored. And a plain answer costs two round trips, one with an
email four, whatever the number of statements (earshot_writer_database_round_trips_total)."""
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import postgres  # noqa: E402
from harness import TAP, Server, expect, expect_eq  # noqa: E402
from test_hosted import incentive_config, page, post, thanks, code_on, token_of  # noqa: E402
from test_postgresql import SURVEY  # noqa: E402



def db_name(url):
    return url.rsplit("/", 1)[1]


def pool_node(url, codes):
    """A server on url whose newsletter form hands out codes (incentive, a file pool)."""
    s = Server(forms_from_repo=True, database=url, limits={"min_fill_seconds": 0})
    pool = os.path.join(s.dir, "coupons.txt")
    with open(pool, "w") as f:
        f.write("\n".join(codes) + "\n")
    with open(s.config_path) as f:
        text = f.read()
    with open(s.config_path, "w") as f:
        f.write(text.replace("plugins: []\n", incentive_config(pool)))
    return s


def t_pool_on_two_nodes(pg):
    url = pg.new_database()
    codes = [f"CODE-{i:03d}" for i in range(120)]
    nodes = [pool_node(url, codes), pool_node(url, codes)]
    got, statuses, lock = [], [], threading.Lock()
    try:
        for s in nodes:
            s.start()

        def signups(s, tag, n):
            for i in range(n):
                tok = token_of(page(s, "newsletter")[2])
                st, h, _ = post(s, "newsletter", {"email": f"{tag}{i}@example.com", "consent": "yes"}, tok)
                code = code_on(thanks(s, h["location"])) if st == 303 else None
                with lock:
                    statuses.append(st)
                    got.append(code)
        threads = [threading.Thread(target=signups, args=(s, f"n{k}t{t}-", 15))
                   for k, s in enumerate(nodes) for t in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        expect_eq(statuses, [303] * 90, "every signup stored")
        handed = [c for c in got if c]
        expect_eq(len(handed), 90, "every signup got a code (the pool holds more)")
        expect_eq(len(set(handed)), len(handed), f"no code handed out twice: {sorted(handed)}")
        db = db_name(url)
        left = pg.psql("SELECT convert_from(value, 'UTF8') FROM plugin_kv WHERE plugin = 'incentive' "
                       "AND key LIKE 'pool:%'", db).split()
        given = pg.psql("SELECT substr(key, 6) FROM plugin_kv WHERE plugin = 'incentive' AND key LIKE 'code:%'",
                        db).split()
        expect_eq(sorted(given), sorted(handed), "the codes recorded as given are the codes shown")
        expect_eq(sorted(left + given), codes, "no code lost: each is given or still in the pool")
        print(f"# {len(handed)} codes handed out by two nodes, {len(left)} left", flush=True)
    finally:
        for s in nodes:
            s.cleanup()


def lock_person(session, email):
    """Takes, in session's open transaction, the lock earshot takes for a person's contact."""
    return session.send(f"SELECT pg_advisory_xact_lock(hashtextextended(E'contact\\nemail\\n{email}', 0));")


def submit_async(s, email, results):
    def send():
        results[email] = s.submit("fb", {"choice": "a", "email": email})[0]
    th = threading.Thread(target=send)
    th.start()
    return th


def contact_answers(s, email):
    st, _, card = s.request("GET", f"/api/v1/contacts/{email}", admin=True)
    return len(card["responses"]) if st == 200 else 0


def t_other_people_do_not_wait(pg):
    """Node a is in the middle of a batch holding x@ (its transaction waits on held@); node b stores an
    answer of y@ at once, and one of x@ only after a's batch committed."""
    url = pg.new_database()
    a, b = Server(forms={"fb": SURVEY}, database=url), Server(forms={"fb": SURVEY}, database=url)
    stall, hold = pg.session(db_name(url)), pg.session(db_name(url))
    results = {}
    try:
        a.start()
        b.start()
        stall.run("BEGIN;")
        stall.wait(lock_person(stall, "stall@example.com"), 10)
        hold.run("BEGIN;")
        hold.wait(lock_person(hold, "held@example.com"), 10)
        threads = [submit_async(a, "stall@example.com", results)]
        time.sleep(0.5)  # a's writer waits on stall@: the next two queue into one batch
        threads.append(submit_async(a, "x@example.com", results))
        time.sleep(0.3)
        threads.append(submit_async(a, "held@example.com", results))
        time.sleep(0.3)
        stall.run("COMMIT;")
        time.sleep(0.5)  # a's next batch stores x@, then waits on held@, holding x@
        started = time.time()
        st = b.submit("fb", {"choice": "b", "email": "y@example.com"})[0]
        took = time.time() - started
        expect_eq(st, 201, "another person's answer on node b")
        # Node a's batch stays open until hold commits, below: waiting for it would take forever.
        expect(took < 5, f"stored without waiting for node a's batch ({took:.2f} s)")
        threads.append(submit_async(b, "x@example.com", results))
        time.sleep(1.0)
        expect("x@example.com" not in results, "the same person's answer on node b waits for node a's batch")
        expect_eq(results.get("held@example.com"), None, "node a's batch is still open")
        hold.run("COMMIT;")
        for th in threads:
            th.join(15)
        expect_eq(results, {"stall@example.com": 201, "x@example.com": 201, "held@example.com": 201},
                  "every answer stored once the locks are gone")
        expect_eq(contact_answers(b, "x@example.com"), 2, "one contact holds both answers of x@")
        print(f"# another person's answer took {took:.2f} s while node a's batch was open", flush=True)
    finally:
        stall.close()
        hold.close()
        a.cleanup()
        b.cleanup()


def t_deadlock_is_retried(pg):
    """Node a's batch locks y@ then waits on x@, held by another transaction, which then asks for y@.
    PostgreSQL fails node a's wait (40P01): a undoes that answer, commits the rest, and stores the
    answer again in its next transaction, once x@ is free. Both answers get 201."""
    url = pg.new_database()
    a = Server(forms={"fb": SURVEY}, database=url)
    stall, other = pg.session(db_name(url)), pg.session(db_name(url))
    results = {}
    try:
        a.start()
        stall.run("BEGIN;")
        stall.wait(lock_person(stall, "stall@example.com"), 10)
        other.run("BEGIN;")
        other.wait(lock_person(other, "x@example.com"), 10)
        threads = [submit_async(a, "stall@example.com", results)]
        time.sleep(0.5)
        threads.append(submit_async(a, "y@example.com", results))
        time.sleep(0.3)
        threads.append(submit_async(a, "x@example.com", results))
        time.sleep(0.3)
        stall.run("COMMIT;")
        time.sleep(0.5)  # a's batch [y@, x@] holds y@ and waits on x@
        out = other.wait(lock_person(other, "y@example.com"), 15)  # the cycle: PostgreSQL breaks a's wait
        expect(out is not None and not any("ERROR" in line for line in out),
               f"the other transaction gets y@ (node a's answer was the one undone): {out}")
        threads[1].join(10)  # y@'s reply (a committed y@ before the other transaction got it)
        expect_eq(results.get("y@example.com"), 201, "y@ stored without x@'s answer")
        expect("x@example.com" not in results, "x@'s answer waits for the other transaction")
        other.run("COMMIT;")
        for th in threads:
            th.join(15)
        expect_eq(results, {"stall@example.com": 201, "y@example.com": 201, "x@example.com": 201},
                  "the undone answer stored in the next transaction")
        expect_eq((contact_answers(a, "x@example.com"), contact_answers(a, "y@example.com")), (1, 1),
                  "each answer stored once")
        log = a.read_log()
        expect("not stored" not in log, f"nothing logged as lost: {log}")
    finally:
        stall.close()
        other.close()
        a.cleanup()


def metric(s, name):
    st, _, text = s.request("GET", "/metrics", admin=True, raw=True)
    expect_eq(st, 200, "metrics")
    m = re.search(rf"^{name} (\S+)$", text.decode(), re.M)
    expect(m, f"metric {name}")
    return float(m.group(1))


def t_round_trips(pg):
    """Round trips of the writer per answer: one at the answer's release and one at the commit, plus
    one per read (a contact looked up and created)."""
    s = Server(forms={"fb": SURVEY}, database=pg.new_database())
    try:
        s.start()
        figures = {}
        for label, email in (("plain", False), ("email", True)):
            trips0 = metric(s, "earshot_writer_database_round_trips_total")
            answers0 = metric(s, "earshot_writer_answers_total")
            for i in range(20):
                answers = {"choice": "a"}
                if email:
                    answers["email"] = f"rt{i}@example.com"
                expect_eq(s.submit("fb", answers)[0], 201, "stored")
            trips = metric(s, "earshot_writer_database_round_trips_total") - trips0
            n = metric(s, "earshot_writer_answers_total") - answers0
            figures[label] = trips / n
        print(f"# round trips per answer, one answer per batch: plain {figures['plain']:.2f}, "
              f"with a new email {figures['email']:.2f}", flush=True)
        expect(figures["plain"] <= 2.5, f"a plain answer: release and commit ({figures['plain']:.2f})")
        expect(figures["email"] <= 4.5, f"with an email: the contact's lookup and creation too ({figures['email']:.2f})")
        trips0 = metric(s, "earshot_writer_database_round_trips_total")
        answers0 = metric(s, "earshot_writer_answers_total")
        commits0 = metric(s, "earshot_writer_commits_total")
        threads = [threading.Thread(target=lambda k=k: [s.submit("fb", {"choice": "b"}) for _ in range(10)])
                   for k in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        n = metric(s, "earshot_writer_answers_total") - answers0
        trips = metric(s, "earshot_writer_database_round_trips_total") - trips0
        commits = metric(s, "earshot_writer_commits_total") - commits0
        expect_eq(n, 80, "every answer stored")
        # A BEGIN after a second without round trips goes alone: at most one more per commit.
        expect(trips <= n + 2 * commits, f"one round trip per answer plus one or two per commit ({trips} for "
               f"{n} answers in {commits} commits)")
        print(f"# 8 clients: {n:.0f} answers in {commits:.0f} commits, {trips:.0f} round trips "
              f"({trips / n:.2f} per answer)", flush=True)
    finally:
        s.cleanup()


def main():
    tap = TAP()
    if not postgres.available():
        print("1..0 # SKIP PostgreSQL's server is not installed (scripts/install-deps)")
        return
    pg = postgres.shared()
    tap.run("round trips per answer: release and commit, plus the reads", t_round_trips, pg)
    tap.run("two nodes hand out one coupon file to 90 people at once: each code once, none lost",
            t_pool_on_two_nodes, pg)
    tap.run("another person's answer does not wait for a node's batch; the same person's does",
            t_other_people_do_not_wait, pg)
    tap.run("a deadlock between two transactions: the undone answer is stored in the next one",
            t_deadlock_is_retried, pg)
    tap.finish()


if __name__ == "__main__":
    main()
