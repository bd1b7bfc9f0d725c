#!/usr/bin/env python3
"""Integration tests for the surveys bodies kept per form set: every page still gets exactly the
surveys whose page rules match it (hundreds of pages and query strings over a few sets), equal sets
share one ETag and different sets get different ones, and after a SIGHUP reload the changed form is
served with a new ETag while the old one no longer gives a 304."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TAP, Server, expect, expect_eq  # noqa: E402


def survey(i, title=None):
    return (f"id: s{i}\ntitle: {title or f'Survey {i}'}\nquestions:\n  - id: q\n    type: text\n    label: Q\n"
            f"trigger:\n  event: exit_intent\n  pages: {{include: [\"/p{i}/*\", \"/all/*\"]}}\n")


N = 8


def ids(s, page):
    st, h, body = s.request("GET", f"/api/v1/surveys?page={page}")
    expect_eq(st, 200, f"surveys for {page}")
    return [x["id"] for x in body["surveys"]], h["etag"], body


def t_pages_get_their_surveys(s):
    etags = {}
    for round_ in range(2):
        for i in range(N):
            for j in range(12):
                got, etag, _ = ids(s, f"/p{i}/item{j}")
                expect_eq(got, [f"s{i}"], f"/p{i}/item{j}")
                etags.setdefault(i, etag)
                expect_eq(etag, etags[i], "one ETag per set of surveys")
        got, etag, _ = ids(s, "/all/x")
        expect_eq(got, [f"s{i}" for i in range(N)], "every survey")
        got, none_etag, body = ids(s, "/nowhere")
        expect_eq(body, {"surveys": []}, "no survey")
        # many distinct pages and query strings, a few sets: they share the cached bodies
        for k in range(100):
            got, etag, _ = ids(s, f"/p{k % N}/x?n={k}")
            expect_eq(got, [f"s{k % N}"], "query strings ignored")
    expect_eq(len(set(etags.values()) | {none_etag}), N + 1, "different sets, different ETags")


def t_reload_changes_body_and_etag(s):
    got, etag, body = ids(s, "/p1/x")
    expect_eq(body["surveys"][0]["title"], "Survey 1", "before")
    s.write_form("s1", survey(1, "Renamed"))
    s.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while time.time() < deadline:
        got, etag2, body = ids(s, "/p1/x")
        if body["surveys"][0]["title"] == "Renamed":
            break
        time.sleep(0.1)
    expect_eq(body["surveys"][0]["title"], "Renamed", "the reloaded form is served")
    expect(etag2 != etag, "a new ETag")
    st, h, raw = s.request("GET", "/api/v1/surveys?page=/p1/x", headers={"If-None-Match": etag}, raw=True)
    expect_eq(st, 200, "the old ETag no longer matches")
    st, h, raw = s.request("GET", "/api/v1/surveys?page=/p1/x", headers={"If-None-Match": etag2}, raw=True)
    expect_eq(st, 304, "the new one does")


def main():
    tap = TAP()
    s = Server(forms={f"s{i}": survey(i) for i in range(N)})
    try:
        s.start()
        tap.run("every page gets exactly its surveys", t_pages_get_their_surveys, s)
        tap.run("a reload changes the body and the ETag", t_reload_changes_body_and_etag, s)
        tap.run("clean stop", lambda: expect_eq(s.stop(), 0, "exit code"))
    finally:
        s.cleanup()
    tap.finish()


if __name__ == "__main__":
    main()
