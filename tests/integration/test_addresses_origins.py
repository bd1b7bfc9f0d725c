#!/usr/bin/env python3
"""Integration tests: the client address behind trusted proxies (every X-Forwarded-For line, walked
from the right), exact origin comparison (scheme, host, port; never a prefix of public_url),
`Vary: Origin` on every survey listing, a malformed `page` escape and `If-None-Match: *`."""
import http.client
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TAP, Server, expect, expect_eq  # noqa: E402

DOCS = """id: docs
title: Anything we didn't answer?
questions:
  - id: missing
    type: long_text
    label: Anything we didn't answer?
    required: true
trigger:
  event: scroll
  pages: {include: ["/docs*"]}
"""


def post_with_lines(s, path, body, lines):
    """POSTs JSON with the given (name, value) header lines, repeated names kept. Returns (status,
    headers, parsed body)."""
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    data = json.dumps(body).encode()
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(len(data)))
    for name, value in lines:
        conn.putheader(name, value)
    conn.endheaders(data)
    resp = conn.getresponse()
    out = resp.read()
    h = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, h, json.loads(out) if out else None


def stored_clients(s):
    db = sqlite3.connect(os.path.join(s.dir, "data.db"))
    try:
        return {json.loads(a)["missing"]: c for a, c in db.execute("SELECT answers, client FROM responses")}
    finally:
        db.close()


def t_forwarded_for_every_line():
    s = Server(forms={"docs": DOCS}, limits={"submissions_per_minute": 3},
               extra_config="trusted_proxies: [127.0.0.1]\nprivacy:\n  client_ip: truncated\n")
    try:
        s.start()
        # One client sends a made-up first X-Forwarded-For line each time; the proxy's own line
        # (appended last) names the real address, so all of them share one rate-limit bucket.
        codes = []
        for i in range(5):
            st, h, body = post_with_lines(s, "/api/v1/forms/docs/responses", {"answers": {"missing": f"try {i}"}},
                                          [("X-Forwarded-For", f"6.6.{i}.6"), ("X-Forwarded-For", "198.51.100.9")])
            codes.append(st)
        expect_eq(codes, [201, 201, 201, 429, 429], "one bucket whatever the first line says")
        clients = stored_clients(s)
        expect_eq(clients["try 0"], "198.51.100.0", "the proxy's line names the client")
        # Right-most address that is not a trusted proxy; a second hop of ours is skipped.
        st, h, body = post_with_lines(s, "/api/v1/forms/docs/responses", {"answers": {"missing": "chain"}},
                                      [("X-Forwarded-For", "1.1.1.1, 203.0.113.77, 127.0.0.1")])
        expect_eq(st, 201, f"status {body}")
        expect_eq(stored_clients(s)["chain"], "203.0.113.0", "right-most untrusted entry")
        expect_eq(s.stop(), 0, "clean exit")
    finally:
        s.cleanup()


def t_forwarded_for_ignored_without_trust():
    s = Server(forms={"docs": DOCS}, extra_config="privacy:\n  client_ip: truncated\n")
    try:
        s.start()
        st, h, body = post_with_lines(s, "/api/v1/forms/docs/responses", {"answers": {"missing": "direct"}},
                                      [("X-Forwarded-For", "198.51.100.9")])
        expect_eq(st, 201, "stored")
        expect_eq(stored_clients(s)["direct"], "127.0.0.0", "the socket's peer, not the header")
    finally:
        s.cleanup()


def t_origins_exact():
    s = Server(forms={"docs": DOCS}, extra_config='cors:\n  allowed_origins: ["https://shop.example.com"]\n')
    try:
        s.start()
        own = f"http://127.0.0.1:{s.port}"
        # Prefixes and near-misses of public_url are not its origin.
        for origin in ["http:", "http:/", "http://", "http://127.0.0.1", f"https://127.0.0.1:{s.port}",
                       "http://127.0.0.1:80", own + "0", "null"]:
            st, h, body = s.submit("docs", {"missing": "x"}, headers={"Origin": origin})
            expect_eq((st, body.get("error")), (403, "origin_not_allowed"), f"submit from {origin!r}")
            st, h, body = s.request("OPTIONS", "/api/v1/forms/docs/responses",
                                    headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
            expect_eq(st, 403, f"preflight from {origin!r}")
            st, h, body = s.request("GET", "/api/v1/surveys?page=/docs", headers={"Origin": origin})
            expect("access-control-allow-origin" not in h, f"no CORS headers for {origin!r}")
        # The same origin spelt another way (case, default port written out) is the same origin.
        for origin, echoed in [(own, own), (f"HTTP://127.0.0.1:{s.port}", f"HTTP://127.0.0.1:{s.port}"),
                               ("https://shop.example.com:443", "https://shop.example.com:443"),
                               ("https://SHOP.example.com", "https://SHOP.example.com")]:
            st, h, body = s.submit("docs", {"missing": "x"}, headers={"Origin": origin})
            expect_eq(st, 201, f"submit from {origin!r}: {body}")
            expect_eq(h.get("access-control-allow-origin"), echoed, "echoed as sent")
        for origin in ["https://shop.example.com.evil.test", "http://shop.example.com", "https://shop.example.com:8443"]:
            st, h, body = s.submit("docs", {"missing": "x"}, headers={"Origin": origin})
            expect_eq(st, 403, f"submit from {origin!r}")
        expect_eq(s.stop(), 0, "clean exit")
    finally:
        s.cleanup()


def t_vary_always(s):
    for headers in [{}, {"Origin": "https://evil.example.com"}, {"Origin": "https://shop.example.com"}]:
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        conn.request("GET", "/api/v1/surveys?page=/docs", headers=headers)
        resp = conn.getresponse()
        resp.read()
        vary = [v for k, v in resp.getheaders() if k.lower() == "vary"]
        conn.close()
        expect_eq(resp.status, 200, "status")
        expect_eq(len(vary), 1, f"one Vary header with {headers}: {vary}")
        expect("origin" in vary[0].lower(), f"Vary names Origin with {headers}: {vary}")
    st, h, body = s.request("GET", "/api/v1/surveys?page=/docs")
    st, h, body = s.request("GET", "/api/v1/surveys?page=/docs", headers={"If-None-Match": h["etag"]}, raw=True)
    expect_eq(st, 304, "conditional")
    expect("origin" in h.get("vary", "").lower(), "a 304 carries Vary too")


def t_page_bad_escape(s):
    for q in ["%zz", "%2", "%", "/docs%g1", "https%3A%2F%2Fshop.example.com%2Fdocs%"]:
        st, h, body = s.request("GET", "/api/v1/surveys?page=" + q)
        expect_eq((st, body.get("error"), body.get("parameter")), (400, "invalid_parameter", "page"), f"page={q}")
        expect("percent" in body["message"], "the reason says what is wrong")
    st, h, body = s.request("GET", "/api/v1/surveys?page=%2Fdocs%2Fintro")
    expect_eq((st, [x["id"] for x in body["surveys"]]), (200, ["docs"]), "valid escapes still work")
    st, h, body = s.request("GET", "/api/v1/surveys?v=%zz&page=/docs")
    expect_eq(st, 200, "another parameter's escapes are not page's problem")


def t_if_none_match_star(s):
    st, h, body = s.request("GET", "/api/v1/surveys?page=/docs", headers={"If-None-Match": "*"}, raw=True)
    expect_eq((st, body), (304, b""), "If-None-Match: * matches the current representation")
    st, h, body = s.request("GET", "/api/v1/surveys?page=/docs")
    etag = h["etag"]
    for inm in [f'"nope", {etag}', f"W/{etag}", f' {etag} ']:
        st, h, body = s.request("GET", "/api/v1/surveys?page=/docs", headers={"If-None-Match": inm}, raw=True)
        expect_eq(st, 304, f"If-None-Match: {inm}")
    st, h, body = s.request("GET", "/api/v1/surveys?page=/docs", headers={"If-None-Match": '"nope"'})
    expect_eq(st, 200, "another tag")
    st, h, body = s.request("GET", "/api/v1/surveys?page=/docs", headers={"If-None-Match": etag[:-2] + '"'})
    expect_eq(st, 200, "a prefix of the tag is another tag")
    # The static files follow the same rules.
    st, h, body = s.request("GET", "/static/earshot.js", headers={"If-None-Match": "*"}, raw=True)
    expect_eq(st, 304, "static file, If-None-Match: *")
    st, h, body = s.request("GET", "/static/earshot.js", raw=True)
    st, h, body = s.request("GET", "/static/earshot.js", headers={"If-None-Match": h["etag"][:-3] + '"'}, raw=True)
    expect_eq(st, 200, "static file, a prefix of its tag")


def main():
    tap = TAP()
    tap.run("X-Forwarded-For: every line, right-most untrusted", t_forwarded_for_every_line)
    tap.run("X-Forwarded-For ignored without trusted proxies", t_forwarded_for_ignored_without_trust)
    tap.run("origins compared exactly", t_origins_exact)
    s = Server(forms={"docs": DOCS}, extra_config='cors:\n  allowed_origins: ["https://shop.example.com"]\n')
    try:
        s.start()
        tap.run("surveys: Vary: Origin on every answer", t_vary_always, s)
        tap.run("surveys: page with a bad escape is 400", t_page_bad_escape, s)
        tap.run("surveys: If-None-Match: * and lists", t_if_none_match_star, s)
        rc = s.stop()
        tap.run("server exits 0 (no leaks under valgrind)", lambda: expect_eq(rc, 0, "exit code"))
    finally:
        s.cleanup()
    tap.finish()


if __name__ == "__main__":
    main()
