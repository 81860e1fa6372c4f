#!/usr/bin/env bash
# End-to-end tests of the syncstream command-line tool.
#
#     test_tool.sh SYNCSTREAM MAKE_RING PYTHON3 VERSION
#
# make_ring writes a ring file and dies without cleaning up (see make_ring.c);
# the checks then run `syncstream` on it and on bad input. Each check prints
# "ok" or "FAIL" with the reason; the script exits 1 if any check failed.
set -u

tool=$1 make_ring=$2 python=$3 version=$4
here=$(cd "$(dirname "$0")" && pwd)
checker="$here/check_output.py"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/syncstream-tool.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

. "$(dirname "$0")/lib.sh"

expect_empty_out() {
    if [ ! -s "$tmp/$1.out" ]; then pass "$1 (no stdout)"; else
        fail "$1" "unexpected stdout: $(head -c 200 "$tmp/$1.out")"; fi
}

# ---- the ring file ----

ring="$tmp/job.ring"
if ! "$make_ring" "$ring"; then
    echo "FAIL make_ring could not write $ring"
    exit 1
fi
cp "$ring" "$tmp/job.ring.orig"

# ---- inspect, text ----

if run inspect_text 0 inspect "$ring"; then
    if out=$("$python" "$checker" text "$tmp/inspect_text.out"); then pass inspect_text; else
        fail inspect_text "$out"; fi
    # The summary on stderr: 12 records held (maxlen 12), the partial line shown,
    # and every record ever stored but not held counted as shed.
    cp "$tmp/inspect_text.err" "$tmp/inspect_summary.err"
    expect_err inspect_summary \
        '^[^ ]*job\.ring: 12 records shown \+ partial line, 12 held \(maxlen 12\), last seq [0-9]+, [0-9]+ shed, 0 missed$'
    last=$(sed -n 's/.*last seq \([0-9]*\),.*/\1/p' "$tmp/inspect_text.err")
    shed=$(sed -n 's/.* \([0-9]*\) shed,.*/\1/p' "$tmp/inspect_text.err")
    if [ -n "$last" ] && [ "$last" -ge 15 ] && [ "$shed" = "$((last - 12))" ]; then
        pass "inspect_summary shed = last seq - 12"
    else
        fail inspect_summary "last seq '$last', shed '$shed': expected shed = last seq - 12"
    fi
fi

# ---- inspect --json ----

if run inspect_json 0 inspect --json "$ring"; then
    if out=$("$python" "$checker" json "$tmp/inspect_json.out"); then pass inspect_json; else
        fail inspect_json "$out"; fi
    if command -v jq >/dev/null 2>&1; then
        if jq -c . <"$tmp/inspect_json.out" >/dev/null 2>"$tmp/jq.err"; then pass inspect_json_jq; else
            fail inspect_json_jq "jq refused the output: $(cat "$tmp/jq.err")"; fi
    fi
fi

# The same records with -q, and no summary at all.
if run inspect_json_quiet 0 inspect --json -q "$ring"; then
    if cmp -s "$tmp/inspect_json.out" "$tmp/inspect_json_quiet.out"; then pass inspect_json_short; else
        fail inspect_json_short "--json -q printed other records than --json"; fi
    if [ ! -s "$tmp/inspect_json_quiet.err" ]; then pass inspect_quiet; else
        fail inspect_quiet "stderr not empty: $(cat "$tmp/inspect_json_quiet.err")"; fi
fi

# ---- -n ----

if run inspect_n2 0 inspect -n 2 --json "$ring"; then
    if out=$("$python" "$checker" tail "$tmp/inspect_json.out" "$tmp/inspect_n2.out"); then
        pass inspect_n2; else fail inspect_n2 "$out"; fi
fi
# Options after the file work too (argument permutation), and --lines=N.
if run inspect_n2_late 0 inspect "$ring" --json --lines=2; then
    if cmp -s "$tmp/inspect_n2.out" "$tmp/inspect_n2_late.out"; then pass inspect_n2_late; else
        fail inspect_n2_late "'FILE --json --lines=2' differs from '-n 2 --json FILE'"; fi
fi
if run inspect_n0 0 inspect -n 0 "$ring"; then
    # No stored record; at most the partial line.
    if [ "$(grep -cv '^- ' "$tmp/inspect_n0.out")" -eq 0 ]; then pass inspect_n0; else
        fail inspect_n0 "-n 0 printed records: $(head -c 300 "$tmp/inspect_n0.out")"; fi
fi
run inspect_n_bad 2 inspect -n abc "$ring" && expect_err inspect_n_bad "^syncstream: .*-n.*'abc'"
run inspect_n_neg 2 inspect -n -1 "$ring" && expect_err inspect_n_neg "^syncstream: .*non-negative integer"
run inspect_n_missing 2 inspect "$ring" -n && expect_err inspect_n_missing "^syncstream: .*'-n' needs an argument"
run inspect_n_empty 2 inspect -n '' "$ring" && expect_err inspect_n_empty "^syncstream: .*-n"

# ---- usage errors ----

run inspect_no_file 2 inspect && expect_err inspect_no_file "^syncstream: inspect: .*FILE"
run inspect_two_files 2 inspect "$ring" "$ring" && expect_err inspect_two_files "^syncstream: .*one FILE"
run inspect_bad_opt 2 inspect --bogus "$ring" && expect_err inspect_bad_opt "^syncstream: .*unknown option '--bogus'"
run inspect_bad_short 2 inspect -x "$ring" && expect_err inspect_bad_short "^syncstream: .*unknown option '-x'"
run inspect_opt_arg 2 inspect --json=yes "$ring" && expect_err inspect_opt_arg "^syncstream: .*'--json' takes no argument"
run unknown_cmd 2 frobnicate && expect_err unknown_cmd "^syncstream: 'frobnicate' is not a syncstream command$" &&
    expect_empty_out unknown_cmd
run no_cmd 2 && expect_err no_cmd "^syncstream: no command given"
run bad_global 2 --bogus && expect_err bad_global "^syncstream: unknown option '--bogus'"
run help_unknown 2 help frobnicate && expect_err help_unknown "^syncstream: .*'frobnicate' is not a syncstream command"

# ---- runtime failures ----

run missing_file 1 inspect "$tmp/does-not-exist.ring" &&
    expect_err missing_file "^syncstream: .*does-not-exist\.ring: No such file or directory$" &&
    expect_empty_out missing_file
[ ! -e "$tmp/does-not-exist.ring" ] && pass "missing_file not created" ||
    fail missing_file "inspect created the missing file"

printf 'just some text\nnot a ring file at all\n' >"$tmp/plain.txt"
cp "$tmp/plain.txt" "$tmp/plain.txt.orig"
run not_ring 1 inspect "$tmp/plain.txt" &&
    expect_err not_ring "^syncstream: .*plain\.txt: not a syncstream ring file" &&
    expect_empty_out not_ring
cmp -s "$tmp/plain.txt" "$tmp/plain.txt.orig" && pass "not_ring file unchanged" ||
    fail not_ring "inspect modified the file"

: >"$tmp/empty.ring"
run empty_file 1 inspect "$tmp/empty.ring" && expect_err empty_file "^syncstream: .*empty\.ring: "
[ ! -s "$tmp/empty.ring" ] && pass "empty_file unchanged" || fail empty_file "inspect wrote to an empty file"

run directory 1 inspect "$tmp" && expect_err directory "^syncstream: "

# A ring file whose header (after its magic) is overwritten: damaged, refused,
# and left as it is.
cp "$ring" "$tmp/damaged.ring"
printf '\377%.0s' $(seq 1 56) | dd of="$tmp/damaged.ring" bs=1 seek=8 conv=notrunc 2>/dev/null
cp "$tmp/damaged.ring" "$tmp/damaged.ring.orig"
run damaged 1 inspect "$tmp/damaged.ring" &&
    expect_err damaged "^syncstream: .*damaged\.ring: (the ring file is damaged|not a syncstream ring file)" &&
    expect_empty_out damaged
cmp -s "$tmp/damaged.ring" "$tmp/damaged.ring.orig" && pass "damaged file unchanged" ||
    fail damaged "inspect modified the damaged file"

# A write error on stdout is a failure too, not a silent success.
if [ -w /dev/full ]; then
    "$tool" inspect "$ring" >/dev/full 2>"$tmp/full.err"
    st=$?
    if [ "$st" -eq 1 ] && grep -q '^syncstream: writing standard output' "$tmp/full.err"; then
        pass write_error; else fail write_error "status $st, stderr: $(cat "$tmp/full.err")"; fi
fi

# inspect only reads: the ring file is unchanged after all of the above.
cmp -s "$ring" "$tmp/job.ring.orig" && pass "ring file unchanged" ||
    fail ring_unchanged "inspect modified the ring file"

# ---- help and version ----

run version 0 --version && expect_out version "^syncstream $version\$"
run version_short 0 -V && expect_out version_short "^syncstream $version\$"
run help 0 --help && expect_out help '^  inspect  ' && expect_out help 'Exit status' &&
    expect_out help '^  2  usage error'
run help_cmd 0 help && cmp -s "$tmp/help.out" "$tmp/help_cmd.out" && pass "help = --help" ||
    fail help_cmd "'syncstream help' differs from 'syncstream --help'"
run help_inspect 0 help inspect && expect_out help_inspect '^Usage: syncstream inspect ' &&
    expect_out help_inspect '--json' && expect_out help_inspect '^Examples?:'
run inspect_help 0 inspect --help &&
    cmp -s "$tmp/help_inspect.out" "$tmp/inspect_help.out" && pass "inspect --help = help inspect" ||
    fail inspect_help "'inspect --help' differs from 'help inspect'"
run inspect_help_h 0 inspect -h "$tmp/does-not-exist.ring" &&
    cmp -s "$tmp/help_inspect.out" "$tmp/inspect_help_h.out" && pass "inspect -h" ||
    fail inspect_help_h "'inspect -h' differs from 'help inspect'"

if [ "$failed" -ne 0 ]; then
    echo "some checks FAILED"
    exit 1
fi
echo "all checks passed"
