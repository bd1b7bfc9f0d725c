#!/usr/bin/env python3
"""Integration tests for confirmed signups (double opt-in) against a real SMTP server on loopback
(aiosmtpd): submit -> email with a signed link to the visitor -> link opened -> confirmed in the exports
and listing; forged, reused and expired links refused; an unconfirmed answer exported as unconfirmed;
an incentive offer with requires_confirmed made only once the link is opened; erasure removes the
pending confirmation; earshot check refuses a confirm.destination that is unknown or not email; the
email is retried from the outbox while SMTP is down; the shipped newsletter form switches it on."""
import csv
import hashlib
import hmac
import io
import json
import os
import re
import sqlite3
import sys
import time
import urllib.parse
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SRCDIR, TAP, Server, expect, expect_eq, free_port, run_earshot  # noqa: E402
from test_alerts import Mailbox, parse, visitor_submit, wait_for, BUILDDIR  # noqa: E402

INCENTIVE = os.path.join(BUILDDIR, "plugins", "incentive.so")
os.environ["EARSHOT_TEST_BACKOFF_MS"] = "100"

SIGNUP = """id: signup
kind: signup
title: Join the list
locale: en
locales:
  sl:
    title: Pridružite se seznamu
questions:
  - id: email
    type: email
    label: Email
    required: true
  - id: consent
    type: consent
    label: I agree
    required: true
thank_you: Thank you! Please check your inbox to confirm your address.
confirm:
  destination: optin-mail
"""


def config(smtp_port, offer=False):
    text = ("destinations:\n  optin-mail:\n    type: email\n"
            f"    smtp_url: smtp://127.0.0.1:{smtp_port}\n"
            "    from: \"Shop <news@shop.example>\"\n"
            "    to: [\"owner@shop.example\"]\n    timeout_seconds: 5\n")
    if offer:
        text += ("plugins:\n  - name: incentive\n"
                 f"    path: {json.dumps(INCENTIVE)}\n    forms: [signup]\n    config:\n"
                 "      offer: \"10% off your next order\"\n      requires: [email]\n"
                 "      codes: {source: generate, prefix: EAR}\n      one_per: email\n"
                 "      requires_confirmed: true\n")
    return text


def link_of(msg):
    text = parse(msg).get_body(preferencelist=("plain",)).get_content()
    m = re.search(r"http://\S+/f/signup/confirm\?t=\S+", text)
    expect(m is not None, f"the email carries the link: {text}")
    return m.group(0)


def path_of(link):
    u = urllib.parse.urlsplit(link)
    return u.path + "?" + u.query


def exported(srv, fmt):
    st, _, data = srv.request("GET", f"/api/v1/forms/signup/export?format={fmt}", admin=True, raw=True)
    expect_eq(st, 200, f"{fmt} export")
    return data


def test_confirm_flow():
    box = Mailbox()
    srv = Server(forms={"signup": SIGNUP}, extra_config=config(box.port))
    try:
        srv.start()
        st, _, a = visitor_submit(srv, "signup", {"email": "Ann@Example.com", "consent": True})
        expect_eq(st, 201, "submit")
        st, _, b = visitor_submit(srv, "signup", {"email": "bob@example.com", "consent": True})
        msgs = wait_for(lambda: len(box.seen()) >= 2 and box.seen(), 10, "two confirmation emails")
        by_to = {m["to"][0].lower(): m for m in msgs}
        expect_eq(sorted(by_to), ["ann@example.com", "bob@example.com"], "each email goes to the visitor only")
        expect(all(len(x["to"]) == 1 for x in msgs), "no other recipient (not the destination's to:)")
        m = parse(by_to["ann@example.com"])
        expect("Please confirm your address" in m["subject"] and "Join the list" in m["subject"],
               f"subject: {m['subject']}")
        expect(m["message-id"].startswith("<d_") and m["message-id"].endswith("@shop.example>"), "Message-ID")
        html = m.get_body(preferencelist=("html",)).get_content()
        link = link_of(by_to["ann@example.com"])
        expect(link.replace("&", "&amp;") in html, "the html part has the same link")
        # Stored at once, unconfirmed.
        rows = list(csv.reader(io.StringIO(exported(srv, "csv").decode())))
        expect_eq(rows[0][-1], "confirmed", f"csv header ends with confirmed: {rows[0]}")
        expect_eq([r[-1] for r in rows[1:]], ["false", "false"], "both unconfirmed")
        # A forged link (the MAC of another answer, a changed id) is refused.
        forged = path_of(link).replace(a["id"], b["id"])
        st, _, page = srv.request("GET", forged, raw=True)
        expect_eq(st, 404, "forged link refused")
        expect(b"This confirmation link is not valid." in page, "says why")
        st, _, page = srv.request("GET", "/f/signup/confirm?t=c1.garbage", raw=True)
        expect_eq(st, 404, "malformed link refused")
        # The link confirms; the page is translated for an sl visitor and accessible.
        st, h, page = srv.request("GET", path_of(link), headers={"Accept-Language": "sl"}, raw=True)
        expect_eq(st, 200, f"link opened: {page[:300]}")
        # The address holds a token: no referrer leaves this page (one policy, not two).
        expect_eq(h.get("referrer-policy"), "no-referrer", "the confirmation page sends no referrer")
        page = page.decode()
        expect("Vaš naslov je potrjen. Hvala!" in page, f"translated confirmation: {page}")
        expect('role="status"' in page and "<h1>" in page and "<html lang=" in page, "accessible page")
        # Reused: refused.
        st, _, page = srv.request("GET", path_of(link), raw=True)
        expect_eq(st, 410, "reused link refused")
        expect(b"already used" in page, "says it was used")
        # Exports and listing say which answer is confirmed.
        rows = list(csv.reader(io.StringIO(exported(srv, "csv").decode())))
        state = {r[0]: r[-1] for r in rows[1:]}
        expect_eq(state, {a["id"]: "true", b["id"]: "false"}, "csv: one confirmed, one not")
        lines = [json.loads(x) for x in exported(srv, "ndjson").decode().splitlines()]
        conf = {x["id"]: x["confirmed"] for x in lines}
        expect_eq(conf, {a["id"]: True, b["id"]: False}, "ndjson confirmed")
        st, _, listing = srv.request("GET", "/api/v1/forms/signup/responses", admin=True)
        expect_eq({x["id"]: x["confirmed"] for x in listing["responses"]}, {a["id"]: True, b["id"]: False},
                  "listing confirmed")
        book = zipfile.ZipFile(io.BytesIO(exported(srv, "xlsx")))
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        expect("confirmed" in book.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in book.namelist()
               else "confirmed" in sheet, "xlsx header names confirmed")
        expect_eq(sheet.count('t="b"'), 4, "boolean cells in the xlsx: consent and confirmed of both rows")
        # Erasure by contact removes the pending confirmation (and its email): the link then fails.
        link_b = link_of(by_to["bob@example.com"])
        st, _, erased = srv.request("DELETE", "/api/v1/contacts/bob%40example.com", admin=True)
        expect_eq(st, 200, f"erased: {erased}")
        st, _, _ = srv.request("GET", path_of(link_b), raw=True)
        expect_eq(st, 404, "the erased answer's link no longer works")
        expect_eq(erased["deleted"]["responses"], 1, "the answer erased")
        db = sqlite3.connect(os.path.join(srv.dir, "data.db"))
        expect_eq(db.execute("SELECT count(*) FROM pending_confirmations").fetchone()[0], 0,
                  "no pending confirmation left (one confirmed, one erased)")
        expect_eq(db.execute("SELECT count(*) FROM outbox WHERE response_id = ?", (b["id"],)).fetchone()[0], 0,
                  "its confirmation email erased too")
        db.close()
        # A genuine link past its expiry (signed here with the server's secret, read from its database).
        db = sqlite3.connect(os.path.join(srv.dir, "data.db"))
        salt = db.execute("SELECT value FROM plugin_kv WHERE plugin = 'earshot' AND key = 'ip_salt'").fetchone()[0]
        db.close()
        salt = salt if isinstance(salt, bytes) else salt.encode()
        key = hmac.new(salt, b"earshot signup confirmation key v1", hashlib.sha256).digest()
        past = int(time.time() * 1000) - 1000
        mac = hmac.new(key, f"c1\nsignup\n{a['id']}\n{past}".encode(), hashlib.sha256).hexdigest()
        st, _, page = srv.request("GET", f"/f/signup/confirm?t=c1.{a['id']}.{past}.{mac}", raw=True)
        expect_eq(st, 410, "an expired link refused")
        expect(b"has expired" in page, "says it expired")
        mac = hmac.new(key, f"c1\nsignup\n{a['id']}\n{past + 10**9}".encode(), hashlib.sha256).hexdigest()
        st, _, page = srv.request("GET", f"/f/signup/confirm?t=c1.{a['id']}.{past + 10**9}.{mac}", raw=True)
        expect_eq(st, 410, "a genuine link of a confirmed answer: used (not forged), so the signing is as documented")
        expect(b"already used" in page, "used")
    finally:
        srv.cleanup()
        box.close()


def test_offer_waits_for_confirmation():
    box = Mailbox()
    srv = Server(forms={"signup": SIGNUP}, extra_config=config(box.port, offer=True))
    try:
        srv.start()
        st, _, a = visitor_submit(srv, "signup", {"email": "cleo@example.com", "consent": True})
        expect_eq(st, 201, "submit")
        expect_eq(a["offers"], [], "no code before the confirmation")
        st, _, page = srv.request("GET", f"/f/signup/thanks?r={a['id']}", raw=True)
        expect(b"es-code-value" not in page, "the thank-you page shows no code yet")
        msg = wait_for(lambda: box.seen(), 10, "the confirmation email")[0]
        st, _, page = srv.request("GET", path_of(link_of(msg)), raw=True)
        expect_eq(st, 200, "confirmed")
        page = page.decode()
        m = re.search(r'<strong class="es-code-value">(EAR-[0-9A-Z-]+)</strong>', page)
        expect(m is not None and "10% off your next order" in page, f"the code on the confirmation page: {page}")
        st, _, again = srv.request("GET", f"/f/signup/thanks?r={a['id']}", raw=True)
        expect(m.group(1).encode() in again, "the thank-you page shows it too afterwards")
        st, _, page = srv.request("GET", path_of(link_of(msg)), raw=True)
        expect_eq(st, 410, "a second opening makes no second code")
    finally:
        srv.cleanup()
        box.close()


def test_check_refuses_bad_destination():
    for extra, needle in (("", "unknown destination \"optin-mail\""),
                          ("destinations:\n  optin-mail:\n    type: file\n    path: x.ndjson\n",
                           "\"optin-mail\" is not an email destination")):
        srv = Server(forms={"signup": SIGNUP}, extra_config=extra)
        try:
            rc, out, err = run_earshot("check", "-c", srv.config_path)
            expect_eq(rc, 1, f"refused: {out}{err}")
            expect(re.search(r"signup\.yaml:19:16: confirm\.destination: " + re.escape(needle), out + err),
                   f"file:line:col and why: {out}{err}")
        finally:
            srv.cleanup()
    srv = Server(forms={"x": "title: X\nconfirm: {destination: optin-mail}\n"
                             "questions:\n  - {id: a, type: text, label: A}\n"}, extra_config=config(2525))
    try:
        rc, out, err = run_earshot("check", "-c", srv.config_path)
        expect(rc == 1 and "type email" in out + err, f"confirm without an email question: {out}{err}")
    finally:
        srv.cleanup()


def test_email_waits_in_the_outbox():
    """SMTP down at the submit: the confirmation email is retried from the outbox and arrives once, its
    Message-ID the delivery's id."""
    port = free_port()
    srv = Server(forms={"signup": SIGNUP}, extra_config=config(port))
    box = None
    try:
        srv.start()
        st, _, a = visitor_submit(srv, "signup", {"email": "eve@example.com", "consent": True})
        expect_eq(st, 201, "stored while SMTP is down")
        failed = wait_for(lambda: srv.request("GET", "/api/v1/deliveries?state=failed", admin=True)[2]["deliveries"],
                          10, "a failed attempt")
        expect_eq((failed[0]["type"], failed[0]["response_id"]), ("confirm", a["id"]), "a confirm delivery")
        box = Mailbox(port)
        msg = wait_for(lambda: box.seen(), 20, "the email once SMTP is back")[0]
        time.sleep(0.5)
        expect_eq(len(box.seen()), 1, "sent once")
        expect_eq(parse(msg)["message-id"][1:].split("@")[0], failed[0]["id"], "Message-ID is the delivery id")
    finally:
        srv.cleanup()
        if box:
            box.close()


def test_shipped_newsletter_switches_on():
    """forms/newsletter.yaml ships with its confirm: block commented out; uncommented, with an email
    destination newsletter-mail, the newsletter sends the confirmation link."""
    with open(os.path.join(SRCDIR, "forms", "newsletter.yaml")) as f:
        shipped = f.read()
    expect("\n# confirm:\n#   destination: newsletter-mail\n" in shipped, "the block is there, commented out")
    on = shipped.replace("\n# confirm:\n#   destination: newsletter-mail\n", "\nconfirm:\n  destination: newsletter-mail\n")
    box = Mailbox()
    srv = Server(forms={"newsletter": on}, extra_config=config(box.port).replace("optin-mail", "newsletter-mail"))
    try:
        srv.start()
        st, _, a = visitor_submit(srv, "newsletter", {"email": "dora@example.com", "consent": True})
        expect_eq(st, 201, "submit")
        expect("check your inbox" in a["thank_you"], "the thank-you asks to check the inbox")
        msg = wait_for(lambda: box.seen(), 10, "the confirmation email")[0]
        expect_eq(msg["to"], ["dora@example.com"], "to the visitor")
        u = urllib.parse.urlsplit(re.search(r"http://\S+/f/newsletter/confirm\?t=\S+",
                                            parse(msg).get_body(preferencelist=("plain",)).get_content()).group(0))
        st, _, _ = srv.request("GET", u.path + "?" + u.query, raw=True)
        expect_eq(st, 200, "confirmed")
    finally:
        srv.cleanup()
        box.close()


if __name__ == "__main__":
    t = TAP()
    t.run("submit, email with a signed link, confirm, exports; forged and reused links refused; erasure",
          test_confirm_flow)
    t.run("an incentive with requires_confirmed makes its code only when the link is opened",
          test_offer_waits_for_confirmation)
    t.run("earshot check refuses an unknown or non-email confirm.destination", test_check_refuses_bad_destination)
    t.run("SMTP down: the confirmation email is retried from the outbox, sent once", test_email_waits_in_the_outbox)
    t.run("the shipped newsletter form confirms once its block is uncommented", test_shipped_newsletter_switches_on)
    t.finish()
