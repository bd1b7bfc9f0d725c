#!/bin/sh
# Runs the widget's browser tests (see run.mjs); installs their npm dependencies when missing.
# EARSHOT_BIN names the server binary to test (default: _build/earshot of this tree).
exec node "$(dirname "$0")/run.mjs" "$@"
