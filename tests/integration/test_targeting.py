#!/usr/bin/env python3
"""Integration tests of who is asked and when, and in which words: trigger.schedule (a survey outside
it is left out of /api/v1/surveys, its hosted page says it is closed, JSON submits get 410 with a
reason, and it opens on time), trigger.max_responses exact under concurrent submits, translations
picked by Accept-Language on hosted pages with the server's own sentences in en, sl, ro, uk and nb,
meta.locale and meta.variant on stored answers, a variant kept per visitor by cookie, the variant
export column, and `earshot check` naming a translation of a question the form lacks."""
import datetime
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TAP, Server, expect, expect_eq, run_earshot  # noqa: E402

QUOTA = 10


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def survey(form_id, extra_trigger="", extra=""):
    return (f"id: {form_id}\nkind: survey\ntitle: Before you go\n"
            "questions:\n"
            "  - id: reason\n    type: single_choice\n    label: What stopped you?\n    required: true\n"
            "    options: [Price, Shipping cost, Other]\n"
            "  - id: note\n    type: text\n    label: Anything else?\n    max_length: 10\n"
            "trigger:\n  event: manual\n" + extra_trigger + "thank_you: Thanks a lot.\n" + extra)


LOCALES = """locales:
  sl:
    title: Preden odidete
    thank_you: Hvala lepa.
    questions:
      reason: {label: Kaj vas je ustavilo?, options: [Cena, Poštnina, Drugo]}
      note: {label: Še kaj?}
  uk:
    title: Перш ніж піти
    questions:
      reason: {label: Що вас зупинило?, options: {Price: Ціна, Other: Інше}}
variants:
  - {id: a, weight: 50}
  - {id: b, weight: 50, title: "Anything we didn't answer?"}
"""


def served_ids(s):
    st, _, body = s.request("GET", "/api/v1/surveys")
    expect_eq(st, 200, "surveys status")
    return [x["id"] for x in body["surveys"]]


def t_schedule():
    now = time.time()
    forms = {
        "past": survey("past", f"  schedule: {{from: 2020-01-01, until: {iso(now - 60)}}}\n"),
        "future": survey("future", "  schedule: {from: 2999-01-01}\n"),
        "soon": survey("soon", f"  schedule: {{from: {iso(now + 3)}}}\n"),
        "open": survey("open", f"  schedule: {{from: 2020-01-01, until: {iso(now + 3600)}}}\n"),
    }
    s = Server(forms)
    try:
        s.start()
        ids = served_ids(s)
        expect_eq(sorted(ids), ["open"], "only the open survey is served")
        st, _, body = s.submit("past", {"reason": "Price"})
        expect_eq(st, 410, "submit after until")
        expect_eq(body["error"], "form_closed", "error code")
        expect_eq(body["reason"], "ended", "reason")
        st, _, body = s.submit("future", {"reason": "Price"})
        expect_eq((st, body["reason"]), (410, "not_started"), "submit before from")
        st, _, page = s.request("GET", "/f/past", raw=True)
        expect_eq(st, 410, "hosted page of an ended form")
        expect(b"This form is closed" in page and b"no longer taking answers" in page, "closed page text")
        st, _, page = s.request("GET", "/f/past", headers={"Accept-Language": "sl-SI,sl;q=0.9"}, raw=True)
        expect("Obrazec je zaprt" in page.decode(), "closed page in Slovenian")
        st, _, _ = s.request("POST", "/f/past", body="reason=Price",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        expect_eq(st, 410, "hosted submit after until")
        st, _, body = s.request("GET", "/f/past/token")
        expect_eq((st, body["reason"]), (410, "ended"), "token of a closed form")
        expect_eq(s.submit("open", {"reason": "Price"})[0], 201, "submit while open")
        # the boundary: closed before `from`, served once it has passed
        expect("soon" not in ids, "not served before from")
        time.sleep(max(0, now + 3.2 - time.time()))
        expect("soon" in served_ids(s), "served once from has passed")
        expect_eq(s.submit("soon", {"reason": "Price"})[0], 201, "submit after from")
        expect_eq(s.stop(), 0, "server exit status")
    finally:
        s.cleanup()


def t_quota_exact_under_concurrency():
    s = Server({"capped": survey("capped", f"  max_responses: {QUOTA}\n")})
    try:
        s.start()
        expect("capped" in served_ids(s), "served below the quota")
        results = []
        lock = threading.Lock()

        def send(i):
            st, _, body = s.submit("capped", {"reason": "Price", "note": str(i)})
            with lock:
                results.append((st, body.get("reason") if isinstance(body, dict) else None))

        threads = [threading.Thread(target=send, args=(i,)) for i in range(60)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        accepted = sum(1 for st, _ in results if st == 201)
        closed = [r for st, r in results if st == 410]
        expect_eq(accepted, QUOTA, "answers accepted")
        expect_eq(len(closed), 60 - QUOTA, "answers refused")
        expect(all(r == "quota_reached" for r in closed), "every refusal says quota_reached")
        st, _, body = s.request("GET", "/api/v1/forms/capped/responses?limit=1000", admin=True)
        expect_eq(len(body["responses"]), QUOTA, "answers stored")
        expect("capped" not in served_ids(s), "not served once the quota is reached")
        st, _, page = s.request("GET", "/f/capped", raw=True)
        expect_eq(st, 410, "hosted page at the quota")
        expect(b"received all the answers it needs" in page, "quota page text")
        st, _, body = s.submit("capped", {"reason": "Price"}, headers={"Accept-Language": "uk"})
        expect_eq(st, 410, "late submit")
        expect_eq(body["message"], "Форма вже отримала всі потрібні відповіді.", "410 message in Ukrainian")
        expect_eq(s.stop(), 0, "server exit status")
    finally:
        s.cleanup()


def t_hosted_translations():
    s = Server({"exit": survey("exit", extra=LOCALES)})
    try:
        s.start()
        cases = {
            "sl-SI,sl;q=0.9,en;q=0.5": ("sl", "Kaj vas je ustavilo?", "Pošlji", "Poštnina"),
            "uk-UA,uk;q=0.9": ("uk", "Що вас зупинило?", "Надіслати", "Ціна"),
            "ro-RO,ro;q=0.9": ("en", "What stopped you?", "Trimite", "Price"),
            "nb-NO,nb;q=0.9": ("en", "What stopped you?", "Send", "Price"),
            "de-DE,de;q=0.9": ("en", "What stopped you?", "Send", "Price"),
        }
        for header, (lang, label, button, option) in cases.items():
            st, _, page = s.request("GET", "/f/exit", headers={"Accept-Language": header}, raw=True)
            text = page.decode()
            expect_eq(st, 200, f"page for {header}")
            expect(f'<html lang="{lang}"' in text, f"lang attribute for {header}")
            expect(label in text, f"label for {header}")
            expect(f">{button}</button>" in text, f"button for {header}: {text[-400:]}")
            expect(option in text, f"option text for {header}")
            # options are posted as the form's own values whatever the language
            expect('value="Shipping cost"' in text, "option values stay the form's own")
        # Romanian chrome on an English form: the rules sentences are translated too
        st, _, page = s.request("GET", "/f/exit", headers={"Accept-Language": "ro"}, raw=True)
        expect("Alegeți o opțiune." in page.decode(), "Romanian rules sentence")
        # a 422 in Ukrainian: field messages and the summary
        st, _, page = s.request("GET", "/f/exit", headers={"Accept-Language": "uk"}, raw=True)
        token = re.search(r'name="_t" value="([^"]+)"', page.decode()).group(1)
        body = urllib.parse.urlencode({"_t": token, "note": "far too long for ten"})
        st, _, page = s.request("POST", "/f/exit", body=body, raw=True,
                                headers={"Content-Type": "application/x-www-form-urlencoded",
                                         "Accept-Language": "uk"})
        text = page.decode()
        expect_eq(st, 422, "invalid hosted submit")
        expect("Деякі відповіді варто перевірити ще раз:" in text, "summary in Ukrainian")
        expect("Це поле обов&#39;язкове" in text or "Це поле обов'язкове" in text, "required message in Ukrainian")
        expect("Це поле може містити щонайбільше 10 символів" in text, "length message in Ukrainian")
        # a valid submit in Slovenian carries meta.locale
        st, _, page = s.request("GET", "/f/exit", headers={"Accept-Language": "sl"}, raw=True)
        token = re.search(r'name="_t" value="([^"]+)"', page.decode()).group(1)
        variant = re.search(r'name="_v" value="([^"]+)"', page.decode()).group(1)
        body = urllib.parse.urlencode({"_t": token, "_v": variant, "reason": "Shipping cost"})
        st, h, _ = s.request("POST", "/f/exit", body=body, raw=True,
                             headers={"Content-Type": "application/x-www-form-urlencoded",
                                      "Accept-Language": "sl"})
        expect_eq(st, 303, "valid hosted submit")
        st, _, page = s.request("GET", h["location"], headers={"Accept-Language": "sl"}, raw=True)
        expect("Hvala lepa." in page.decode(), "thank-you in Slovenian")
        st, _, body = s.request("GET", "/api/v1/forms/exit/responses", admin=True)
        r = body["responses"][0]
        expect_eq(r["answers"]["reason"], "Shipping cost", "stored as the form's own option")
        expect_eq(r["meta"]["locale"], "sl", "meta.locale")
        expect_eq(r["meta"]["variant"], variant, "meta.variant")
        expect_eq(s.stop(), 0, "server exit status")
    finally:
        s.cleanup()


def t_json_locale_and_variant():
    s = Server({"exit": survey("exit", extra=LOCALES)})
    try:
        s.start()
        st, _, body = s.submit("exit", {"note": "far too long for ten"}, meta={"locale": "uk"})
        expect_eq(st, 422, "invalid JSON submit")
        expect_eq(body["message"], "Деякі відповіді варто перевірити ще раз.", "message in Ukrainian")
        expect_eq(body["fields"]["reason"], "обов'язкове", "field message in Ukrainian")
        st, _, body = s.submit("exit", {"note": "x"}, headers={"Accept-Language": "nb-NO"})
        expect_eq(body["fields"]["reason"], "må fylles ut", "field message in Norwegian (Accept-Language)")
        st, _, body = s.submit("exit", {"note": "x"}, headers={"Accept-Language": "ro"})
        expect_eq(body["fields"]["reason"], "este obligatoriu", "field message in Romanian")
        st, _, _ = s.submit("exit", {"reason": "Price"}, meta={"locale": "uk", "variant": "b"})
        expect_eq(st, 201, "valid JSON submit")
        st, _, _ = s.submit("exit", {"reason": "Other"}, meta={"locale": "fr", "variant": "zzz"})
        expect_eq(st, 201, "submit with an unknown locale and variant")
        st, _, body = s.request("GET", "/api/v1/forms/exit/responses", admin=True)
        metas = [r["meta"] for r in body["responses"]]
        expect_eq((metas[0]["locale"], metas[0]["variant"]), ("uk", "b"), "first answer's meta")
        expect_eq(metas[1]["locale"], "en", "an unknown locale is stored as the form's own")
        expect("variant" not in metas[1], "an unknown variant is dropped")
        st, _, csv = s.request("GET", "/api/v1/forms/exit/export?format=csv", admin=True, raw=True)
        lines = csv.decode().splitlines()
        header = lines[0].split(",")
        expect("variant" in header, f"variant export column: {lines[0]}")
        col = header.index("variant")
        expect_eq(lines[1].split(",")[col], "b", "variant value in the export")
        # the listing carries the translations and variants for the widget
        st, _, body = s.request("GET", "/api/v1/surveys")
        sv = body["surveys"][0]
        expect_eq(sorted(sv["locales"].keys()), ["sl", "uk"], "locales in the listing")
        expect_eq([v["id"] for v in sv["variants"]], ["a", "b"], "variants in the listing")
        expect_eq(sv["locales"]["uk"]["questions"]["reason"]["options"], ["Ціна", "Shipping cost", "Інше"],
                  "option texts by mapping, untranslated ones kept")
        expect_eq(s.stop(), 0, "server exit status")
    finally:
        s.cleanup()


def t_hosted_variant_kept():
    s = Server({"exit": survey("exit", extra=LOCALES)})
    try:
        s.start()
        seen = {"a": 0, "b": 0}
        for _ in range(200):
            st, h, page = s.request("GET", "/f/exit", raw=True)
            m = re.search(r"es_v_exit=([a-z]+)", h.get("set-cookie", ""))
            expect(m, "a variant cookie")
            seen[m.group(1)] += 1
            if m.group(1) == "b":
                expect(b"Anything we didn&#39;t answer?" in page or b"Anything we didn't answer?" in page,
                       "variant b's title")
        expect(60 <= seen["a"] <= 140, f"split near 50/50: {seen}")
        st, h, page = s.request("GET", "/f/exit", headers={"Cookie": "x=1; es_v_exit=b"}, raw=True)
        expect("set-cookie" not in h, "a kept variant sends no new cookie")
        expect(b'name="_v" value="b"' in page, "the kept variant")
        expect_eq(s.stop(), 0, "server exit status")
    finally:
        s.cleanup()


def t_check_reports_translation_errors():
    bad = survey("exit", extra="""locales:
  sl:
    questions:
      reasn: {label: Kaj?}
      reason: {options: {Prize: Cena}}
  xx_1: {title: x}
variants:
  - {id: a, weight: 0}
  - {id: a, weight: 0}
""")
    s = Server({"exit": bad})
    try:
        rc, out, err = run_earshot("check", "-c", s.config_path)
        err = out + err
        expect_eq(rc, 1, "check exit status")
        path = os.path.join(s.forms_dir, "exit.yaml")
        lines = bad.splitlines()
        ln = next(i for i, l in enumerate(lines) if "reasn" in l) + 1
        expect(f'{path}:{ln}:7: the form has no question "reasn"' in err, f"unknown question: {err}")
        ln = next(i for i, l in enumerate(lines) if "Prize" in l) + 1
        expect(f'{path}:{ln}:26: question "reason" has no option "Prize"' in err, f"unknown option: {err}")
        expect("language tag" in err, "bad locale tag")
        expect('duplicate variant id "a"' in err, "duplicate variant")
        expect("must not all be 0" in err, "zero weights")
    finally:
        s.cleanup()


def t_check_reports_targeting_errors():
    bad = survey("exit", "  schedule: {from: 2027-01-01, until: 2026-01-01}\n  max_responses: 0\n"
                         "  audience: {device: [phone], visitor: old, attributes: {plan: [pro, 3]}, zone: x}\n")
    s = Server({"exit": bad})
    try:
        rc, out, err = run_earshot("check", "-c", s.config_path)
        err = out + err
        expect_eq(rc, 1, "check exit status")
        for needle in ['"until" must be later than "from"', "max_responses", 'invalid value "phone"',
                       'invalid value "old"', 'unknown key "zone"']:
            expect(needle in err, f"{needle}: {err}")
    finally:
        s.cleanup()


if __name__ == "__main__":
    tap = TAP()
    tap.run("schedule: left out, closed page, 410 before and after, opens on time", t_schedule)
    tap.run("max_responses exact under 60 concurrent submits", t_quota_exact_under_concurrency)
    tap.run("hosted pages and server sentences by Accept-Language", t_hosted_translations)
    tap.run("JSON submits: localized messages, meta.locale, meta.variant, export column", t_json_locale_and_variant)
    tap.run("hosted variants split by weight and kept by cookie", t_hosted_variant_kept)
    tap.run("check: translations naming missing questions or options", t_check_reports_translation_errors)
    tap.run("check: schedule, quota and audience errors", t_check_reports_targeting_errors)
    tap.finish()
