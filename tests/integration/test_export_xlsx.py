#!/usr/bin/env python3
"""Integration tests for XLSX exports of awkward answers on a real server: answers holding characters
XML 1.0 forbids (U+FFFE, U+FFFF, control characters) still give a workbook every XML parser reads,
with those characters replaced by U+FFFD; an answer that literally holds "_x003D_" reads back
literally once the spreadsheet's own "_xHHHH_" escapes are decoded; the answers after them export
too. The workbook holds the CSV export of the same answers cell for cell (escapes, control characters,
surrogate pairs, text past a cell's 32,767 bytes, numbers, booleans, empty answers, dates), its zip
passes every CRC check and openpyxl loads it. A workbook of 20,000 answers, which takes many compressed
pieces, streams over HTTP to its end and equals the CSV export too."""
import io
import os
import hashlib
import json
import re
import sqlite3
import sys
import xml.etree.ElementTree as ET
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TAP, Server, expect, expect_eq  # noqa: E402
from xlsx_read import compare_with_csv, openpyxl_summary  # noqa: E402

NOTES = """id: notes
title: Notes
questions:
  - id: note
    type: long_text
    label: Anything else?
    required: true
"""

MIXED = """id: mixed
title: Mixed
questions:
  - id: note
    type: long_text
    label: Note
    max_length: 100000
  - id: qty
    type: number
    label: How many?
  - id: colours
    type: multi_choice
    label: Colours
    options: [Red, "Green & <Teal>", "Blue \\"sky\\""]
  - id: agree
    type: consent
    label: I agree
  - id: when
    type: date
    label: When
  - id: likely
    type: nps
    label: How likely?
"""

MIXED_ANSWERS = [
    {"note": "plain", "qty": 3, "colours": ["Red"], "agree": True, "when": "2026-01-31", "likely": 10},
    {"note": "=1+1, \"quoted\"\nnew line\ttab & <b>amp</b> caf\u00e9 \u20ac", "qty": -2.5},
    {"note": "emoji \U0001F600 and \U0001D11E clef, CJK \u4e2d\u6587", "colours": ["Green & <Teal>", "Blue \"sky\""]},
    {"note": "control \x01\x08\x0b\x0c\x1f and \ufffe\uffff", "likely": 0},
    {"note": "  leading and trailing spaces  ", "qty": 1e300},
    {"note": "-starts with minus", "qty": 0.1},
    {"note": "@at and +plus", "qty": 9007199254740993},
    {"note": "\u00e9" * 20000},  # 40,000 bytes: past a cell's limit, cut on a character boundary
    {"note": "x" * 40000 + "tail"},
    {"note": "_x0041_ literal", "agree": False},
    {"note": "nothing else"},
]

BULK = """id: bulk
title: Bulk
questions:
  - id: note
    type: long_text
    label: Note
"""

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}

ANSWERS = [
    "before",
    "bad \ufffe and \uffff here",
    "bell \x07 escape \x1b",
    "literal _x003D_ and _x0041_ stay",
    "after",
]


def decode_ooxml(text):
    """Decodes the _xHHHH_ escapes a spreadsheet program decodes when it reads a cell."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def sheet_column(data, column):
    """Parses every XML part of the workbook (each must be well-formed) and returns the texts of one
    column ("C") of the worksheets, header first, in row order."""
    book = zipfile.ZipFile(io.BytesIO(data))
    cells = []
    for name in book.namelist():
        if name.endswith(".xml") or name.endswith(".rels"):
            root = ET.fromstring(book.read(name))  # raises on a workbook Excel would refuse
            if name.startswith("xl/worksheets/"):
                for c in root.iter("{%s}c" % NS["m"]):
                    if re.fullmatch(column + r"[0-9]+", c.get("r", "")):
                        cells.append("".join(t.text or "" for t in c.iter("{%s}t" % NS["m"])))
    return cells


def t_forbidden_characters_and_literal_escapes(s):
    for text in ANSWERS:
        st, _, body = s.submit("notes", {"note": text})
        expect_eq(st, 201, f"submit {text!r}: {body}")
    st, _, data = s.request("GET", "/api/v1/forms/notes/export?format=xlsx", admin=True, raw=True)
    expect_eq(st, 200, "xlsx export")
    try:
        cells = [decode_ooxml(c) for c in sheet_column(data, "C")]  # id, created_at, note, ...
    except (ET.ParseError, zipfile.BadZipFile) as e:
        raise AssertionError(f"the workbook is not well-formed: {e}")
    expect_eq(cells[0], "note", "the header row")
    expect_eq(cells[1:], [
        "before",
        "bad \ufffd and \ufffd here",
        "bell \ufffd escape \ufffd",
        "literal _x003D_ and _x0041_ stay",
        "after",
    ], "every answer, in order, forbidden characters replaced and escapes literal")


def t_xlsx_equals_csv(s):
    for answers in MIXED_ANSWERS:
        st, _, body = s.submit("mixed", answers, meta={"page": "https://shop.example/a?b=1&c=<2>"})
        expect_eq(st, 201, f"submit {str(answers)[:80]!r}: {body}")
    st, _, csv_data = s.request("GET", "/api/v1/forms/mixed/export?format=csv", admin=True, raw=True)
    expect_eq(st, 200, "csv export")
    st, headers, data = s.request("GET", "/api/v1/forms/mixed/export?format=xlsx", admin=True, raw=True)
    expect_eq(st, 200, "xlsx export")
    expect(headers.get("transfer-encoding") == "chunked", f"streamed in chunks: {headers}")
    problems = compare_with_csv(csv_data.decode("utf-8"), data)
    expect(not problems, "the workbook equals the CSV cell for cell:\n" + "\n".join(problems))
    path = os.path.join(s.dir, "mixed.xlsx")
    with open(path, "wb") as f:
        f.write(data)
    expect_eq(openpyxl_summary(path), f"Responses:{len(MIXED_ANSWERS) + 1}", "openpyxl loads every row")


def t_large_workbook_streams(s):
    """Rows written straight into the database (submitting 20,000 answers would take minutes)."""
    db = sqlite3.connect(os.path.join(s.dir, "data.db"), timeout=30)
    rows = []
    for i in range(20000):
        note = f"answer {i}: " + hashlib.sha256(str(i).encode()).hexdigest()  # compresses poorly
        rows.append((f"r_bulk{i:06d}", "bulk", 1764000000000 + i, json.dumps({"note": note}),
                     json.dumps({"page": f"/p/{i % 7}"})))
    with db:
        db.executemany("INSERT INTO responses (id, form, created_ms, answers, meta, tags) "
                       "VALUES (?, ?, ?, ?, ?, '[]')", rows)
    db.close()
    st, headers, data = s.request("GET", "/api/v1/forms/bulk/export?format=xlsx", admin=True, raw=True)
    expect_eq(st, 200, "xlsx export")
    expect(len(data) > 4 * 65536, f"several pieces of 64 KiB: {len(data)} bytes")
    st, _, csv_data = s.request("GET", "/api/v1/forms/bulk/export?format=csv", admin=True, raw=True)
    expect_eq(st, 200, "csv export")
    problems = compare_with_csv(csv_data.decode("utf-8"), data)
    expect(not problems, "the workbook equals the CSV cell for cell:\n" + "\n".join(problems[:20]))


def main():
    tap = TAP()
    s = Server(forms={"notes": NOTES, "mixed": MIXED, "bulk": BULK}, limits={"max_body_bytes": 300000})
    try:
        s.start()
        tap.run("XLSX with forbidden characters and literal _xHHHH_", t_forbidden_characters_and_literal_escapes, s)
        tap.run("XLSX equals the CSV export cell for cell; openpyxl reads it", t_xlsx_equals_csv, s)
        tap.run("a workbook of 20,000 answers streams over HTTP to its end", t_large_workbook_streams, s)
        tap.run("clean stop", lambda: expect_eq(s.stop(), 0, "exit code"))
    finally:
        s.cleanup()
    tap.finish()


if __name__ == "__main__":
    main()
