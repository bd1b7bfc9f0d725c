#!/usr/bin/env python3
"""The server's files depend on each other without cycles: for every object in libearshot.a, the
functions and data it uses from other objects (nm) form a graph that must have no cycle. A file's module
is its name without the extension (server/form_json.c is module form_json)."""
import collections
import os
import re
import subprocess
import sys

BUILDDIR = os.environ.get("EARSHOT_BUILDDIR", ".")


def graph(archive):
    """Returns {module: set of modules it uses}, read from nm's listing of the archive's members."""
    out = subprocess.run(["nm", "-A", archive], capture_output=True, text=True, check=True).stdout
    defined, used = {}, collections.defaultdict(set)
    for line in out.splitlines():
        m = re.match(r"^[^:]+:(?:[a-z0-9_]+-)?([A-Za-z0-9_]+)\.o:\s*(?:[0-9a-f]+\s+)?([A-Za-z])\s+(\S+)$", line)
        if not m:
            continue
        module, kind, symbol = m.groups()
        if kind == "U":
            used[module].add(symbol)
        elif kind in "TDBR":
            defined[symbol] = module
    edges = collections.defaultdict(set)
    for module, symbols in used.items():
        for s in symbols:
            if s in defined and defined[s] != module:
                edges[module].add(defined[s])
    return edges


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main():
    archive = os.path.join(BUILDDIR, "libearshot.a")
    edges = graph(archive)
    print("1..2")
    ok = len(edges) > 20
    print(("ok" if ok else "not ok") + f" 1 - the archive's dependency graph was read ({len(edges)} modules use others)")
    found = cycles(edges)
    for c in found:
        print("# cycle: " + " <-> ".join(c))
    print(("ok" if not found else "not ok") + " 2 - no dependency cycle between the server's files")
    print(f"# {int(ok) + int(not found)} passed, {int(not ok) + len(found and [1])} failed")
    sys.exit(0 if ok and not found else 1)


if __name__ == "__main__":
    main()
