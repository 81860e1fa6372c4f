#!/usr/bin/env bash
# Set everything up on a fresh Debian machine and run the thread-mode demo:
# several threads write into one buffer while the main thread follows it live.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
[[ -d build/release ]] || meson setup build/release --buildtype=release -Dtests=false >/dev/null
ninja -C build/release >/dev/null
exec build/release/examples/example_threads "$@"
