#!/usr/bin/env bash
# End-to-end tests of `syncstream run`.
#
#     test_run.sh SYNCSTREAM PYTHON3
#
# Each check prints "ok" or "FAIL" with the reason; the script exits 1 if any
# check failed. Output order between jobs is not fixed, so sets of lines are
# compared sorted, except with -j 1. No check asserts a timing; the waits for
# background runs are bounded loops.
set -u

tool=$1 python=$2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/syncstream-run.XXXXXX") || exit 1
# A marker unique to this test run, in the arguments of every long-running
# child, so that leftovers can be found (and are then killed by pid).
marker="0.000$$$RANDOM"
cleanup() {
    kill_leftovers
    rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh"



no_err() {
    if grep -Eq -- "$2" "$tmp/$1.err"; then
        fail "$1" "stderr should not match /$2/: $(head -c 600 "$tmp/$1.err")"; else
        pass "$1 stderr has no /$2/"; fi
}
empty() {
    if [ ! -s "$tmp/$1.$2" ]; then pass "$1 (no std$2)"; else
        fail "$1" "unexpected std$2: $(head -c 300 "$tmp/$1.$2")"; fi
}

# same_lines NAME STREAM LINE...: the stream holds exactly these lines, in any order.
same_lines() {
    local name=$1 stream=$2
    shift 2
    local want got
    want=$(printf '%s\n' "$@" | LC_ALL=C sort)
    got=$(LC_ALL=C sort "$tmp/$name.$stream")
    if [ "$got" = "$want" ]; then pass "$name std$stream lines"; else
        fail "$name" "std$stream lines are [$(echo $got)], expected [$(echo $want)]"; fi
}

# ---- exit statuses ----

run all_ok 0 run -c true -c 'echo fine' -c 'exit 0' && same_lines all_ok out fine && empty all_ok err
run one_fails 3 run -c 'echo a' -c 'exit 3' -c 'echo b' &&
    expect_err one_fails '^syncstream: 1 of 3 commands failed$'
run missing 3 run -- no-such-program-$$ ::: x y &&
    expect_err missing "^syncstream: no-such-program-$$: command not found$" &&
    expect_err missing "^syncstream: 2 of 2 commands failed$" && empty missing out
# A missing program does not stop the others.
run missing_mixed 3 run -- {} here ::: no-such-program-$$ echo &&
    same_lines missing_mixed out here && expect_err missing_mixed '^syncstream: 1 of 2 commands failed$'
run missing_other 3 run -- "$tmp/nonexistent-dir/prog" ::: 1 &&
    expect_err missing_other "prog: command not found"

# ---- usage errors ----

run usage_j0 2 run -j 0 -c true && expect_err usage_j0 "^syncstream: run: -j wants a positive integer, not '0'$" &&
    expect_err usage_j0 "^Try 'syncstream run --help'\.$"
run usage_jx 2 run -j x -c true && expect_err usage_jx "'x'"
run usage_jneg 2 run -j -3 -c true && expect_err usage_jneg "-j"
run usage_none 2 run && expect_err usage_none '^syncstream: run: no command given'
run usage_bogus 2 run --bogus -c true && expect_err usage_bogus "unknown option '--bogus'"
run usage_color 2 run --color=sometimes -c true && expect_err usage_color 'auto, always or never'
run usage_keep 2 run --keep=lots -c true && expect_err usage_keep -- '--keep'
run usage_both 2 run -c true -- echo x && expect_err usage_both 'either with -c'
run usage_empty_list 2 run -- echo ::: a ::: && expect_err usage_empty_list 'list 2 .* is empty'
run usage_no_cmd 2 run ::: a b && expect_err usage_no_cmd "no command before ':::'"
run usage_j_missing 2 run -c true -j && expect_err usage_j_missing "'-j' needs an argument"

# ---- job sources ----

run list 0 run -- echo {} ::: a b c && same_lines list out a b c

# GNU parallel's replacement strings, against parallel's output (recorded
# here, and compared with the installed parallel when there is one).
repl_args=(a/b/ /a a.b/c .bashrc a/.b dir.x/file a/b.tar.gz ./x "" // a. . .. /)
repl_tmpl=(echo '[{}]' '[{/}]' '[{//}]' '[{/.}]' '[{.}]' '{#}' '{%}')
run repl 0 run -j 1 -- "${repl_tmpl[@]}" ::: "${repl_args[@]}" &&
    in_order repl out '[a/b/] [] [a] [] [a/b/] 1 1' '[/a] [a] [/] [a] [/a] 2 1' \
        '[a.b/c] [c] [a.b] [c] [a.b/c] 3 1' '[.bashrc] [.bashrc] [.] [] [] 4 1' \
        '[a/.b] [.b] [a] [] [a/] 5 1' '[dir.x/file] [file] [dir.x] [file] [dir.x/file] 6 1' \
        '[a/b.tar.gz] [b.tar.gz] [a] [b.tar] [a/b.tar] 7 1' '[./x] [x] [.] [x] [./x] 8 1' \
        '[] [] [.] [] [] 9 1' '[//] [] [/] [] [//] 10 1' '[a.] [a.] [.] [a] [a] 11 1' \
        '[.] [.] [.] [] [] 12 1' '[..] [..] [.] [.] [.] 13 1' '[/] [] [/] [] [/] 14 1'
repl_tmpl2=(echo '{2/.}' '{1//}' '{.}' '{2}' '{1.}' 'x{1/}y')
run repl_n 0 run -j 1 -- "${repl_tmpl2[@]}" ::: a/b.c x.y ::: d/e.f g &&
    in_order repl_n out 'e a a/b d/e d/e.f a/b xb.cy' 'g a a/b g g a/b xb.cy' \
        'e . x d/e d/e.f x xx.yy' 'g . x g g x xx.yy'
# {%} is the lowest free slot: with -j 2, the first job holds slot 1 until the
# third has run (bounded wait), so the second and third share slot 2.
run repl_slot 0 run -j 2 -- sh -c 'if [ "$1" = a ]; then i=0; while [ ! -e "$3" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; fi; [ "$1" = c ] && : >"$3"; echo "$1 $2"' sh '{}' '{%}' "$tmp/slot.c" ::: a b c &&
    same_lines repl_slot out 'a 1' 'b 2' 'c 2'
# A command given as one string runs through the shell, as parallel runs it,
# each argument quoted for it; -q keeps the string one program name.
run shell_tmpl 0 run -- 'echo {} | tr a-z A-Z' ::: ab && in_order shell_tmpl out AB
shell_args=("a b.c" "it's" '$HOME' '`id`;x' '*')
run shell_quote 0 run -j 1 -- 'echo [{}] [{.}] "{#}"' ::: "${shell_args[@]}" &&
    in_order shell_quote out '[a b.c] [a b] 1' "[it's] [it's] 2" '[$HOME] [$HOME] 3' \
        '[`id`;x] [`id`;x] 4' '[*] [*] 5'
run shell_append 0 run -j 1 -- 'echo x' ::: 'a  b' '$x' && in_order shell_append out 'x a  b' 'x $x'
run shell_q 3 run --quote -- 'echo {} | tr a-z A-Z' ::: ab && expect_err shell_q 'command not found'
if command -v parallel >/dev/null; then
    parallel -k -j 1 "${repl_tmpl[@]}" ::: "${repl_args[@]}" </dev/null >"$tmp/repl.par" 2>&1
    if cmp -s "$tmp/repl.out" "$tmp/repl.par"; then pass "repl: as parallel"; else
        fail repl "differs from parallel: $(diff "$tmp/repl.out" "$tmp/repl.par" | head -c 600)"; fi
    parallel -k -j 1 "${repl_tmpl2[@]}" ::: a/b.c x.y ::: d/e.f g </dev/null >"$tmp/repl_n.par" 2>&1
    if cmp -s "$tmp/repl_n.out" "$tmp/repl_n.par"; then pass "repl_n: as parallel"; else
        fail repl_n "differs from parallel: $(diff "$tmp/repl_n.out" "$tmp/repl_n.par" | head -c 600)"; fi
    parallel -k -j 1 'echo [{}] [{.}] "{#}"' ::: "${shell_args[@]}" </dev/null >"$tmp/shell_quote.par" 2>&1
    if cmp -s "$tmp/shell_quote.out" "$tmp/shell_quote.par"; then pass "shell_quote: as parallel"; else
        fail shell_quote "differs from parallel: $(diff "$tmp/shell_quote.out" "$tmp/shell_quote.par" | head -c 600)"; fi
fi
run list_append 0 run -- echo pre ::: a b && same_lines list_append out 'pre a' 'pre b'
run list_inside 0 run -- echo 'x{}y' ::: a b && same_lines list_inside out xay xby
run product 0 run -- echo '{1}-{2}' ::: a b ::: 1 2 3 &&
    same_lines product out a-1 a-2 a-3 b-1 b-2 b-3
run product_all 0 run -- echo '<{}>' ::: a b ::: 1 2 && same_lines product_all out '<a 1>' '<a 2>' '<b 1>' '<b 2>'
run product_append 0 run -- echo ::: a b ::: 1 && same_lines product_append out 'a 1' 'b 1'
# No shell: an argument is one word, never split or globbed.
run no_shell 0 run -- printf '[%s]\n' ::: 'two words' '*' && same_lines no_shell out '[two words]' '[*]'
# Options of CMD are CMD's, with or without "--".
run cmd_opts 0 run -j 2 printf '%s-\n' ::: a b && same_lines cmd_opts out a- b-

printf 'x\ny z\n\nlast' | "$tool" run -- echo arg >"$tmp/stdin.out" 2>"$tmp/stdin.err"
check_status stdin 0 $? && same_lines stdin out 'arg x' 'arg y z' 'arg ' 'arg last'
printf '1\n2\n' | "$tool" run -- sh -c 'echo "n=$1"' sh {} >"$tmp/stdin_ph.out" 2>"$tmp/stdin_ph.err"
check_status stdin_ph 0 $? && same_lines stdin_ph out n=1 n=2
# An empty standard input: nothing to run, success.
run stdin_empty 0 run -- echo && empty stdin_empty out && empty stdin_empty err

run shell_c 0 run -c 'echo one' -c 'echo two; echo three' --command='echo four' &&
    same_lines shell_c out one two three four

# -j 1: one at a time, in order, however long each takes.
run j1 0 run -j 1 -- sh -c 'sleep "0.$1"; echo "$1"' sh ::: 3 2 1 && in_order j1 out 3 2 1
run j1_c 0 run -j1 -c 'sleep 0.2; echo first' -c 'echo second' && in_order j1_c out first second

# ---- input sources: -a, ::::, :::+, ::::+, -, --colsep, -n, -N ----

# as_parallel NAME ARGS...: run NAME's output is what parallel -k -j 1 ARGS
# prints (checked when parallel is installed; CI installs it).
as_parallel() {
    local name=$1
    shift
    command -v parallel >/dev/null || return 0
    parallel -k -j 1 "$@" <"${in_file:-/dev/null}" >"$tmp/$name.par" 2>&1
    if cmp -s "$tmp/$name.out" "$tmp/$name.par"; then pass "$name: as parallel"; else
        fail "$name" "differs from parallel: $(diff "$tmp/$name.out" "$tmp/$name.par" | head -c 600)"; fi
}
printf 'a\nb\n' >"$tmp/f1"
printf '1\n2\n3' >"$tmp/f2" # no "\n" at the end: the last line counts
printf 'x y\tz\n q r \tw\n' >"$tmp/f3" # a blank first: an empty first column
: >"$tmp/f_empty"
run argfile 0 run -j 1 -a "$tmp/f1" -a "$tmp/f2" echo &&
    in_order argfile out 'a 1' 'a 2' 'a 3' 'b 1' 'b 2' 'b 3' && as_parallel argfile -a "$tmp/f1" -a "$tmp/f2" echo
run argfile_long 0 run -j 1 --arg-file "$tmp/f1" echo '<{}>' && in_order argfile_long out '<a>' '<b>'
# -a files come before the command line's sources, whatever their order.
run argfile_mix 0 run -j 1 -a "$tmp/f1" echo ::: X Y :::: "$tmp/f2" &&
    in_order argfile_mix out 'a X 1' 'a X 2' 'a X 3' 'a Y 1' 'a Y 2' 'a Y 3' \
        'b X 1' 'b X 2' 'b X 3' 'b Y 1' 'b Y 2' 'b Y 3' &&
    as_parallel argfile_mix -a "$tmp/f1" echo ::: X Y :::: "$tmp/f2"
run files 0 run -j 1 echo :::: "$tmp/f1" "$tmp/f2" &&
    in_order files out 'a 1' 'a 2' 'a 3' 'b 1' 'b 2' 'b 3' && as_parallel files echo :::: "$tmp/f1" "$tmp/f2"
# :::+ / ::::+ link element by element; the shortest linked source sets the length.
run linked 0 run -j 1 echo ::: a b ::: x y z :::+ 1 2 3 &&
    in_order linked out 'a x 1' 'a y 2' 'a z 3' 'b x 1' 'b y 2' 'b z 3' &&
    as_parallel linked echo ::: a b ::: x y z :::+ 1 2 3
run linked_short 0 run -j 1 echo ::: a b c d :::+ 1 2 ::: X &&
    in_order linked_short out 'a 1 X' 'b 2 X' && as_parallel linked_short echo ::: a b c d :::+ 1 2 ::: X
run linked_file 0 run -j 1 echo :::: "$tmp/f1" ::::+ "$tmp/f2" ::: 1 2 :::+ q w &&
    in_order linked_file out 'a 1 1 q' 'a 1 2 w' 'b 2 1 q' 'b 2 2 w' &&
    as_parallel linked_file echo :::: "$tmp/f1" ::::+ "$tmp/f2" ::: 1 2 :::+ q w
printf 's1\ns2\n' >"$tmp/dash.in"
run dash 0 run -j 1 echo :::: - ::: X Y && in_order dash out 's1 X' 's1 Y' 's2 X' 's2 Y' &&
    in_file=$tmp/dash.in as_parallel dash echo :::: - ::: X Y
printf 's1\n' >"$tmp/dash_a.in"
run dash_a 0 run -j 1 -a - echo ::: X && in_order dash_a out 's1 X'
# An empty file: no combination, nothing to run.
run argfile_empty 0 run -a "$tmp/f_empty" echo ::: a && empty argfile_empty out && empty argfile_empty err
run argfile_missing 1 run -a "$tmp/nonexistent" echo &&
    expect_err argfile_missing "^syncstream: run: cannot open the argument file '.*nonexistent': No such file"
run dash_twice 2 run echo :::: - - && expect_err dash_twice "standard input \('-'\) can be read only once"
run usage_files_empty 2 run echo ::: a :::: && expect_err usage_files_empty "list 2 after '::::' is empty"
run usage_argfile_c 2 run -a "$tmp/f1" -c true && expect_err usage_argfile_c 'not with -c'

# --colsep REGEX: columns {1} {2} ..., trimmed, each source's in turn.
run colsep 0 run -j 1 --colsep '\t' echo '{2}-{1}' :::: "$tmp/f3" &&
    in_order colsep out 'z-x y' 'w-q r' && as_parallel colsep --colsep '\t' echo '{2}-{1}' :::: "$tmp/f3"
run colsep_more 0 run -j 1 --colsep '[ \t]+' echo '{#}' '{3}' '{2.}' '[{4}]' :::: "$tmp/f3" ::: A &&
    in_order colsep_more out '1 z y [A]' '2 r q [w]' &&
    as_parallel colsep_more --colsep '[ \t]+' echo '{#}' '{3}' '{2.}' '[{4}]' :::: "$tmp/f3" ::: A
run colsep_var 0 run -j 1 --colsep , echo '[{1}][{2}][{3}][{4}]' ::: ' a , b ' c, ::: X,Y &&
    in_order colsep_var out '[a][b][X][Y]' '[c][][X][Y]' &&
    as_parallel colsep_var --colsep , echo '[{1}][{2}][{3}][{4}]' ::: ' a , b ' c, ::: X,Y
run colsep_all 0 run -j 1 --colsep , echo '[{}]' ::: a,b && in_order colsep_all out '[a b]' &&
    as_parallel colsep_all --colsep , echo '[{}]' ::: a,b
run colsep_bad 2 run --colsep '(' echo ::: a && expect_err colsep_bad "^syncstream: run: --colsep '\(': .*missing"

# -n N: N records per job, {} all their arguments, {N} each (empty beyond).
run max_n 0 run -j 1 -n 2 echo '[{}]' '[{1}]' '[{2}]' '[{3}]' '{#}' ::: a b c d e &&
    in_order max_n out '[a b] [a] [b] [] 1' '[c d] [c] [d] [] 2' '[e] [e] [] [] 3' &&
    as_parallel max_n -n 2 echo '[{}]' '[{1}]' '[{2}]' '[{3}]' '{#}' ::: a b c d e
run max_n_append 0 run -j 1 --max-args 2 printf '<%s>' ::: a b c && in_order max_n_append out '<a><b>' '<c>'
run max_n_lists 0 run -j 1 -n 2 echo '[{}]' '[{3}]' ::: a b c ::: 1 2 &&
    in_order max_n_lists out '[a 1 a 2] [a]' '[b 1 b 2] [b]' '[c 1 c 2] [c]' &&
    as_parallel max_n_lists -n 2 echo '[{}]' '[{3}]' ::: a b c ::: 1 2
run max_n0 0 run -j 1 -n 0 echo x ::: a b && in_order max_n0 out x x && as_parallel max_n0 -n 0 echo x ::: a b
run max_n_tag 0 run -j 1 -n 2 --tag echo x ::: a b c &&
    in_order max_n_tag out "$(printf 'a b\tx a b')" "$(printf 'c\tx c')" &&
    as_parallel max_n_tag -n 2 --tag echo x ::: a b c
# -N N: the same, but a word holding {} is repeated for each argument.
run max_N 0 run -j 1 -N 2 echo '[{}]' '[{1}]' '[{2}]' '[{3}]' '{#}' ::: a b c d e &&
    in_order max_N out '[a] [b] [a] [b] [] 1' '[c] [d] [c] [d] [] 2' '[e] [e] [] [] 3' &&
    as_parallel max_N -N 2 echo '[{}]' '[{1}]' '[{2}]' '[{3}]' '{#}' ::: a b c d e
run max_N_words 0 run -j 1 --max-replace-args 2 printf '<%s>' '[{}]' ::: a b c &&
    in_order max_N_words out '<[a]><[b]>' '<[c]>'
run max_N_shell 0 run -j 1 -N 2 "printf '<%s>' [{}] [{.}] {1} [{2}]; echo" ::: a b.c 'd e' &&
    in_order max_N_shell out '<[a]><[b.c]><[a]><[b]><a><[b.c]>' '<[d e]><[d e]><d e><[]>' &&
    as_parallel max_N_shell -N 2 "printf '<%s>' [{}] [{.}] {1} [{2}]; echo" ::: a b.c 'd e'
run max_dry 0 run --dry-run -N 2 'echo [{}] {#}' ::: a b c &&
    in_order max_dry out 'echo [a] [b] 1' 'echo [c] 2' && as_parallel max_dry --dry-run -N 2 'echo [{}] {#}' ::: a b c
run usage_n 2 run -n x echo ::: a && expect_err usage_n "^syncstream: run: -n wants an integer from 0 up, not 'x'$"
run usage_nN 2 run -n 1 -N 2 echo ::: a && expect_err usage_nN '-n and -N'

# ---- output ----

# Without --tag: each stream to its own place, unchanged.
run plain 0 run -c 'echo out; echo err >&2' && in_order plain out out && in_order plain err err

run tag 3 run --jobtag -c 'echo out; echo err >&2' -c 'echo x; exit 4' &&
    expect_out tag '^1:echo\| out$' && expect_out tag '^1:echo! err$' &&
    expect_out tag '^2:echo\| x$' && expect_out tag '^2:echo# exited with status 4$'
# The notice and the summary on stderr; no job line there.
[ -f "$tmp/tag.err" ] && no_err tag '^(1:echo|err$)'
# --jobtag is not colored when standard output is a file, unless asked.
run tag_nocolor 0 run --jobtag -c 'echo a' && in_order tag_nocolor out '1:echo| a'
run tag_color 0 run --jobtag --color=always -c 'echo a' &&
    in_order tag_color out "$(printf '\033[36m1:echo\033[0m| a')"
run tag_long 0 run --jobtag -- echo ::: x && expect_out tag_long '^1:echo\| x$'
run tag_cut 0 run --jobtag -c 'abcdefghijklmnopqrstuvwxyz0123456789=1; echo ok' &&
    expect_out tag_cut '^1:abcdefghijklmnopqrstuvwxyz012\| ok$'

# --tag and --tagstring as parallel's: "TAG<tab>line", each stream in its place.
run ptag 0 run -j 1 --tag -- echo ::: a b ::: 1 && in_order ptag out "$(printf 'a 1\ta 1')" "$(printf 'b 1\tb 1')"
run ptag_c 0 run --tag -c 'echo x; echo y >&2' && in_order ptag_c out "$(printf 'echo x; echo y >&2\tx')" &&
    in_order ptag_c err "$(printf 'echo x; echo y >&2\ty')"
run ptag_str 0 run -j 1 --tagstring '{#}-{.}' -- echo ::: a.x b.y &&
    in_order ptag_str out "$(printf '1-a\ta.x')" "$(printf '2-b\tb.y')"
run ptag_both 2 run --tag --jobtag -c true
if command -v parallel >/dev/null; then
    parallel -k -j 1 --tag echo ::: a b ::: 1 </dev/null >"$tmp/ptag.par" 2>&1
    parallel -k -j 1 --tagstring '{#}-{.}' echo ::: a.x b.y </dev/null >"$tmp/ptag_str.par" 2>&1
    for t in ptag ptag_str; do
        if cmp -s "$tmp/$t.out" "$tmp/$t.par"; then pass "$t: as parallel"; else
            fail $t "differs from parallel: $(diff "$tmp/$t.out" "$tmp/$t.par" | head -c 600)"; fi
    done
fi

# --dry-run: the command lines, as parallel --dry-run prints them; none run.
run dry 0 run --dry-run -j 1 -- echo '{}' '{#}' ::: 'a b' c '$x' &&
    in_order dry out "echo 'a b' 1" 'echo c 2' "echo '\$x' 3"
run dry_shell 0 run --dry-run -- 'echo {} | tr a-z A-Z > {.}.up' ::: ab 'x y.z' &&
    in_order dry_shell out 'echo ab | tr a-z A-Z > ab.up' "echo 'x y.z' | tr a-z A-Z > 'x y'.up"
run dry_c 0 run --dry-run -c "touch $tmp/dry.ran" && in_order dry_c out "touch $tmp/dry.ran"
if [ -e "$tmp/dry.ran" ]; then fail dry_c "the job ran"; else pass "dry_c: nothing ran"; fi
if command -v parallel >/dev/null; then
    parallel --dry-run -j 1 echo '{}' '{#}' ::: 'a b' c '$x' </dev/null >"$tmp/dry.par" 2>&1
    parallel --dry-run 'echo {} | tr a-z A-Z > {.}.up' ::: ab 'x y.z' </dev/null >"$tmp/dry_shell.par" 2>&1
    for t in dry dry_shell; do
        if cmp -s "$tmp/$t.out" "$tmp/$t.par"; then pass "$t: as parallel"; else
            fail $t "differs from parallel: $(diff "$tmp/$t.out" "$tmp/$t.par" | head -c 600)"; fi
    done
fi

run ts 0 run --ts -c 'echo hi' &&
    expect_out ts '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z hi$'
run ts_tag 0 run --ts --jobtag -c 'echo hi' && expect_out ts_tag '^[0-9-]+T[0-9:.]+Z 1:echo\| hi$'

# --json: valid JSON Lines with every field, the exit records included; every
# record has the job's number and arguments, an exit record how it ended (a
# number, or the signal's name) and its run time.
if run json 3 run --json -c 'echo out; echo err >&2' -c 'exit 2' -c 'kill -TERM $$'; then
    cat >"$tmp/check_json.py" <<'EOF'
import json, sys
keys = {"seq", "time", "time_ns", "source", "kind", "text", "continued", "partial", "stderr",
        "exit", "job", "args"}
exit_keys = keys | {"runtime", "timed_out", "try"}
objs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
bad = []
for o in objs:
    want = exit_keys | ({"signal"} if "signal" in o else {"exit_code"}) if o["exit"] else keys
    if set(o) != want:
        bad.append("keys %r" % sorted(o))
lines = {(o["source"], o["text"], o["stderr"], o["job"], tuple(o["args"]))
         for o in objs if not o["exit"]}
if lines != {("1:echo", "out", False, 1, ("echo out; echo err >&2",)),
             ("1:echo", "err", True, 1, ("echo out; echo err >&2",))}:
    bad.append("lines %r" % lines)
exits = {o["source"]: o for o in objs if o["exit"]}
e = exits.get("1:echo", {})
if e.get("kind") != "line" or "status 0" not in e.get("text", "") or e.get("exit_code") != 0:
    bad.append("exit of 1:echo %r" % e)
e = exits.get("2:exit", {})
if e.get("kind") != "error" or "status 2" not in e.get("text", "") or e.get("exit_code") != 2 \
        or e.get("job") != 2 or e.get("args") != ["exit 2"]:
    bad.append("exit of 2:exit %r" % e)
e = exits.get("3:kill", {})
if e.get("signal") != "TERM" or e.get("exit") is not True:
    bad.append("exit of 3:kill %r" % e)
if not all(isinstance(o["runtime"], float) and o["runtime"] >= 0 for o in exits.values()):
    bad.append("run times %r" % [o["runtime"] for o in exits.values()])
if len(objs) != 5:
    bad.append("%d objects, expected 5" % len(objs))
print("; ".join(bad))
sys.exit(1 if bad else 0)
EOF
    if out=$("$python" "$tmp/check_json.py" "$tmp/json.out" 2>&1); then pass json; else fail json "$out"; fi
fi

# Whole lines only: a line written in pieces is printed whole, while another
# job prints lines meanwhile.
run whole 0 run -c "printf 'aaa'; sleep 0.3; printf 'bbb\\n'" \
    -c 'for i in 1 2 3 4 5; do echo "line $i"; sleep 0.05; done' &&
    same_lines whole out aaabbb 'line 1' 'line 2' 'line 3' 'line 4' 'line 5'

# No loss at all: under a flood far larger than the shared buffer, every line
# is printed (flow control makes the jobs wait for the printer).
if run flood 0 run -c 'seq 1 300000' -c 'seq 300001 600000' -c 'seq 600001 900000'; then
    printed=$(wc -l <"$tmp/flood.out")
    if [ "$printed" -eq 900000 ]; then pass "flood: all 900000 lines printed"; else
        fail flood "$printed of 900000 lines printed"; fi
    if grep -q "lost" "$tmp/flood.err"; then fail flood "a loss was reported"; else
        pass "flood: no loss reported"; fi
    if [ "$(sort -u "$tmp/flood.out" | wc -l)" -eq "$printed" ]; then pass "flood: no line twice"; else
        fail flood "some lines printed twice"; fi
fi

# --pty: the job's stdout is a terminal; without it, it is not.
run pty 0 run --pty -c 'test -t 1 && echo tty' && in_order pty out tty
run no_pty 0 run -c 'test -t 1 || echo notty' && in_order no_pty out notty
# Standard input is /dev/null: a job reading it ends at once.
run stdin_null 0 run -c 'cat; echo done' && in_order stdin_null out done

# A line redrawn with "\r" (a progress bar): its last state only in a file or
# a pipe, every state with --raw-cr, and on a terminal (run_on_pty.py).
bar="printf '10%%\\r20%%\\r30%%\\n'"
run cr_collapse 0 run -c "$bar" && in_order cr_collapse out '30%'
run cr_raw 0 run --raw-cr -c "$bar" &&
    if [ "$(od -An -c "$tmp/cr_raw.out" | tr -s ' ')" = "$(printf '10%%\r20%%\r30%%\n' | od -An -c | tr -s ' ')" ]; then
        pass "cr_raw: every state"; else fail cr_raw "stdout: $(od -c "$tmp/cr_raw.out" | head -3)"; fi
pty_py=$(dirname "$0")/run_on_pty.py
got=$("$python" "$pty_py" -- "$tool" run -c "$bar" 2>&1)
case $got in
*'10%\r20%\r30%\r\n'*) pass "cr_tty: every state on a terminal" ;;
*) fail cr_tty "terminal got $got" ;;
esac
# Another job's line while a redraw is on the terminal erases it first (ESC [K),
# and the redraw goes on below. Each step waits for the one before (files made
# when the output has reached the terminal), bounded.
waitf='i=0; while [ ! -e "$0" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done'
got=$("$python" "$pty_py" --when '1%' "$tmp/cr_go1" -- "$tool" run -j 2 \
    -c "printf '1%%\\r2%%\\r'; sh -c '$waitf' '$tmp/cr_go2'; echo end" \
    -c "sh -c '$waitf' '$tmp/cr_go1'; echo other; : >'$tmp/cr_go2'" 2>&1)
case $got in
*'1%\r\x1b[Kother\r\n2%\rend\r\n'*) pass "cr_tty_erase: a redraw erased before another line" ;;
*) fail cr_tty_erase "terminal got $got" ;;
esac

# --bar / --eta: on a terminal a status line redrawn in place, erased before
# each line and at the end; elsewhere one line at the end, stdout untouched.
run bar_file 3 run --bar -j 1 -- sh -c 'echo "$0"; [ "$0" != b ]' ::: a b c &&
    in_order bar_file out a b c &&
    expect_err bar_file '^syncstream: \[#{20}\] 100% 3/3 done, 0 running, 1 failed, took [0-9]+:[0-9]{2}$'
run eta_file 0 run --eta -c true && expect_err eta_file '^syncstream: 1/1 done, 0 running, 0 failed, took ' &&
    no_err eta_file '\['
got=$("$python" "$pty_py" -- "$tool" run --bar -j 1 -- sh -c 'echo "line $0"' ::: a b 2>&1)
case $got in
*'0/2 done, 1 running, 0 failed, time left unknown\x1b[K'*'\r\x1b[Kline a\r\n'*'1/2 done'*'\r\x1b[Kline b\r\n'*'2/2 done, 0 running, 0 failed, took '*"\\x1b[K\\r\\x1b[K'") ;;
*) false ;;
esac && pass "bar_tty: drawn, erased before each line and at the end" || fail bar_tty "terminal got $got"
case $got in
*'syncstream: '*) fail bar_tty "the final line was printed on a terminal too: $got" ;;
*) pass "bar_tty: no final line on a terminal" ;;
esac

# ---- the failure summary ----

run keep 3 run --keep 3 -c 'seq 1 20; echo oops >&2; exit 5' -c 'echo fine' &&
    expect_err keep '^syncstream: 1:seq failed \(exited with status 5\): seq 1 20; echo oops >&2; exit 5$' &&
    expect_err keep '^    \(last 3 of 21 lines\)$' &&
    expect_err keep '^    19$' && expect_err keep '^    20$' && expect_err keep '^    oops$' &&
    no_err keep '^    18$' && no_err keep 'fine' &&
    expect_err keep '^syncstream: 1 of 2 commands failed$'
run keep_default 3 run -c 'seq 1 15; exit 1' &&
    expect_err keep_default '^    \(last 10 of 15 lines\)$' && expect_err keep_default '^    6$' &&
    no_err keep_default '^    5$'
# Two jobs whose lines interleave: each tail holds its own job's last lines
# (the printer hands a batch's lines to the tails once per run of one job's).
run keep_mixed 3 run -j 2 --keep 3 -c 'for i in $(seq 3000); do echo a$i; done; exit 1' \
    -c 'for i in $(seq 3000); do echo b$i; done; exit 2' &&
    expect_err keep_mixed '^syncstream: 1:for failed \(exited with status 1\)' &&
    expect_err keep_mixed '^syncstream: 2:for failed \(exited with status 2\)' &&
    [ "$(grep -c '^    (last 3 of 3000 lines)$' "$tmp/keep_mixed.err")" = 2 ] &&
    [ "$(grep '^    [ab]' "$tmp/keep_mixed.err" | tr '\n' ' ')" = "    a2998     a2999     a3000     b2998     b2999     b3000 " ] &&
    pass "keep_mixed: each job's own last 3 lines" || fail keep_mixed "$(head -c 600 "$tmp/keep_mixed.err")"
run keep0 3 run --keep 0 -c 'echo hidden; exit 1' &&
    expect_err keep0 '^syncstream: 1:echo failed \(exited with status 1\)' && no_err keep0 '^    '
run keep_silent 3 run -c 'exit 7' && expect_err keep_silent '^    \(no output\)$'
run killed 3 run -c 'kill -9 $$' &&
    expect_err killed '^syncstream: 1:kill failed \(killed by signal 9 \(SIGKILL\)\)'
run all_ok_quiet 0 run -c 'echo a' -c 'echo b >&2' && no_err all_ok_quiet '^syncstream:'

# ---- signals ----

# wait_for FILE TEXT: up to 10 s for TEXT to appear in FILE.
wait_for() {
    local i
    for i in $(seq 1 100); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# wait_exit PID SECONDS: up to SECONDS for PID to end; its status in $status.
wait_exit() {
    local i
    for i in $(seq 1 $(($2 * 10))); do
        if ! kill -0 "$1" 2>/dev/null; then
            wait "$1"
            status=$?
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# signal_test NAME SIGNAL STATUS ARGS...: start a run in the background, wait
# until it printed "started", send SIGNAL, expect STATUS within 15 s and no
# `sleep 100 $marker` left behind.
signal_test() {
    local name=$1 sig=$2 want=$3
    shift 3
    "$tool" "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err" &
    local pid=$!
    if ! wait_for "$tmp/$name.out" started; then
        fail "$name" "the jobs did not start within 10 s"
        kill -KILL "$pid" 2>/dev/null
        return 1
    fi
    kill -"$sig" "$pid"
    status=
    if ! wait_exit "$pid" 15; then
        fail "$name" "still running 15 s after SIG$sig; stderr: $(head -c 600 "$tmp/$name.err")"
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        kill_leftovers
        return 1
    fi
    check_status "$name" "$want" "$status"
    local left
    left=$(pgrep -f "sleep 100 $marker")
    if [ -z "$left" ]; then pass "$name left no sleep behind"; else
        fail "$name" "children left running: $(echo $left)"; kill_leftovers; fi
}

# Kill (by pid) what a failed check left running, so the next check starts clean.
kill_leftovers() {
    local p
    for p in $(pgrep -f "sleep 10[01] $marker"); do kill -KILL "$p" 2>/dev/null; done
}

signal_test sigint INT 130 run -c "sleep 100 $marker" -c "echo started; sleep 100 $marker" &&
    expect_err sigint '^syncstream: interrupted by SIGINT: 2 of 2 commands failed, 0 not started$' &&
    expect_err sigint '^syncstream: 2:echo failed \(killed by signal 15 \(SIGTERM\)\)' &&
    expect_err sigint '^    started$'
# No new job after the interrupt: with -j 1, the third never starts.
signal_test sigint_pending INT 130 run -j 1 -c "echo started; exec sleep 100 $marker" -c 'echo second' \
    -c 'echo third' &&
    expect_err sigint_pending '^syncstream: interrupted by SIGINT: 1 of 3 commands failed, 2 not started$' &&
    no_err sigint_pending second
signal_test sigterm TERM 143 run --jobtag -c "echo started; exec sleep 100 $marker" &&
    expect_err sigterm '^syncstream: interrupted by SIGTERM: 1 of 1 command failed'

# A job that exited while a process it left outside its process group
# (setsid: no signal of run's reaches it) holds its output: the signal must
# still end run (the output is cut), whatever --linger says. `sleep 101` is
# left behind on purpose (it is not run's to kill) and killed here. It says
# "started" once the job's shell ($0 to it) has exited and been reaped.
escaped="setsid sh -c 'while kill -0 \$0 2>/dev/null; do sleep 0.05; done; echo started; exec sleep 101 $marker' \$\$ & exit 0"
signal_test sigterm_escaped TERM 143 run --linger=600 -c "$escaped" &&
    expect_err sigterm_escaped '^syncstream: 1:setsid: its output was still held open after it exited'
signal_test sigint_escaped INT 130 run --linger=600 -c 'echo other' -c "$escaped" &&
    expect_err sigint_escaped '^syncstream: interrupted by SIGINT: 0 of 2 commands failed, 0 not started$'
kill_leftovers

# Without a signal, --linger bounds the wait after the job's exit: the output
# is cut (said on stderr), the job still succeeded. Output written within the
# linger time is kept; --linger=0 cuts at the exit.
run linger 0 run --linger=1 -c "echo a; setsid sleep 101 $marker & exit 0" &&
    in_order linger out a &&
    expect_err linger '^syncstream: 1:echo: its output was still held open after it exited \(by a process it left running\); no longer read$'
run linger_zero 0 run --linger=0 -c "echo a; setsid sleep 101 $marker & exit 0" &&
    in_order linger_zero out a && expect_err linger_zero 'no longer read'
kill_leftovers
run linger_late 0 run --linger=30 -c 'echo a; (sleep 0.3; echo late) & exit 0' &&
    in_order linger_late out a late && empty linger_late err
run linger_json 0 run --json --linger=0 -c "setsid sleep 101 $marker & exit 0" &&
    expect_out linger_json '"text":"exited with status 0; output held open by another process, cut"'
kill_leftovers
run usage_linger 2 run --linger=x -c true &&
    expect_err usage_linger "^syncstream: run: --linger wants seconds from 0 to 86400, not 'x'$"

# Standard output is a pipe nobody reads: run's writes block, and a signal
# must still end it (without the summary then).
mkfifo "$tmp/stuck.fifo"
exec 7<>"$tmp/stuck.fifo" # holds the pipe open, never reads
"$tool" run -c 'echo started >&2; exec yes' </dev/null >"$tmp/stuck.fifo" 2>"$tmp/stuck.err" &
pid=$!
if wait_for "$tmp/stuck.err" started; then
    sleep 0.5 # let the pipe fill; the check does not depend on it having filled
    kill -TERM "$pid"
    status=
    if wait_exit "$pid" 15; then
        check_status stuck 143 "$status"
    else
        fail stuck "still running 15 s after SIGTERM"
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
else
    fail stuck "the job did not start within 10 s"
    kill -KILL "$pid" 2>/dev/null
fi
exec 7<&-

# A closed standard output (`| head -1`) is no failure: the jobs are stopped
# (none left running), nothing is said, and the status is GNU parallel's, 141.
"$tool" run -c yes -c "exec sleep 100 $marker" </dev/null 2>"$tmp/epipe.err" | head -1 >/dev/null
st=${PIPESTATUS[0]}
if [ "$st" -eq 141 ]; then pass "epipe: exit status 141"; else fail epipe "exit status $st, not 141"; fi
if [ -s "$tmp/epipe.err" ]; then fail epipe "stderr: $(head -c 600 "$tmp/epipe.err")"; else
    pass "epipe: nothing on stderr"; fi
if pgrep -f "sleep 100 $marker" >/dev/null; then fail epipe "a job was left running"; kill_leftovers; else
    pass "epipe: no job left running"; fi
# The issue's example, beside parallel's status on the same pipeline.
"$tool" run -c 'seq 100000' </dev/null 2>"$tmp/head.err" | head -1 >"$tmp/head.out"
st=${PIPESTATUS[0]}
if command -v parallel >/dev/null; then
    parallel ::: 'seq 100000' </dev/null 2>/dev/null | head -1 >/dev/null
    want=${PIPESTATUS[0]}
else
    want=141
fi
if [ "$st" -eq "$want" ] && [ "$(cat "$tmp/head.out")" = 1 ] && [ ! -s "$tmp/head.err" ]; then
    pass "| head -1: status $want as parallel, quiet"; else
    fail head "status $st (parallel: $want), stdout [$(cat "$tmp/head.out")], stderr: $(head -c 300 "$tmp/head.err")"; fi
# Any other write error is still one: reported, status 1.
timeout 60 "$tool" run -c 'seq 100000' </dev/null >/dev/full 2>"$tmp/full.err"
check_status full 1 $? && expect_err full "writing standard output: No space left"
# A reader slower than the jobs: flow control makes the jobs wait, nothing is
# lost, and the printer waits without spinning.
"$tool" run -c 'seq 1 70000' </dev/null 2>"$tmp/slow.err" | (sleep 1; wc -l) >"$tmp/slow.out"
if [ "$(tr -d ' ' <"$tmp/slow.out")" = 70000 ]; then pass "slow reader: all lines"; else
    fail slow "$(cat "$tmp/slow.out") lines, not 70000"; fi

# ---- help ----

run help 0 run --help && expect_out help '^Usage: syncstream run ' && expect_out help ':::' &&
    expect_out help '^Examples:' && expect_out help '130'
run help_cmd 0 help run && cmp -s "$tmp/help.out" "$tmp/help_cmd.out" && pass "help run = run --help" ||
    fail help_cmd "'help run' differs from 'run --help'"
run main_help 0 --help && expect_out main_help '^  run ' && expect_out main_help '^  3  '

if [ "$failed" -ne 0 ]; then
    echo "some checks FAILED"
    exit 1
fi
echo "all checks passed"
