#!/usr/bin/env python3
"""Integration tests for what the dashboard reads beside the summary, on a real server:
GET /api/v1/forms/{form}/responses/{id} (one answer with its contact keys, offers, deliveries and
follow-up item), GET /api/v1/forms/{form}/timeline (answers per day, week or month under the filter
parameters, compared with a count made here from rows inserted at chosen times) and
GET /api/v1/deliveries?order=newest."""
import datetime
import json
import os
import sqlite3
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, TAP, Server, expect, expect_eq  # noqa: E402

BUILDDIR = os.environ.get("EARSHOT_BUILDDIR", os.path.dirname(BIN))
ROUTER = os.path.join(BUILDDIR, "plugins", "complaint-router.so")

SHOP = """id: shop
title: Shop
variants:
  - {id: a, weight: 50}
  - {id: b, weight: 50}
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
OTHER = """id: other
title: Other
questions:
  - id: comment
    type: text
    label: Comment
"""
CONFIG = ("destinations:\n  log:\n    type: file\n    path: complaints.ndjson\n"
          "plugins:\n  - name: complaint-router\n"
          f"    path: {json.dumps(ROUTER)}\n    forms: [shop]\n    config:\n      rules: "
          + json.dumps([{"when": {"question": "nps", "lte": 6}, "route": "log", "tag": "detractor"}]) + "\n")

DAY = 86400000
T0 = 1780272000000  # 2026-06-01T00:00:00Z, a Monday


def get(s, path, admin=True):
    st, _, body = s.request("GET", path, admin=admin)
    return st, body


def t_detail(s):
    st, _, body = s.submit("shop", {"nps": 3, "comment": "It broke", "email": "Ann@Example.COM"}, {"page": "/cart"})
    expect_eq(st, 201, f"submit: {body}")
    rid = body["id"]
    deadline = time.time() + 10
    while time.time() < deadline:
        st, d = get(s, f"/api/v1/forms/shop/responses/{rid}")
        if st == 200 and d["deliveries"] and d["deliveries"][0]["state"] == "delivered":
            break
        time.sleep(0.1)
    expect_eq(st, 200, f"detail: {d}")
    expect_eq(set(d), {"response", "contacts", "offers", "deliveries", "inbox"}, "members")
    st, page = get(s, "/api/v1/forms/shop/responses?limit=1000")
    listed = [r for r in page["responses"] if r["id"] == rid][0]
    expect_eq(d["response"], listed, "the answer in the listing's shape")
    expect_eq(d["contacts"], [{"kind": "email", "key": "ann@example.com"}], "the contact key (an address compares whole, any case)")
    expect_eq(d["offers"], [], "no offer")
    expect_eq(len(d["deliveries"]), 1, f"one delivery: {d['deliveries']}")
    dl = d["deliveries"][0]
    expect_eq((dl["destination"], dl["response_id"], dl["state"]), ("log", rid, "delivered"), "the file delivery")
    expect(d["inbox"] is None or d["inbox"]["response_id"] == rid, f"follow-up item: {d['inbox']}")
    # An answer without contact or deliveries.
    st, _, body = s.submit("shop", {"nps": 10})
    st, d2 = get(s, f"/api/v1/forms/shop/responses/{body['id']}")
    expect_eq((d2["contacts"], d2["deliveries"], d2["inbox"]), ([], [], None), "nothing beside a plain answer")


def t_detail_refusals(s):
    st, _, body = s.submit("other", {"comment": "hi"})
    other_id = body["id"]
    for path, status, code in [("/api/v1/forms/shop/responses/r_nosuchanswer", 404, "unknown_response"),
                               (f"/api/v1/forms/shop/responses/{other_id}", 404, "unknown_response"),
                               ("/api/v1/forms/nosuch/responses/r_x", 404, "unknown_form"),
                               ("/api/v1/forms/nosuch/timeline", 404, "unknown_form")]:
        st, body = get(s, path)
        expect_eq((st, body.get("error")), (status, code), path)
    st, body = get(s, f"/api/v1/forms/other/responses/{other_id}", admin=False)
    expect_eq(st, 401, "needs the token")
    st, body = get(s, "/api/v1/forms/other/timeline", admin=False)
    expect_eq(st, 401, "the timeline needs the token")


def seed(s, rows):
    db = sqlite3.connect(os.path.join(s.dir, "data.db"), timeout=10)
    with db:
        for i, (ms, variant) in enumerate(rows):
            db.execute("INSERT INTO responses (id, form, created_ms, answers, meta, score, tags) "
                       "VALUES (?, 'shop', ?, '{\"nps\":5}', ?, NULL, '[]')",
                       (f"r_tl{i:04d}", ms, json.dumps({"variant": variant} if variant else {})))
    db.close()


def day(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).date()


def bucket(ms, interval):
    d = day(ms)
    if interval == "week":
        d -= datetime.timedelta(days=d.weekday())
    elif interval == "month":
        d = d.replace(day=1)
    return d.isoformat()


def iso(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def t_timeline(s, rows):
    def want(interval, keep=lambda ms, v: True):
        out = {}
        for ms, v in rows:
            if keep(ms, v):
                out[bucket(ms, interval)] = out.get(bucket(ms, interval), 0) + 1
        return [{"start": k, "answers": out[k]} for k in sorted(out)]

    def since_t0(ms, v):
        return T0 - 100 * DAY <= ms  # the seeded rows only, not the submits of the other tests

    q0 = "since=" + urllib.parse.quote(iso(T0 - 100 * DAY)) + "&until=" + urllib.parse.quote(iso(T0 + 400 * DAY))
    for interval in ("day", "week", "month"):
        st, body = get(s, f"/api/v1/forms/shop/timeline?interval={interval}&{q0}")
        expect_eq(st, 200, f"{interval}: {body}")
        expect_eq(body["interval"], interval, "interval")
        expect_eq(body["series"], want(interval, since_t0), f"answers per {interval}")
    st, body = get(s, f"/api/v1/forms/shop/timeline?{q0}")
    expect_eq(body["interval"], "day", "day by default")
    st, body = get(s, f"/api/v1/forms/shop/timeline?interval=week&variant=a&{q0}")
    expect_eq(body["series"], want("week", lambda ms, v: v == "a"), "variant a per week")
    lo, hi = T0 + 3 * DAY, T0 + 40 * DAY
    q = "since=" + urllib.parse.quote(iso(lo)) + "&until=" + urllib.parse.quote(iso(hi))
    st, body = get(s, f"/api/v1/forms/shop/timeline?interval=month&{q}")
    expect_eq(body["series"], want("month", lambda ms, v: lo <= ms < hi), "a time range per month")
    for bad, param in [("interval=year", "interval"), ("interval=day&device=phone", "device"), ("since=yesterday", "since")]:
        st, body = get(s, f"/api/v1/forms/shop/timeline?{bad}")
        expect_eq((st, body["error"], body["parameter"]), (400, "invalid_parameter", param), bad)
    st, body = get(s, "/api/v1/forms/other/timeline?interval=month")
    expect_eq(body["series"], [], "a form without answers has an empty series")


def t_deliveries_newest(s):
    for i in range(5):
        s.submit("shop", {"nps": i})
    deadline = time.time() + 10
    while time.time() < deadline:
        st, body = get(s, "/api/v1/deliveries?limit=1000")
        if len(body["deliveries"]) >= 6 and all(d["state"] == "delivered" for d in body["deliveries"]):
            break
        time.sleep(0.1)
    oldest = [d["id"] for d in body["deliveries"]]
    expect(len(oldest) >= 6, f"deliveries: {len(oldest)}")
    got, cursor = [], None
    while True:
        st, page = get(s, "/api/v1/deliveries?order=newest&limit=2" + (f"&after={cursor}" if cursor else ""))
        expect_eq(st, 200, f"newest: {page}")
        got += [d["id"] for d in page["deliveries"]]
        cursor = page["next"]
        if not cursor:
            break
    expect_eq(got, oldest[::-1], "newest first, paged down to the oldest")
    st, page = get(s, "/api/v1/deliveries?order=newest&state=delivered&limit=1")
    expect_eq([d["id"] for d in page["deliveries"]], oldest[-1:], "with a state")
    st, body = get(s, "/api/v1/deliveries?order=sideways")
    expect_eq((st, body["parameter"]), (400, "order"), "a bad order")


def main():
    t = TAP()
    s = Server(forms={"shop": SHOP, "other": OTHER}, extra_config=CONFIG)
    rows = [(T0 + i * DAY // 3 + (i % 7) * 3600000, ("a", "b", None)[i % 3]) for i in range(200)] + \
           [(T0 - 40 * DAY, "a"), (T0 + 370 * DAY, "b")]
    try:
        s.start()
        seed(s, rows)
        t.run("timeline: answers per day, week and month equal a count made here, under filters", t_timeline, s, rows)
        t.run("one answer in full: the listing's shape, its contact, offers, deliveries and follow-up", t_detail, s)
        t.run("one answer: unknown answer, other form's answer, unknown form, no token", t_detail_refusals, s)
        t.run("deliveries newest first, paged with the cursor", t_deliveries_newest, s)
    finally:
        s.cleanup()
    t.finish()


if __name__ == "__main__":
    main()
