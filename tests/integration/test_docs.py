#!/usr/bin/env python3
"""Docs that match the code: the keys the configuration and form parsers accept (their *_keys tables in
server/config.c and server/form.c, read from the source) against the key tables of docs/configuration.md,
both ways, and against earshot.yaml(5); links in the docs lead to files of the repository; the widget
sizes quoted in README.md and docs/widget.md are the measured ones; `earshot --help` lists every
command docs/cli.md describes."""
import glob
import gzip
import os
import re

from harness import SRCDIR, TAP, expect, expect_eq, run_earshot


def read(rel):
    with open(os.path.join(SRCDIR, rel), encoding="utf-8") as f:
        return f.read()


def key_tables(source):
    """{array name without _keys: [keys]} of every `static const char *const NAME_keys[] = {...}`."""
    tables = {}
    for m in re.finditer(r"static const char \*const (\w+)_keys\[\]\s*=\s*\{(.*?)\};", source, re.S):
        tables[m.group(1)] = re.findall(r'"([^"]*)"', m.group(2))
    return tables


def section(text, start, end):
    """The text from the heading line `start` up to the heading `end` (or the end)."""
    i = text.index(start)
    j = text.find(end, i + len(start)) if end else -1
    return text[i:j if j >= 0 else len(text)]


def documented_keys(text):
    """{dotted key} named in the first column of every table whose first header cell is key or condition."""
    keys = set()
    in_table = False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not in_table:
            in_table = True
            wanted = cells[0] in ("key", "condition")
            continue
        if not wanted or set(cells[0]) <= set("-: "):
            continue
        for token in re.findall(r"`([^`]*)`", cells[0]):
            m = re.match(r"[a-z_]+(?:\.[a-z_]+)*", token)
            if m:
                keys.add(m.group(0))
    return keys


def parts(dotted):
    return {p for k in dotted for p in k.split(".")}


CONFIG_DOC = ("## `earshot.yaml` keys", "## Form files")
FORM_DOC = ("## Form files", "## Problems and their messages")


def t_config_keys_match_docs():
    tables = key_tables(read("server/config.c"))
    expect("top" in tables and "plugin" in tables, f"key tables found: {sorted(tables)}")
    doc = documented_keys(section(read("docs/configuration.md"), *CONFIG_DOC))
    code = {k for keys in tables.values() for k in keys}
    expect_eq(sorted(code - parts(doc)), [], "keys the parser accepts that docs/configuration.md does not describe")
    expect_eq(sorted(parts(doc) - code), [], "keys docs/configuration.md describes that the parser refuses")
    # the top-level table, and each section named after a top-level key, key by key
    first = {k.split(".")[0] for k in doc if k.split(".")[0] in tables["top"] or "." in k}
    expect_eq(sorted(set(tables["top"]) - first), [], "top-level keys missing from the table")
    for name, keys in tables.items():
        if name in tables["top"]:
            dotted = {k.split(".", 1)[1] for k in doc if k.startswith(name + ".")}
            expect_eq(sorted(dotted), sorted(keys), f"the {name}.* rows of the table")


def t_form_keys_match_docs():
    tables = key_tables(read("server/form.c"))
    expect("form" in tables and "question" in tables, f"key tables found: {sorted(tables)}")
    doc = documented_keys(section(read("docs/configuration.md"), *FORM_DOC))
    code = {k for keys in tables.values() for k in keys}
    expect_eq(sorted(code - parts(doc)), [], "form keys the parser accepts that docs/configuration.md does not describe")
    expect_eq(sorted(parts(doc) - code), [], "form keys docs/configuration.md describes that the parser refuses")


def t_man_page_names_every_key():
    man = read("man/earshot.yaml.5.in")
    code = {k for keys in key_tables(read("server/config.c")).values() for k in keys}
    named = set(re.findall(r"([a-z_]+):", man))
    expect_eq(sorted(code - named), [], "keys missing from earshot.yaml(5)")


def t_links_stay_in_the_repository():
    pages = [os.path.join(SRCDIR, "README.md")] + glob.glob(os.path.join(SRCDIR, "docs", "*.md")) + \
        glob.glob(os.path.join(SRCDIR, "bench", "README.md"))
    for page in pages:
        with open(page, encoding="utf-8") as f:
            text = f.read()
        name = os.path.relpath(page, SRCDIR)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = os.path.normpath(os.path.join(os.path.dirname(page), target.split("#")[0]))
            expect(os.path.exists(path), f"{name}: link to {target}, which is not in the repository")
        for m in re.finditer(r"`spec/[^`]*`|/work/|shared/spec", text):
            raise AssertionError(f"{name}: names {m.group(0)}, which is not in the repository")


def gzip9(rel):
    with open(os.path.join(SRCDIR, rel), "rb") as f:
        return len(gzip.compress(f.read(), compresslevel=9, mtime=0))


def t_widget_sizes_are_current():
    js, css = gzip9("static/earshot.js"), gzip9("static/earshot.css")
    readme = read("README.md")
    m = re.search(r"now ([\d,]+) and ([\d,]+) bytes", readme)
    expect(m, "README.md quotes the widget sizes as 'now N and M bytes'")
    expect_eq((int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))), (js, css),
              "README.md's widget sizes (gzip -9 of static/earshot.js and earshot.css)")
    widget = read("docs/widget.md")
    m = re.search(r"`earshot.js` (\d+) bytes, `earshot.css` (\d+) bytes", widget)
    expect(m, "docs/widget.md quotes the sizes")
    expect_eq((int(m.group(1)), int(m.group(2))), (js, css), "docs/widget.md's widget sizes")


def t_cli_docs_list_every_command():
    rc, out, err = run_earshot("--help")
    expect_eq(rc, 0, "help")
    commands = [c for c in re.findall(r"^  ([a-z]+) ", out, re.M) if c != "earshot"]
    expect("init" in commands and "serve" in commands, out)
    cli = read("docs/cli.md")
    man = read("man/earshot.1.in")
    for c in commands:
        expect(f"## `earshot {c}`" in cli, f"docs/cli.md has a section for earshot {c}")
        expect(re.search(r"^\.B earshot " + c + r"\b", man, re.M), f"earshot(1) names earshot {c}")


if __name__ == "__main__":
    tap = TAP()
    tap.run("every configuration key the parser accepts is in docs/configuration.md, and back", t_config_keys_match_docs)
    tap.run("every form key the parser accepts is in docs/configuration.md, and back", t_form_keys_match_docs)
    tap.run("earshot.yaml(5) names every configuration key", t_man_page_names_every_key)
    tap.run("links in README.md and docs/ lead to files of the repository", t_links_stay_in_the_repository)
    tap.run("the widget sizes in README.md and docs/widget.md are the measured ones", t_widget_sizes_are_current)
    tap.run("docs/cli.md and earshot(1) describe every command of earshot --help", t_cli_docs_list_every_command)
    tap.finish()
