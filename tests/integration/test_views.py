#!/usr/bin/env python3
"""Integration tests of views on a real server: POST /api/v1/forms/{form}/views (refusals, CORS, its own
rate-limit bucket), the view the hosted page counts (with its cookie's variant, not on a 422 re-render
nor HEAD), counts stored within a second and on shutdown, and the summary's views, completion and
completion comparison, checked number by number against counts made here."""
import datetime
import json
import math
import os
import re
import sqlite3
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TAP, Server, expect, expect_eq  # noqa: E402

DAY = 86400000
ORIGIN = "https://shop.example.com"


def survey(form_id, extra=""):
    return (f"id: {form_id}\nkind: survey\ntitle: Before you go\n"
            "questions:\n"
            "  - id: reason\n    type: single_choice\n    label: What stopped you?\n    required: true\n"
            "    options: [Price, Shipping cost, Other]\n"
            "trigger:\n  event: manual\n" + extra)


VARIANTS = "variants:\n  - {id: a, weight: 50}\n  - {id: b, weight: 50, title: Anything we missed?}\n"
FORMS = {
    "ab": survey("ab", VARIANTS),
    "cmp": survey("cmp", VARIANTS),
    "solo": survey("solo"),
    "over": survey("over", "  schedule: {from: 2020-01-01, until: 2021-01-01}\n"),
}


def iso_day(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%d")


def view(s, form, meta=None, headers=None, body=None):
    hdrs = {"Content-Type": "text/plain;charset=UTF-8"}
    hdrs.update(headers or {})
    data = body if body is not None else json.dumps({"meta": meta or {}})
    return s.request("POST", f"/api/v1/forms/{form}/views", data, hdrs)


def summary(s, form, **params):
    q = urllib.parse.urlencode(params)
    st, _, body = s.request("GET", f"/api/v1/forms/{form}/summary" + (f"?{q}" if q else ""), admin=True)
    expect_eq(st, 200, f"summary {body}")
    return body


def wait_views(s, form, total, **params):
    """The summary once it counts `total` views (the writer stores them within about a second)."""
    deadline = time.time() + 20
    while True:
        got = summary(s, form, **params)
        if got["views"] == total or time.time() > deadline:
            expect_eq(got["views"], total, f"views of {form} stored")
            return got
        time.sleep(0.2)


def chi_square(table):
    """Pearson's chi-square of a table of counts (every expected count >= 5 here), with its df."""
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table)]
    n = sum(rows)
    chi = sum((table[i][j] - rows[i] * cols[j] / n) ** 2 / (rows[i] * cols[j] / n)
              for i in range(len(rows)) for j in range(len(cols)))
    return chi, (len(rows) - 1) * (len(cols) - 1)


def t_refusals(s):
    st, _, body = view(s, "nope", {})
    expect_eq((st, body["error"]), (404, "unknown_form"), "unknown form")
    st, _, body = view(s, "over", {})
    expect_eq((st, body["error"], body["reason"]), (410, "form_closed", "ended"), "closed form")
    st, _, body = view(s, "ab", body='{"meta": {')
    expect_eq((st, body["error"]), (400, "invalid_json"), "broken JSON")
    expect(isinstance(body["offset"], int), "offset given")
    st, _, body = view(s, "ab", body='[1, 2]')
    expect_eq((st, body["error"], body["offset"]), (400, "invalid_json", 0), "not an object")
    st, _, body = view(s, "ab", body='{"meta": {"a": 1, "a": 2}}')
    expect_eq((st, body["error"]), (400, "invalid_json"), "repeated key")
    st, _, body = view(s, "ab", body='{"meta": "a"}')
    expect_eq((st, body["error"], body["fields"]), (422, "invalid", {"meta": "must be an object"}), "meta a string")
    st, _, body = view(s, "ab", body='{"meta": {"variant": 3, "device": ["mobile"]}}')
    expect_eq((st, body["fields"]), (422, {"variant": "must be a string", "device": "must be a string"}), "meta members")
    st, _, body = view(s, "ab", {}, headers={"Content-Type": "application/x-www-form-urlencoded"})
    expect_eq((st, body["error"]), (415, "unsupported_media_type"), "form encoding")
    st, _, body = view(s, "ab", {}, headers={"Origin": "https://evil.example.com"})
    expect_eq((st, body["error"]), (403, "origin_not_allowed"), "foreign origin")
    st, _, _ = s.request("GET", "/api/v1/forms/ab/views")
    expect_eq(st, 405, "GET is not a method of the route")
    # None of these counted anything.
    time.sleep(1.5)
    expect_eq(summary(s, "ab")["views"], 0, "no view counted by a refused request")


def t_cors(s):
    st, h, body = view(s, "solo", {"page": ORIGIN + "/cart"}, headers={"Origin": ORIGIN})
    expect_eq((st, body), (204, b""), "204 without a body")
    expect_eq(h.get("access-control-allow-origin"), ORIGIN, "CORS for the allowed origin")
    st, h, _ = s.request("OPTIONS", "/api/v1/forms/solo/views",
                         headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                                  "Access-Control-Request-Headers": "content-type"})
    expect_eq(st, 204, "preflight")
    expect("POST" in h.get("access-control-allow-methods", ""), "POST allowed")
    st, _, _ = view(s, "solo", {}, headers={"Content-Type": "application/json"})
    expect_eq(st, 204, "application/json is taken too")
    wait_views(s, "solo", 2)


def t_counts_and_completion(s):
    """Views and answers posted over HTTP: every number of the summary, the comparison on completion."""
    plan = [("a", "desktop", 30), ("a", "mobile", 10), ("b", "desktop", 25), ("zz", "desktop", 3), (None, "watch", 2)]
    for variant, device, n in plan:
        meta = {"page": ORIGIN + "/cart", "locale": "en", "device": device}
        if variant:
            meta["variant"] = variant
        for _ in range(n):
            st, _, body = view(s, "ab", meta)
            expect_eq(st, 204, f"view {body}")
    answers = [("a", "desktop", 9), ("a", "mobile", 3), ("b", "desktop", 5)]
    for variant, device, n in answers:
        for _ in range(n):
            st, _, body = s.submit("ab", {"reason": "Price"}, meta={"variant": variant, "device": device})
            expect_eq(st, 201, f"answer {body}")
    got = wait_views(s, "ab", 70)
    expect_eq(got["answers"], 17, "answers")
    expect_eq(got["completion"], round(17 / 70, 4), "completion of the form")
    v = got["variants"]
    expect_eq(v["variants"], [{"id": "a", "answers": 12, "views": 40, "completion": 0.3},
                              {"id": "b", "answers": 5, "views": 25, "completion": 0.2}], "per variant")
    expect_eq(v["basis"], "completion", "compared on completion")
    chi, df = chi_square([[12, 28], [5, 20]])
    expect_eq(v["statistic"], round(chi, 3), "chi-square statistic")
    expect_eq(v["df"], df, "df")
    expect(abs(v["p_value"] - math.erfc(math.sqrt(chi / 2))) < 1e-9, f"p-value {v['p_value']}")
    expect_eq((v["significant"], v["verdict"], v["question"]), (False, None, None), "not significant")
    expect_eq(v["completion_test"]["test"], v["test"], "the headline is the completion test")
    expect(v["test"].startswith("chi-square test of completion"), v["test"])
    expect_eq(v["answers_test"]["question"], "reason", "the answers are compared too")
    # Filters views follow: variant and device.
    got = summary(s, "ab", device="mobile")
    expect_eq((got["views"], got["answers"]), (10, 3), "device=mobile")
    expect_eq([(x["views"], x["answers"]) for x in got["variants"]["variants"]], [(10, 3), (0, 0)], "mobile per variant")
    got = summary(s, "ab", variant="b")
    expect_eq((got["views"], got["answers"], got["completion"]), (25, 5, 0.2), "variant=b")
    # A filter views cannot follow leaves them out rather than comparing unlike things.
    got = summary(s, "ab", page="/cart*")
    expect_eq((got["views"], got["completion"]), (None, None), "page filter: views unknown")
    expect_eq(got["variants"]["variants"][0]["views"], None, "per variant too")
    expect_eq(got["variants"]["basis"], "answers", "compared on the answers then")
    expect_eq(got["variants"]["completion_test"], None, "no completion test")


def t_significant_completion(s):
    for variant, views, answered in (("a", 100, 50), ("b", 100, 10)):
        for _ in range(views):
            expect_eq(view(s, "cmp", {"variant": variant})[0], 204, "view")
        for _ in range(answered):
            expect_eq(s.submit("cmp", {"reason": "Other"}, meta={"variant": variant})[0], 201, "answer")
    v = wait_views(s, "cmp", 200)["variants"]
    chi, df = chi_square([[50, 50], [10, 90]])
    expect_eq((v["statistic"], v["df"], v["significant"]), (round(chi, 3), 1, True), "significant")
    expect(v["p_value"] < 1e-6, f"p-value {v['p_value']}")
    expect(v["verdict"].startswith("Variant a is answered more often than variant b (50.0 % of its views "
                                   "against 10.0 %)"), v["verdict"])
    expect_eq(v["answers_test"]["statistic"], None, "every answer is Other: no answers test")


def t_hosted_page_counts_views(s):
    before = summary(s, "ab")["views"]
    st, h, _ = s.request("GET", "/f/ab", headers={"Cookie": "es_v_ab=b",
                                                   "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148"},
                         raw=True)
    expect_eq(st, 200, "hosted page")
    st, h, page = s.request("GET", "/f/ab", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"}, raw=True)
    expect_eq(st, 200, "hosted page of a new visitor")
    picked = h["set-cookie"].split(";")[0].split("=")[1]
    token = re.search(rb'name="_t" value="([^"]+)"', page).group(1).decode()
    st, _, _ = s.request("HEAD", "/f/ab", raw=True)
    expect_eq(st, 200, "HEAD")
    # A refused answer re-renders the page (422): no view.
    st, _, _ = s.request("POST", "/f/ab", urllib.parse.urlencode({"reason": "", "_t": token}),
                         headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": "es_v_ab=b"}, raw=True)
    expect_eq(st, 422, "re-rendered page")
    got = wait_views(s, "ab", before + 2)
    time.sleep(1.5)
    expect_eq(summary(s, "ab")["views"], before + 2, "HEAD and the 422 page count nothing")
    mobile = summary(s, "ab", device="mobile", variant="b")
    expect_eq(mobile["views"], 1, "the cookie's variant b on an iPhone")
    desktop_b = summary(s, "ab", device="desktop", variant="b")["views"]
    expect_eq(desktop_b, 25 + (picked == "b"), f"the new visitor's picked variant {picked} on a desktop")
    expect(got["variants"]["variants"], "per variant")


def t_time_range_by_day(s):
    """Views are kept per UTC day: since/until count the days they overlap."""
    db = sqlite3.connect(os.path.join(s.dir, "data.db"), timeout=10)
    day0 = 20000  # 2024-10-04
    with db:
        for i, n in enumerate((7, 11, 13)):
            db.execute("INSERT INTO views (form, day, variant, device, count) VALUES ('solo', ?, '', 'desktop', ?)",
                       (day0 + i, n))
    db.close()
    got = summary(s, "solo", since=iso_day(day0 * DAY), until=iso_day((day0 + 1) * DAY))
    expect_eq(got["views"], 7, "one whole day")
    got = summary(s, "solo", since=iso_day(day0 * DAY) + "T12:00:00Z", until=iso_day((day0 + 2) * DAY) + "T00:00:01Z")
    expect_eq(got["views"], 7 + 11 + 13, "days partly in the range count whole")
    got = summary(s, "solo", until=iso_day((day0 + 1) * DAY))
    expect_eq(got["views"], 7, "until is exclusive")
    expect_eq(got["completion"], 0.0, "no answers in that range")


def t_rate_limited_in_a_bucket_of_its_own():
    s = Server(forms={"solo": survey("solo")}, limits={"submissions_per_minute": 2})
    try:
        s.start()
        for _ in range(2):
            expect_eq(view(s, "solo", {})[0], 204, "within the bucket")
        st, h, body = view(s, "solo", {})
        expect_eq((st, body["error"]), (429, "rate_limited"), "third view")
        expect(int(h["retry-after"]) >= 1 and body["retry_after"] >= 1, "retry after")
        st, _, body = s.submit("solo", {"reason": "Price"})
        expect_eq(st, 201, f"answers have their own bucket: {body}")
        st, _, _ = s.request("GET", "/f/solo", raw=True)
        expect_eq(st, 200, "the hosted page is still served (its view is not counted)")
        wait_views(s, "solo", 2)
    finally:
        s.cleanup()


def t_stored_on_shutdown():
    s = Server(forms={"solo": survey("solo")})
    try:
        s.start()
        for _ in range(5):
            expect_eq(view(s, "solo", {"device": "tablet"})[0], 204, "view")
        expect_eq(s.stop(), 0, "clean stop")
        db = sqlite3.connect(os.path.join(s.dir, "data.db"))
        rows = db.execute("SELECT form, variant, device, count FROM views").fetchall()
        db.close()
        expect_eq(rows, [("solo", "", "tablet", 5)], "views counted before SIGTERM are stored")
    finally:
        s.cleanup()


def main():
    t = TAP()
    s = Server(forms=FORMS, extra_config=f'cors:\n  allowed_origins: ["{ORIGIN}"]\n')
    try:
        s.start()
        t.run("views: 404, 410, 400 invalid_json, 422 meta, 415, 403 foreign origin, 405; none counted", t_refusals, s)
        t.run("views: 204 with CORS for the allowed origin, preflight, JSON or text", t_cors, s)
        t.run("summary: views, completion and their comparison per variant, equal to the posted counts",
              t_counts_and_completion, s)
        t.run("summary: a significant difference in completion gets a verdict", t_significant_completion, s)
        t.run("hosted page: GET counts a view with its variant and device; HEAD and 422 do not",
              t_hosted_page_counts_views, s)
        t.run("summary: since/until count the UTC days they overlap", t_time_range_by_day, s)
    finally:
        s.cleanup()
    t.run("views: rate limited per address in a bucket of their own", t_rate_limited_in_a_bucket_of_its_own)
    t.run("views counted just before SIGTERM are stored", t_stored_on_shutdown)
    t.finish()


if __name__ == "__main__":
    main()
