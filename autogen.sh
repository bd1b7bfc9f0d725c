#!/bin/sh
# Generates ./configure from configure.ac; needs autoconf, automake and pkg-config.
set -e
for tool in autoreconf aclocal automake pkg-config; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "autogen.sh: '$tool' is missing (Debian: apt-get install autoconf automake pkg-config)" >&2
    exit 1
  }
done
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf --install --force >/dev/null 2>&1 || autoreconf --install --force
# automake installs test-driver but not the TAP driver the test suite uses.
for dir in /usr/share/automake-*; do
  [ -f "$dir/tap-driver.sh" ] && cp "$dir/tap-driver.sh" build-aux/ && break
done
[ -f build-aux/tap-driver.sh ] || { echo "autogen.sh: tap-driver.sh not found (Debian: automake)" >&2; exit 1; }
