#!/usr/bin/env bash
# Set everything up on a fresh Debian machine, build with warnings as errors and
# run every test: all suites under AddressSanitizer + UndefinedBehaviorSanitizer
# (the 'fault' suite among them: every allocation failing in turn, under
# LeakSanitizer), every multi-threaded suite again under ThreadSanitizer, the release build of
# the README's demo (and the Python leak check in it), and every libFuzzer target for a bounded time. Ends with
# "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test || exit 1

FUZZ_SECONDS=${FUZZ_SECONDS:-30}
# clang, clang-19 and llvm-symbolizer (see deps.sh for why this clang)
export PATH=/usr/lib/llvm-19/bin:$PATH
passed=0
failed=0

# Add one meson run's results (its testlog.json) to the totals.
count_meson() {
    local log=$1/meson-logs/testlog.json
    [[ -f $log ]] || { failed=$((failed + 1)); return; }
    local ok bad
    ok=$(python3 -c 'import json,sys; print(sum(json.loads(l)["result"]=="OK" for l in open(sys.argv[1])))' "$log")
    bad=$(python3 -c 'import json,sys; print(sum(json.loads(l)["result"] not in ("OK","SKIP") for l in open(sys.argv[1])))' "$log")
    passed=$((passed + ok))
    failed=$((failed + bad))
}

run_build() {
    local dir=$1
    shift
    echo "== $dir: meson setup $*"
    rm -rf "$dir"
    if ! meson setup "$dir" --werror "$@" >"$dir.setup.log" 2>&1 || ! ninja -C "$dir"; then
        cat "$dir.setup.log" 2>/dev/null
        echo "build failed: $dir"
        failed=$((failed + 1))
        return 1
    fi
}

# The C tree is formatted as .clang-format says (scripts/format.sh fixes it).
echo "== clang-format check"
if bash scripts/format.sh --check; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi

mkdir -p build
if CC=clang run_build build/asan -Db_sanitize=address,undefined -Db_lundef=false; then
    meson test -C build/asan --print-errorlogs --num-processes 2
    count_meson build/asan
fi

if run_build build/tsan -Db_sanitize=thread -Db_lundef=false; then
    meson test -C build/tsan --suite threads --suite proc --suite host --suite stream --suite ssh --suite hostclient --suite file --suite redis --suite python --print-errorlogs --num-processes 2
    count_meson build/tsan
fi

# The README's demo builds this tree (scripts/demo.sh): -O3 brings warnings
# (maybe-uninitialized) that the other builds' -O2 does not, and -Werror
# makes them errors. Built as the demo builds it; nothing runs in it.
if run_build build/release --buildtype=release -Dtests=false; then
    passed=$((passed + 1))
    # The Python leak check in full (100 000 cycles, captures included) where
    # no sanitizer's own bookkeeping grows the resident set; build/asan runs
    # a shorter one (tests/python/test_leaks.py says why).
    echo "== Python leak check in build/release"
    if PYTHONPATH=build/release/python PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 -m pytest -q \
        -p no:cacheprovider tests/python/test_leaks.py; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
fi

if CC=clang run_build build/fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false; then
    # Every libFuzzer target tests/fuzz/meson.build builds, each with its corpus.
    for binary in build/fuzz/tests/fuzz/fuzz_*; do
        [[ -f $binary && -x $binary && $binary != *_replay ]] || continue
        target=${binary##*/fuzz_}
        corpus=$(mktemp -d)
        cp "tests/fuzz/corpus/$target"/* "$corpus/"
        echo "== fuzz_$target for ${FUZZ_SECONDS}s"
        if "$binary" -max_total_time="$FUZZ_SECONDS" -max_len=4096 \
            "$corpus" 2>"build/fuzz/fuzz_$target.log"; then
            passed=$((passed + 1))
        else
            tail -40 "build/fuzz/fuzz_$target.log"
            failed=$((failed + 1))
        fi
        tail -1 "build/fuzz/fuzz_$target.log"
        rm -rf "$corpus"
    done
fi

# The installed library, headers and pkg-config file are enough to build a program.
# The program is built by build/asan's compiler, clang: GCC's sanitizer runtime
# does not link against a library built with clang's.
echo "== install and build examples/threads.c against the installed library"
stage=$(mktemp -d)
if meson install -C build/asan --destdir "$stage" >/dev/null &&
    pc=$(dirname "$(find "$stage" -name syncstream.pc)") &&
    flags=$(PKG_CONFIG_PATH=$pc PKG_CONFIG_SYSROOT_DIR=$stage pkg-config --cflags --libs --static syncstream) &&
    clang -fsanitize=address,undefined -o "$stage/threads" examples/threads.c $flags &&
    LD_LIBRARY_PATH=$(dirname "$pc") "$stage/threads" 2 2 | grep -q "6 records written"; then
    passed=$((passed + 1))
else
    echo "FAILED: the installed library does not build or run examples/threads.c"
    failed=$((failed + 1))
fi
rm -rf "$stage"

# The Python package installs with pip from this checkout, offline, into a
# virtual environment, holding the package alone (no library, headers or tool).
# meson-python reuses build/pip between runs, so that only changes recompile.
echo "== pip install the Python package into a venv"
venv=$(mktemp -d)
if /usr/bin/python3 -m venv --system-site-packages "$venv" &&
    "$venv/bin/python" -m pip install --no-build-isolation --no-index --no-deps \
        --config-settings=builddir="$PWD/build/pip" . >build/pip-install.log 2>&1 &&
    ! "$venv/bin/python" -m pip show -f syncstream | sed -n '/^Files:/,$p' | tail -n +2 |
        grep -Ev '^ +syncstream(-[0-9.]+\.dist-info)?/' &&
    (cd "$venv" && "$venv/bin/python" -c 'import syncstream
b = syncstream.LineBuffer(2)
print("a", file=b)
assert b.read() == ("a",), b.read()'); then
    passed=$((passed + 1))
else
    tail -40 build/pip-install.log
    echo "FAILED: pip install of the Python package into a venv"
    failed=$((failed + 1))
fi
rm -rf "$venv"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
