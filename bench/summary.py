#!/usr/bin/env python3
"""Times GET /api/v1/forms/{form}/summary over a large form.

    bench/summary.py [ROWS]          (default 1,000,000; EARSHOT_BIN names the binary, default
                                      _build/earshot)

Starts earshot once in a temporary directory so that it creates the database, fills it with ROWS
answers to a form with a single choice, an nps, a multi choice, a rating, a text, an email and a
consent question and two wording variants (one SQL statement through Python's sqlite3), starts it again,
waits until its writer has folded them into the summary tables (in the background, as after an
upgrade), and asks for the summary unfiltered, with a time range, a variant and each of the other
filters, 5 times each. Prints the fill and fold times and, per query, the best and the median wall
time of the request as curl would see it. Not a pass/fail test."""
import hashlib
import os
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("EARSHOT_BIN", os.path.join(HERE, "..", "_build", "earshot"))
ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000

FORM = """id: shop
title: Shop
variants:
  - {id: a, weight: 50}
  - {id: b, weight: 50}
questions:
  - {id: reason, type: single_choice, label: Why not?, options: [price, shipping, just looking, other]}
  - {id: score, type: nps, label: Recommend us?}
  - {id: extras, type: multi_choice, label: What would help?, options: [gift wrap, express, none]}
  - {id: stars, type: rating, label: Checkout?, scale: 5}
  - {id: comment, type: long_text, label: Anything else?}
  - {id: email, type: email, label: Email}
  - {id: ok, type: consent, label: Contact me}
"""

FILL = """
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?1)
INSERT INTO responses (id, form, created_ms, answers, meta, score, tags)
SELECT 'r_b' || i, 'shop', 1780000000000 + i * 2000,
  json_object('reason', CASE i % 4 WHEN 0 THEN 'price' WHEN 1 THEN 'shipping' WHEN 2 THEN 'just looking'
              ELSE 'other' END,
              'score', i % 11,
              'extras', json_array(CASE i % 3 WHEN 0 THEN 'gift wrap' WHEN 1 THEN 'express' ELSE 'none' END),
              'stars', 1 + i % 5,
              'comment', 'free text number ' || i,
              'email', 'user' || i || '@example.com',
              'ok', json('true')),
  json_object('page', '/cart/' || (i % 7), 'visitor', 'new', 'locale', 'en',
              'variant', CASE i % 2 WHEN 0 THEN 'a' ELSE 'b' END,
              'device', CASE i % 3 WHEN 0 THEN 'desktop' WHEN 1 THEN 'mobile' ELSE 'tablet' END),
  json_object('nps', i % 11, 'category', CASE WHEN i % 11 >= 9 THEN 'promoter' WHEN i % 11 >= 7 THEN 'passive'
              ELSE 'detractor' END),
  CASE i % 5 WHEN 0 THEN '["complaint"]' ELSE '[]' END
FROM c
"""

QUERIES = [
    ("unfiltered", ""),
    ("since/until (partial days at both ends)", "?since=2026-06-01T06:00:00Z&until=2026-06-10T18:00:00Z"),
    ("variant=a", "?variant=a"),
    ("page=/cart/1", "?page=/cart/1"),
    ("category=detractor", "?category=detractor"),
    ("device=mobile", "?device=mobile"),
    ("tag=complaint", "?tag=complaint"),
    ("attr=locale", "?attr=locale"),
    ("page=/cart/1 + since/until", "?page=/cart/1&since=2026-06-01T06:00:00Z&until=2026-06-10T18:00:00Z"),
    ("q=number 12 (text scan)", "?q=number%2012"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(workdir, config):
    proc = subprocess.Popen([BIN, "serve", "-c", config], cwd=workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return proc


def wait_ready(port):
    for _ in range(600):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("earshot did not start")


def main():
    workdir = tempfile.mkdtemp(prefix="earshot-bench-summary-")
    try:
        os.mkdir(os.path.join(workdir, "forms"))
        with open(os.path.join(workdir, "forms", "shop.yaml"), "w") as f:
            f.write(FORM)
        port = free_port()
        token = "es_" + secrets.token_hex(16)
        config = os.path.join(workdir, "earshot.yaml")
        with open(config, "w") as f:
            f.write(f"listen: 127.0.0.1:{port}\npublic_url: http://127.0.0.1:{port}\ndatabase: data.db\n"
                    f"forms_dir: forms\nplugins: []\n"
                    f"admin:\n  tokens: [\"sha256:{hashlib.sha256(token.encode()).hexdigest()}\"]\n")
        proc = start(workdir, config)
        wait_ready(port)
        proc.terminate()
        proc.wait()
        t = time.monotonic()
        db = sqlite3.connect(os.path.join(workdir, "data.db"))
        with db:
            db.execute(FILL, (ROWS,))
        db.close()
        print(f"filled {ROWS} answers in {time.monotonic() - t:.1f} s "
              f"(database {os.path.getsize(os.path.join(workdir, 'data.db')) / 1e6:.0f} MB)", flush=True)
        t = time.monotonic()
        proc = start(workdir, config)
        wait_ready(port)
        db = sqlite3.connect(os.path.join(workdir, "data.db"), timeout=30)
        while db.execute("SELECT (SELECT seq FROM answer_counts_upto) < (SELECT max(seq) FROM responses)").fetchone()[0]:
            time.sleep(0.2)
        db.close()
        print(f"the writer folded them into the summary tables in {time.monotonic() - t:.1f} s after the start "
              f"(database {os.path.getsize(os.path.join(workdir, 'data.db')) / 1e6:.0f} MB)", flush=True)
        print(f"{'summary':40} {'best':>9} {'median':>9}  answers")
        for name, q in QUERIES:
            times, answers = [], None
            for _ in range(5):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
                t = time.monotonic()
                c.request("GET", "/api/v1/forms/shop/summary" + q, headers={"Authorization": "Bearer " + token})
                r = c.getresponse()
                body = r.read()
                times.append(time.monotonic() - t)
                if r.status != 200:
                    raise SystemExit(f"{name}: {r.status} {body[:200]!r}")
                answers = int(body.split(b'"answers":', 1)[1].split(b",", 1)[0])
            print(f"{name:40} {min(times) * 1000:7.0f}ms {statistics.median(times) * 1000:7.0f}ms  {answers}",
                  flush=True)
        proc.terminate()
        proc.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
