#!/usr/bin/env bash
# Installs the providers' own SDKs that crates/hookgate/tests/interop.rs runs against hookgate:
# a Python venv at target/interop/venv (requirements.txt, every package pinned) and a
# node_modules folder at target/interop/node (package.json + package-lock.json). Idempotent:
# each half re-installs only when its pin file changed since its last successful install, so a
# second run takes milliseconds. Needs python3 (with venv) and node >= 20 with npm; reaches PyPI
# and npm through pip and npm as configured on the machine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
out="$root/target/interop"
mkdir -p "$out"

# A stamp holds a copy of the pin file the folder was installed from; written last, so an
# interrupted install is redone next time instead of being taken for a finished one.
fresh() { cmp -s "$1" "$2"; }

venv="$out/venv"
if ! [ -x "$venv/bin/python" ] || ! fresh "$here/requirements.txt" "$venv/.installed-from"; then
    echo "interop: installing the Python SDKs into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --requirement "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/.installed-from"
fi

node_dir="$out/node"
if ! [ -d "$node_dir/node_modules" ] || ! fresh "$here/package-lock.json" "$node_dir/.installed-from"; then
    echo "interop: installing the npm SDKs into $node_dir"
    rm -rf "$node_dir"
    mkdir -p "$node_dir"
    cp "$here/package.json" "$here/package-lock.json" "$node_dir/"
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$here/package-lock.json" "$node_dir/.installed-from"
fi

echo "interop: SDKs ready in $out"
