#!/usr/bin/env python3
"""Integration tests for erasure by contact on a real server: a person's answers on two forms, one
with a complaint delivery stuck retrying against a failing receiver, erased over HTTP by the address in
another letter case; the admin listings show nothing of them afterwards while another person's answers
stay; `earshot forget` erases by phone number while the server runs; unknown contacts give zeros; a
value that is no contact is refused with 400, and a request without a token with 401."""
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TAP, Receiver, Server, expect, expect_eq, run_earshot  # noqa: E402
from test_deliveries import ROUTER, SECRET, SHOP, router, wait_for  # noqa: E402

SIGNUP = """id: signup
title: Sign up
questions:
  - id: email
    type: email
    label: Email
    required: false
  - id: phone
    type: phone
    label: Phone
    required: false
"""

RULES = [{"when": {"question": "nps", "lte": 6}, "route": "support", "tag": "detractor"}]


def make_server(receiver_url):
    dest = ("destinations:\n"
            f"  support:\n    type: webhook\n    url: {receiver_url}\n    secret: {SECRET}\n"
            "    timeout_seconds: 2\n    retry_for_hours: 1\n")
    return Server(forms={"shop": SHOP, "signup": SIGNUP}, extra_config=dest + router(RULES))


def submit(s, form, answers):
    st, _, body = s.submit(form, answers)
    expect_eq(st, 201, f"submit to {form}: {body}")
    return body["id"]


def erase(s, contact, admin=True):
    return s.request("DELETE", "/api/v1/contacts/" + urllib.parse.quote(contact, safe=""), admin=admin)


def listing(s, form):
    st, _, body = s.request("GET", f"/api/v1/forms/{form}/responses", admin=True)
    expect_eq(st, 200, f"listing {form}: {body}")
    return body["responses"]


def deliveries(s):
    st, _, body = s.request("GET", "/api/v1/deliveries", admin=True)
    expect_eq(st, 200, f"deliveries: {body}")
    return body["deliveries"]


def counts(responses, offers, deliveries_, inbox=0):
    return {"deleted": {"responses": responses, "offers": offers, "deliveries": deliveries_, "inbox": inbox}}


def t_erase_over_http_and_cli():
    rv = Receiver(fail_first=10**6)  # every attempt fails: the complaint stays in the outbox
    s = make_server(rv.url)
    try:
        s.start()
        ann_shop = submit(s, "shop", {"nps": 2, "comment": "The parcel never arrived", "email": "Ann@Example.com"})
        ann_signup = submit(s, "signup", {"email": "ann@example.com", "phone": "+386 40 123 456"})
        bob_shop = submit(s, "shop", {"nps": 3, "comment": "Slow", "email": "bob@example.com"})
        dee_signup = submit(s, "signup", {"phone": "+386 41 999 888"})
        wait_for(lambda: len(rv.seen()) >= 2, 10, "the complaints to be attempted")
        before = {d["response_id"]: d["state"] for d in deliveries(s)}
        expect(before.get(ann_shop) in ("pending", "failed"), f"Ann's complaint waits in the outbox: {before}")
        expect(bob_shop in before, f"Bob's complaint too: {before}")

        st, _, body = erase(s, "ann@example.COM")
        expect_eq(st, 200, f"erase Ann: {body}")
        expect_eq(body, counts(2, 0, 1, 1), "Ann's answers on both forms and her complaint")
        shop_ids = [r["id"] for r in listing(s, "shop")]
        expect_eq(shop_ids, [bob_shop], "only Bob's answer is left on shop")
        signup_ids = [r["id"] for r in listing(s, "signup")]
        expect_eq(signup_ids, [dee_signup], "only Dee's answer is left on signup")
        expect(ann_signup not in signup_ids, "Ann's signup is gone")
        ids = [d["response_id"] for d in deliveries(s)]
        expect_eq(ids, [bob_shop], "only Bob's complaint is left in the outbox")
        text = json.dumps([listing(s, "shop"), listing(s, "signup"), deliveries(s)]).lower()
        expect("ann@example.com" not in text and "+38640123456" not in text, "nothing names Ann")

        # The phone went with the email: one person. The CLI, while the server runs.
        rc, out, err = run_earshot("forget", "-c", s.config_path, "+386 40 123 456")
        expect_eq(rc, 0, f"forget Ann's phone: {out}{err}")
        expect_eq(json.loads(out), counts(0, 0, 0), "nothing left of Ann")
        rc, out, err = run_earshot("forget", "-c", s.config_path, "+386 41 999 888")
        expect_eq(rc, 0, f"forget Dee's phone: {out}{err}")
        expect_eq(json.loads(out), counts(1, 0, 0), "Dee's answer")
        expect_eq(listing(s, "signup"), [], "the server sees the CLI's erasure")

        # The server keeps storing answers after the CLI wrote to its database.
        again = submit(s, "signup", {"email": "ann@example.com"})
        expect_eq([r["id"] for r in listing(s, "signup")], [again], "a new answer after the erasure")
        st, _, body = erase(s, "ANN@EXAMPLE.COM")
        expect_eq(body, counts(1, 0, 0), "the new answer is linked afresh")
        expect_eq([r["id"] for r in listing(s, "shop")], [bob_shop], "Bob untouched throughout")
    finally:
        s.cleanup()
        rv.close()


def t_unknown_bad_and_unauthorised():
    s = Server(forms={"signup": SIGNUP})
    try:
        s.start()
        submit(s, "signup", {"email": "eve@example.com"})
        for contact in ("nobody@example.com", "+1 415 555 0100"):
            st, _, body = erase(s, contact)
            expect_eq((st, body), (200, counts(0, 0, 0)), f"unknown {contact}")
        for bad in ("not-a-contact", "040 123 456", "ann@", "+12"):
            st, _, body = erase(s, bad)
            expect_eq(st, 400, f"{bad!r}: {body}")
            expect_eq(body["error"], "invalid_contact", "error code")
        st, _, body = erase(s, "eve@example.com", admin=False)
        expect_eq(st, 401, f"no token: {body}")
        st, _, body = s.request("DELETE", "/api/v1/contacts/eve%40example.com",
                                headers={"Authorization": "Bearer es_wrong"})
        expect_eq(st, 401, f"wrong token: {body}")
        expect_eq(len(listing(s, "signup")), 1, "nothing erased without a token")
        st, _, _ = s.request("POST", "/api/v1/contacts/eve%40example.com", admin=True)
        expect_eq(st, 405, "only GET (the contact card) and DELETE")
        rc, out, err = run_earshot("forget", "-c", s.config_path, "not-a-contact")
        expect_eq(rc, 1, f"forget refuses a non-contact: {out}{err}")
        expect("neither an email address nor a phone number" in err, err)
        rc, out, err = run_earshot("forget", "-c", s.config_path)
        expect_eq(rc, 2, f"forget without CONTACT: {err}")
        rc, out, err = run_earshot("forget", "-c", s.config_path, "a@example.com", "b@example.com")
        expect_eq(rc, 2, f"forget with two: {err}")
        st, _, body = erase(s, "eve@example.com")
        expect_eq(body, counts(1, 0, 0), "Eve erased")
    finally:
        s.cleanup()


def main():
    tap = TAP()
    if not os.path.exists(ROUTER):
        print(f"# {ROUTER} is missing: build it first", flush=True)
    for name, fn in [("erase over HTTP in any letter case, then earshot forget by phone while serving",
                      t_erase_over_http_and_cli),
                     ("unknown contacts give zeros; non-contacts 400; no token 401", t_unknown_bad_and_unauthorised)]:
        tap.run(name, fn)
    tap.finish()


if __name__ == "__main__":
    main()
