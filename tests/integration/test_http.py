#!/usr/bin/env python3
"""Integration tests: every public and admin route of a real earshot server over loopback HTTP."""
import csv
import io
import json
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TAP, VALGRIND, Server, expect, expect_eq  # noqa: E402

CHECKOUT = """id: checkout
title: Before you go
questions:
  - id: reason
    type: single_choice
    label: What stopped you from finishing your purchase today?
    required: true
    options: [Price, Shipping cost, Just looking, Other]
    next:
      - if: {equals: Other}
        goto: reason_other
      - goto: score
  - id: reason_other
    type: text
    label: Tell us more
    max_length: 10
  - id: score
    type: nps
    label: How likely are you to recommend us?
  - id: email
    type: email
    label: Email
  - id: phone
    type: phone
    label: Phone
  - id: born
    type: date
    label: Birthday
  - id: topics
    type: multi_choice
    label: Topics
    options: [a, b, c]
trigger:
  event: exit_intent
  pages: {include: ["/cart*", "/checkout*"], exclude: ["/checkout/done"]}
thank_you: Thanks!
"""

DOCS = """id: docs
title: Anything we didn't answer?
questions:
  - id: missing
    type: long_text
    label: Anything we didn't answer?
    required: true
trigger:
  event: scroll
  scroll_percent: 50
  pages: {include: ["/docs*"]}
"""

HIDDEN = """id: hidden
title: Old survey
active: false
questions:
  - id: q
    type: text
    label: Q
"""

FORMS = {"checkout": CHECKOUT, "docs": DOCS, "hidden": HIDDEN}


def t_healthz(s):
    st, h, body = s.request("GET", "/healthz")
    expect_eq(st, 200, "status")
    expect_eq(body["status"], "ok", "health")
    expect("version" in body, "version missing")
    expect_eq(h.get("x-content-type-options"), "nosniff", "nosniff")


def t_security_headers_everywhere(s):
    for method, path in [("GET", "/nope"), ("GET", "/api/v1/forms"), ("POST", "/api/v1/forms/x/responses"),
                         ("GET", "/embed"), ("DELETE", "/healthz")]:
        st, h, body = s.request(method, path, body="{}" if method == "POST" else None,
                                headers={"Content-Type": "application/json"} if method == "POST" else None)
        expect_eq(h.get("x-content-type-options"), "nosniff", f"nosniff on {method} {path}")
        # A referrer policy means something only on a page; nor does the server name itself.
        expect("referrer-policy" not in h and "server" not in h, f"only the headers that matter on {path}: {h}")
        if st >= 400:
            expect(isinstance(body, dict) and "error" in body and "message" in body, f"error shape on {path}")
    st, h, body = s.request("DELETE", "/healthz")
    expect_eq(st, 405, "method not allowed")
    expect_eq(body["error"], "method_not_allowed", "405 code")
    expect("GET" in h.get("allow", ""), "Allow header")


def t_surveys_page_rules(s):
    st, h, body = s.request("GET", "/api/v1/surveys?page=" + "https%3A%2F%2Fshop.example.com%2Fcart%3Fx%3D1")
    expect_eq(st, 200, "status")
    expect_eq([x["id"] for x in body["surveys"]], ["checkout"], "cart page surveys")
    q = body["surveys"][0]["questions"][0]
    expect_eq(q["next"][0]["goto"], "reason_other", "branching exposed")
    expect_eq(body["surveys"][0]["trigger"]["event"], "exit_intent", "trigger")
    st, h, body = s.request("GET", "/api/v1/surveys?page=/checkout/done")
    expect_eq(body["surveys"], [], "excluded page")
    st, h, body = s.request("GET", "/api/v1/surveys?page=/docs/install")
    expect_eq([x["id"] for x in body["surveys"]], ["docs"], "docs page")
    st, h, body = s.request("GET", "/api/v1/surveys?page=/")
    expect_eq(body["surveys"], [], "home page has none; inactive never listed")


def t_surveys_caching(s):
    st, h, body = s.request("GET", "/api/v1/surveys?page=/cart")
    etag = h.get("etag")
    expect(etag, "ETag missing")
    expect("max-age=60" in h.get("cache-control", ""), "Cache-Control max-age=60")
    st, h2, body = s.request("GET", "/api/v1/surveys?page=/cart", headers={"If-None-Match": etag}, raw=True)
    expect_eq(st, 304, "conditional GET")
    expect_eq(body, b"", "304 has no body")


def t_surveys_cors(s):
    st, h, body = s.request("GET", "/api/v1/surveys?page=/cart", headers={"Origin": "https://shop.example.com"})
    expect_eq(h.get("access-control-allow-origin"), "https://shop.example.com", "echoed origin")
    expect("origin" in h.get("vary", "").lower(), "Vary: Origin")
    expect("access-control-allow-credentials" not in h, "never credentials")
    st, h, body = s.request("GET", "/api/v1/surveys?page=/cart", headers={"Origin": "null"})
    expect_eq(st, 200, "answered")
    expect("access-control-allow-origin" not in h, "null origin gets no CORS headers")


def t_submit_ok(s):
    st, h, body = s.submit("checkout", {"reason": "Price", "score": 9, "email": "Ann@Example.COM",
                                        "phone": "+386 (40) 123-456", "born": "2000-02-29",
                                        "topics": ["a", "c"]},
                           meta={"page": "https://shop.example.com/cart", "visitor": "v_1", "locale": "en"})
    expect_eq(st, 201, f"status {body}")
    expect(body["id"].startswith("r_"), "id")
    expect_eq(body["thank_you"], "Thanks!", "thank_you")
    expect_eq(body["offers"], [], "offers empty")
    expect("score" not in body, "no score without plugins")
    st, h, listing = s.request("GET", "/api/v1/forms/checkout/responses", admin=True)
    expect_eq(st, 200, "listing")
    got = [r for r in listing["responses"] if r["id"] == body["id"]]
    expect_eq(len(got), 1, "stored once")
    a = got[0]["answers"]
    expect_eq(a["email"], "Ann@example.com", "email domain lower-cased")
    expect_eq(a["phone"], "+38640123456", "E.164")
    expect_eq(a["topics"], ["a", "c"], "multi choice")
    expect_eq(got[0]["meta"]["page"], "https://shop.example.com/cart", "meta kept")
    expect(got[0]["created_at"].endswith("Z"), "ISO UTC time")


def t_submit_text_plain(s):
    st, h, body = s.request("POST", "/api/v1/forms/docs/responses", json.dumps({"answers": {"missing": "Pricing for teams"}}),
                            headers={"Content-Type": "text/plain;charset=UTF-8"})
    expect_eq(st, 201, f"text/plain accepted {body}")


def t_submit_errors(s):
    st, h, body = s.request("POST", "/api/v1/forms/checkout/responses", '{"answers": {"reason": "Price",}',
                            headers={"Content-Type": "application/json"})
    expect_eq((st, body["error"]), (400, "invalid_json"), "bad json")
    expect("byte" in body["message"], "byte offset in message")
    st, h, body = s.submit("nosuch", {"q": 1})
    expect_eq((st, body["error"]), (404, "unknown_form"), "unknown form")
    st, h, body = s.submit("hidden", {"q": "x"})
    expect_eq((st, body["error"]), (404, "unknown_form"), "inactive form")
    st, h, body = s.request("POST", "/api/v1/forms/checkout/responses", '{"answers":{}}',
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    expect_eq((st, body["error"]), (415, "unsupported_media_type"), "media type")
    big = json.dumps({"answers": {"reason": "Price", "reason_other": "x" * 5000}})
    st, h, body = s.request("POST", "/api/v1/forms/checkout/responses", big, headers={"Content-Type": "application/json"})
    expect_eq((st, body["error"]), (413, "too_large"), "too large")


def t_submit_422_every_field(s):
    st, h, body = s.submit("checkout", {"score": 11, "email": "not-an-email", "phone": "12", "born": "2023-02-29",
                                        "topics": ["z"], "bogus": 1, "reason_other": "x" * 11})
    expect_eq((st, body["error"]), (422, "invalid"), "invalid")
    f = body["fields"]
    for key in ["reason", "score", "email", "phone", "born", "topics", "bogus", "reason_other"]:
        expect(key in f, f"{key} named in fields: {f}")
    # Nothing of a refused answer is stored.
    st, h, forms = s.request("GET", "/api/v1/forms", admin=True)
    before = {x["id"]: x["responses"] for x in forms["forms"]}["checkout"]
    s.submit("checkout", {"reason": "Price", "score": 7.5})
    st, h, forms = s.request("GET", "/api/v1/forms", admin=True)
    expect_eq({x["id"]: x["responses"] for x in forms["forms"]}["checkout"], before, "no half answer stored")


def t_nps_edges(s):
    for v, ok in [(0, True), (10, True), (11, False), (-1, False), ("7", False), (7.5, False), (True, False)]:
        st, h, body = s.submit("checkout", {"reason": "Price", "score": v})
        expect_eq(st, 201 if ok else 422, f"nps {v!r}")


def t_partial_answer(s):
    st, h, body = s.submit("checkout", {"score": 3}, meta={"partial": True})
    expect_eq(st, 201, f"partial accepted {body}")
    st, h, body = s.submit("checkout", {"score": 3})
    expect_eq(st, 422, "required enforced when not partial")


def t_idempotency(s):
    st1, h, b1 = s.submit("checkout", {"reason": "Price"}, headers={"Idempotency-Key": "k-123"})
    st2, h, b2 = s.submit("checkout", {"reason": "Other", "reason_other": "x"}, headers={"Idempotency-Key": "k-123"})
    expect_eq((st1, st2), (201, 201), "both 201")
    expect_eq(b1, b2, "replay returns the first body")
    st3, h, b3 = s.submit("checkout", {"reason": "Price"}, idempotency_key="k-123")
    expect_eq(b3["id"], b1["id"], "key in the body works too")
    st, h, listing = s.request("GET", "/api/v1/forms/checkout/responses?limit=1000", admin=True)
    expect_eq(len([r for r in listing["responses"] if r["id"] == b1["id"]]), 1, "stored once")
    expect_eq(len(listing["responses"]), len({r["id"] for r in listing["responses"]}), "no duplicates")


def t_preflight(s):
    st, h, body = s.request("OPTIONS", "/api/v1/forms/checkout/responses",
                            headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"})
    expect_eq(st, 204, "preflight")
    expect_eq(h.get("access-control-allow-origin"), "https://shop.example.com", "ACAO")
    expect("POST" in h.get("access-control-allow-methods", ""), "methods")
    st, h, body = s.request("OPTIONS", "/api/v1/forms/checkout/responses", headers={"Origin": "null"})
    expect_eq((st, body["error"]), (403, "origin_not_allowed"), "null origin refused")
    st, h, body = s.submit("checkout", {"reason": "Price"}, headers={"Origin": "null"})
    expect_eq((st, body["error"]), (403, "origin_not_allowed"), "null origin submit refused")


def t_admin_auth(s):
    for hdr in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}]:
        st, h, body = s.request("GET", "/api/v1/forms", headers=hdr)
        expect_eq((st, body["error"]), (401, "unauthorized"), f"auth {hdr}")
        expect("access-control-allow-origin" not in h, "no CORS on admin")
    st, h, body = s.request("GET", "/api/v1/forms/checkout/export", headers={"Origin": "https://shop.example.com"})
    expect_eq(st, 401, "export needs a token")
    st, h, body = s.request("GET", "/api/v1/forms", admin=True, headers={"Origin": "https://shop.example.com"})
    expect_eq(st, 200, "with token")
    expect("access-control-allow-origin" not in h, "admin routes never send CORS headers")
    ids = [f["id"] for f in body["forms"]]
    expect_eq(ids, ["checkout", "docs", "hidden"], "forms listed")
    expect(all(set(f) >= {"id", "kind", "title", "active", "responses"} for f in body["forms"]), "form shape")


def t_paging(s):
    for i in range(7):
        s.submit("docs", {"missing": f"page test {i}"})
    seen, cursor, pages = [], None, 0
    while True:
        path = "/api/v1/forms/docs/responses?limit=3" + (f"&after={cursor}" if cursor else "")
        st, h, body = s.request("GET", path, admin=True)
        expect_eq(st, 200, "page")
        seen += [r["id"] for r in body["responses"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    expect_eq(len(seen), len(set(seen)), "no duplicates across pages")
    expect(len(seen) >= 7 and pages >= 3, "all pages walked")
    st, h, body = s.request("GET", "/api/v1/forms/docs/responses?limit=0", admin=True)
    expect_eq((st, body["error"]), (400, "invalid_parameter"), "limit 0")
    st, h, body = s.request("GET", "/api/v1/forms/docs/responses?limit=1001", admin=True)
    expect_eq(st, 400, "limit over 1000")
    st, h, body = s.request("GET", "/api/v1/forms/docs/responses?since=yesterday", admin=True)
    expect_eq((st, body["error"]), (400, "invalid_parameter"), "bad since")
    st, h, body = s.request("GET", "/api/v1/forms/docs/responses?since=2999-01-01", admin=True)
    expect_eq(body["responses"], [], "since in the future")
    st, h, body = s.request("GET", "/api/v1/forms/docs/responses?until=2000-01-01", admin=True)
    expect_eq(body["responses"], [], "until in the past")
    st, h, body = s.request("GET", "/api/v1/forms/nosuch/responses", admin=True)
    expect_eq((st, body["error"]), (404, "unknown_form"), "unknown form")


def t_export_csv(s):
    s.submit("checkout", {"reason": "Other", "reason_other": "=cmd()", "email": "x@y.co"},
             meta={"page": "https://shop.example.com/cart"})
    st, h, data = s.request("GET", "/api/v1/forms/checkout/export?format=csv", admin=True, raw=True)
    expect_eq(st, 200, "export")
    expect("attachment" in h.get("content-disposition", ""), "attachment")
    expect(h.get("content-type", "").startswith("text/csv"), "csv type")
    text = data.decode("utf-8")
    expect(not text.startswith("\ufeff"), "no BOM by default")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    expect_eq(rows[0], ["id", "created_at", "reason", "reason_other", "score", "email", "phone", "born", "topics",
                        "score", "category", "tags", "page"], "header")
    injected = [r for r in rows[1:] if r[3].endswith("cmd()")]
    expect_eq(len(injected), 1, "row present")
    expect_eq(injected[0][3], "'=cmd()", "formula guarded")
    st, h, data = s.request("GET", "/api/v1/forms/checkout/export?format=csv&bom=1", admin=True, raw=True)
    expect(data.startswith(b"\xef\xbb\xbf"), "BOM on request")


def t_export_ndjson_xlsx(s):
    st, h, data = s.request("GET", "/api/v1/forms/docs/export?format=ndjson", admin=True, raw=True)
    expect_eq(st, 200, "ndjson")
    lines = [json.loads(x) for x in data.decode().splitlines()]
    expect(len(lines) >= 7, "every answer")
    expect(all(set(x) >= {"id", "form", "created_at", "answers", "meta", "tags"} for x in lines), "shape")
    st, h, data = s.request("GET", "/api/v1/forms/docs/export?format=xlsx", admin=True, raw=True)
    expect_eq(st, 200, "xlsx")
    expect(data[:2] == b"PK" and len(data) > 1000, "a zip workbook")
    st, h, body = s.request("GET", "/api/v1/forms/docs/export?format=pdf", admin=True)
    expect_eq((st, body["error"]), (400, "invalid_parameter"), "bad format")


def t_export_large_streams(s):
    # 3000 answers through 30 concurrent clients, then a streamed export of all of them.
    errors = []

    def worker(k):
        for i in range(100):
            st, h, body = s.submit("docs", {"missing": f"bulk {k}-{i} " + "x" * 200})
            if st != 201:
                errors.append((st, body))
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(30 if not VALGRIND else 3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    expect_eq((len(errors), errors[:3]), (0, []), "every concurrent submit got 201")
    st, h, data = s.request("GET", "/api/v1/forms/docs/export?format=csv", admin=True, raw=True)
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    expect(len(rows) - 1 >= (3000 if not VALGRIND else 300), f"all rows exported ({len(rows) - 1})")
    expect_eq(h.get("transfer-encoding"), "chunked", "streamed in chunks")


def t_embed_and_static(s):
    st, h, body = s.request("GET", "/embed", raw=True)
    expect_eq(st, 200, "embed")
    text = body.decode()
    expect(f"http://127.0.0.1:{s.port}/static/earshot.js" in text and "<script" in text, "snippet")
    st, h, body = s.request("GET", "/static/../earshot.yaml", raw=True)
    expect(st in (400, 404), "no path traversal")
    st, h, body = s.request("GET", "/static/%2e%2e%2fearshot.yaml", raw=True)
    expect(st in (400, 404), "no encoded traversal")
    if os.path.exists(os.path.join(os.environ.get("EARSHOT_SRCDIR", "."), "static", "earshot.js")):
        st, h, body = s.request("GET", "/static/earshot.js?v=1", raw=True)
        expect_eq(st, 200, "widget served")
        expect("immutable" in h.get("cache-control", ""), "versioned URL cached long")


def t_nps_route_not_enabled(s):
    st, h, body = s.request("GET", "/api/v1/forms/checkout/nps", admin=True)
    expect_eq((st, body["error"]), (404, "not_enabled"), "nps without the plugin")
    st, h, body = s.request("GET", "/api/v1/forms/checkout/nps")
    expect_eq(st, 401, "still an admin route")


def t_malformed_requests(s):
    shapes = [
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        b"POST /api/v1/forms/checkout/responses HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\nzz\r\n",
        b"POST /api/v1/forms/checkout/responses HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
        b"GARBAGE\r\n\r\n",
        b"GET /\x00 HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n",
        b"\xff\xfe\xfd\r\n\r\n",
    ]
    for raw in shapes:
        s.raw(raw, read_timeout=3)
    for raw in shapes[:2]:
        reply = s.raw(raw, read_timeout=3)
        expect(reply.startswith(b"HTTP/1.1 400"), f"conflicting lengths refused: {reply[:60]!r}")
    st, h, body = s.request("GET", "/healthz")
    expect_eq(st, 200, "server alive after malformed input")


def t_slow_client_cut_off(s):
    sock = socket.create_connection(("127.0.0.1", s.port))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    t0 = time.time()
    sock.settimeout(10)
    try:
        data = sock.recv(100)
    except OSError:
        data = b""
    elapsed = time.time() - t0
    sock.close()
    expect(elapsed < 8, f"slow client cut off after {elapsed:.1f}s")
    st, h, body = s.request("GET", "/healthz")
    expect_eq(st, 200, "others still served")


def t_restart_keeps_answers(s):
    st, h, body = s.submit("docs", {"missing": "survives restart"})
    expect_eq(st, 201, "stored")
    expect_eq(s.stop(), 0, "clean exit on SIGTERM")
    expect("stopped cleanly" in s.read_log(), "drain logged")
    s.start()
    st, h, listing = s.request("GET", "/api/v1/forms/docs/responses?limit=1000", admin=True)
    ids = [r["id"] for r in listing["responses"]]
    while listing["next"]:
        st, h, listing = s.request("GET", f"/api/v1/forms/docs/responses?limit=1000&after={listing['next']}", admin=True)
        ids += [r["id"] for r in listing["responses"]]
    expect(body["id"] in ids, "answer still there after restart")


def t_sighup_reload(s):
    s.write_form("late", "id: late\ntitle: Late\nquestions:\n  - id: q\n    type: text\n    label: Q\n")
    s.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    st, h, body = s.submit("late", {"q": "hello"})
    expect_eq(st, 201, "new form served after SIGHUP")
    s.write_form("broken", "id: broken\ntitle: B\nquestions:\n  - id: q\n    type: emial\n    label: Q\n")
    s.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    log = s.read_log()
    expect("broken.yaml:5:11" in log, "the problem is logged with its position")
    expect("reload refused" in log, "refusal logged")
    st, h, body = s.submit("late", {"q": "still here"})
    expect_eq(st, 201, "old forms stay in service")
    os.remove(os.path.join(s.forms_dir, "broken.yaml"))


def t_rate_limit():
    s = Server(forms={"docs": DOCS}, limits={"submissions_per_minute": 5})
    try:
        s.start()
        statuses = [s.submit("docs", {"missing": f"r{i}"}) for i in range(7)]
        expect_eq([x[0] for x in statuses[:5]], [201] * 5, "burst allowed")
        st, h, body = statuses[5]
        expect_eq((st, body["error"]), (429, "rate_limited"), "then limited")
        expect(int(h["retry-after"]) >= 1 and body["retry_after"] == int(h["retry-after"]), "Retry-After")
    finally:
        s.cleanup()


def t_cors_restricted():
    s = Server(forms={"docs": DOCS}, extra_config='cors:\n  allowed_origins: ["https://shop.example.com"]\n')
    try:
        s.start()
        st, h, body = s.submit("docs", {"missing": "x"}, headers={"Origin": "https://evil.example.com"})
        expect_eq((st, body["error"]), (403, "origin_not_allowed"), "foreign origin")
        st, h, body = s.submit("docs", {"missing": "x"}, headers={"Origin": "https://shop.example.com.evil.com"})
        expect_eq(st, 403, "look-alike origin")
        st, h, body = s.submit("docs", {"missing": "x"}, headers={"Origin": "https://shop.example.com"})
        expect_eq(st, 201, "allowed origin")
        expect_eq(h.get("access-control-allow-origin"), "https://shop.example.com", "echo")
        st, h, body = s.submit("docs", {"missing": "x"}, headers={"Origin": f"http://127.0.0.1:{s.port}"})
        expect_eq(st, 201, "earshot's own origin (public_url) is always allowed")
        st, h, body = s.submit("docs", {"missing": "x"}, headers={"Origin": f"http://127.0.0.1:{s.port}0"})
        expect_eq(st, 403, "but not a look-alike of it")
        st, h, body = s.request("GET", "/api/v1/surveys?page=/docs", headers={"Origin": "https://evil.example.com"})
        expect_eq(st, 200, "surveys still answered")
        expect("access-control-allow-origin" not in h, "without CORS headers")
    finally:
        s.cleanup()


def t_unwritable_database_503():
    s = Server(forms={"docs": DOCS})
    try:
        s.start()
        st, h, body = s.submit("docs", {"missing": "before"})
        expect_eq(st, 201, "writable")
        # Make the database read-only underneath the server: commits must fail, never a false 201.
        db = os.path.join(s.dir, "data.db")
        import sqlite3
        # The writer may be in a transaction of its own (it folds new answers into the summary tables
        # about a second later): wait for it, then hold the database.
        lock = sqlite3.connect(db, timeout=10)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            st, h, body = s.submit("docs", {"missing": "during"})
            expect_eq((st, body.get("error")), (503, "unavailable"), "503 while the database cannot take writes")
            st, h, hb = s.request("GET", "/healthz")
            expect_eq(st, 503, "health degraded")
        finally:
            lock.rollback()
            lock.close()
        st, h, body = s.submit("docs", {"missing": "after"})
        expect_eq(st, 201, "recovers")
        st, h, listing = s.request("GET", "/api/v1/forms/docs/responses", admin=True)
        texts = [r["answers"]["missing"] for r in listing["responses"]]
        expect_eq(texts, ["before", "after"], "the refused answer left nothing behind")
    finally:
        s.cleanup()


def t_privacy_and_retention():
    import sqlite3
    s = Server(forms={"docs": DOCS})
    try:
        s.start()
        for text in ["old answer", "new answer"]:
            st, h, body = s.submit("docs", {"missing": text})
            expect_eq(st, 201, "stored")
        expect_eq(s.stop(), 0, "clean stop")
        db = sqlite3.connect(os.path.join(s.dir, "data.db"))
        clients = [r[0] for r in db.execute("SELECT client FROM responses")]
        expect(all(c and c.startswith("h:") and "127.0.0.1" not in c for c in clients), f"addresses hashed: {clients}")
        expect_eq(len(set(clients)), 1, "the same address hashes alike")
        ten_days_ago = int((time.time() - 10 * 86400) * 1000)
        db.execute("UPDATE responses SET created_ms = ? WHERE answers LIKE '%old answer%'", (ten_days_ago,))
        db.commit()
        db.close()
        with open(s.config_path, "a") as f:
            f.write("privacy:\n  client_ip: truncated\n  retention_days: 7\n")
        s.start()
        deadline = time.time() + 10
        texts = None
        while time.time() < deadline:
            st, h, listing = s.request("GET", "/api/v1/forms/docs/responses", admin=True)
            texts = [r["answers"]["missing"] for r in listing["responses"]]
            if texts == ["new answer"]:
                break
            time.sleep(0.2)
        expect_eq(texts, ["new answer"], "answers past retention_days are purged")
        s.submit("docs", {"missing": "truncated"})
        expect_eq(s.stop(), 0, "clean stop")
        db = sqlite3.connect(os.path.join(s.dir, "data.db"))
        (client,) = db.execute("SELECT client FROM responses WHERE answers LIKE '%truncated%'").fetchone()
        db.close()
        expect_eq(client, "127.0.0.0", "truncated keeps the /24 only")
    finally:
        s.cleanup()


def main():
    tap = TAP()
    s = Server(forms=FORMS)
    try:
        s.start()
        for name, fn in [
            ("healthz", t_healthz), ("security headers and error shape", t_security_headers_everywhere),
            ("surveys by page rules", t_surveys_page_rules), ("surveys ETag and caching", t_surveys_caching),
            ("surveys CORS", t_surveys_cors), ("submit 201 and stored normalised", t_submit_ok),
            ("submit as text/plain", t_submit_text_plain), ("submit 400/404/413/415", t_submit_errors),
            ("422 names every bad field, stores nothing", t_submit_422_every_field), ("nps edges", t_nps_edges),
            ("partial answers", t_partial_answer), ("idempotency replay", t_idempotency),
            ("CORS preflight", t_preflight), ("admin auth", t_admin_auth), ("response paging", t_paging),
            ("CSV export", t_export_csv), ("NDJSON and XLSX export", t_export_ndjson_xlsx),
            ("3000 concurrent answers then streamed export", t_export_large_streams),
            ("embed and static", t_embed_and_static), ("nps route without plugin", t_nps_route_not_enabled),
            ("malformed requests", t_malformed_requests), ("slow client", t_slow_client_cut_off),
            ("restart keeps answers", t_restart_keeps_answers), ("SIGHUP reload", t_sighup_reload),
        ]:
            tap.run(name, fn, s)
        rc = s.stop()
        tap.run("SIGTERM exits 0", lambda: expect_eq(rc, 0, "exit code"))
    finally:
        s.cleanup()
    tap.run("rate limit 429", t_rate_limit)
    tap.run("CORS allow-list", t_cors_restricted)
    tap.run("unwritable database gives 503, never a false 201", t_unwritable_database_503)
    tap.run("addresses hashed or truncated; retention purge", t_privacy_and_retention)
    tap.finish()


if __name__ == "__main__":
    main()
