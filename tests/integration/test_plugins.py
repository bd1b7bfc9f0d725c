#!/usr/bin/env python3
"""Integration tests: plugins loaded by the real server — the nps plugin's score and report over HTTP,
the export's score columns, and a broken plugin stopping startup with its path and reason."""
import csv
import io
import os
import shutil
import signal
import subprocess
import threading
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TAP, Server, expect, expect_eq, run_earshot  # noqa: E402

BUILDDIR = os.environ.get("EARSHOT_BUILDDIR", os.path.dirname(os.environ.get("EARSHOT_BIN", "")))
NPS_SO = os.path.join(BUILDDIR, "plugins", "nps.so")

NPS_FORM = """id: nps
title: How likely are you to recommend us?
questions:
  - id: score
    type: nps
    label: How likely are you to recommend us?
    required: true
  - id: why
    type: text
    label: What is the main reason for your score?
"""


def nps_server(plugin_path=NPS_SO):
    return Server(forms={"nps": NPS_FORM},
                  extra_config=f"plugins:\n  - name: nps\n    path: \"{plugin_path}\"\n    forms: [\"*\"]\n")


def t_nps_score_and_report():
    s = nps_server()
    try:
        s.start()
        st, h, body = s.submit("nps", {"score": 9})
        expect_eq(st, 201, "stored")
        expect_eq(body["score"], {"nps": 9, "category": "promoter"}, "score in the 201")
        for v in [10, 9, 8, 7, 6, 3, 0, 10, 10, 5, 9]:
            expect_eq(s.submit("nps", {"score": v})[0], 201, "stored")
        st, h, rep = s.request("GET", "/api/v1/forms/nps/nps?interval=week", admin=True)
        expect_eq(st, 200, f"report {rep}")
        expect_eq((rep["nps"], rep["responses"], rep["promoters"], rep["passives"], rep["detractors"]),
                  (16.7, 12, 6, 2, 4), "NPS of the known data set")
        expect(rep["margin_of_error"] > 0, "margin of error")
        expect_eq(sum(x["responses"] for x in rep["series"]), 12, "series covers every answer")
        st, h, rep = s.request("GET", "/api/v1/forms/nps/nps?interval=fortnight", admin=True)
        expect_eq(st, 400, "bad interval")
        st, h, rep = s.request("GET", "/api/v1/forms/nps/nps")
        expect_eq(st, 401, "admin only")
        st, h, listing = s.request("GET", "/api/v1/forms/nps/responses", admin=True)
        expect("promoter" in listing["responses"][0]["tags"], "category stored as a tag")
        st, h, data = s.request("GET", "/api/v1/forms/nps/export?format=csv", admin=True, raw=True)
        rows = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
        expect_eq((rows[0]["score"], rows[0]["category"]), ("9", "promoter"), "export gains score and category")
    finally:
        s.cleanup()


def t_broken_plugin_stops_startup():
    s = nps_server()
    try:
        bad = os.path.join(s.dir, "nps.so")
        shutil.copy(NPS_SO, bad)
        os.chmod(bad, 0o666)
        text = open(s.config_path).read().replace(NPS_SO, bad)
        open(s.config_path, "w").write(text)
        rc = s.start(expect_fail=True)
        expect_eq(rc, 1, "serve refuses")
        log = s.read_log()
        expect(bad in log and "writable" in log, f"path and reason: {log}")
        rc, out, err = run_earshot("check", "-c", s.config_path)
        expect_eq(rc, 1, "check refuses too")
        expect(bad in out, "check names the file")
        missing = os.path.join(s.dir, "nope.so")
        open(s.config_path, "w").write(text.replace(bad, missing))
        rc, out, err = run_earshot("check", "-c", s.config_path)
        expect_eq(rc, 1, "missing file refused")
        expect(missing in out, f"names the missing file: {out}")
    finally:
        s.cleanup()


def t_sighup_keeps_plugin_when_new_one_is_broken():
    s = nps_server()
    try:
        s.start()
        copy = os.path.join(s.dir, "nps-copy.so")
        shutil.copy(NPS_SO, copy)
        os.chmod(copy, 0o666)
        text = open(s.config_path).read().replace(NPS_SO, copy)
        open(s.config_path, "w").write(text)
        s.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        expect("reload refused" in s.read_log(), "reload refused")
        st, h, body = s.submit("nps", {"score": 2})
        expect_eq(body.get("score", {}).get("category"), "detractor", "old plugin still in service")
    finally:
        s.cleanup()


SRCDIR = os.environ.get("EARSHOT_SRCDIR", ".")
VARIANT_C = r"""
#include <earshot/plugin.h>
static int variant_response(void *state, earshot_response *r)
{
	const struct earshot_host *h = state;
	return h->add_tag(r, "variant:" VARIANT);
}
static int variant_init(const struct earshot_host *host, const earshot_conf *config, void **state)
{
	*state = (void *)host;
	return EARSHOT_OK;
}
EARSHOT_PLUGIN_REGISTER(.name = "variant", .init = variant_init, .on_response = variant_response);
"""


def build_variant(dir, out, variant):
    """Builds the small test plugin tagging answers "variant:VARIANT" into out, replacing the file."""
    src = os.path.join(dir, "variant.c")
    with open(src, "w") as f:
        f.write(VARIANT_C)
    tmp = out + ".new"
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-shared", "-fPIC", "-I", os.path.join(SRCDIR, "include"), f'-DVARIANT="{variant}"',
                    src, "-o", tmp], check=True)
    os.chmod(tmp, 0o755)
    os.replace(tmp, out)


def t_sighup_loads_rebuilt_plugin():
    s = Server(forms={"nps": NPS_FORM}, extra_config="plugins:\n  - name: variant\n    path: variant.so\n")
    try:
        so = os.path.join(s.dir, "variant.so")
        build_variant(s.dir, so, "A")
        s.start()
        st, h, body = s.submit("nps", {"score": 5})
        expect_eq(st, 201, "stored")
        st, h, listing = s.request("GET", "/api/v1/forms/nps/responses", admin=True)
        expect_eq(listing["responses"][0]["tags"], ["variant:A"], "first build's code")
        # Rebuilt at the same path: the loader alone would hand back the copy it already has.
        build_variant(s.dir, so, "B")
        s.proc.send_signal(signal.SIGHUP)
        for _ in range(50):
            if "reloaded" in s.read_log():
                break
            time.sleep(0.1)
        expect_eq(s.submit("nps", {"score": 6})[0], 201, "stored after reload")
        st, h, listing = s.request("GET", "/api/v1/forms/nps/responses", admin=True)
        tags = sorted(t for r in listing["responses"] for t in r["tags"])
        expect_eq(tags, ["variant:A", "variant:B"], f"the rebuilt plugin's code runs: {s.read_log()}")
    finally:
        s.cleanup()


def t_double_encoded_form_is_not_decoded_twice():
    s = nps_server()
    try:
        s.start()
        expect_eq(s.submit("nps", {"score": 9})[0], 201, "stored")
        st, h, rep = s.request("GET", "/api/v1/forms/nps/nps", admin=True)
        expect_eq(st, 200, "the report of form nps")
        st, h, rep = s.request("GET", "/api/v1/forms/np%2573/nps", admin=True)
        expect_eq(st, 404, f"np%2573 is form \"np%73\", never \"nps\": {rep}")
        st, h, rep = s.request("GET", "/api/v1/forms/nps/nps?interval=we%2565k", admin=True)
        expect_eq(st, 400, "a query value is decoded once too")
    finally:
        s.cleanup()


def t_plugin_routes_share_the_router():
    """Plugin routes are entries of the server's one router: a built-in route wins a path both match,
    the plugin gets the rest, and its parameters are segments decoded once (an encoded slash stays)."""
    s = behave_server("{route: \"/api/v1/forms/{form}/{key}\"}", name="overlap")
    try:
        s.start()
        expect_eq(s.submit("nps", {"score": 9})[0], 201, "stored")
        st, h, body = s.request("GET", "/api/v1/forms/nps/responses", admin=True)
        expect_eq(st, 200, f"built-in listing: {body}")
        expect(isinstance(body.get("responses"), list) and "key" not in body, f"the built-in route wins: {body}")
        st, h, body = s.request("GET", "/api/v1/forms/nps/digest", admin=True)
        expect_eq((st, body.get("form"), body.get("key")), (200, "nps", "digest"), f"the plugin's route: {body}")
        st, h, body = s.request("GET", "/api/v1/forms/nps/a%2Fb", admin=True)
        expect_eq((st, body.get("key")), (200, "a/b"), f"an encoded slash is not split: {body}")
        st, h, body = s.request("GET", "/api/v1/forms/nps/a%252Fb", admin=True)
        expect_eq((st, body.get("key")), (200, "a%2Fb"), f"decoded once: {body}")
        st, h, body = s.request("GET", "/api/v1/forms/a%2Fb/summary", admin=True)
        expect_eq((st, body.get("error")), (404, "unknown_form"), f"form \"a/b\", one segment: {body}")
        st, h, body = s.request("DELETE", "/api/v1/forms/nps/responses", admin=True)
        expect_eq(st, 405, f"a built-in path with another method: {body}")
        expect("GET" in h.get("allow", ""), f"Allow names GET: {h}")
        st, h, body = s.request("GET", "/api/v1/forms/nps/summary")
        expect_eq(st, 401, "a plugin route needs the admin token")
        st, h, body = s.request("GET", "/api/v1/forms/nps/summary/more", admin=True)
        expect_eq(st, 404, "one segment per placeholder")
    finally:
        s.cleanup()


def behave_server(config, name="brittle", forms=None, extra=""):
    """A server with the behave test fixture (tests/plugins/behave.c) loaded with config (YAML flow)."""
    s = Server(forms=forms or {"nps": NPS_FORM},
               extra_config=f"plugins:\n  - name: {name}\n    path: behave.so\n    config: {config}\n{extra}")
    shutil.copyfile(os.path.join(BUILDDIR, "tests", "plugins", "behave.so"), os.path.join(s.dir, "behave.so"))
    os.chmod(os.path.join(s.dir, "behave.so"), 0o755)
    return s


def t_plugin_error_logged_with_its_name():
    s = behave_server("{fail: true}")
    try:
        s.start()
        st, h, body = s.submit("nps", {"score": 5})
        expect_eq(st, 503, "not stored")
        log = s.read_log()
        expect("plugin brittle: on_response: asked to fail" in log, f"the plugin's message in the log: {log}")
        expect_eq(log.count("asked to fail"), 1, "logged once")
    finally:
        s.cleanup()


FILE_DEST = "destinations:\n  log:\n    type: file\n    path: deliveries.ndjson\n"


def t_per_answer_caps():
    # 100,000 add_tag calls: the 257th is refused with a clear message, promptly (tags are found in a
    # set, not by scanning), and the visitor gets 503.
    s = behave_server("{tags: 100000}")
    try:
        s.start()
        st, h, body = s.submit("nps", {"score": 5})
        expect_eq(st, 503, "not stored")
        expect("add_tag: this answer already has 256 tags, the most one answer may carry" in s.read_log(),
               f"the cap named to the plugin: {s.read_log()}")
    finally:
        s.cleanup()
    s = behave_server("{tags: 256}")
    try:
        s.start()
        st, h, body = s.submit("nps", {"score": 5})
        expect_eq(st, 201, "256 tags are fine")
        st, h, listing = s.request("GET", "/api/v1/forms/nps/responses", admin=True)
        expect_eq(len(listing["responses"][0]["tags"]), 256, "every tag stored")
    finally:
        s.cleanup()
    s = behave_server("{deliver: log, deliveries: 17}", extra=FILE_DEST)
    try:
        s.start()
        expect_eq(s.submit("nps", {"score": 5})[0], 503, "17 deliveries refused")
        expect("this answer already has 16 deliveries, the most one answer may queue" in s.read_log(),
               f"count cap named: {s.read_log()}")
    finally:
        s.cleanup()
    s = behave_server("{deliver: log, delivery_bytes: 300000}", extra=FILE_DEST)
    try:
        s.start()
        expect_eq(s.submit("nps", {"score": 5})[0], 503, "an oversized delivery refused")
        expect("more than the 262144 one delivery may hold" in s.read_log(), f"size cap named: {s.read_log()}")
    finally:
        s.cleanup()
    s = behave_server("{deliver: log, deliveries: 5, delivery_bytes: 250000}", extra=FILE_DEST)
    try:
        s.start()
        expect_eq(s.submit("nps", {"score": 5})[0], 503, "1.25 MB of deliveries for one answer refused")
        expect("more than the 1048576 one answer may queue" in s.read_log(), f"total cap named: {s.read_log()}")
    finally:
        s.cleanup()


def t_watchdog_names_stalled_plugin():
    s = behave_server("{sleep_ms: 5000}", name="sleepy")
    try:
        s.start()
        done = {}
        t = threading.Thread(target=lambda: done.setdefault("r", s.submit("nps", {"score": 5})))
        t.start()
        time.sleep(3.6)
        st, h, body = s.request("GET", "/healthz")
        expect_eq(st, 503, f"a stalled writer is not healthy: {body}")
        expect_eq(body.get("status"), "degraded", "degraded")
        expect(str(body.get("reason", "")).startswith("writer stalled 3 s in plugin sleepy (on_response)"),
               f"names the plugin and the hook: {body}")
        t.join(30)
        expect_eq(done["r"][0], 201, "the slow answer is stored in the end")
        st, h, body = s.request("GET", "/healthz")
        expect_eq(st, 200, "healthy again")
        expect("writer stalled 3 s in plugin sleepy (on_response)" in s.read_log(), "the stall is logged")
    finally:
        s.cleanup()


def t_crash_policy():
    s = behave_server("{crash: true}", name="brittle")
    try:
        s.start()
        try:
            s.submit("nps", {"score": 5})
        except Exception:
            pass
        s.proc.wait(30)
        s.log.close()
        expect(s.proc.returncode != 0, "the plugin took the process down")
        # Next start: refused, naming the plugin and the hook.
        rc = s.start(expect_fail=True)
        expect_eq(rc, 1, "serve refuses after a crash inside a plugin")
        s.log.close()
        log = s.read_log()
        expect("plugin brittle crashed in on_response at " in log and "on_crash: disable" in log,
               f"the refusal names plugin, hook and the way out: {log}")
        rc, out, err = run_earshot("check", "-c", s.config_path)
        expect_eq(rc, 1, "check says it too")
        expect("plugin brittle crashed in on_response" in out, f"check's problem line: {out}")
        # on_crash: disable starts without it, and says so in the log, /healthz and check.
        text = open(s.config_path).read().replace("    path: behave.so\n", "    path: behave.so\n    on_crash: disable\n")
        open(s.config_path, "w").write(text)
        rc, out, err = run_earshot("check", "-c", s.config_path)
        expect_eq(rc, 0, f"check accepts it with on_crash: disable: {out}{err}")
        expect("plugin brittle disabled: it crashed in on_response" in err, f"check says it is disabled: {err}")
        s.start()
        st, h, body = s.request("GET", "/healthz")
        expect_eq(st, 200, "serving")
        expect(any("plugin brittle disabled: it crashed in on_response" in w for w in body.get("warnings", [])),
               f"/healthz says it: {body}")
        expect_eq(s.submit("nps", {"score": 5})[0], 201, "answers stored without the plugin")
        s.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        expect_eq(s.submit("nps", {"score": 6})[0], 201, "still disabled after a reload")
        expect_eq(s.stop(), 0, "clean stop")
        # A replaced plugin file runs again.
        so = os.path.join(s.dir, "behave.so")
        os.unlink(so)
        shutil.copyfile(os.path.join(BUILDDIR, "tests", "plugins", "behave.so"), so)
        os.chmod(so, 0o755)
        text = open(s.config_path).read().replace("{crash: true}", "{tag: fixed}")
        open(s.config_path, "w").write(text)
        s.start()
        expect_eq(s.submit("nps", {"score": 7})[0], 201, "stored")
        st, h, listing = s.request("GET", "/api/v1/forms/nps/responses", admin=True)
        tags = [t for r in listing["responses"] for t in r["tags"]]
        expect("fixed" in tags, f"the replaced plugin runs again: {listing}")
        expect("its file has changed since, so it runs again" in s.read_log(), "the log says why")
    finally:
        s.cleanup()


def t_incentive_pool_path_relative_to_config():
    incentive = os.path.join(BUILDDIR, "plugins", "incentive.so")
    form = "id: join\ntitle: Join\nkind: signup\nquestions:\n  - id: email\n    type: email\n    label: Email\n    required: true\n"
    s = Server(forms={"join": form}, extra_config=(
        f"plugins:\n  - name: incentive\n    path: \"{incentive}\"\n    forms: [join]\n    config:\n"
        "      offer: 10% off\n      requires: [email]\n      codes: {source: file, path: coupons.txt}\n"
        "      one_per: email\n"))
    try:
        with open(os.path.join(s.dir, "coupons.txt"), "w") as f:
            f.write("FIRST-CODE\nSECOND-CODE\n")
        s.start(cwd="/")
        # A signup form with offers takes JSON answers with a timing token only.
        tok = s.request("GET", "/f/join/token")[2]["token"]
        st, h, body = s.submit("join", {"email": "ann@example.com"}, timing_token=tok)
        expect_eq(st, 201, f"stored: {s.read_log()}")
        expect_eq(body["offers"][0]["code"], "FIRST-CODE", "the pool beside earshot.yaml, whatever the cwd")
    finally:
        s.cleanup()


def main():
    tap = TAP()
    tap.run("nps plugin: score in the 201, report, export columns", t_nps_score_and_report)
    tap.run("a broken plugin stops serve and check", t_broken_plugin_stops_startup)
    tap.run("SIGHUP with a broken plugin keeps the running one", t_sighup_keeps_plugin_when_new_one_is_broken)
    tap.run("SIGHUP loads a plugin rebuilt at the same path", t_sighup_loads_rebuilt_plugin)
    tap.run("GET /api/v1/forms/np%2573/nps is not form nps", t_double_encoded_form_is_not_decoded_twice)
    tap.run("plugin routes: one router, built-ins first, %2F stays in its segment", t_plugin_routes_share_the_router)
    tap.run("a plugin's error is logged once with its name and hook", t_plugin_error_logged_with_its_name)
    tap.run("per-answer caps on tags, deliveries and their sizes", t_per_answer_caps)
    tap.run("the writer watchdog names a stalled plugin in /healthz", t_watchdog_names_stalled_plugin)
    tap.run("a crash inside a plugin: refuse, or start with it disabled (on_crash)", t_crash_policy)
    tap.run("incentive: a relative coupon file is found beside earshot.yaml", t_incentive_pool_path_relative_to_config)
    tap.finish()


if __name__ == "__main__":
    main()
