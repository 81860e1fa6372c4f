#!/usr/bin/env bash
# Smoke tests of the examples that need no network: examples/capture.c,
# examples/file.c and examples/stream.c, run as built, their output checked.
#
#     test_examples.sh EXAMPLE_CAPTURE EXAMPLE_FILE EXAMPLE_STREAM
#
# Each check prints "ok" or "FAIL" with the reason; exits 1 if any failed.
# Every run is bounded by timeout(1); no check asserts a timing.
set -u

capture=$1 file=$2 stream=$3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/syncstream-examples.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

. "$(dirname "$0")/lib.sh"

# run_example NAME PROGRAM [ARG]...: status 0 within 60 s, output in
# $tmp/NAME.out and $tmp/NAME.err
run_example() {
    local name=$1
    shift
    timeout 60 "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
    check_status "$name" 0 $?
}
# same NAME WHAT GOT WANT
same() {
    if [ "$3" = "$4" ]; then pass "$1: $2"; else
        fail "$1" "$2: got [$3], expected [$4]"; fi
}

# capture: nothing reaches stdout; the records, listed on stderr, hold every
# line once and whole, each thread's in its order, the unterminated last line
# last, numbered 1..13.
run_example capture "$capture"
same capture "stdout" "$(cat "$tmp/capture.out")" ""
same capture "sequence numbers" "$(awk '{print $1}' "$tmp/capture.err" | tr '\n' ' ')" \
    "$(seq 1 13 | tr '\n' ' ')"
same capture "sources" "$(awk '{print $2}' "$tmp/capture.err" | sort -u)" "[stdout]"
for w in 0 1 2; do
    same capture "worker $w's lines" \
        "$(grep -E "^ *[0-9]+ \[stdout\] worker $w says hello #[0-9]$" "$tmp/capture.err" | sed 's/.*#//' | tr -d '\n')" \
        "0123"
done
same capture "last record" "$(tail -n 1 "$tmp/capture.err" | sed -E 's/^ *[0-9]+ //')" \
    "[stdout] main: done, and this last line has no newline"

# file: three writer processes, followed live by the parent: each writer's five
# lines in order and its grouped two-line warning, 18 records numbered 1..18.
# A second run on the same file goes on numbering (19..36).
log=$tmp/shared.log
check_file_run() {
    local name=$1 first=$2 last=$3
    for w in 0 1 2; do
        same "$name" "writer-$w's lines" \
            "$(grep -E "^[0-9]+ writer-$w line: writer-$w, line [0-9]$" "$tmp/$name.out" | sed 's/.*line //' | tr -d '\n')" \
            "01234"
        same "$name" "writer-$w's warning" \
            "$(grep -A1 -E "^[0-9]+ writer-$w warning: disk nearly full$" "$tmp/$name.out" | tail -n 1)" \
            "/var at 97%"
    done
    same "$name" "sequence numbers" \
        "$(grep -oE '^[0-9]+ writer-' "$tmp/$name.out" | cut -d' ' -f1 | tr '\n' ' ')" \
        "$(seq "$first" "$last" | tr '\n' ' ')"
    same "$name" "summary" "$(tail -n 1 "$tmp/$name.out")" \
        "18 records seen; the file keeps $last of at most 100, newest seq $last"
}
run_example file_1 "$file" "$log" && check_file_run file_1 1 18
run_example file_2 "$file" "$log" && check_file_run file_2 19 36
same file "plain text" "$(grep -cE $' writer-1 line [0-9a-f]{8}\twriter-1, line 4$' "$log")" 2

# stream: the README example of threadedstream, a local shell as the server.
run_example stream "$stream"
same stream "the output read until Completed." "$(head -n 5 "$tmp/stream.out")" \
    "$(printf 'running bash long_script.sh\nstep 1\nstep 2\nstep 3\nCompleted.')"
if tail -n 1 "$tmp/stream.out" | grep -Eq '^\([0-9]+ bytes left unread\)$' &&
    [ "$(wc -l <"$tmp/stream.out")" -eq 6 ]; then pass "stream: the rest consumed"; else
    fail stream "unexpected: $(cat "$tmp/stream.out")"; fi

exit $failed
