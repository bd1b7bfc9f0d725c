#!/usr/bin/env python3
"""Integration tests for the per-question summary and the filter parameters on a real server.

A known data set (seeded pseudo-random answers inserted with SQL at chosen times, plus a few real
submits) is summarised by GET /api/v1/forms/{form}/summary, and every number is compared with a count
computed here from the same rows; each filter (since/until, page, tag, category, variant, device,
attr, q) must change the summary, the paged listing and the exports the same way; bad parameters
answer 400 naming the parameter; consent and contact values never appear in a summary."""
import csv
import io
import json
import math
import os
import time
import random
import sqlite3
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TAP, Server, expect, expect_eq  # noqa: E402

SHOP = """id: shop
title: Shop
variants:
  - {id: a, weight: 50}
  - {id: b, weight: 50}
questions:
  - id: reason
    type: single_choice
    label: Why didn't you buy?
    options: [price, shipping, just looking, other]
  - id: nps
    type: nps
    label: How likely are you to recommend us?
  - id: extras
    type: multi_choice
    label: What would help?
    options: [gift wrap, express, none]
  - id: stars
    type: rating
    label: Rate the checkout
    scale: 5
  - id: comment
    type: long_text
    label: Anything else?
  - id: email
    type: email
    label: Email
  - id: phone
    type: phone
    label: Phone
  - id: ok
    type: consent
    label: You may contact me
"""

PLAIN = """id: plain
title: Plain
questions:
  - id: nps
    type: nps
    label: Score?
"""

OTHER = PLAIN.replace("id: plain", "id: other").replace("title: Plain", "title: Other")

DAY = 86400000
T0 = 1780000000000            # 2026-05-28T20:26:40Z
PAGES = ["/cart", "/cart/step2", "/checkout", "/blog/post", "https://shop.example.com/cart/step3?utm=x#top",
         "https://shop.example.com", "http://blog.example.com/checkout#c"]
TAGS = ["complaint", "praise", "pricing"]
DEVICES = ["desktop", "mobile", "tablet"]
REASONS = ["price", "shipping", "just looking", "other"]
EXTRAS = ["gift wrap", "express", "none"]
SECRET_EMAIL = "secret.person@example.org"
SECRET_PHONE = "+38640111222"


def category(n):
    return "promoter" if n >= 9 else "passive" if n >= 7 else "detractor"


def make_rows(n=600, seed=11):
    """The known data set: a list of dicts (answers, meta, tags, score, created_ms)."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        answers, meta = {}, {}
        if rnd.random() < 0.9:
            answers["reason"] = rnd.choice(REASONS[:3]) if rnd.random() < 0.8 else "other"
        nps = None
        if rnd.random() < 0.85:
            nps = rnd.randint(0, 10)
            answers["nps"] = nps
        if rnd.random() < 0.6:
            answers["extras"] = rnd.sample(EXTRAS, rnd.randint(1, 2))
        if rnd.random() < 0.5:
            answers["stars"] = rnd.randint(1, 5)
        if rnd.random() < 0.4:
            answers["comment"] = rnd.choice(["Too expensive", "shipping was slow", "Nice shop", "x" * 150])
        if rnd.random() < 0.3:
            answers["email"] = f"user{i}@example.com" if i != 7 else SECRET_EMAIL
        if rnd.random() < 0.2:
            answers["phone"] = "+3864000%04d" % i if i != 9 else SECRET_PHONE
        if rnd.random() < 0.5:
            answers["ok"] = True
        meta["page"] = rnd.choice(PAGES)
        variant = rnd.choice(["a", "b", None])
        if variant:
            meta["variant"] = variant
        if rnd.random() < 0.7:
            meta["device"] = rnd.choice(DEVICES)
        if rnd.random() < 0.3:
            meta["plan"] = rnd.choice(["pro", "free"])
        tags = sorted(rnd.sample(TAGS, rnd.randint(0, 2)))
        score = {"nps": nps, "category": category(nps)} if nps is not None else None
        rows.append({"answers": answers, "meta": meta, "tags": tags, "score": score,
                     "created_ms": T0 + rnd.randint(0, 30) * DAY + rnd.randint(0, DAY - 1)})
    return rows


def seed(s, rows):
    db = sqlite3.connect(os.path.join(s.dir, "data.db"), timeout=10)
    with db:
        for i, r in enumerate(rows):
            db.execute("INSERT INTO responses (id, form, created_ms, answers, meta, score, tags) "
                       "VALUES (?, 'shop', ?, ?, ?, ?, ?)",
                       (f"r_seed{i:05d}", r["created_ms"], json.dumps(r["answers"]), json.dumps(r["meta"]),
                        json.dumps(r["score"]) if r["score"] else None, json.dumps(r["tags"])))
    db.close()


def iso(ms):
    import datetime
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ---- the independent count --------------------------------------------------------------------------

def glob_match(pattern, text):
    """The whole meta.page, or the path of a URL (no scheme, host, query, fragment), matches."""
    import fnmatch
    import urllib.parse as up
    path = text
    if "://" in text:
        path = up.urlsplit(text).path or "/"
    return fnmatch.fnmatchcase(text, pattern) or fnmatch.fnmatchcase(path, pattern)


def matches(r, f):
    m, a = r["meta"], r["answers"]
    if "since" in f and r["created_ms"] < f["since"]:
        return False
    if "until" in f and r["created_ms"] >= f["until"]:
        return False
    if "page" in f and not glob_match(f["page"], m.get("page", "")):
        return False
    if "tag" in f and f["tag"] not in r["tags"]:
        return False
    if "category" in f and (r["score"] or {}).get("category") != f["category"]:
        return False
    if "variant" in f and m.get("variant") != f["variant"]:
        return False
    if "device" in f and m.get("device") != f["device"]:
        return False
    if "attr" in f and any(m.get(k) is None for k in f["attr"].split(",")):
        return False
    if "q" in f and not any(isinstance(v, str) and f["q"].lower() in v.lower() for v in a.values()):
        return False
    return True


def c_round(x):
    """C's round(): halves away from zero (Python's round() goes to even)."""
    return math.copysign(math.floor(abs(x) + 0.5), x)


def pct(part, whole):
    return c_round(1000 * part / whole) / 10 if whole else 0


def expected_summary(rows):
    """The summary computed from the rows, as {question id: {...}} plus the total."""
    out = {"answers": len(rows)}
    reason = [r["answers"]["reason"] for r in rows if "reason" in r["answers"]]
    out["reason"] = {"answered": len(reason),
                     "options": {o: reason.count(o) for o in REASONS}}
    nps = [r["answers"]["nps"] for r in rows if "nps" in r["answers"]]
    pro = sum(1 for v in nps if v >= 9)
    det = sum(1 for v in nps if v <= 6)
    out["nps"] = {"answered": len(nps), "distribution": [nps.count(v) for v in range(11)],
                  "promoters": pro, "passives": len(nps) - pro - det, "detractors": det,
                  "nps": c_round(1000 * (pro - det) / len(nps)) / 10 if nps else None}
    extras = [r["answers"]["extras"] for r in rows if "extras" in r["answers"]]
    out["extras"] = {"answered": len(extras),
                     "options": {o: sum(1 for e in extras if o in e) for o in EXTRAS}}
    stars = [r["answers"]["stars"] for r in rows if "stars" in r["answers"]]
    out["stars"] = {"answered": len(stars), "distribution": [stars.count(v) for v in range(1, 6)]}
    for q in ("comment", "email", "phone", "ok"):
        out[q] = {"answered": sum(1 for r in rows if q in r["answers"])}
    out["ok"]["given"] = sum(1 for r in rows if r["answers"].get("ok") is True)
    out["variants"] = {v: sum(1 for r in rows if r["meta"].get("variant") == v) for v in ("a", "b")}
    return out


def check_summary(got, want):
    expect_eq(got["answers"], want["answers"], "answers")
    qs = {q["id"]: q for q in got["questions"]}
    expect_eq([q["id"] for q in got["questions"]],
              ["reason", "nps", "extras", "stars", "comment", "email", "phone", "ok"], "question order")
    for qid in ("reason", "extras"):
        q = qs[qid]
        expect_eq(q["answered"], want[qid]["answered"], f"{qid} answered")
        counts = [o["count"] for o in q["options"]]
        expect_eq(counts, sorted(counts, reverse=True), f"{qid} ranked")
        expect_eq({o["value"]: o["count"] for o in q["options"]}, want[qid]["options"], f"{qid} counts")
        for o in q["options"]:
            expect_eq(o["percent"], pct(o["count"], q["answered"]), f"{qid} {o['value']} percent")
    n = qs["nps"]
    expect_eq(n["answered"], want["nps"]["answered"], "nps answered")
    expect_eq([d["count"] for d in n["distribution"]], want["nps"]["distribution"], "nps distribution")
    expect_eq([d["value"] for d in n["distribution"]], list(range(11)), "nps values")
    for k in ("promoters", "passives", "detractors"):
        expect_eq(n[k]["count"], want["nps"][k], f"nps {k}")
        expect_eq(n[k]["percent"], pct(want["nps"][k], n["answered"]), f"nps {k} percent")
    expect_eq(n["nps"], want["nps"]["nps"], "nps score")
    s = qs["stars"]
    expect_eq(s["answered"], want["stars"]["answered"], "stars answered")
    expect_eq([d["count"] for d in s["distribution"]], want["stars"]["distribution"], "stars distribution")
    expect("promoters" not in s, "a rating has no NPS split")
    for qid in ("comment", "email", "phone", "ok"):
        expect_eq(qs[qid]["answered"], want[qid]["answered"], f"{qid} answered")
        expect(set(qs[qid]) <= {"id", "type", "label", "answered", "given"}, f"{qid}: counts only: {qs[qid]}")
    expect_eq(qs["ok"]["given"], want["ok"]["given"], "consent given")
    expect_eq({v["id"]: v["answers"] for v in got["variants"]["variants"]}, want["variants"], "per variant")


# ---- the tests --------------------------------------------------------------------------------------

def get_json(s, path):
    st, _, body = s.request("GET", path, admin=True)
    expect_eq(st, 200, f"GET {path}: {body}")
    return body


def query(f):
    return urllib.parse.urlencode({k: (iso(v) if k in ("since", "until") else v) for k, v in f.items()})


def all_listed(s, f, order=None):
    """Every response id the paged listing gives under filter f (pages of 37)."""
    ids, cursor = [], None
    while True:
        q = "&".join(x for x in (query(f), "limit=37", f"after={cursor}" if cursor else "",
                                 f"order={order}" if order else "") if x)
        body = get_json(s, f"/api/v1/forms/shop/responses?{q}")
        ids += [r["id"] for r in body["responses"]]
        cursor = body["next"]
        if not cursor:
            return ids


def exported_ids(s, f, fmt):
    st, _, body = s.request("GET", f"/api/v1/forms/shop/export?format={fmt}" + (f"&{query(f)}" if f else ""), admin=True, raw=True)
    expect_eq(st, 200, f"export {fmt}")
    if fmt == "csv":
        return [row["id"] for row in csv.DictReader(io.StringIO(body.decode()))]
    return [json.loads(line)["id"] for line in body.decode().splitlines() if line]


FILTERS = [
    {},
    {"since": T0 + 10 * DAY},
    {"until": T0 + 12 * DAY},
    {"since": T0 + 5 * DAY, "until": T0 + 20 * DAY},
    {"page": "/cart*"},
    {"page": "/c?eckout"},
    {"page": "/"},
    {"page": "https://shop.example.com/*"},
    {"tag": "complaint"},
    {"category": "promoter"},
    {"category": "detractor"},
    {"variant": "a"},
    {"variant": "b", "since": T0 + 3 * DAY},
    {"device": "mobile"},
    {"attr": "plan"},
    {"attr": "plan,device"},
    {"q": "SHIPPING"},
    {"tag": "pricing", "variant": "a", "page": "/cart*", "category": "passive"},
    {"page": "/nowhere"},
]


def t_summary_equals_independent_count(s, rows):
    for f in FILTERS:
        want_rows = [r for r in rows if matches(r, f)]
        got = get_json(s, "/api/v1/forms/shop/summary" + (f"?{query(f)}" if f else ""))
        try:
            check_summary(got, expected_summary(want_rows))
        except AssertionError as e:
            raise AssertionError(f"filter {f}: {e}") from None
        if f:
            expect(len(want_rows) != len(rows), f"filter {f} narrows the data set")


def t_listing_and_exports_follow_the_filters(s, rows):
    by_id = {f"r_seed{i:05d}": r for i, r in enumerate(rows)}
    for f in FILTERS:
        want = sorted(i for i, r in by_id.items() if matches(r, f))
        listed = all_listed(s, f)
        expect_eq(sorted(listed), want, f"listing {f}")
        newest = all_listed(s, f, order="newest")
        expect_eq(newest, list(reversed(listed)), f"newest first {f}")
        for fmt in ("csv", "ndjson"):
            expect_eq(sorted(exported_ids(s, f, fmt)), want, f"{fmt} export {f}")


def t_bad_parameters(s, rows):
    bad = [("since", "yesterday"), ("until", "2026-13-45"), ("page", ""), ("page", "x" * 201),
           ("tag", "a\x01b"), ("category", "not a category"), ("variant", "a b"), ("device", "watch"),
           ("attr", "plan,,x"), ("attr", "a,b,c,d,e,f,g,h,i"), ("attr", "pl an"), ("q", "")]
    for route in ("summary", "responses", "export"):
        for name, value in bad:
            path = f"/api/v1/forms/shop/{route}?" + urllib.parse.urlencode({name: value})
            st, _, body = s.request("GET", path, admin=True)
            expect_eq(st, 400, f"{route} {name}={value!r}")
            expect_eq(body["error"], "invalid_parameter", f"{route} {name} code")
            expect_eq(body["parameter"], name, f"{route} {name} named")
    st, _, body = s.request("GET", "/api/v1/forms/shop/responses?order=sideways", admin=True)
    expect_eq((st, body.get("parameter")), (400, "order"), "order")


def t_summary_needs_the_token_and_a_form(s, rows):
    st, _, _ = s.request("GET", "/api/v1/forms/shop/summary")
    expect_eq(st, 401, "without the token")
    st, _, body = s.request("GET", "/api/v1/forms/nope/summary", admin=True)
    expect_eq((st, body["error"]), (404, "unknown_form"), "unknown form")


def t_contact_and_consent_values_never_appear(s, rows):
    for f in ({}, {"attr": "plan"}, {"q": "e"}):
        st, _, body = s.request("GET", "/api/v1/forms/shop/summary" + (f"?{query(f)}" if f else ""), admin=True, raw=True)
        text = body.decode()
        for secret in (SECRET_EMAIL, SECRET_PHONE, "@example.com", "+3864000", "Too expensive", "Nice shop"):
            expect(secret not in text, f"{secret!r} in the summary")


def t_submits_are_counted(s, rows):
    before = get_json(s, "/api/v1/forms/plain/summary")
    expect_eq(before["answers"], 0, "empty form")
    expect_eq(before["questions"][0]["nps"], None, "no NPS without answers")
    expect_eq(before["variants"], None, "no variants block without variants")
    for v in (10, 9, 3, 7):
        st, _, body = s.submit("plain", {"nps": v}, meta={"page": "/x"})
        expect_eq(st, 201, f"submit {body}")
    got = get_json(s, "/api/v1/forms/plain/summary")
    expect_eq(got["answers"], 4, "submitted answers")
    q = got["questions"][0]
    expect_eq([d["count"] for d in q["distribution"]], [0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1], "distribution")
    expect_eq(q["nps"], 25.0, "NPS of 2 promoters, 1 detractor in 4")


def fold(s):
    """Waits for the writer to fold every answer stored so far into the summary tables: answers stored with
    SQL are counted from responses until a fold takes them, and the writer folds what it stored within
    about a second (one answer over HTTP makes sure a fold is due)."""
    st, _, body = s.submit("other", {"nps": 5}, meta={"page": "/fold"})
    expect_eq(st, 201, f"submit {body}")
    deadline = time.monotonic() + 10
    while True:
        db = sqlite3.connect(os.path.join(s.dir, "data.db"), timeout=10)
        upto = db.execute("SELECT seq FROM answer_counts_upto").fetchone()[0]
        top = db.execute("SELECT max(seq) FROM responses").fetchone()[0]
        facts = db.execute("SELECT count(*) FROM answer_facts").fetchone()[0]
        answers = db.execute("SELECT count(*) FROM responses").fetchone()[0]
        db.close()
        if upto == top or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    expect_eq(upto, top, "every answer folded")
    expect_eq(facts, answers, "one row of facts per answer")


def t_folded_summary_equals_independent_count(s, rows):
    fold(s)
    t_summary_equals_independent_count(s, rows)


def t_erased_answers_leave_the_counts(s, rows):
    """Deleting answers (as erasure and the retention purge do) takes them out of every count."""
    gone = set(range(0, len(rows), 7))
    db = sqlite3.connect(os.path.join(s.dir, "data.db"), timeout=10)
    with db:
        for i in gone:
            db.execute("DELETE FROM responses WHERE id = ?", (f"r_seed{i:05d}",))
    db.close()
    kept = [r for i, r in enumerate(rows) if i not in gone]
    rows[:] = kept
    for f in ({}, {"since": T0 + 4 * DAY, "until": T0 + 9 * DAY}, {"variant": "b"}, {"page": "/cart*"}):
        got = get_json(s, "/api/v1/forms/shop/summary" + (f"?{query(f)}" if f else ""))
        check_summary(got, expected_summary([r for r in kept if matches(r, f)]))
    # an answer changed after it was folded is counted as it is now
    db = sqlite3.connect(os.path.join(s.dir, "data.db"), timeout=10)
    with db:
        db.execute("UPDATE responses SET created_ms = ? WHERE id = 'r_seed00001'", (T0 + 60 * DAY,))
    db.close()
    kept[0]["created_ms"] = T0 + 60 * DAY
    for f in ({}, {"since": T0 + 50 * DAY}, {"until": T0 + 50 * DAY}):
        got = get_json(s, "/api/v1/forms/shop/summary" + (f"?{query(f)}" if f else ""))
        check_summary(got, expected_summary([r for r in kept if matches(r, f)]))
    fold(s)
    for f in ({}, {"since": T0 + 50 * DAY}, {"until": T0 + 50 * DAY}, {"variant": "a"}):
        got = get_json(s, "/api/v1/forms/shop/summary" + (f"?{query(f)}" if f else ""))
        check_summary(got, expected_summary([r for r in kept if matches(r, f)]))


def t_variant_verdict(s, rows):
    """The chi-square verdict: none on the random seed data (same distribution per variant), one when
    variant b's answers clearly differ."""
    got = get_json(s, "/api/v1/forms/shop/summary")
    v = got["variants"]
    expect_eq(v["test"], "chi-square test of independence", "test named")
    expect_eq(v["question"], "reason", "first choice question compared")
    expect(all(x["views"] == 0 and x["completion"] is None for x in v["variants"]), "no views recorded")
    expect_eq((v["basis"], v["completion_test"]), ("answers", None), "compared on the answers")
    expect_eq(v["answers_test"]["statistic"], v["statistic"], "the headline is the answers test")
    if v["significant"]:
        expect(v["p_value"] < 0.05 and v["verdict"], "a verdict only when significant")
    else:
        expect(v["verdict"] is None, "no verdict without significance")
    # 200 more answers: variant a says "price", variant b "shipping"
    skew = [{"answers": {"reason": "price" if i % 2 else "shipping"},
             "meta": {"page": "/skew", "variant": "a" if i % 2 else "b"}, "tags": [], "score": None,
             "created_ms": T0 + 40 * DAY} for i in range(200)]
    db = sqlite3.connect(os.path.join(s.dir, "data.db"), timeout=10)
    with db:
        for i, r in enumerate(skew):
            db.execute("INSERT INTO responses (id, form, created_ms, answers, meta, tags) VALUES (?, 'shop', ?, ?, ?, '[]')",
                       (f"r_skew{i:05d}", r["created_ms"], json.dumps(r["answers"]), json.dumps(r["meta"])))
    db.close()
    got = get_json(s, "/api/v1/forms/shop/summary?page=/skew")
    v = got["variants"]
    expect(v["significant"] and v["p_value"] < 0.001, f"a clear difference: {v}")
    expect("chi-square" in v["verdict"] and "Why didn't you buy?" in v["verdict"], v["verdict"])
    expect_eq(v["df"], 1, "two variants by two options")
    expect_eq(v["statistic"], 200.0, "chi-square of a perfect split of 100 and 100")


def main():
    t = TAP()
    s = Server(forms={"shop": SHOP, "plain": PLAIN, "other": OTHER})
    rows = make_rows()
    try:
        s.start()
        seed(s, rows)
        t.run("every summary number equals an independent count, under every filter",
              t_summary_equals_independent_count, s, rows)
        t.run("the same numbers once the answers are folded into the summary tables",
              t_folded_summary_equals_independent_count, s, rows)
        t.run("the paged listing (both orders) and the CSV and NDJSON exports follow the filters",
              t_listing_and_exports_follow_the_filters, s, rows)
        t.run("bad filter parameters answer 400 invalid_parameter naming the parameter", t_bad_parameters, s, rows)
        t.run("the summary needs the admin token and a known form", t_summary_needs_the_token_and_a_form, s, rows)
        t.run("contact, consent and text values never appear in a summary",
              t_contact_and_consent_values_never_appear, s, rows)
        t.run("erased answers leave every count", t_erased_answers_leave_the_counts, s, rows)
        t.run("answers submitted over HTTP are counted (the index follows inserts)", t_submits_are_counted, s, rows)
        t.run("variants: answers per variant, a chi-square verdict only when significant", t_variant_verdict, s, rows)
    finally:
        s.cleanup()
    t.finish()


if __name__ == "__main__":
    main()
