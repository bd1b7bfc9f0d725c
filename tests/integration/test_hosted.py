#!/usr/bin/env python3
"""Integration tests of the hosted form pages (/f/{form}) and the incentive plugin, against the real
server over loopback HTTP: page content and headers, valid and invalid submits with the input kept,
spam control (honeypot, too fast, forged and replayed timing tokens) storing nothing behind a normal
303, the thank-you page showing only its own answer's code, one code per person whatever the letter
case or phone formatting, a 10-code pool under 50 concurrent submits, the JSON route's timing token,
rate limiting shared with the JSON route, and one contact recognised across forms."""
import html
import os
import re
import sqlite3
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SRCDIR, TAP, Server, expect, expect_eq  # noqa: E402

BUILDDIR = os.environ.get("EARSHOT_BUILDDIR", os.path.join(SRCDIR, "_build"))
PLUGIN = os.path.join(BUILDDIR, "plugins", "incentive.so")
MIN_FILL = 1

SURVEY = """id: feedback
kind: survey
title: Feedback
questions:
  - id: email
    type: email
    label: Your email
  - id: note
    type: text
    label: Anything else?
    max_length: 20
"""

CLOSED = """id: closed
kind: signup
title: Closed
active: false
questions:
  - id: email
    type: email
    label: Email
"""


def incentive_config(pool=None):
    codes = (f"{{source: file, path: {pool}}}" if pool else "{source: generate, prefix: EAR}")
    return ("plugins:\n"
            "  - name: incentive\n"
            f"    path: {PLUGIN}\n"
            "    forms: [newsletter, feedback]\n"
            "    config:\n"
            "      offer: \"10% off your next order\"\n"
            "      requires: [email]\n"
            f"      codes: {codes}\n"
            "      one_per: email\n")


FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def page(s, form):
    st, h, body = s.request("GET", f"/f/{form}", raw=True)
    return st, h, body.decode()


def token_of(text):
    m = re.search(r'name="_t" value="([^"]+)"', text)
    expect(m, "page has a timing token")
    return html.unescape(m.group(1))


def aged_tokens(s, form, n):
    """n fresh tokens for form, old enough to pass the minimum fill time."""
    tokens = [token_of(page(s, form)[2]) for _ in range(n)]
    time.sleep(MIN_FILL + 0.15)
    return tokens


def post(s, form, fields, token=None):
    """POSTs fields (dict or list of pairs) with token; returns (status, headers, text)."""
    pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
    if token is not None:
        pairs.append(("_t", token))
    body = urllib.parse.urlencode(pairs)
    st, h, data = s.request("POST", f"/f/{form}", body, headers=FORM_HEADERS, raw=True)
    return st, h, data.decode()


def thanks(s, location):
    expect(location, "redirect has a Location")
    st, h, body = s.request("GET", location, raw=True)
    expect_eq(st, 200, "thank-you page")
    return body.decode()


def code_on(text):
    m = re.search(r'<strong class="es-code-value">([^<]*)</strong>', text)
    return html.unescape(m.group(1)) if m else None


def count(s, form):
    st, h, body = s.request("GET", "/api/v1/forms", admin=True)
    expect_eq(st, 200, "form listing")
    return {f["id"]: f["responses"] for f in body["forms"]}[form]


def submit_ok(s, form, fields, token):
    st, h, text = post(s, form, fields, token)
    expect_eq(st, 303, f"status ({text[:300]})")
    loc = h.get("location", "")
    expect(re.fullmatch(rf"/f/{form}/thanks\?r=r_[a-z2-7]{{26}}", loc), f"Location {loc!r}")
    return loc


# ---- page content -------------------------------------------------------------------------------

def t_page_content(s):
    st, h, text = page(s, "newsletter")
    expect_eq(st, 200, "status")
    expect(h.get("content-type", "").startswith("text/html"), "HTML")
    csp = h.get("content-security-policy", "")
    for part in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "form-action 'self'",
                 "frame-ancestors 'none'"]:
        expect(part in csp, f"CSP has {part}: {csp}")
    expect("unsafe-inline" not in csp and "unsafe-eval" not in csp, "nothing unsafe in the CSP")
    expect_eq(h.get("x-content-type-options"), "nosniff", "nosniff")
    expect_eq(h.get("referrer-policy"), "strict-origin-when-cross-origin", "a page has a referrer policy")
    expect("no-store" in h.get("cache-control", ""), "a page with a token is never cached")
    for label_for, ctl in [("q-email", 'id="q-email" name="email" type="email"'),
                           ("q-birthday", 'id="q-birthday" name="birthday" type="date"'),
                           ("q-consent", 'id="q-consent" name="consent" type="checkbox"')]:
        expect(f'<label for="{label_for}">' in text, f"label for {label_for}")
        expect(ctl in text, f"control {ctl}")
    expect('autocomplete="email"' in text, "email autocomplete")
    expect('autocomplete="bday"' in text, "birthday autocomplete")
    expect("We send the newsletter here, about once a month, and nothing else." in text, "why of email")
    expect("We send you a present on your birthday." in text, "why of birthday")
    expect("at most 254 characters" in text and "YYYY-MM-DD" in text, "constraints stated before typing")
    expect('<span class="es-req">required</span>' in text, "required marked")
    expect('aria-describedby="q-email-why q-email-rules"' in text, "why and rules tied to the control")
    expect("captcha" not in text.lower() and "recaptcha" not in text.lower(), "no CAPTCHA")
    expect(not re.search(r"<script(?![^>]*\bsrc=)", text), "no inline script")
    expect(not re.search(r"\sstyle=|<style", text), "no inline style")
    expect(not re.search(r"\son[a-z]+=", text), "no inline event handlers")
    expect('name="website-url"' in text and 'class="es-hp" aria-hidden="true"' in text, "honeypot present")
    # The page's own assets load under the CSP, from this server.
    for url, ctype in [(re.search(r'href="(/static/form\.css[^"]*)"', text), "text/css"),
                       (re.search(r'src="(/static/form\.js[^"]*)"', text), "text/javascript")]:
        expect(url, f"{ctype} linked")
        st, h, body = s.request("GET", html.unescape(url.group(1)), raw=True)
        expect_eq(st, 200, f"{url.group(1)}")
        expect(h.get("content-type", "").startswith(ctype), f"{ctype} type")
        expect("immutable" in h.get("cache-control", ""), "versioned asset cached long")


def t_one_click_page(s):
    st, h, text = page(s, "callback")
    expect_eq(st, 200, "status")
    expect('<form class="es-form es-one-click"' in text, "one-click layout")
    expect('type="tel"' in text and 'autocomplete="tel"' in text, "phone control")
    expect("We call you back once, within 15 minutes." in text, "why")
    expect(text.count('class="es-field') == 1, "a single field")


def t_not_found(s):
    for path in ["/f/nosuch", "/f/closed"]:
        st, h, body = s.request("GET", path, raw=True)
        expect_eq(st, 404, path)
        expect(h.get("content-type", "").startswith("text/html"), "404 page is HTML")
        expect("default-src 'none'" in h.get("content-security-policy", ""), "404 page has the CSP")
        expect(b"Form not found" in body, "404 text")
    st, h, body = post(s, "closed", {"email": "a@example.com"}, "x")
    expect_eq(st, 404, "POST to an inactive form")
    st, h, body = s.request("HEAD", "/f/newsletter", raw=True)
    expect_eq((st, body), (200, b""), "HEAD")


# ---- submits ------------------------------------------------------------------------------------

def t_valid_submit(s):
    before = count(s, "newsletter")
    [tok] = aged_tokens(s, "newsletter", 1)
    loc = submit_ok(s, "newsletter", {"email": "  Dana@Example.COM ", "birthday": "1990-05-17", "consent": "yes",
                                      "website-url": ""}, tok)
    expect_eq(count(s, "newsletter"), before + 1, "stored once")
    st, h, listing = s.request("GET", "/api/v1/forms/newsletter/responses", admin=True)
    rid = loc.split("r=")[1]
    got = [r for r in listing["responses"] if r["id"] == rid]
    expect_eq(len(got), 1, "the redirect names the stored answer")
    expect_eq(got[0]["answers"], {"email": "Dana@example.com", "birthday": "1990-05-17", "consent": True},
              "answers normalised")
    text = thanks(s, loc)
    expect("Thank you! Please check your inbox to confirm your address." in text, "thank_you shown")
    expect(re.fullmatch(r"EAR-[0-9A-Z]{4}-[0-9A-Z]{4}", code_on(text) or ""), f"code shown: {code_on(text)}")
    expect("10% off your next order" in text, "offer text")


def t_invalid_submit_keeps_input(s):
    before = count(s, "newsletter")
    [tok] = aged_tokens(s, "newsletter", 1)
    bad = 'x"><script>alert(1)</script>'
    st, h, text = post(s, "newsletter", {"email": bad, "birthday": "2023-02-29"}, tok)
    expect_eq(st, 422, "status")
    expect("default-src 'none'" in h.get("content-security-policy", ""), "CSP on the 422 page")
    expect("<script>alert(1)" not in text, "input escaped")
    expect('value="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in text, "email kept")
    expect('value="2023-02-29"' in text, "birthday kept")
    for qid, msg in [("email", "This field must look like name@example.com"),
                     ("birthday", "This field must be a real calendar date"),
                     ("consent", "This field must be accepted")]:
        expect(f'<p class="es-error" id="q-{qid}-error">{msg}</p>' in text, f"message beside {qid}")
        expect(re.search(rf'id="q-{qid}"[^>]*aria-describedby="[^"]*q-{qid}-error"[^>]*aria-invalid="true"', text),
               f"{qid} marked invalid and described by its message")
    expect('class="es-summary"' in text and 'href="#q-email"' in text, "summary links to the field")
    expect_eq(token_of(text), tok, "the unused token is kept")
    expect_eq(count(s, "newsletter"), before, "nothing stored")
    # The same page, fixed, goes through with that token.
    loc = submit_ok(s, "newsletter", {"email": "erin@example.com", "consent": "on"}, tok)
    expect_eq(count(s, "newsletter"), before + 1, "stored after the fix")


def t_wrong_content_type(s):
    st, h, body = s.request("POST", "/f/newsletter", '{"email":"a@example.com"}',
                            headers={"Content-Type": "application/json"}, raw=True)
    expect_eq(st, 415, "JSON to the page route")


# ---- spam ---------------------------------------------------------------------------------------

def decoy(s, form, fields, token, why):
    before = count(s, form)
    st, h, text = post(s, form, fields, token)
    expect_eq(st, 303, f"{why}: a normal-looking 303")
    loc = h.get("location", "")
    expect(re.fullmatch(rf"/f/{form}/thanks\?r=r_[a-z2-7]{{26}}", loc), f"{why}: Location {loc!r}")
    page_text = thanks(s, loc)
    expect(code_on(page_text) is None, f"{why}: no code for a dropped submit")
    expect_eq(count(s, form), before, f"{why}: nothing stored")


def t_honeypot(s):
    [tok] = aged_tokens(s, "newsletter", 1)
    decoy(s, "newsletter", {"email": "bot@example.com", "consent": "yes", "website-url": "http://spam.example"},
          tok, "honeypot")
    decoy(s, "callback", {"phone": "+38640123456", "website-url": "x"}, "", "honeypot without a token")


def t_too_fast_and_forged(s):
    _, _, text = page(s, "newsletter")
    fresh = token_of(text)
    decoy(s, "newsletter", {"email": "fast@example.com", "consent": "yes"}, fresh, "too fast")
    decoy(s, "newsletter", {"email": "none@example.com", "consent": "yes"}, None, "no token")
    forged = fresh[:-1] + ("A" if fresh[-1] != "A" else "B")
    time.sleep(MIN_FILL + 0.15)
    decoy(s, "newsletter", {"email": "forged@example.com", "consent": "yes"}, forged, "forged token")
    _, _, cb = page(s, "callback")
    time.sleep(MIN_FILL + 0.15)
    decoy(s, "newsletter", {"email": "other@example.com", "consent": "yes"}, token_of(cb), "another form's token")
    # The too-fast token itself is genuine: once old enough, a person's submit with it goes through.
    submit_ok(s, "newsletter", {"email": "patient@example.com", "consent": "yes"}, fresh)


def t_replayed_token(s):
    before = count(s, "newsletter")
    [tok] = aged_tokens(s, "newsletter", 1)
    first = submit_ok(s, "newsletter", {"email": "once@example.com", "consent": "yes"}, tok)
    expect_eq(count(s, "newsletter"), before + 1, "first use stored")
    decoy(s, "newsletter", {"email": "twice@example.com", "consent": "yes"}, tok, "replayed token")
    decoy(s, "newsletter", {"email": "once@example.com", "consent": "yes"}, tok, "replayed token, same answer")
    # Concurrent replays: exactly one of them is stored.
    [tok2] = aged_tokens(s, "newsletter", 1)
    before = count(s, "newsletter")
    results = []

    def send(i):
        results.append(post(s, "newsletter", {"email": f"race{i}@example.com", "consent": "yes"}, tok2)[0])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expect_eq(results, [303] * 8, "every replay looks accepted")
    expect_eq(count(s, "newsletter"), before + 1, "one stored")
    expect(first, "first redirect")


def t_json_timing_token(s):
    st, h, body = s.request("GET", "/f/feedback/token")
    expect_eq(st, 200, "token for the widget")
    expect("no-store" in h.get("cache-control", ""), "token never cached")
    tok = body["token"]
    expect_eq(body["min_fill_seconds"], MIN_FILL, "min fill told")
    before = count(s, "feedback")
    st, h, fast = s.submit("feedback", {"note": "quick"}, timing_token=tok)
    expect_eq(st, 201, "too fast: a normal-looking 201")
    expect(fast["id"].startswith("r_") and fast["offers"] == [], "decoy body")
    expect_eq(count(s, "feedback"), before, "too fast: nothing stored")
    time.sleep(MIN_FILL + 0.15)
    st, h, ok = s.submit("feedback", {"note": "first"}, timing_token=tok)
    expect_eq(st, 201, "accepted")
    expect_eq(count(s, "feedback"), before + 1, "stored")
    st, h, again = s.submit("feedback", {"note": "second"}, timing_token=tok)
    expect_eq(st, 201, "replay: a normal-looking 201")
    expect(again["id"] != ok["id"], "replay gets an id of its own")
    expect_eq(count(s, "feedback"), before + 1, "replay: nothing stored")
    st, h, forged = s.submit("feedback", {"note": "x"}, timing_token="t1.1.2.3")
    expect_eq((st, count(s, "feedback")), (201, before + 1), "forged: 201, nothing stored")
    # feedback makes offers (the incentive plugin): without a token, a 201 and nothing stored.
    st, h, plain = s.submit("feedback", {"note": "no token"})
    expect_eq((st, plain["offers"], count(s, "feedback")), (201, [], before + 1), "no token: 201, nothing stored")
    # A retry of an accepted answer with its idempotency key still replays the original.
    [tok2] = [s.request("GET", "/f/feedback/token")[2]["token"]]
    time.sleep(MIN_FILL + 0.15)
    st, h, a = s.submit("feedback", {"note": "keyed"}, timing_token=tok2, idempotency_key="k-1")
    st, h, b = s.submit("feedback", {"note": "keyed"}, timing_token=tok2, idempotency_key="k-1")
    expect_eq((a["id"], count(s, "feedback")), (b["id"], before + 2), "idempotent retry")


# ---- offers -------------------------------------------------------------------------------------

def t_thanks_shows_own_code_only(s):
    ta, tb = aged_tokens(s, "newsletter", 2)
    la = submit_ok(s, "newsletter", {"email": "fran@example.com", "consent": "yes"}, ta)
    lb = submit_ok(s, "newsletter", {"email": "gil@example.com", "consent": "yes"}, tb)
    ca, cb = code_on(thanks(s, la)), code_on(thanks(s, lb))
    expect(ca and cb and ca != cb, f"two people, two codes: {ca} {cb}")
    pa, pb = thanks(s, la), thanks(s, lb)
    expect(cb not in pa and ca not in pb, "each page shows its own code only")
    rid = la.split("r=")[1]
    for other in [f"/f/callback/thanks?r={rid}", "/f/newsletter/thanks?r=r_aaaaaaaaaaaaaaaaaaaaaaaaaa",
                  "/f/newsletter/thanks", "/f/newsletter/thanks?r=%22%3E%3Cscript%3E"]:
        text = thanks(s, other)
        expect(code_on(text) is None, f"no code at {other}")
        expect("<script>" not in text, "nothing reflected")


def t_same_person_same_code(s):
    toks = aged_tokens(s, "newsletter", 3)
    codes = []
    for email, tok in zip(["Hana@Example.com", "hana@EXAMPLE.COM", " HANA@example.com "], toks):
        codes.append(code_on(thanks(s, submit_ok(s, "newsletter", {"email": email, "consent": "yes"}, tok))))
    expect(codes[0] and codes.count(codes[0]) == 3, f"same code each time: {codes}")
    # The JSON route sees the same person too, across forms, and its 201 carries the offer.
    tok = s.request("GET", "/f/feedback/token")[2]["token"]
    time.sleep(MIN_FILL + 0.15)
    st, h, body = s.submit("feedback", {"email": "hAna@example.COM"}, timing_token=tok)
    expect_eq(st, 201, "JSON submit")
    expect_eq(body["offers"], [{"text": "10% off your next order", "code": codes[0]}], "offer in the 201")
    # One contact across both forms.
    db = sqlite3.connect(f"file:{os.path.join(s.dir, 'data.db')}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT c.contact_id, count(*) FROM response_contacts c JOIN contact_keys k "
                          "ON k.contact_id = c.contact_id WHERE k.kind = 'email' AND k.key = 'hana@example.com' "
                          "GROUP BY c.contact_id").fetchall()
        forms = db.execute("SELECT DISTINCT r.form FROM responses r JOIN response_contacts c ON c.response_id = r.id "
                           "JOIN contact_keys k ON k.contact_id = c.contact_id WHERE k.key = 'hana@example.com' "
                           "ORDER BY 1").fetchall()
    finally:
        db.close()
    expect_eq(len(rows), 1, "one contact")
    expect_eq(rows[0][1], 4, "four answers linked")
    expect_eq([f[0] for f in forms], ["feedback", "newsletter"], "recognised across forms")


def t_rate_limit_shared():
    s = Server(forms={"feedback": SURVEY}, forms_from_repo=True,
               limits={"submissions_per_minute": 3, "min_fill_seconds": 0})
    try:
        s.start()
        toks = [token_of(page(s, "newsletter")[2]) for _ in range(3)]
        expect_eq(post(s, "newsletter", {"email": "a@example.com", "consent": "yes"}, toks[0])[0], 303, "1st")
        expect_eq(s.submit("feedback", {"note": "x"})[0], 201, "2nd (JSON)")
        expect_eq(post(s, "newsletter", {"email": "b@example.com", "consent": "yes"}, toks[1])[0], 303, "3rd")
        st, h, text = post(s, "newsletter", {"email": "c@example.com", "consent": "yes"}, toks[2])
        expect_eq(st, 429, "4th refused")
        expect(int(h.get("retry-after", "0")) >= 1, "Retry-After in seconds")
        expect("default-src 'none'" in h.get("content-security-policy", ""), "429 page has the CSP")
        expect_eq(s.submit("feedback", {"note": "y"})[0], 429, "the JSON route shares the bucket")
    finally:
        s.cleanup()


def t_pool_under_concurrency():
    s = Server(forms={"feedback": SURVEY}, forms_from_repo=True, limits={"min_fill_seconds": 0})
    pool = os.path.join(s.dir, "coupons.txt")
    codes = [f"POOL-{i:02d}" for i in range(10)]
    with open(pool, "w") as f:
        f.write("\n".join(codes) + "\n")
    with open(s.config_path) as f:
        text = f.read().replace("plugins: []\n", "")  # the harness's "no plugins", replaced by these
    with open(s.config_path, "w") as f:
        f.write(text + incentive_config(pool))
    try:
        s.start()
        tokens = [token_of(page(s, "newsletter")[2]) for _ in range(50)]
        results = [None] * 50
        barrier = threading.Barrier(50)

        def send(i):
            barrier.wait()
            results[i] = post(s, "newsletter", {"email": f"visitor{i}@example.com", "consent": "yes"}, tokens[i])

        threads = [threading.Thread(target=send, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        expect_eq([r[0] for r in results], [303] * 50, "every submit accepted")
        expect_eq(count(s, "newsletter"), 50, "every answer stored, offer or not")
        given = [code_on(thanks(s, r[1]["location"])) for r in results]
        handed = [c for c in given if c]
        expect_eq(len(handed), 10, f"exactly ten codes handed out: {handed}")
        expect_eq(sorted(handed), codes, "ten distinct codes, all from the pool")
        st, h, body = s.request("GET", "/healthz")
        expect_eq((st, body["status"]), (200, "ok"), "healthy: an empty pool never fails answers")
        expect(any("coupon pool" in w and "is empty" in w for w in body.get("warnings", [])),
               f"empty pool reported: {body}")
        expect("coupon pool" in s.read_log() and "is empty" in s.read_log(), "empty pool logged")
        # A returning person gets their code again, even with the pool empty.
        tok = token_of(page(s, "newsletter")[2])
        idx = given.index(handed[0])
        loc = submit_ok(s, "newsletter", {"email": f"VISITOR{idx}@Example.com", "consent": "yes"}, tok)
        expect_eq(code_on(thanks(s, loc)), handed[0], "same code for the returning person")
    finally:
        s.cleanup()


def main():
    tap = TAP()
    if not os.path.exists(PLUGIN):
        print(f"# incentive plugin not built at {PLUGIN}", flush=True)
    s = Server(forms={"feedback": SURVEY, "closed": CLOSED}, forms_from_repo=True,
               limits={"min_fill_seconds": MIN_FILL}, extra_config=incentive_config())
    try:
        s.start()
        for name, fn in [
            ("page: labels, why texts, input types, autocomplete, CSP, no CAPTCHA", t_page_content),
            ("one-click page", t_one_click_page),
            ("404 page for unknown and inactive forms; HEAD", t_not_found),
            ("valid submit: 303 to the thank-you page with the code", t_valid_submit),
            ("invalid submit: 422, input kept and escaped, message beside each field", t_invalid_submit_keeps_input),
            ("415 for other media types", t_wrong_content_type),
            ("honeypot: 303, nothing stored", t_honeypot),
            ("too fast, missing and forged tokens: 303, nothing stored", t_too_fast_and_forged),
            ("replayed token refused, also concurrently", t_replayed_token),
            ("JSON route: timing token, replay, idempotency", t_json_timing_token),
            ("thank-you page shows its own answer's code only", t_thanks_shows_own_code_only),
            ("same person, other case: same code; one contact across forms", t_same_person_same_code),
        ]:
            tap.run(name, fn, s)
    finally:
        s.cleanup()
    tap.run("rate limit shared with the JSON route", t_rate_limit_shared)
    tap.run("50 concurrent submits, 10-code pool: exactly 10 distinct codes", t_pool_under_concurrency)
    tap.finish()


if __name__ == "__main__":
    main()
