#!/usr/bin/env python3
"""Slow packaging run (make check-slow): `make distcheck`; a re-configure with another --prefix rebuilds
everything that names an installation path; the dist tarball builds the Debian packages earshot and
earshot-dev with `dpkg-buildpackage -us -uc -b`, their contents are checked, lintian reports no error,
and `systemd-analyze verify` accepts the unit. dpkg-buildpackage needs debhelper and lintian
(`scripts/install-deps --package`); a part whose tool is missing is reported as skipped."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import TAP, expect, expect_eq  # noqa: E402

SRCDIR = os.environ["EARSHOT_SRCDIR"]
BUILDDIR = os.environ["EARSHOT_BUILDDIR"]
JOBS = str(min(os.cpu_count() or 1, 4))
HARDENING = ["DynamicUser=yes", "StateDirectory=earshot", "ProtectSystem=strict", "NoNewPrivileges=yes",
             "Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID", "LimitNOFILE=65536"]
EARSHOT_FILES = ["./usr/bin/earshot", "./etc/earshot/earshot.yaml", "./lib/systemd/system/earshot.service",
                 "./usr/share/man/man1/earshot.1.gz", "./usr/share/man/man5/earshot.yaml.5.gz",
                 "./usr/share/earshot/static/earshot.js", "./usr/share/earshot/forms/newsletter.yaml"]
PLUGINS = ["nps.so", "complaint-router.so", "incentive.so"]
DEV_FILES = ["./usr/include/earshot/plugin.h", "./usr/share/pkgconfig/earshot-plugin.pc",
             "./usr/share/man/man3/earshot-plugin.3.gz"]


class Skip(Exception):
    """Raised by a part whose tool is not installed."""


def need(*tools):
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        raise Skip("not installed: " + ", ".join(missing))


def sh(cmd, cwd=None, env=None, timeout=1800):
    """Runs cmd; returns (returncode, combined output)."""
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout


def tail(text, n=40):
    return "\n".join(text.splitlines()[-n:])


state = {}


def t_distcheck():
    rc, out = sh(["make", "-C", BUILDDIR, "-j" + JOBS, "distcheck"])
    expect_eq(rc, 0, "make distcheck:\n" + tail(out))
    tarballs = glob.glob(os.path.join(BUILDDIR, "earshot-*.tar.gz"))
    expect_eq(len(tarballs), 1, f"one tarball {tarballs}")
    state["tarball"] = tarballs[0]


def t_reconfigure_rebuilds():
    work = tempfile.mkdtemp(prefix="earshot-prefix-")
    try:
        seen = {}
        for prefix in ("/opt/earshot-a", "/opt/earshot-b"):
            rc, out = sh([os.path.join(SRCDIR, "configure"), "-q", "--prefix=" + prefix], cwd=work)
            expect_eq(rc, 0, "configure:\n" + tail(out))
            rc, out = sh(["make", "-j" + JOBS], cwd=work)
            expect_eq(rc, 0, "make:\n" + tail(out))
            with open(os.path.join(work, "earshot"), "rb") as f:
                binary = f.read()
            seen[prefix] = binary
            for path in (prefix + "/share/earshot", prefix + "/lib/earshot/plugins"):
                expect(path.encode() in binary, f"{path} in the binary built for {prefix}")
            for generated in ("data/earshot.service", "man/earshot.1", "man/earshot.yaml.5", "data/earshot.yaml"):
                with open(os.path.join(work, generated)) as f:
                    text = f.read()
                expect(prefix in text and "@" + "sysconfdir@" not in text, f"{generated} names {prefix}")
        expect(b"/opt/earshot-a/" not in seen["/opt/earshot-b"], "nothing of the first prefix is left")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def t_debian_packages():
    need("dpkg-buildpackage", "dh")
    expect("tarball" in state, "needs the distcheck tarball")
    work = tempfile.mkdtemp(prefix="earshot-deb-")
    state["debwork"] = work
    rc, out = sh(["tar", "-xzf", state["tarball"], "-C", work])
    expect_eq(rc, 0, out)
    src = glob.glob(os.path.join(work, "earshot-*"))[0]
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=" + JOBS)
    rc, out = sh(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env)
    expect_eq(rc, 0, "dpkg-buildpackage:\n" + tail(out))
    debs = {os.path.basename(p).split("_")[0]: p for p in glob.glob(os.path.join(work, "*.deb"))}
    expect("earshot" in debs and "earshot-dev" in debs, f"both packages built: {sorted(debs)}")
    state["debs"] = debs
    listing = {}
    for name in ("earshot", "earshot-dev"):
        rc, out = sh(["dpkg-deb", "-c", debs[name]])
        listing[name] = [line.split()[5] for line in out.splitlines()]
    for f in EARSHOT_FILES:
        expect(f in listing["earshot"], f"earshot holds {f}")
    for p in PLUGINS:
        expect(any(re.fullmatch(r"\./usr/lib/[^/]+/earshot/plugins/" + re.escape(p), f) for f in listing["earshot"]),
               f"earshot holds the plugin {p}")
    for f in DEV_FILES:
        expect(f in listing["earshot-dev"], f"earshot-dev holds {f}")
    expect(not any(f.endswith(".la") for f in listing["earshot"]), "no libtool archives")
    rc, out = sh(["dpkg-deb", "-I", debs["earshot"]])
    expect("postinst" in out and "prerm" in out, "maintainer scripts enable and stop the service")


def t_lintian():
    need("lintian")
    expect("debs" in state, "needs the packages")
    changes = glob.glob(os.path.join(state["debwork"], "*.changes"))[0]
    rc, out = sh(["lintian", "--fail-on", "error", changes])
    print("# lintian: " + (" | ".join(out.splitlines()) or "nothing to report"), flush=True)
    expect_eq(rc, 0, "lintian errors:\n" + out)
    expect(not re.search(r"^E: ", out, re.M), out)


def t_unit_verifies():
    need("systemd-analyze", "dpkg-deb")
    expect("debs" in state, "needs the packages")
    root = os.path.join(state["debwork"], "root")
    rc, out = sh(["dpkg-deb", "-x", state["debs"]["earshot"], root])
    expect_eq(rc, 0, out)
    with open(os.path.join(root, "lib/systemd/system/earshot.service")) as f:
        unit = f.read()
    for line in HARDENING:
        expect(re.search("^" + re.escape(line) + "$", unit, re.M), f"the unit has {line}")
    expect("ExecStart=/usr/bin/earshot serve -c /etc/earshot/earshot.yaml" in unit, "ExecStart")
    # verify checks that ExecStart exists: point it at the unpacked binary
    copy = os.path.join(state["debwork"], "earshot.service")
    with open(copy, "w") as f:
        f.write(unit.replace("/usr/bin/earshot", os.path.join(root, "usr/bin/earshot")))
    rc, out = sh(["systemd-analyze", "verify", "--man=no", copy])
    expect_eq((rc, out.strip()), (0, ""), "systemd-analyze verify")
    rc, out = sh(["systemd-analyze", "security", "--offline=yes", copy])
    m = re.search(r"Overall exposure level for earshot.service: ([0-9.]+)", out)
    expect(m, out[-500:])
    print(f"# systemd-analyze security: exposure {m.group(1)}", flush=True)
    expect(float(m.group(1)) <= 2.0, f"exposure {m.group(1)} at most 2.0")


def main():
    tap = TAP()
    parts = [("make distcheck passes", t_distcheck),
             ("a re-configure with another --prefix rebuilds what names paths", t_reconfigure_rebuilds),
             ("dpkg-buildpackage -us -uc -b builds earshot and earshot-dev with the right files", t_debian_packages),
             ("lintian reports no error", t_lintian),
             ("systemd-analyze verify accepts the hardened unit", t_unit_verifies)]
    for name, fn in parts:
        try:
            if fn in (t_debian_packages,):
                need("dpkg-buildpackage", "dh")
            elif fn is t_lintian:
                need("lintian")
            elif fn is t_unit_verifies:
                need("systemd-analyze", "dpkg-deb")
        except Skip as e:
            tap.n += 1
            print(f"ok {tap.n} - {name} # SKIP {e}", flush=True)
            continue
        tap.run(name, fn)
    if "debwork" in state:
        shutil.rmtree(state["debwork"], ignore_errors=True)
    tap.finish()


if __name__ == "__main__":
    main()
