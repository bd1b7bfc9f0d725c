#!/usr/bin/env python3
"""Reads an XLSX workbook with Python's zipfile and an XML parser, the way a spreadsheet program does,
and compares it with the CSV export of the same answers.

As a module: read_workbook(data) and compare_with_csv(csv_text, data).
As a program: xlsx_read.py CSV_FILE XLSX_FILE [SHEET_ROWS] compares the two files (the workbook's
worksheets holding at most SHEET_ROWS rows each, header included), checks every zip CRC, loads the
workbook with openpyxl too, prints what differs and exits 1 on a difference."""
import csv
import io
import posixpath
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CELL_MAX = 32767  # bytes of text a cell keeps (Excel's limit)


def decode_ooxml(text):
    """Decodes the _xHHHH_ escapes a spreadsheet program decodes when it reads a cell."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def column_index(ref):
    """0 for "A7", 27 for "AB7"."""
    n = 0
    for ch in re.match(r"[A-Z]+", ref).group(0):
        n = n * 26 + ord(ch) - ord("A") + 1
    return n - 1


def read_workbook(data):
    """Returns [(sheet name, rows)] in workbook order; rows are lists of cell values (str, int,
    float, bool or None), each row as long as its last cell. Every XML part must be well-formed and
    every entry's CRC right."""
    book = zipfile.ZipFile(io.BytesIO(data))
    bad = book.testzip()
    if bad is not None:
        raise AssertionError(f"bad CRC in {bad}")
    for name in book.namelist():
        if name.endswith(".xml") or name.endswith(".rels"):
            ET.fromstring(book.read(name))
    shared = []
    if "xl/sharedStrings.xml" in book.namelist():
        for si in ET.fromstring(book.read("xl/sharedStrings.xml")).iter(MAIN + "si"):
            shared.append("".join(t.text or "" for t in si.iter(MAIN + "t")))
    rels = {r.get("Id"): r.get("Target")
            for r in ET.fromstring(book.read("xl/_rels/workbook.xml.rels")).iter(PKG_REL + "Relationship")}
    sheets = []
    for sheet in ET.fromstring(book.read("xl/workbook.xml")).iter(MAIN + "sheet"):
        part = posixpath.normpath(posixpath.join("xl", rels[sheet.get(REL + "id")]))
        rows = []
        for row in ET.fromstring(book.read(part)).iter(MAIN + "row"):
            cells = []
            for c in row.iter(MAIN + "c"):
                col = column_index(c.get("r"))
                while len(cells) < col:
                    cells.append(None)
                kind = c.get("t", "n")
                v = c.find(MAIN + "v")
                if kind == "inlineStr":
                    value = decode_ooxml("".join(t.text or "" for t in c.iter(MAIN + "t")))
                elif kind == "s":
                    value = decode_ooxml(shared[int(v.text)])
                elif kind == "b":
                    value = v.text == "1"
                elif kind == "str":
                    value = decode_ooxml(v.text or "")
                else:
                    value = float(v.text)
                    if value.is_integer() and re.fullmatch(r"-?[0-9]+", v.text):
                        value = int(v.text)
                cells.append(value)
            rows.append(cells)
        sheets.append((sheet.get("name"), rows))
    return sheets


def clean_text(text):
    """What a cell keeps of an answer's text: at most CELL_MAX bytes cut on a character boundary,
    characters XML 1.0 forbids as U+FFFD."""
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) > CELL_MAX:
        raw = raw[:CELL_MAX].decode("utf-8", "ignore").encode("utf-8")
    out = []
    for ch in raw.decode("utf-8", "replace"):
        cp = ord(ch)
        ok = cp in (0x9, 0xA, 0xD) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or cp >= 0x10000
        out.append(ch if ok else "\ufffd")
    return "".join(out)


def expected_cell(csv_text):
    """The XLSX value of a CSV cell: no formula guard, numbers and true/false typed, text cleaned."""
    if csv_text == "":
        return None
    if csv_text.startswith("'") and csv_text[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        csv_text = csv_text[1:]
    if csv_text in ("true", "false"):
        return csv_text == "true"
    if re.fullmatch(r"-?(0|[1-9][0-9]*)", csv_text):
        return int(csv_text)
    if re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?", csv_text):
        return float(csv_text)
    return clean_text(csv_text)


def compare_with_csv(csv_text, data, sheet_rows=1048576):
    """Differences between the CSV export and the workbook, as a list of messages (empty: equal).
    The workbook must hold the CSV's header then its rows, split over "Responses", "Responses 2", ...
    of at most sheet_rows rows each, every sheet starting with the header. A text answer that reads as
    a number or true/false would be typed here: the answers compared must not hold such text."""
    table = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"), newline="")))
    header, body = table[0], table[1:]
    sheets = read_workbook(data)
    problems = []
    per_sheet = sheet_rows - 1
    want_sheets = max(1, -(-len(body) // per_sheet))
    names = [name for name, _ in sheets]
    want_names = ["Responses"] + [f"Responses {i}" for i in range(2, want_sheets + 1)]
    if names != want_names:
        problems.append(f"sheets {names}, want {want_names}")
    for k, (name, rows) in enumerate(sheets):
        if not rows or rows[0] != header:
            problems.append(f"{name}: header {rows[:1]}, want {header}")
        chunk = body[k * per_sheet:(k + 1) * per_sheet]
        if len(rows) - 1 != len(chunk):
            problems.append(f"{name}: {len(rows) - 1} rows, want {len(chunk)}")
        for i, (got, want) in enumerate(zip(rows[1:], chunk)):
            for j, text in enumerate(want):
                cell = got[j] if j < len(got) else None
                expect = expected_cell(text)
                if cell != expect or type(cell) is not type(expect):
                    problems.append(f"{name} row {i + 2} column {header[j]}: {str(cell)[:60]!r}, "
                                    f"want {str(expect)[:60]!r} (CSV {text[:60]!r})")
            if len(got) > len(want):
                problems.append(f"{name} row {i + 2}: {len(got)} cells, want {len(want)}")
    return problems


OPENPYXL_SCRIPT = r"""
import sys, openpyxl
book = openpyxl.load_workbook(sys.argv[1], read_only=True)
print(" ".join(f"{ws.title}:{sum(1 for _ in ws.iter_rows(values_only=True))}" for ws in book.worksheets))
"""


def openpyxl_summary(path):
    """Loads the workbook with openpyxl (python3-openpyxl, Debian's: it lives in the system
    interpreter when another python3 comes first on PATH) and returns "sheet:rows ..." per worksheet."""
    for python in (sys.executable, "/usr/bin/python3"):
        try:
            out = subprocess.run([python, "-c", "import openpyxl"], capture_output=True)
        except OSError:
            continue
        if out.returncode == 0:
            run = subprocess.run([python, "-c", OPENPYXL_SCRIPT, path], capture_output=True, text=True)
            if run.returncode != 0:
                raise AssertionError(f"openpyxl cannot read the workbook: {run.stderr[-2000:]}")
            return run.stdout.strip()
    raise AssertionError("openpyxl is missing (Debian: python3-openpyxl, see scripts/install-deps)")


def main():
    csv_path, xlsx_path = sys.argv[1], sys.argv[2]
    sheet_rows = int(sys.argv[3]) if len(sys.argv) > 3 else 1048576
    with open(csv_path, encoding="utf-8", newline="") as f:
        csv_text = f.read()
    with open(xlsx_path, "rb") as f:
        data = f.read()
    problems = compare_with_csv(csv_text, data, sheet_rows)
    summary = openpyxl_summary(xlsx_path)
    want = " ".join(f"{name}:{len(rows)}" for name, rows in read_workbook(data))
    if summary != want:
        problems.append(f"openpyxl reads {summary!r}, want {want!r}")
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
