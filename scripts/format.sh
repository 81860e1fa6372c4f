#!/usr/bin/env bash
# Format every C file of the tree with clang-format 19 (.clang-format), or with
# --check list the files that differ and exit 1. CI runs the check.
set -euo pipefail
cd "$(dirname "$0")/.."
format=/usr/lib/llvm-19/bin/clang-format
mapfile -t files < <(git ls-files '*.c' '*.h')
if [[ ${1:-} == --check ]]; then
    bad=0
    for f in "${files[@]}"; do
        if ! "$format" "$f" | cmp -s - "$f"; then
            echo "not formatted: $f (run scripts/format.sh)"
            bad=1
        fi
    done
    exit $bad
fi
"$format" -i "${files[@]}"
