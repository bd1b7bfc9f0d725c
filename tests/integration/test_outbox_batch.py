#!/usr/bin/env python3
"""Integration tests for the outbox's batches on a real server: many complaints queued at once are
sent in parallel batches whose outcomes are recorded together. Against a receiver that refuses the
first requests, every delivery still arrives, a refused one is retried with the same webhook-id and
the same bytes, and each id is acknowledged once; webhook and file deliveries in the same batch are
both made; after kill -9 in the middle of a busy outbox, every delivery arrives after the restart
(at least once, same ids)."""
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TAP, VALGRIND, Receiver, expect, expect_eq  # noqa: E402
from test_deliveries import make_server, wait_for  # noqa: E402

N = 20 if VALGRIND else 150


def submit_many(s, n, comment="It never arrived"):
    """n answers in 5 threads, each a detractor whose comment matches the given rule. Their ids."""
    ids, errors, lock = [], [], threading.Lock()

    def worker(k):
        for i in range(k, n, 5):
            st, _, body = s.submit("shop", {"nps": i % 7, "comment": f"{comment} #{i}"})
            with lock:
                (ids if st == 201 else errors).append(body.get("id") if st == 201 else (st, body))
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(5)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    expect_eq(errors, [], "every submit got 201")
    return ids


def recorded_delivered(s, n):
    """The delivered rows once there are n of them (outcomes are recorded after each batch), else None."""
    st, _, body = s.request("GET", f"/api/v1/deliveries?state=delivered&limit={n + 10}", admin=True)
    expect_eq(st, 200, "listing")
    return body["deliveries"] if len(body["deliveries"]) == n else None


def acknowledged(rv, fail_first):
    """Requests the receiver answered 204 (it refuses the first fail_first in arrival order)."""
    return rv.seen()[fail_first:]


def t_refused_then_delivered_same_ids():
    fail_first = N // 3
    rv = Receiver(fail_first=fail_first)
    s = make_server(rv.url, timeout=10)  # a loaded machine must not turn a slow 204 into a retry
    try:
        s.start()
        rids = submit_many(s, N)
        wait_for(lambda: len({r["headers"]["webhook-id"] for r in acknowledged(rv, fail_first)}) >= N, 60,
                 f"{N} deliveries acknowledged")
        seen = rv.seen()
        refused, ok = seen[:fail_first], seen[fail_first:]
        ok_ids = [r["headers"]["webhook-id"] for r in ok]
        expect_eq(len(ok_ids), len(set(ok_ids)), "each delivery acknowledged once")
        docs = {r["headers"]["webhook-id"]: json.loads(r["body"]) for r in ok}
        expect_eq(sorted(d["response"]["id"] for d in docs.values()), sorted(rids), "one per answer")
        by_id = {r["headers"]["webhook-id"]: r["body"] for r in ok}
        for r in refused:
            wid = r["headers"]["webhook-id"]
            expect(wid in by_id, f"refused delivery {wid} was retried and delivered")
            expect_eq(r["body"], by_id[wid], "the retry sends the same bytes")
        for doc_id, doc in docs.items():
            expect_eq(doc["id"], doc_id, "document id is the webhook-id")
        delivered = wait_for(lambda: recorded_delivered(s, N), 30, "every row recorded as delivered")
        retried = {d["id"]: d for d in delivered if d["attempts"] > 1}
        refused_ids = {r["headers"]["webhook-id"] for r in refused}
        expect(refused_ids <= set(retried), "every refused row was attempted again")
        others = sorted({retried[i]["last_error"] for i in set(retried) - refused_ids})
        if others:
            print(f"# also retried after: {others}", flush=True)
        expect(all(retried[i]["last_error"] == "HTTP 503" for i in refused_ids), "their last error")
    finally:
        s.cleanup()
        rv.close()


def t_mixed_batch_webhook_and_file():
    rv = Receiver()
    s = make_server(rv.url, timeout=10)
    try:
        s.start()
        # "never arrived" goes to the webhook, "reklamacija" (with nps 9: no detractor) to the file.
        hooks = submit_many(s, N // 2)
        st_ids = []
        for i in range(N // 2):
            st, _, body = s.submit("shop", {"nps": 9, "comment": f"reklamacija {i}"})
            expect_eq(st, 201, "submit")
            st_ids.append(body["id"])
        path = os.path.join(s.dir, "complaints.ndjson")
        wait_for(lambda: os.path.exists(path) and len(open(path).read().splitlines()) >= len(st_ids), 30,
                 "every file line")
        wait_for(lambda: len(rv.seen()) >= len(hooks), 30, "every webhook")
        lines = [json.loads(x)["response"]["id"] for x in open(path).read().splitlines()]
        expect_eq(sorted(lines), sorted(st_ids), "one line per file delivery")
        expect_eq(sorted(json.loads(r["body"])["response"]["id"] for r in rv.seen()), sorted(hooks),
                  "one request per webhook delivery")
    finally:
        s.cleanup()
        rv.close()


def t_kill9_busy_outbox_redelivers():
    rv = Receiver()
    s = make_server(rv.url)
    try:
        s.start()
        rids = submit_many(s, N)
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait()
        s.start()
        wait_for(lambda: {json.loads(r["body"])["response"]["id"] for r in rv.seen()} >= set(rids), 60,
                 "every answer's delivery after the restart")
        by_answer = {}
        for r in rv.seen():
            by_answer.setdefault(json.loads(r["body"])["response"]["id"], set()).add(r["headers"]["webhook-id"])
        expect(all(len(ids) == 1 for ids in by_answer.values()), "a resent delivery keeps its webhook-id")
        wait_for(lambda: recorded_delivered(s, N), 30, "every row recorded as delivered")
    finally:
        s.cleanup()
        rv.close()


def main():
    tap = TAP()
    for name, fn in [("refused deliveries in a batch are retried with the same id", t_refused_then_delivered_same_ids),
                     ("a batch mixing webhook and file deliveries", t_mixed_batch_webhook_and_file),
                     ("kill -9 with a busy outbox: every delivery arrives after the restart",
                      t_kill9_busy_outbox_redelivers)]:
        tap.run(name, fn)
    tap.finish()


if __name__ == "__main__":
    main()
