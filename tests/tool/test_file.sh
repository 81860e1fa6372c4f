#!/usr/bin/env bash
# End-to-end tests of `syncstream file write | read | clear`.
#
#     test_file.sh SYNCSTREAM PYTHON3
#
# Each check prints "ok" or "FAIL" with the reason; the script exits 1 if any
# check failed. No check asserts a timing; every wait is a bounded loop.
set -u

tool=$1 python=$2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/syncstream-file.XXXXXX") || exit 1
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    # the full-disk checks' tmpfs, if a failed check left it mounted
    if mountpoint -q "$tmp/disk" 2>/dev/null; then
        umount "$tmp/disk" 2>/dev/null || umount -l "$tmp/disk"
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh"

# run NAME EXPECTED_STATUS ARGS... (stdin from $tmp/NAME.in if it exists)

expect() { # NAME FILE-SUFFIX REGEX
    if grep -Eq -- "$3" "$tmp/$1.$2"; then pass "$1 /$3/"; else
        fail "$1" "$2 does not match /$3/: $(head -c 500 "$tmp/$1.$2")"; fi
}

expect_same() { # NAME WANT-FILE GOT-FILE
    if cmp -s "$2" "$3"; then pass "$1"; else
        fail "$1" "differs: $(diff "$2" "$3" | head -10)"; fi
}

# wait_for COMMAND...: up to 20 s for the command to succeed
wait_for() {
    for _ in $(seq 400); do "$@" && return 0; sleep 0.05; done
    return 1
}

log="$tmp/shared.log"

# ---- write from stdin, read back ----

printf 'first line\nsecond\r\ngrouped? no\nno newline at the end' >"$tmp/w1.in"
if run w1 0 file write "$log" --source alpha; then
    if [ ! -s "$tmp/w1.out" ]; then pass "w1 prints nothing"; else fail w1 "$(cat "$tmp/w1.out")"; fi
    if head -1 "$log" | grep -q '^#syncstream-file 2 maxlen=1000 '; then pass "w1 header"; else
        fail w1 "header: $(head -1 "$log")"; fi
    # the file itself is readable text: grep finds records, and the text ends
    # the line (format version 2), so '$' anchors it and a tab starts it
    if grep -q '^4 [0-9T:.Z-]* alpha line [0-9a-f]\{8\}'"$(printf '\t')"'no newline at the end$' "$log"
    then pass "w1 grep the file"; else fail w1 "no line 4 in: $(cat "$log")"; fi
    if [ "$(grep -c 'end$' "$log")" = 1 ] && [ "$(grep -c "$(printf '\t')second\$" "$log")" = 1 ]
    then pass "w1 grep with anchors"; else fail w1 "anchors: $(cat "$log")"; fi
fi

# a file of format version 1 (format1.log, as the earlier code wrote it): read,
# and appended to in its own version
cp "$(dirname "$0")/format1.log" "$tmp/v1.log"
if run v1r 0 file read "$tmp/v1.log"; then
    expect v1r out '^1 [^ ]+ worker-1 line hello world$'
    expect v1r out '^4 [^ ]+ - line caf'
fi
echo "appended" >"$tmp/v1w.in"
if run v1w 0 file write "$tmp/v1.log" --source new; then
    if head -1 "$tmp/v1.log" | grep -q '^#syncstream-file 1 ' &&
        grep -q '^5 [^ ]* new line appended #[0-9a-f]\{8\}$' "$tmp/v1.log"; then
        pass "v1w appended in version 1"; else fail v1w "$(cat "$tmp/v1.log")"; fi
    run v1r2 0 file read "$tmp/v1.log" -n 1 && expect v1r2 out '^5 [^ ]+ new line appended$'
fi

if run r1 0 file read "$log"; then
    cut -d' ' -f1,3- "$tmp/r1.out" >"$tmp/r1.cut"
    printf '%s\n' "1 alpha line first line" "2 alpha line second" "3 alpha line grouped? no" \
        "4 alpha line no newline at the end" >"$tmp/r1.want"
    expect_same "r1 text" "$tmp/r1.want" "$tmp/r1.cut"
fi

if run r2 0 file read "$log" -n 1 --json; then
    if "$python" -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 1, recs
r = recs[0]
assert r["seq"] == 4 and r["source"] == "alpha" and r["text"] == "no newline at the end", r
assert r["kind"] == "line" and not r["stderr"], r
' "$tmp/r2.out"; then pass "r2 json"; else fail r2 "bad JSON: $(cat "$tmp/r2.out")"; fi
fi

# ---- write a command's output ----

# the command's exit status is the tool's, and its exit record ends its lines
if run c1 4 file write "$log" -- sh -c 'echo to-out; echo to-err >&2; exit 4'; then
    expect c1 err 'sh exited with status 4'
fi
if run c2 0 file read "$log" -n 3; then
    expect c2 out '^5 [^ ]+ sh line to-out$'
    expect c2 out '^6 [^ ]+ sh line,stderr to-err$'
    expect c2 out '^7 [^ ]+ sh error,exit exited with status 4$'
fi
run c3 0 file write "$log" --source named -- true && pass "c3 true"
if run c3r 0 file read "$log" -n 1; then
    expect c3r out '^8 [^ ]+ named line,exit exited with status 0$'
fi
run c4 127 file write "$log" -- /no/such/command && expect c4 err 'no/such/command'
# a command that closes its stdout first and goes on on stderr: both read to
# the end, each partial last line kept, the exit record last
run c6 3 file write "$tmp/c6.log" -- sh -c \
    'printf out-partial; exec 1>&-; echo err-line >&2; printf err-partial >&2; exit 3'
if run c6r 0 file read "$tmp/c6.log"; then
    expect c6r out '^[0-9]+ [^ ]+ sh line out-partial$'
    expect c6r out '^[0-9]+ [^ ]+ sh line,stderr err-line$'
    expect c6r out '^[0-9]+ [^ ]+ sh line,stderr err-partial$'
    expect c6r out '^4 [^ ]+ sh error,exit exited with status 3$'
fi
run c5 137 file write "$log" -- sh -c 'echo bye; kill -KILL $$'
if run c5r 0 file read "$log" -n 1 --json; then
    if "$python" -c '
import json, sys
r = json.loads(open(sys.argv[1]).read())
assert r["kind"] == "error" and r["exit"] and not r["stderr"], r
assert r["text"] == "killed by signal 9 (SIGKILL)", r
' "$tmp/c5r.out"; then pass "c5 exit record of a signal"; else
        fail c5r "bad exit record: $(cat "$tmp/c5r.out")"; fi
fi

# ---- colors: stderr records yellow, a failed exit record red, only when asked
# or on a terminal (never into a file, nor with NO_COLOR) ----

esc=$(printf '\033')
if run col1 0 file read "$log" -n 6 --color=always; then
    expect col1 out "^${esc}\\[33m6 .* sh line,stderr to-err${esc}\\[m$"
    expect col1 out "^${esc}\\[1;31m7 .* exited with status 4${esc}\\[m$"
    expect col1 out '^5 [^ ]+ sh line to-out$'
    expect col1 out '^8 [^ ]+ named line,exit exited with status 0$'
fi
run col2 0 file read "$log" -n 6
run col3 0 file read "$log" -n 6 --color=auto
if grep -q "$esc" "$tmp/col2.out" "$tmp/col3.out"; then fail col2 "colors into a file"; else
    pass "col2 no colors into a file"; fi
if command -v script >/dev/null; then
    # on a terminal: colored, unless NO_COLOR says otherwise
    TERM=xterm timeout 20 script -qec "'$tool' file read '$log' -n 6" /dev/null >"$tmp/col4.out" 2>&1
    NO_COLOR=1 TERM=xterm timeout 20 script -qec "'$tool' file read '$log' -n 6" /dev/null \
        >"$tmp/col5.out" 2>&1
    if grep -q "${esc}\[1;31m7 " "$tmp/col4.out"; then pass "col4 colors on a terminal"; else
        fail col4 "no colors on a terminal: $(od -c "$tmp/col4.out" | head -5)"; fi
    if grep -q "$esc" "$tmp/col5.out"; then fail col5 "colors despite NO_COLOR"; else
        pass "col5 NO_COLOR"; fi
fi
run col6 2 file read "$log" --color=rainbow && expect col6 err 'auto, always or never'

# ---- several writers at once: no line mixed, none lost ----

many="$tmp/many.log"
for w in 1 2 3 4; do
    "$python" -c '
import sys
w = sys.argv[1]
for i in range(500):
    sys.stdout.write(f"writer {w} line {i} " + w * (i % 300) + "\n")
    if i % 7 == 0:
        sys.stdout.flush()
' "$w" | "$tool" file write "$many" --maxlen 5000 --source "w$w" &
    pids+=($!)
done
all_ok=1
for p in "${pids[@]}"; do wait "$p" || all_ok=0; done
pids=()
if [ $all_ok = 1 ] && run m1 0 file read "$many" --json; then
    if "$python" -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 2000, len(recs)
assert [r["seq"] for r in recs] == list(range(1, 2001))
nxt = {}
for r in recs:
    _, w, _, i, *rest = r["text"].split(" ")
    assert r["source"] == "w" + w, r
    assert int(i) == nxt.get(w, 0), r
    nxt[w] = int(i) + 1
    assert r["text"] == f"writer {w} line {i} " + w * (int(i) % 300), r
' "$tmp/m1.out"; then pass "m1 four writers"; else fail m1 "records mixed or lost"; fi
else
    fail m1 "a writer failed"
fi

# ---- follow ----

flog="$tmp/follow.log"
echo "before" | "$tool" file write "$flog"
"$tool" file read "$flog" --follow >"$tmp/f1.out" 2>"$tmp/f1.err" &
follower=$!
pids+=($follower)
wait_for grep -q before "$tmp/f1.out" || fail f1 "the follower did not print the old record"
echo "after" | "$tool" file write "$flog" --source late
if wait_for grep -q ' late line after$' "$tmp/f1.out"; then pass "f1 follow sees new"; else
    fail f1 "no new record: $(cat "$tmp/f1.out")"; fi
kill -INT "$follower"
wait "$follower"
st=$?
pids=()
if [ "$st" = 130 ]; then pass "f1 SIGINT ends follow (130)"; else fail f1 "status $st"; fi

# ---- follow by name (-F): across a rotation, a removal and a new file, and a
# file cut to nothing, each said on stderr ----

nlog="$tmp/name.log"
echo "one" | "$tool" file write "$nlog" --source a
"$tool" file read "$nlog" -F >"$tmp/fn.out" 2>"$tmp/fn.err" &
fnpid=$!
pids+=($fnpid)
wait_for grep -q ' a line one$' "$tmp/fn.out" || fail fn "the name follower did not print one"
# rotated: the new file's records (numbered from 1 again) are printed
mv "$nlog" "$nlog.1"
echo "two" | "$tool" file write "$nlog" --source b
if wait_for grep -q '^1 [^ ]* b line two$' "$tmp/fn.out"; then pass "fn rotated: new file followed"; else
    fail fn "rotation not followed: $(cat "$tmp/fn.out" "$tmp/fn.err")"; fi
if grep -Eq 'name\.log: (has been replaced|has appeared); following new file$' "$tmp/fn.err"; then
    pass "fn rotation said"; else fail fn "rotation not said: $(cat "$tmp/fn.err")"; fi
# removed, then made again
rm "$nlog"
wait_for grep -q 'name\.log: has become inaccessible: No such file or directory$' "$tmp/fn.err" ||
    fail fn "removal not said: $(cat "$tmp/fn.err")"
echo "three" | "$tool" file write "$nlog" --source c
if wait_for grep -q '^1 [^ ]* c line three$' "$tmp/fn.out"; then pass "fn made again: followed"; else
    fail fn "new file not followed: $(cat "$tmp/fn.out" "$tmp/fn.err")"; fi
wait_for grep -q 'name\.log: has appeared; following new file$' "$tmp/fn.err" &&
    pass "fn reappearance said" || fail fn "reappearance not said: $(cat "$tmp/fn.err")"
# cut to nothing: a new header and records in the same file
printf '%s\n' x y z | "$tool" file write "$nlog" --source d
wait_for grep -q ' d line z$' "$tmp/fn.out" || fail fn "z not printed"
: >"$nlog"
echo "four" | "$tool" file write "$nlog" --source e
if wait_for grep -q '^1 [^ ]* e line four$' "$tmp/fn.out"; then pass "fn truncated: followed"; else
    fail fn "truncation not followed: $(cat "$tmp/fn.out" "$tmp/fn.err")"; fi
wait_for grep -q 'name\.log: file truncated$' "$tmp/fn.err" && pass "fn truncation said" ||
    fail fn "truncation not said: $(cat "$tmp/fn.err")"
# the rotated file is no longer followed
echo "old" | "$tool" file write "$nlog.1" --source old
echo "five" | "$tool" file write "$nlog" --source e
wait_for grep -q ' e line five$' "$tmp/fn.out" || fail fn "five not printed"
if grep -q ' old line old$' "$tmp/fn.out"; then fail fn "followed the old file by name"; else
    pass "fn not on the old file"; fi
kill -INT "$fnpid"
wait "$fnpid"
st=$?
pids=()
if [ "$st" = 130 ]; then pass "fn SIGINT ends -F (130)"; else fail fn "status $st"; fi
run fbad 2 file read "$nlog" --follow=inode && expect fbad err 'name or descriptor'

# ---- clear ----

if run k1 0 file clear "$log" && run k2 0 file read "$log"; then
    if [ ! -s "$tmp/k2.out" ]; then pass "k1 cleared"; else fail k1 "$(cat "$tmp/k2.out")"; fi
fi
echo "after clear" >"$tmp/k3.in"
run k3 0 file write "$log" && run k4 0 file read "$log" && expect k4 out '^11 [^ ]+ [^ ]+ line after clear$'
run k5 1 file clear "$tmp/missing.log" && expect k5 err 'missing\.log: No such file'
[ ! -e "$tmp/missing.log" ] && pass "k5 not created"

# ---- bad input ----

printf 'precious\ndata\n' >"$tmp/precious.txt"
cp "$tmp/precious.txt" "$tmp/precious.orig"
echo x >"$tmp/b1.in"
run b1 1 file write "$tmp/precious.txt" && expect b1 err 'not a syncstream log file'
run b2 1 file read "$tmp/precious.txt" && expect b2 err 'not a syncstream log file'
run b3 1 file clear "$tmp/precious.txt"
expect_same "b1-b3 untouched" "$tmp/precious.orig" "$tmp/precious.txt"
run b4 1 file write "$tmp/no/such/dir/x.log" && expect b4 err 'No such file or directory'
run b5 1 file read "$tmp/nothing.log" && expect b5 err 'nothing\.log'

# a damaged line: the rest is read, the damage reported
dlog="$tmp/damaged.log"
printf 'a\nb\nc\n' | "$tool" file write "$dlog" --source d
sed -i 's/\tb$/\tB/' "$dlog"
if run d1 0 file read "$dlog"; then
    if [ "$(cut -d' ' -f1,3- "$tmp/d1.out" | tr '\n' '|')" = "1 d line a|3 d line c|" ]; then
        pass "d1 whole records"; else fail d1 "$(cat "$tmp/d1.out")"; fi
    expect d1 err '1 damaged line skipped \(the first at line 3\)'
fi

# ---- a full disk: a 1 MiB tmpfs mounted for these checks (root, as in CI) ----

# wait_exit PID SECONDS: up to SECONDS for PID to end; its status in $status.
wait_exit() {
    for _ in $(seq $(($2 * 20))); do
        if ! kill -0 "$1" 2>/dev/null; then
            wait "$1"
            status=$?
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# bg_write NAME ARGS...: file write in the background (stdin from $tmp/NAME.in,
# else /dev/null), its stderr in $tmp/NAME.err, its pid in $pid; then wait
# until it says it holds lines.
bg_write() {
    local name=$1 in=/dev/null
    shift
    [ -f "$tmp/$name.in" ] && in=$tmp/$name.in
    "$tool" file write "$@" <"$in" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pid=$!
    pids+=("$pid")
    wait_for grep -q 'holding the lines' "$tmp/$name.err"
}

disk=$tmp/disk
mkdir "$disk"
if ! mount -t tmpfs -o size=1m tmpfs "$disk" 2>"$tmp/mount.err"; then
    fail full_disk "cannot mount a 1 MiB tmpfs for the full-disk checks (they need root): $(cat "$tmp/mount.err")"
else
    # The disk fills while 40000 lines come in; once room is made, the file
    # must stay within its bound (limit 2000) with the newest lines, the
    # oldest of the held ones dropped and counted, and the writer must end.
    seq -f 'line %05g padding padding padding padding padding padding padding' 40000 \
        >"$tmp/full.in"
    head -c 900000 /dev/zero >"$disk/filler"
    if bg_write full "$disk/full.log" -m 1000; then
        pass "full: holds the lines while the disk is full"
        # room is made once the writer has read all its input, so that it
        # holds the largest backlog it will
        size=$(wc -c <"$tmp/full.in")
        wait_for grep -q "^pos:[[:space:]]*$size\$" "/proc/$pid/fdinfo/0" ||
            fail full "the writer did not read its whole input within 20 s"
        rm "$disk/filler"
        status=
        if wait_exit "$pid" 60; then
            check_status full 0 "$status"
            records=$(($(wc -l <"$disk/full.log") - 1))
            if [ "$records" -le 2000 ]; then pass "full: $records records, within the limit"; else
                fail full "$records records in the file, past its limit of 2000"; fi
            dropped=$(sed -n 's/.*: \([0-9]*\) lines dropped while the file could not be written.*/\1/p' \
                "$tmp/full.err")
            "$tool" file read "$disk/full.log" -n 1 >"$tmp/full_last.out"
            last=$(cut -d' ' -f1 <"$tmp/full_last.out")
            if [ -n "$dropped" ] && [ $((dropped + last)) -eq 40000 ]; then
                pass "full: $dropped dropped + $last written = 40000"; else
                fail full "dropped '$dropped' + written '$last' is not 40000: $(cat "$tmp/full.err")"; fi
            expect full_last out ' line 40000 padding'
        else
            fail full "still running 60 s after room was made: $(head -c 500 "$tmp/full.err")"
            kill -9 "$pid"
        fi
    else
        fail full "no 'holding the lines' within 20 s: $(head -c 500 "$tmp/full.err")"
    fi
    rm -f "$disk"/*

    # A signal while the disk is full and lines are held: 128 + the signal,
    # how many lines were not written (with those written: every one, and the
    # command's exit record), and the lines themselves after the message,
    # unnumbered (0).
    "$tool" file write "$disk/sig.log" -m 100000 </dev/null
    "$tool" file write "$disk/cmd.log" -m 100000 </dev/null
    head -c 2000000 /dev/zero >"$disk/filler" 2>/dev/null
    seq 5000 >"$tmp/sig.in"
    for mode in sig cmd; do
        if [ $mode = sig ]; then bg_write sig "$disk/sig.log"; else
            bg_write cmd "$disk/cmd.log" -- sh -c 'seq 5000; exec sleep 100'; fi ||
            { fail $mode "no 'holding the lines' within 20 s: $(head -c 500 "$tmp/$mode.err")"; continue; }
        kill -TERM "$pid"
        status=
        if ! wait_exit "$pid" 20; then
            fail $mode "still running 20 s after SIGTERM"
            kill -9 "$pid"
            continue
        fi
        check_status $mode 143 "$status"
        expect $mode err '^syncstream: .*: [0-9]+ lines? not written: interrupted by SIGTERM while the file could not be written \(No space left on device\); they follow$'
        lost=$(sed -n 's/.*: \([0-9]*\) lines\{0,1\} not written: .*/\1/p' "$tmp/$mode.err")
        kept=$("$tool" file read "$disk/$mode.log" | wc -l)
        want=5000
        [ $mode = cmd ] && want=5001
        if [ -n "$lost" ] && [ $((lost + kept)) -eq $want ]; then
            pass "$mode: $lost not written + $kept written = $want"; else
            fail $mode "not written '$lost' + written '$kept' is not $want"; fi
        shown=$(grep -Ec '^0 [0-9T:.-]+Z [a-z]+ (line [0-9]+|error,exit killed by signal 15 \(SIGTERM\))$' \
            "$tmp/$mode.err")
        if [ "$shown" = "$lost" ] && grep -q ' line 5000$' "$tmp/$mode.err"; then
            pass "$mode: the $shown lines not written are shown"; else
            fail $mode "$shown lines shown on stderr for $lost not written"; fi
    done
    umount "$disk" || umount -l "$disk"
fi

# usage errors
run u1 2 file && expect u1 err 'write, read or clear'
run u2 2 file bogus x && expect u2 err "'bogus' is not write, read or clear"
run u3 2 file write && expect u3 err 'PATH is missing'
run u4 2 file read "$log" -n x && expect u4 err '\-n wants a non-negative integer'
run u5 2 file write "$log" --sync=sometimes && expect u5 err 'never, batch or record'
run u6 2 file write "$log" --bogus && expect u6 err "unknown option '--bogus'"
run u7 2 file write "$log" -- && expect u7 err 'no COMMAND'
run u8 2 file read a b && expect u8 err 'one PATH only'
run h1 0 file --help && expect h1 out 'Usage: syncstream file write PATH'
run h2 0 help file && expect h2 out 'Exit status'

exit $failed
