#!/usr/bin/env bash
# End-to-end tests of `syncstream run`'s GNU parallel job control: -k, --halt,
# --timeout, --retries, --joblog, --resume, compared with the installed
# parallel where it is there.
#
#     test_run_ctl.sh SYNCSTREAM
#
# Each check prints "ok" or "FAIL" with the reason; the script exits 1 if any
# check failed. Only orders that are fixed are compared (-k, or -j 1); jobs
# that must wait for another wait for a file it makes, not for a time. No
# check asserts a timing.
set -u

tool=$1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/syncstream-run-ctl.XXXXXX") || exit 1
# A marker unique to this test run, in the arguments of every long-running
# child, so that leftovers can be found (and are then killed by pid).
marker="0.000$$$RANDOM"
cleanup() {
    local p
    for p in $(pgrep -f "sleep 101 $marker"); do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh"

# as_parallel NAME STATUS ARGS...: parallel, given ARGS, prints the stdout of
# run NAME and exits with STATUS (checked when parallel is installed).
as_parallel() {
    local name=$1 want=$2
    shift 2
    command -v parallel >/dev/null || return 0
    timeout 60 parallel "$@" </dev/null >"$tmp/$name.par" 2>"$tmp/$name.parerr"
    local st=$?
    if [ "$st" -eq "$want" ] && cmp -s "$tmp/$name.out" "$tmp/$name.par"; then
        pass "$name: as parallel (status $want)"; else
        fail "$name" "parallel: status $st, stdout differs: $(diff "$tmp/$name.out" "$tmp/$name.par" | head -c 400)"; fi
}

# -k: each job's output after all of the earlier jobs', though they run at once
# and the later ones end first.
run keep 0 run -k -j 4 'sleep {}; echo {}; echo {} again' ::: 0.3 0.1 0.2 0 &&
    in_order keep out 0.3 '0.3 again' 0.1 '0.1 again' 0.2 '0.2 again' 0 '0 again' &&
    as_parallel keep 0 -k -j 4 'sleep {}; echo {}; echo {} again' ::: 0.3 0.1 0.2 0
# A job's stderr lines are held with its stdout lines, and the notice of its
# failure after them.
run keep_err 3 run -k -j 3 -c "while [ ! -e $tmp/keep_err.go ]; do sleep 0.05; done; echo one" \
    -c 'echo two >&2; exit 4' -c "echo three; touch $tmp/keep_err.go" &&
    in_order keep_err out one three &&
    in_order keep_err err two 'syncstream: 2:echo: exited with status 4' \
        'syncstream: 2:echo failed (exited with status 4): echo two >&2; exit 4' '    two' \
        'syncstream: 1 of 3 commands failed'
# More output held than -k keeps in memory (16 MiB): it spills into a file in
# $TMPDIR, nothing is lost, and the file is gone at the end. The first job ends
# only once the second has printed everything, so all of it is held.
mkdir -p "$tmp/spill"
TMPDIR=$tmp/spill timeout 60 "$tool" run -k -j 2 \
    -c "while [ ! -e $tmp/spill.go ]; do sleep 0.05; done; echo first" \
    -c "seq 1 2500000; touch $tmp/spill.go" </dev/null >"$tmp/spill.out" 2>"$tmp/spill.err"
check_status spill 0 $? &&
if (echo first; seq 1 2500000) | cmp -s - "$tmp/spill.out"; then pass "keep spill: every line, in order"; else
    fail spill "output differs: $(wc -l <"$tmp/spill.out") lines; $(head -c 300 "$tmp/spill.err")"; fi
if [ -z "$(ls -A "$tmp/spill")" ]; then pass "keep spill: no file left"; else
    fail spill "left in TMPDIR: $(ls "$tmp/spill")"; fi

# --halt, and parallel's exit status with it (the same with -j 1: the order is fixed).
run halt_now 2 run --halt now,fail=1 -j 1 'echo {}; exit {}' ::: 0 2 0 3 &&
    in_order halt_now out 0 2 && expect_err halt_now '^syncstream: --halt: 2 of 4 commands not started$' &&
    as_parallel halt_now 2 --halt now,fail=1 -j 1 'echo {}; exit {}' ::: 0 2 0 3
run halt_soon2 2 run --halt soon,fail=2 -j 1 'echo {}; exit {}' ::: 1 0 3 0 4 &&
    in_order halt_soon2 out 1 0 3 && as_parallel halt_soon2 2 --halt soon,fail=2 -j 1 'echo {}; exit {}' ::: 1 0 3 0 4
run halt_success 0 run --halt now,success=1 -j 1 'echo {}; exit {}' ::: 1 0 1 &&
    in_order halt_success out 1 0 && as_parallel halt_success 0 --halt now,success=1 -j 1 'echo {}; exit {}' ::: 1 0 1
run halt_done 1 run --halt now,done=2 -j 1 'echo {}; exit {}' ::: 1 0 1 &&
    as_parallel halt_done 1 --halt now,done=2 -j 1 'echo {}; exit {}' ::: 1 0 1
run halt_pct 20 run --halt soon,fail=20% -j 1 'echo {}; exit {}' ::: 1 0 1 0 0 0 0 0 0 0 &&
    in_order halt_pct out 1 0 1 &&
    as_parallel halt_pct 20 --halt soon,fail=20% -j 1 'echo {}; exit {}' ::: 1 0 1 0 0 0 0 0 0 0
# a percentage never reached: the percentage of failed jobs, rounded up
run halt_pct_up 34 run --halt soon,fail=50% -j 1 'echo {}; exit {}' ::: 1 0 1 0 0 0 &&
    as_parallel halt_pct_up 34 --halt soon,fail=50% -j 1 'echo {}; exit {}' ::: 1 0 1 0 0 0
run halt_legacy 3 run --halt 2 -j 1 'echo {}; exit {}' ::: 0 3 0 &&
    as_parallel halt_legacy 3 --halt 2 -j 1 'echo {}; exit {}' ::: 0 3 0
# Without a condition met, the status is parallel's too: the number of failed jobs.
run halt_never 2 run --halt now,fail=5 -j 1 'exit {}' ::: 1 0 2 &&
    as_parallel halt_never 2 --halt now,fail=5 -j 1 'exit {}' ::: 1 0 2
# now stops the running jobs (SIGTERM); soon waits for them.
run halt_kill 5 run -j 2 --halt now,fail=1 -c "sleep 101 $marker" -c 'exit 5' &&
    expect_err halt_kill '^syncstream: --halt: 2:exit; stopping the 1 running job$' &&
    expect_err halt_kill '^syncstream: 1:sleep: killed by signal 15'
run halt_wait 4 run -j 2 --halt soon,fail=1 -c "while [ ! -e $tmp/halt_wait.go ]; do sleep 0.05; done; echo waited" \
    -c "touch $tmp/halt_wait.go; exit 4" -c 'echo never' &&
    in_order halt_wait out waited && expect_err halt_wait 'starting no more jobs, waiting for 1$'
run halt_bad 2 run --halt later,fail=1 -c true && expect_err halt_bad "^syncstream: run: --halt wants "
run halt_bad0 2 run --halt now,fail=0 -c true && expect_err halt_bad0 "'now,fail=0'"

# --timeout: the job is killed (SIGTERM), reported as timed out, logged as
# parallel logs it (Exitval -1, Signal 15); the other jobs are not touched.
run timeout 3 run --timeout 1 --joblog "$tmp/timeout.log" -- sleep {} $marker ::: 101 0 &&
    expect_err timeout '^syncstream: 1:sleep: timed out, killed by signal 15 \(SIGTERM\)$' &&
    expect_err timeout '^syncstream: 1 of 2 commands failed$' &&
    if awk -F'\t' '$1 == 1 && $7 == -1 && $8 == 15 {f++} $1 == 2 && $7 == 0 && $8 == 0 {f++} END {exit f != 2}' \
        "$tmp/timeout.log"; then pass "timeout: joblog"; else fail timeout "joblog: $(cat "$tmp/timeout.log")"; fi
# A job that ignores SIGTERM gets SIGKILL after the grace period.
run timeout_kill 3 run --timeout 0.5 -c "trap '' TERM; sleep 101 $marker" &&
    expect_err timeout_kill 'timed out, killed by signal 9 \(SIGKILL\)'
# P%: a percentage of the median run time of the jobs that succeeded.
run timeout_pct 3 run -j 1 --timeout 500% -- sleep {} $marker ::: 0.1 0.1 101 &&
    expect_err timeout_pct '^syncstream: 3:sleep: timed out' && expect_err timeout_pct '1 of 3 commands failed'
run timeout_bad 2 run --timeout 1x -c true && expect_err timeout_bad "^syncstream: run: --timeout wants "

# --retries N: N tries in all. With -k only the last try's output is printed,
# as parallel prints it; without, each try's output is live and a new try is
# said on stderr.
retry_cmd="n=\$(wc -l < $tmp/retry.{}); echo x >> $tmp/retry.{}; echo try {} \$n; test \$n -ge 1"
: >"$tmp/retry.a"
run retry_k 0 run -k --retries 3 --joblog "$tmp/retry.log" "$retry_cmd" ::: a &&
    in_order retry_k out 'try a 1' && expect_err retry_k '^syncstream: 1:n=\$: exited with status 1; running it again \(try 2 of 3\)$' &&
    if [ "$(cut -f 1,7 "$tmp/retry.log" | tail -n +2)" = "$(printf '1\t0')" ]; then
        pass "retry_k: one joblog line, the last try's"; else fail retry_k "joblog: $(cat "$tmp/retry.log")"; fi
: >"$tmp/retry.a"
as_parallel retry_k 0 -k --retries 3 "$retry_cmd" ::: a
: >"$tmp/retry.a"
run retry_live 0 run --retries 3 "$retry_cmd" ::: a && in_order retry_live out 'try a 0' 'try a 1'
run retry_out 3 run --retries 2 -c 'echo again; exit 6' && in_order retry_out out again again &&
    expect_err retry_out 'running it again \(try 2 of 2\)$' && expect_err retry_out '^syncstream: 1 of 1 command failed$'
run retry_bad 2 run --retries x -c true && expect_err retry_bad "^syncstream: run: --retries wants "

# --joblog in parallel's columns, then --resume and --resume-failed.
joblog_check() {
    local name=$1 log=$2
    if awk -F'\t' -v want="$3" '
        NR == 1 { ok = $0 == "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand"; next }
        { ok = ok && NF == 9 && $2 == ":" && $3 ~ /^[0-9]+\.[0-9][0-9][0-9]$/ &&
               $4 ~ /^ *[0-9]+\.[0-9][0-9][0-9]$/ && length($4) >= 10; got = got $1 "," $5 "," $6 "," $7 "," $8 "," $9 ";" }
        END { if (!ok || got != want) { print got; exit 1 } }' "$log" >"$tmp/$name.awk"; then
        pass "$name: joblog columns"; else fail "$name" "joblog [$(cat "$tmp/$name.awk")]: $(cat "$log")"; fi
}
want_log='1,0,2,0,0,echo 0; exit 0;2,0,2,1,0,echo 1; exit 1;3,0,2,2,0,echo 2; exit 2;'
run joblog 3 run -j 1 --joblog "$tmp/joblog.log" 'echo {}; exit {}' ::: 0 1 2 &&
    joblog_check joblog "$tmp/joblog.log" "$want_log"
if command -v parallel >/dev/null; then
    parallel -j 1 --joblog "$tmp/joblog.plog" 'echo {}; exit {}' ::: 0 1 2 </dev/null >/dev/null 2>&1
    joblog_check joblog_par "$tmp/joblog.plog" "$want_log"
fi
cp "$tmp/joblog.log" "$tmp/resume.log"
run resume 0 run -j 1 --resume --joblog "$tmp/resume.log" 'echo {}; exit {}' ::: 0 1 2 0 &&
    in_order resume out 0 && joblog_check resume "$tmp/resume.log" "$want_log""4,0,2,0,0,echo 0; exit 0;"
cp "$tmp/joblog.log" "$tmp/resume_failed.log"
run resume_failed 3 run -j 1 --resume-failed --joblog "$tmp/resume_failed.log" 'echo {}; exit {}' ::: 0 1 2 0 &&
    in_order resume_failed out 1 2 0
if command -v parallel >/dev/null; then
    cp "$tmp/joblog.plog" "$tmp/resume.plog"
    parallel -k -j 1 --resume --joblog "$tmp/resume.plog" 'echo {}; exit {}' ::: 0 1 2 0 </dev/null >"$tmp/resume.par" 2>/dev/null
    cmp -s "$tmp/resume.out" "$tmp/resume.par" && pass "resume: as parallel" ||
        fail resume "parallel printed [$(cat "$tmp/resume.par")]"
    cp "$tmp/joblog.plog" "$tmp/resume_failed.plog"
    parallel -k -j 1 --resume-failed --joblog "$tmp/resume_failed.plog" 'echo {}; exit {}' ::: 0 1 2 0 </dev/null >"$tmp/resume_failed.par" 2>/dev/null
    cmp -s "$tmp/resume_failed.out" "$tmp/resume_failed.par" && pass "resume_failed: as parallel" ||
        fail resume_failed "parallel printed [$(cat "$tmp/resume_failed.par")]"
fi
run resume_nolog 2 run --resume -c true && expect_err resume_nolog 'need --joblog FILE'

if [ "$failed" -ne 0 ]; then
    echo "some checks FAILED"
    exit 1
fi
echo "all checks passed"
