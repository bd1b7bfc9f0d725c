#!/usr/bin/env python3
"""Integration tests for the outbox and the complaint-router plugin on a real server: a loopback
webhook receiver (started here) that fails the first attempts, signatures checked with Python's own
hmac, the file destination, kill -9 with deliveries pending and in flight, a receiver that never
answers while visitors keep submitting, dead letters replayed over HTTP and the CLI, and a rule
naming an unknown destination refused at start."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, TAP, VALGRIND, Receiver, Server, expect, expect_eq, run_earshot  # noqa: E402

BUILDDIR = os.environ.get("EARSHOT_BUILDDIR", os.path.dirname(BIN))
ROUTER = os.path.join(BUILDDIR, "plugins", "complaint-router.so")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SLOW = 4 if VALGRIND else 1
# Test-only: retries 100 ms apart instead of 10 s (documented in docs/deliveries.md).
os.environ["EARSHOT_TEST_BACKOFF_MS"] = "100"

SHOP = """id: shop
title: Shop
questions:
  - id: nps
    type: nps
    label: How likely are you to recommend us?
  - id: comment
    type: long_text
    label: Anything else?
  - id: email
    type: email
    label: Email
"""


def destinations(support_url, flaky_url=None, log_path="complaints.ndjson", timeout=2, flaky_hours=0.0003):
    text = ("destinations:\n"
            f"  support:\n    type: webhook\n    url: {support_url}\n    secret: {SECRET}\n"
            f"    timeout_seconds: {timeout}\n"
            f"  log:\n    type: file\n    path: {log_path}\n")
    if flaky_url:
        text += (f"  flaky:\n    type: webhook\n    url: {flaky_url}\n    secret: {SECRET}\n"
                 f"    timeout_seconds: {timeout}\n    retry_for_hours: {flaky_hours}\n")
    return text


def router(rules):
    return ("plugins:\n  - name: complaint-router\n"
            f"    path: {json.dumps(ROUTER)}\n    config:\n      rules: {json.dumps(rules)}\n")


RULES = [
    {"when": {"question": "nps", "lte": 6}, "route": "support", "tag": "detractor"},
    {"when": {"any_text": {"matches": ["refund", "never arrived", "повернення"]}}, "route": "support",
     "priority": "high"},
    {"when": {"any_text": {"matches": ["reklamacija"]}}, "route": "log"},
]


def make_server(receiver_url, flaky_url=None, rules=RULES, timeout=2):
    return Server(forms={"shop": SHOP}, extra_config=destinations(receiver_url, flaky_url, timeout=timeout)
                  + router(rules))


def wait_for(cond, timeout, what):
    deadline = time.time() + timeout * SLOW
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def verify_signature(req):
    """Standard Webhooks verification, written independently of the server's C code."""
    h = req["headers"]
    msg_id, stamp, sig = h.get("webhook-id"), h.get("webhook-timestamp"), h.get("webhook-signature")
    expect(msg_id and stamp and sig, f"webhook headers missing: {h}")
    key = base64.b64decode(SECRET[len("whsec_"):])
    mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + req["body"], hashlib.sha256).digest()
    want = "v1," + base64.b64encode(mac).decode()
    expect(any(hmac.compare_digest(want, s) for s in sig.split(" ")), f"signature {sig} != {want}")
    expect(abs(int(stamp) - time.time()) < 300, f"timestamp {stamp} is not now")


def complaint(s, nps=3, comment="The parcel never arrived", email="ann@example.com"):
    answers = {"nps": nps, "comment": comment}
    if email:
        answers["email"] = email
    st, h, body = s.submit("shop", answers)
    expect_eq(st, 201, f"submit: {body}")
    return body["id"]


def t_retries_same_id_signed():
    rv = Receiver(fail_first=2)
    s = make_server(rv.url)
    try:
        s.start()
        t0 = time.time()
        rid = complaint(s)
        ok = wait_for(lambda: len(rv.seen()) >= 3 and rv.seen(), 10, "three attempts")
        first = ok[0]
        expect(first["at"] - t0 < 1.0 * SLOW, f"first attempt {first['at'] - t0:.3f}s after the 201")
        ids = {r["headers"]["webhook-id"] for r in ok}
        expect_eq(len(ids), 1, "one webhook-id across retries")
        bodies = {r["body"] for r in ok}
        expect_eq(len(bodies), 1, "the same body on every attempt")
        for r in ok:
            verify_signature(r)
            expect_eq(r["headers"].get("content-type"), "application/json", "content type")
        doc = json.loads(ok[0]["body"])
        expect_eq(doc["type"], "complaint", "type")
        expect_eq(doc["id"], ok[0]["headers"]["webhook-id"], "document id is the webhook-id")
        expect_eq(doc["form"], "shop", "form")
        expect_eq(doc["response"]["id"], rid, "the response")
        expect_eq(doc["response"]["answers"]["nps"], 3, "answers")
        expect("detractor" in doc["response"]["tags"], f"tag set before delivery: {doc['response']['tags']}")
        expect_eq([r["index"] for r in doc["rules"]], [0, 1], "both matching rules, one delivery")
        expect_eq(doc["priority"], "high", "highest priority")
        expect_eq(doc["contact"], {"email": "ann@example.com"}, "contact fields")
        time.sleep(0.3)
        expect_eq(len(rv.seen()), 3, "no attempt after the 2xx")
        st, h, body = s.request("GET", "/api/v1/deliveries?state=delivered", admin=True)
        expect_eq(st, 200, "listing")
        rows = [d for d in body["deliveries"] if d["id"] == doc["id"]]
        expect_eq(len(rows), 1, "listed as delivered")
        expect_eq(rows[0]["attempts"], 3, "attempts")
        expect_eq(rows[0]["last_error"], "HTTP 503", "last error")
        expect_eq(rows[0]["response_id"], rid, "response id")
        log = s.read_log()
        expect(f"delivery {doc['id']} to support failed (attempt 1): HTTP 503; next attempt at " in log,
               f"failure logged with destination, status, attempt and next time:\n{log}")
    finally:
        s.cleanup()
        rv.close()


def t_file_destination():
    rv = Receiver()
    s = make_server(rv.url)
    try:
        s.start()
        rid = complaint(s, nps=9, comment="Reklamacija: pogrešna veličina", email=None)
        path = os.path.join(s.dir, "complaints.ndjson")
        wait_for(lambda: os.path.exists(path) and open(path).read().endswith("\n"), 5, "the line")
        lines = open(path).read().splitlines()
        expect_eq(len(lines), 1, "one line")
        doc = json.loads(lines[0])
        expect_eq(doc["response"]["id"], rid, "the response")
        expect_eq(doc["rules"][0]["matched"][0]["phrases"], ["reklamacija"], "matched case-insensitively")
        expect_eq(rv.seen(), [], "a promoter without complaint words goes nowhere else")
    finally:
        s.cleanup()
        rv.close()


def t_kill9_pending_and_in_flight():
    rv = Receiver(hang=True)  # the first deliveries hang in flight
    s = make_server(rv.url, timeout=30)
    try:
        s.start()
        ids = [complaint(s, comment=f"never arrived #{i}") for i in range(10)]
        wait_for(lambda: rv.seen(), 5, "a delivery in flight")
        s.proc.kill()
        s.proc.wait()
        s.log.close()
        rv.close()
        # Restart with a working receiver on a new port: the destination moves, the rows stay.
        good = Receiver()
        with open(s.config_path) as f:
            cfg = f.read()
        with open(s.config_path, "w") as f:
            f.write(cfg.replace(rv.url, good.url))
        try:
            s.start()

            def arrived():
                got = {}
                for r in good.seen():
                    doc = json.loads(r["body"])
                    got.setdefault(doc["response"]["id"], set()).add(r["headers"]["webhook-id"])
                return got if set(ids) <= set(got) else None
            got = wait_for(arrived, 15, "every committed delivery after the restart")
            for rid in ids:
                expect_eq(len(got[rid]), 1, f"duplicates of {rid} carry one webhook-id")
            for r in good.seen():
                verify_signature(r)
        finally:
            good.close()
    finally:
        s.cleanup()


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p))]


def timed_submits(s, n):
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        st, h, body = s.submit("shop", {"nps": 2, "comment": f"refund {i}"})
        times.append(time.perf_counter() - t0)
        expect_eq(st, 201, f"submit {i}: {body}")
    return times


def t_hanging_receiver_keeps_latency():
    ok = Receiver()
    s = make_server(ok.url)
    try:
        s.start()
        base = timed_submits(s, 20)
    finally:
        s.cleanup()
        ok.close()
    rv = Receiver(hang=True)
    s = make_server(rv.url, timeout=2)
    try:
        s.start()
        hung = timed_submits(s, 20)
        wait_for(lambda: rv.seen(), 5, "a delivery stuck at the receiver")
        expect(max(hung) < 1.0 * SLOW, f"slowest submit {max(hung):.3f}s with a hanging receiver")
        print(f"# p50 submit latency: {percentile(base, 0.5) * 1000:.1f} ms normally, "
              f"{percentile(hung, 0.5) * 1000:.1f} ms with a receiver that never answers", flush=True)
        # The timeouts are recorded as failures with backoff, not as deliveries.
        wait_for(lambda: "Timeout was reached" in s.read_log() or "timed out" in s.read_log(), 10,
                 "a timed-out attempt in the log")
        st, h, body = s.request("GET", "/api/v1/deliveries?state=delivered", admin=True)
        expect_eq(body["deliveries"], [], "nothing delivered to a receiver that never answers")
    finally:
        s.cleanup()
        rv.close()


def t_dead_letter_replay():
    ok = Receiver()
    flaky = Receiver(fail_first=1000)
    rules = [{"when": {"any_text": {"matches": ["dead letter"]}}, "route": "flaky"}]
    s = make_server(ok.url, flaky.url, rules=rules)
    try:
        s.start()
        rid = complaint(s, nps=10, comment="this becomes a dead letter")
        st, h, body = s.request("GET", "/api/v1/deliveries")
        expect_eq(st, 401, "admin token required")

        def dead():
            st, h, body = s.request("GET", "/api/v1/deliveries?state=dead", admin=True)
            return body["deliveries"] if body["deliveries"] else None
        rows = wait_for(dead, 10, "the delivery to be dead")
        expect_eq(len(rows), 1, "one dead delivery")
        d = rows[0]
        expect_eq(d["response_id"], rid, "response id")
        expect_eq(d["destination"], "flaky", "destination")
        expect_eq(d["state"], "dead", "state")
        expect(d["attempts"] >= 1, "attempted")
        expect_eq(d["next_attempt_at"], None, "no next attempt when dead")
        expect_eq(d["document"]["response"]["id"], rid, "document in the listing")
        expect("retry_for_hours is over: dead" in s.read_log(), "dead letter logged")
        st, h, body = s.request("GET", "/api/v1/deliveries?state=nope", admin=True)
        expect_eq((st, body["error"]), (400, "invalid_parameter"), "bad state")
        st, h, body = s.request("GET", "/api/v1/deliveries?limit=0", admin=True)
        expect_eq(st, 400, "bad limit")
        # CLI listing while the server runs.
        rc, out, err = run_earshot("deliveries", "-c", s.config_path, "--state", "dead")
        expect_eq(rc, 0, err)
        expect(d["id"] in out and "dead" in out, f"CLI lists it: {out}")
        # Replay over HTTP once the receiver works.
        flaky.fail_first = 0
        before = len(flaky.seen())
        st, h, body = s.request("POST", f"/api/v1/deliveries/{d['id']}/retry", admin=True)
        expect_eq(st, 200, f"retry: {body}")
        expect_eq((body["id"], body["state"], body["attempts"]), (d["id"], "pending", 0), "replayed row")
        wait_for(lambda: len(flaky.seen()) > before, 5, "the replayed delivery")
        replayed = flaky.seen()[-1]
        expect_eq(replayed["headers"]["webhook-id"], d["id"], "same webhook-id after a replay")
        verify_signature(replayed)
        wait_for(lambda: s.request("GET", "/api/v1/deliveries?state=delivered", admin=True)[2]["deliveries"], 5,
                 "delivered state")
        st, h, body = s.request("POST", f"/api/v1/deliveries/{d['id']}/retry", admin=True)
        expect_eq((st, body["error"]), (409, "already_delivered"), "no replay of a delivered one")
        st, h, body = s.request("POST", "/api/v1/deliveries/d_nosuch/retry", admin=True)
        expect_eq((st, body["error"]), (404, "unknown_delivery"), "unknown id")
        st, h, body = s.request("POST", "/api/v1/deliveries/d_nosuch/retry")
        expect_eq(st, 401, "retry needs the token")
        rc, out, err = run_earshot("deliveries", "-c", s.config_path, "--retry", "d_nosuch")
        expect_eq(rc, 1, "CLI: unknown id")
        expect("d_nosuch" in err, err)
        rc, out, err = run_earshot("deliveries", "-c", s.config_path, "--retry", d["id"])
        expect_eq(rc, 1, "CLI: already delivered")
        expect("already delivered" in err, err)
        rc, out, err = run_earshot("deliveries", "-c", s.config_path, "--state", "bogus")
        expect_eq(rc, 2, "usage error")
    finally:
        s.cleanup()
        ok.close()
        flaky.close()


def t_cli_replay_picked_up_by_running_server():
    ok = Receiver()
    flaky = Receiver(fail_first=1000)
    rules = [{"when": {"any_text": {"matches": ["dead letter"]}}, "route": "flaky"}]
    s = make_server(ok.url, flaky.url, rules=rules)
    try:
        s.start()
        complaint(s, nps=10, comment="dead letter again")
        rows = wait_for(lambda: s.request("GET", "/api/v1/deliveries?state=dead", admin=True)[2]["deliveries"], 10,
                        "a dead delivery")
        flaky.fail_first = 0
        before = len(flaky.seen())
        rc, out, err = run_earshot("deliveries", "-c", s.config_path, "--retry", rows[0]["id"])
        expect_eq(rc, 0, err)
        expect(rows[0]["id"] in out, out)
        t0 = time.time()
        wait_for(lambda: len(flaky.seen()) > before, 5, "the replay sent by the running server")
        expect(time.time() - t0 < 3 * SLOW, "picked up within a few seconds")
    finally:
        s.cleanup()
        ok.close()
        flaky.close()


def t_unknown_destination_refused():
    rules = [{"when": {"question": "nps", "lte": 6}, "route": "nowhere"}]
    s = make_server("http://127.0.0.1:9/hook", rules=rules)
    try:
        rc, out, err = run_earshot("check", "-c", s.config_path)
        expect_eq(rc, 1, "check refuses")
        expect("unknown destination \"nowhere\"" in out, f"check names it: {out}{err}")
        expect("complaint-router" in out, f"and the plugin: {out}")
        expect_eq(s.start(expect_fail=True), 1, "serve refuses to start")
        expect("unknown destination \"nowhere\"" in s.read_log(), s.read_log())
    finally:
        s.cleanup()


def mapped_libraries(s):
    """The shared libraries the running server has mapped (from /proc/PID/maps)."""
    with open(f"/proc/{s.proc.pid}/maps") as f:
        return {os.path.basename(line.split()[-1]) for line in f if ".so" in line}


def t_libcurl_loaded_at_first_network_delivery():
    rv = Receiver()
    s = make_server(rv.url)
    try:
        s.start()
        libs = mapped_libraries(s)
        expect(not any(n.startswith("libcurl") for n in libs), f"libcurl mapped at start: {sorted(libs)}")
        if s.database == "data.db":
            expect(not any(n.startswith("libpq") for n in libs), f"libpq mapped on SQLite: {sorted(libs)}")
        # A delivery to a file needs no libcurl.
        complaint(s, nps=9, comment="reklamacija", email=None)
        path = os.path.join(s.dir, "complaints.ndjson")
        wait_for(lambda: os.path.exists(path) and open(path).read().endswith("\n"), 5, "the file delivery")
        expect(not any(n.startswith("libcurl") for n in mapped_libraries(s)), "libcurl mapped for a file")
        complaint(s)
        wait_for(lambda: rv.seen(), 5 * SLOW, "the webhook")
        verify_signature(rv.seen()[0])
        expect(any(n.startswith("libcurl") for n in mapped_libraries(s)), "libcurl mapped after a webhook")
    finally:
        s.cleanup()
        rv.close()


def t_libcurl_missing_fails_the_attempt():
    rv = Receiver()
    s = make_server(rv.url)
    os.environ["EARSHOT_LIBCURL"] = "/nonexistent/libcurl.so.4"
    try:
        s.start()
        complaint(s)
        complaint(s, nps=9, comment="reklamacija", email=None)

        def failed():
            st, h, body = s.request("GET", "/api/v1/deliveries", admin=True)
            return [d for d in body["deliveries"] if d["destination"] == "support" and d["last_error"]]
        rows = wait_for(failed, 5, "the failed webhook attempt")
        err = rows[0]["last_error"]
        expect("cannot load /nonexistent/libcurl.so.4" in err and "libcurl4" in err,
               f"the reason names the file and the package: {err}")
        expect_eq(rows[0]["state"], "failed", "the row stays due for a retry")
        path = os.path.join(s.dir, "complaints.ndjson")
        wait_for(lambda: os.path.exists(path) and open(path).read().endswith("\n"), 5, "the file delivery")
        expect_eq(rv.seen(), [], "nothing reached the receiver")
        expect_eq(s.proc.poll(), None, "the server keeps running")
    finally:
        del os.environ["EARSHOT_LIBCURL"]
        s.cleanup()
        rv.close()


def main():
    tap = TAP()
    if not os.path.exists(ROUTER):
        print(f"# {ROUTER} is missing: build it first", flush=True)
    for name, fn in [("retries keep the webhook-id and verify with Python's hmac", t_retries_same_id_signed),
                     ("file destination appends one line", t_file_destination),
                     ("kill -9 with deliveries pending and in flight loses none", t_kill9_pending_and_in_flight),
                     ("a receiver that never answers does not slow submissions", t_hanging_receiver_keeps_latency),
                     ("dead letter: listed, replayed over HTTP, 404 and 409", t_dead_letter_replay),
                     ("earshot deliveries --retry is picked up by the running server",
                      t_cli_replay_picked_up_by_running_server),
                     ("a rule naming an unknown destination stops the start", t_unknown_destination_refused),
                     ("libcurl is loaded at the first webhook, not at start nor for a file",
                      t_libcurl_loaded_at_first_network_delivery),
                     ("without libcurl a webhook attempt fails with the reason; files still go",
                      t_libcurl_missing_fails_the_attempt)]:
        tap.run(name, fn)
    tap.finish()


if __name__ == "__main__":
    main()
