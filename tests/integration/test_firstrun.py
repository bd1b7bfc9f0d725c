#!/usr/bin/env python3
"""Integration tests: what a new site owner meets first — a short earshot.yaml keeps the shipped plugins
(plugins: [] turns them off), plugins found by name, public_url following listen, installed directories
standing in for missing relative ones, `earshot init` output that checks and serves, and the landing
page at / that shows no data."""
import os
import re

from harness import TAP, Server, expect, expect_eq, run_earshot, BIN

FORM = """id: nps
title: A quick question
questions:
  - id: score
    type: nps
    label: How likely are you to recommend us?
    required: true
  - id: why
    type: text
    label: Why?
"""


def short_server(body):
    """A server whose earshot.yaml is only `listen`, the forms directory and body."""
    s = Server(forms={"nps": FORM})
    with open(s.config_path, "w") as f:
        f.write(f"listen: 127.0.0.1:{s.port}\nforms_dir: forms\nstatic_dir: forms\n" + body)
    return s


def t_short_config_keeps_plugins():
    s = short_server("")
    try:
        rc, out, err = run_earshot("check", "-c", s.config_path)
        expect_eq(rc, 0, f"check: {out}{err}")
        expect("3 plugin(s)" in err, err)
        s.start()
        st, h, body = s.submit("nps", {"score": 3, "why": "it was broken"})
        expect_eq(st, 201, f"stored {body}")
        expect_eq(body.get("score"), {"nps": 3, "category": "detractor"}, "the nps plugin scored it")
        st, h, health = s.request("GET", "/healthz")
        expect_eq(st, 200, "healthy")
    finally:
        s.cleanup()


def t_empty_plugin_list_turns_them_off():
    s = short_server("plugins: []\n")
    try:
        rc, out, err = run_earshot("check", "-c", s.config_path)
        expect_eq(rc, 0, f"check: {out}{err}")
        expect("0 plugin(s)" in err, err)
        s.start()
        st, h, body = s.submit("nps", {"score": 3})
        expect_eq(st, 201, "stored")
        expect("score" not in body, f"no plugin scored it: {body}")
    finally:
        s.cleanup()


def t_plugins_by_name():
    s = short_server("destinations:\n  log: {type: file, path: c.ndjson}\n"
                     "plugins:\n  - name: nps\n  - name: router\n    path: complaint-router\n"
                     "    config: {rules: [{when: {question: score, lte: 6}, route: log}]}\n  - name: coupon\n    path: incentive.so\n"
                     "    forms: [none]\n    config: {offer: x, codes: {source: generate}}\n")
    try:
        rc, out, err = run_earshot("check", "-c", s.config_path)
        expect_eq(rc, 0, f"check: {out}{err}")
        expect("3 plugin(s)" in err, err)
        s.start()
        st, h, body = s.submit("nps", {"score": 10})
        expect_eq(body.get("score"), {"nps": 10, "category": "promoter"}, "nps found by name")
        with open(s.config_path, "a") as f:
            f.write("  - name: nonesuch\n")
        rc, out, err = run_earshot("check", "-c", s.config_path)
        expect_eq(rc, 1, "an unknown plugin name is a problem")
        expect("nonesuch.so" in out, f"names the file it looked for: {out}")
    finally:
        s.cleanup()


def t_public_url_follows_listen():
    s = short_server("")
    try:
        s.start()
        st, h, text = s.request("GET", "/embed", raw=True)
        expect_eq(text.decode(), f'<script src="http://localhost:{s.port}/static/earshot.js?v=0.1.0" async>'
                                 "</script>\n", "embed line")
    finally:
        s.cleanup()
    s = short_server("public_url: https://feedback.example.com/\n")
    try:
        s.start()
        st, h, text = s.request("GET", "/embed", raw=True)
        expect("https://feedback.example.com/static/earshot.js" in text.decode(), text)
    finally:
        s.cleanup()


def t_missing_relative_dirs_use_installed():
    s = Server(forms={"nps": FORM})
    with open(s.config_path, "w") as f:
        f.write(f"listen: 127.0.0.1:{s.port}\nplugins: []\nforms_dir: forms\n")  # no ./static
    try:
        s.start()
        s.stop()
        lines = [l for l in s.read_log().splitlines() if "is not a directory: using" in l]
        expect_eq(len(lines), 1, f"one line about static_dir: {s.read_log()}")
        expect("static_dir " + os.path.join(s.dir, "static") in lines[0], lines[0])
        expect(lines[0].rstrip().endswith("/static instead"), lines[0])
        # the build tree's static/ beside the binary (an installed binary: $(pkgdatadir)/static)
        s.start()
        st, h, body = s.request("GET", "/static/earshot.js", raw=True)
        expect_eq(st, 200, "the widget is served")
    finally:
        s.cleanup()


def t_init_checks_and_serves():
    s = Server()
    target = os.path.join(s.dir, "site")
    try:
        rc, out, err = run_earshot("init", target)
        expect_eq(rc, 0, f"init: {out}{err}")
        tokens = re.findall(r"\bes_[A-Za-z0-9]{40}\b", out)
        expect_eq(len(tokens), 1, f"one token printed: {out}")
        config = os.path.join(target, "earshot.yaml")
        with open(config) as f:
            text = f.read()
        expect(tokens[0] not in text, "the token itself is not stored")
        import hashlib
        expect("sha256:" + hashlib.sha256(tokens[0].encode()).hexdigest() in text, "its hash is")
        expect(os.path.exists(os.path.join(target, "forms", "newsletter.yaml")), "example forms")
        rc, out2, err2 = run_earshot("check", "-c", config)
        expect_eq(rc, 0, f"check: {out2}{err2}")
        expect("2 form(s), 3 plugin(s)" in err2, err2)
        rc, out3, err3 = run_earshot("init", target)
        expect_eq(rc, 1, "a second init refuses")
        expect("exists; not overwriting" in err3, err3)
        with open(config) as f:
            expect_eq(f.read(), text, "the config is untouched")
        with open(config, "w") as f:
            f.write(text.replace("listen: 127.0.0.1:8080", f"listen: 127.0.0.1:{s.port}"))
        s.config_path = config
        s.start()
        s.token = tokens[0]
        st, h, body = s.submit("feedback", {"score": 9})
        expect_eq(st, 201, f"stored {body}")
        st, h, forms = s.request("GET", "/api/v1/forms", admin=True)
        expect_eq(st, 200, "the printed token opens the admin API")
        for path in ("/static/earshot.js", "/admin", "/"):
            expect_eq(s.request("GET", path, raw=True)[0], 200, f"{path} is served")
        rc, out4, err4 = run_earshot("init", "--bogus")
        expect_eq(rc, 2, "usage error")
    finally:
        s.cleanup()


def t_landing_page():
    s = Server(forms={"nps": FORM}, extra_config="")
    try:
        s.start()
        secret = "my-unique-answer-text-41"
        expect_eq(s.submit("nps", {"score": 2, "why": secret})[0], 201, "stored")
        st, h, page = s.request("GET", "/", raw=True)
        expect_eq(st, 200, "a page at /")
        text = page.decode()
        expect(h["content-type"].startswith("text/html"), h["content-type"])
        for want in ['href="/admin"', 'href="/static/demo.html"', 'href="/f/nps"',
                     f"&lt;script src=&quot;http://127.0.0.1:{s.port}/static/earshot.js?v=0.1.0&quot;"]:
            expect(want in text, f"{want} on the page")
        expect(secret not in text and "detractor" not in text, "no answers on the page")
        expect("default-src 'none'" in h["content-security-policy"], "strict CSP")
        expect_eq(h["cache-control"], "no-store", "not cached")
        st, h, _ = s.request("GET", "/nope")
        expect_eq(st, 404, "other paths are still 404")
    finally:
        s.cleanup()


if __name__ == "__main__":
    os.environ.setdefault("EARSHOT_BIN", BIN)
    tap = TAP()
    tap.run("a config without plugins: keeps the shipped plugins", t_short_config_keeps_plugins)
    tap.run("plugins: [] turns them off", t_empty_plugin_list_turns_them_off)
    tap.run("plugins found by name against the installed plugin directory", t_plugins_by_name)
    tap.run("public_url follows listen unless set", t_public_url_follows_listen)
    tap.run("a missing relative static_dir: the installed one, one log line", t_missing_relative_dirs_use_installed)
    tap.run("earshot init writes a config that checks and serves", t_init_checks_and_serves)
    tap.run("/ is a landing page without data", t_landing_page)
    tap.finish()
