#!/usr/bin/env python3
"""Integration tests: spam on the JSON route. Signup forms and forms whose plugins make offers take a
JSON answer only with a genuine, unused timing token (GET /f/{form}/token); without one — missing,
forged, another form's, too fast, replayed — the bot gets an ordinary 201 while nothing is stored and
no offer is made. Other surveys take answers without a token as before. The survey listing tells the
widget which forms need a token, and one code goes to one person however they spell their address."""
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SRCDIR, TAP, Server, expect, expect_eq  # noqa: E402

BUILDDIR = os.environ.get("EARSHOT_BUILDDIR", os.path.join(SRCDIR, "_build"))
PLUGIN = os.path.join(BUILDDIR, "plugins", "incentive.so")
MIN_FILL = 1

SIGNUP = """id: join
kind: signup
title: Join
questions:
  - id: email
    type: email
    label: Email
    required: true
"""

DEAL = """id: deal
kind: survey
title: A deal
questions:
  - id: email
    type: email
    label: Email for your code
trigger:
  event: manual
"""

PLAIN = """id: plain
kind: survey
title: Plain
questions:
  - id: note
    type: text
    label: Note
trigger:
  event: manual
"""

PLUGINS = ("plugins:\n"
           "  - name: incentive\n"
           f"    path: {PLUGIN}\n"
           "    forms: [deal]\n"
           "    config:\n"
           "      offer: \"10% off\"\n"
           "      requires: [email]\n"
           "      codes: {source: generate, prefix: EAR}\n"
           "      one_per: email\n")


def count(s, form):
    db = sqlite3.connect(f"file:{os.path.join(s.dir, 'data.db')}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM responses WHERE form = ?", (form,)).fetchone()[0]
    finally:
        db.close()


def offers_in_db(s):
    db = sqlite3.connect(f"file:{os.path.join(s.dir, 'data.db')}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM offers").fetchone()[0]
    finally:
        db.close()


def tokens(s, form, n):
    """n genuine tokens for form, old enough to pass the minimum fill time."""
    out = []
    for _ in range(n):
        st, h, body = s.request("GET", f"/f/{form}/token")
        expect_eq(st, 200, "token issued")
        out.append(body["token"])
    time.sleep(MIN_FILL + 0.15)
    return out


def decoy(s, form, answers, why, **extra):
    before, offers = count(s, form), offers_in_db(s)
    st, h, body = s.submit(form, answers, **extra)
    expect_eq(st, 201, f"{why}: an ordinary 201")
    expect(body["id"].startswith("r_") and len(body["id"]) == 28, f"{why}: an id like any other")
    expect_eq(body["offers"], [], f"{why}: no offer")
    expect_eq(count(s, form), before, f"{why}: nothing stored")
    expect_eq(offers_in_db(s), offers, f"{why}: no offer recorded")
    st, h, again = s.request("GET", f"/api/v1/forms/{form}/responses", admin=True)
    expect(all(r["id"] != body["id"] for r in again["responses"]), f"{why}: the id was never stored")


def t_signup_needs_token(s):
    decoy(s, "join", {"email": "bot1@example.com"}, "no token")
    decoy(s, "join", {"email": "bot2@example.com"}, "forged token", timing_token="t1.1.2.3")
    decoy(s, "join", {"email": "bot3@example.com"}, "not a string", timing_token=7)
    [other] = tokens(s, "deal", 1)
    decoy(s, "join", {"email": "bot4@example.com"}, "another form's token", timing_token=other)
    st, h, body = s.request("GET", "/f/join/token")
    decoy(s, "join", {"email": "bot5@example.com"}, "too fast", timing_token=body["token"])
    [tok] = tokens(s, "join", 1)
    before = count(s, "join")
    st, h, body = s.submit("join", {"email": "ann@example.com"}, timing_token=tok)
    expect_eq((st, count(s, "join")), (201, before + 1), "a genuine token: stored")
    decoy(s, "join", {"email": "bot6@example.com"}, "replayed token", timing_token=tok)


def t_offer_form_needs_token(s):
    decoy(s, "deal", {"email": "a+1@example.com"}, "no token on an offer form")
    decoy(s, "deal", {"email": "a+2@example.com"}, "forged token on an offer form", timing_token="t1.9.9.9")
    [tok] = tokens(s, "deal", 1)
    st, h, body = s.submit("deal", {"email": "a@example.com"}, timing_token=tok)
    expect_eq(st, 201, "stored")
    expect_eq(len(body["offers"]), 1, f"the offer with a genuine token: {body}")


def t_plain_survey_unchanged(s):
    before = count(s, "plain")
    st, h, body = s.submit("plain", {"note": "hello"})
    expect_eq((st, count(s, "plain")), (201, before + 1), "no token needed where nothing is worth collecting")
    decoy(s, "plain", {"note": "forged"}, "a forged token is still a bot's", timing_token="t1.1.2.3")


def t_listing_says_which(s):
    st, h, body = s.request("GET", "/api/v1/surveys")
    got = {x["id"]: x.get("needs_token") for x in body["surveys"]}
    expect_eq(got, {"deal": True, "plain": None}, "needs_token on offer surveys only")
    st, h, tok = s.request("GET", "/f/deal/token", headers={"Origin": "https://shop.example.com"})
    expect_eq(st, 200, "token route")
    expect_eq(h.get("access-control-allow-origin"), "https://shop.example.com", "the widget may read it cross-origin")


def t_one_code_per_person(s):
    toks = tokens(s, "deal", 5)
    codes = []
    for email, tok in zip(["zed@example.com", "zed+1@example.com", "Zed+shop@Example.com"], toks):
        st, h, body = s.submit("deal", {"email": email}, timing_token=tok)
        expect_eq(st, 201, "stored")
        codes.append(body["offers"][0]["code"])
    expect_eq(len(set(codes)), 1, f"plus-addresses are one person: {codes}")
    gmail = []
    for email, tok in zip(["zed.x@gmail.com", "zedx+2@googlemail.com"], toks[3:]):
        st, h, body = s.submit("deal", {"email": email}, timing_token=tok)
        gmail.append(body["offers"][0]["code"])
    expect(gmail[0] == gmail[1] and gmail[0] != codes[0], f"Gmail dots and googlemail.com are one person: {gmail}")


def main():
    tap = TAP()
    if not os.path.exists(PLUGIN):
        print(f"# incentive plugin not built at {PLUGIN}", flush=True)
    s = Server(forms={"join": SIGNUP, "deal": DEAL, "plain": PLAIN}, limits={"min_fill_seconds": MIN_FILL},
               extra_config=PLUGINS + 'cors:\n  allowed_origins: ["https://shop.example.com"]\n')
    try:
        s.start()
        tap.run("signup form: JSON without a genuine token stores nothing", t_signup_needs_token, s)
        tap.run("offer form: JSON without a token stores nothing, makes no offer", t_offer_form_needs_token, s)
        tap.run("other surveys: no token needed", t_plain_survey_unchanged, s)
        tap.run("survey listing marks forms that need a token", t_listing_says_which, s)
        tap.run("one_per email: plus-addresses and Gmail dots are one person", t_one_code_per_person, s)
        rc = s.stop()
        tap.run("server exits 0 (no leaks under valgrind)", lambda: expect_eq(rc, 0, "exit code"))
    finally:
        s.cleanup()
    tap.finish()


if __name__ == "__main__":
    main()
