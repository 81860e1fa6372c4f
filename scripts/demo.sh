#!/usr/bin/env bash
# Set everything up on a fresh Debian machine and run the main job with its
# embedded defaults: `syncstream run` running four commands at once, their
# output merged live, whole lines only, tagged, and a failure summary at the
# end (one job fails on purpose). With arguments, they are given to
# `syncstream run` instead: scripts/demo.sh --jobtag -c 'make' -c 'make test'
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
[[ -d build/release ]] || meson setup build/release --buildtype=release -Dtests=false >/dev/null
ninja -C build/release >/dev/null
syncstream=build/release/src/tool/syncstream

if (($#)); then
    exec "$syncstream" run "$@"
fi
status=0
"$syncstream" run --jobtag --keep 3 -j 4 -c examples/demo/build -c examples/demo/fetch \
    -c examples/demo/tests -c examples/demo/worker || status=$?
if ((status == 3)); then
    echo "(exit status 3: one job failed, on purpose, to show the summary)"
    exit 0
fi
exit "$status"
