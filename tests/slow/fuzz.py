#!/usr/bin/env python3
"""Slow reliability run (make check-slow): each libFuzzer target for a minute (RELIABILITY.md #8),
starting from its checked-in seed corpus and dictionary. New inputs go to fuzz/work/NAME in the build
tree, crash reproducers to fuzz/crashes/; the seed corpus in the source tree is never written.
Skipped unless the build was configured with --enable-fuzzing. EARSHOT_FUZZ_SECONDS overrides the
minute; EARSHOT_FUZZ_JOBS the number of targets run at once (default: the number of CPUs)."""
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import TAP, expect  # noqa: E402

SRCDIR = os.environ.get("EARSHOT_SRCDIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILDDIR = os.environ.get("EARSHOT_BUILDDIR", os.getcwd())
SECONDS = int(os.environ.get("EARSHOT_FUZZ_SECONDS", "60"))
JOBS = int(os.environ.get("EARSHOT_FUZZ_JOBS", str(os.cpu_count() or 1)))
TARGETS = ["json-submit", "urlencoded", "config", "form", "csv", "http-frame"]


def fuzz(name):
    """Runs one target for SECONDS; returns (exit status, figures, last lines of its output)."""
    work = os.path.join(BUILDDIR, "fuzz", "work", name)
    crashes = os.path.join(BUILDDIR, "fuzz", "crashes")
    os.makedirs(work, exist_ok=True)
    os.makedirs(crashes, exist_ok=True)
    cmd = [os.path.join(BUILDDIR, "fuzz", f"{name}-fuzzer"), f"-max_total_time={SECONDS}", "-timeout=10",
           "-rss_limit_mb=2048", "-print_final_stats=1", f"-dict={SRCDIR}/fuzz/{name}-fuzzer.dict",
           f"-artifact_prefix={crashes}/{name}-", work, os.path.join(SRCDIR, "fuzz", "corpus", name)]
    p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=SECONDS * 3 + 120)
    out = p.stderr
    figures = {}
    m = re.search(r"Done (\d+) runs in (\d+) second", out)
    if m:
        figures["runs"] = int(m.group(1))
        figures["exec_per_s"] = int(m.group(1)) // max(1, int(m.group(2)))
    last = [line for line in out.splitlines() if re.match(r"#\d+\s", line)]
    if last:
        for key in ("cov", "ft", "corp"):
            m = re.search(rf"{key}: (\S+)", last[-1])
            if m:
                figures[key] = m.group(1)
    figures["work_corpus_files"] = len(os.listdir(work))
    return p.returncode, figures, out.splitlines()[-25:]


def main():
    tap = TAP()
    if os.environ.get("EARSHOT_FUZZING") != "yes":
        print("1..0 # SKIP fuzzing needs a build configured with CC=clang ./configure --enable-fuzzing", flush=True)
        return
    with ThreadPoolExecutor(max_workers=max(1, JOBS)) as pool:
        results = dict(zip(TARGETS, pool.map(fuzz, TARGETS)))
    for name in TARGETS:
        rc, figures, tail = results[name]

        def check(rc=rc, figures=figures, tail=tail, name=name):
            print(f"# {name}-fuzzer: {figures}", flush=True)
            expect(rc == 0, f"{name}-fuzzer exited {rc}:\n" + "\n".join(tail))

        tap.run(f"{name}-fuzzer for {SECONDS} s: no crash, leak or failed check", check)
    tap.finish()


if __name__ == "__main__":
    main()
