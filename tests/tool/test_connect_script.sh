#!/usr/bin/env bash
# End-to-end tests of `syncstream connect --script FILE`, one per construct,
# against a scripted router console (router_device.py on a pty, exec:).
#
#     test_connect_script.sh SYNCSTREAM PYTHON3 DEVICE EXAMPLE
#
# Each check prints "ok" or "FAIL" with the reason; the script exits 1 if any
# check failed. Every expect of the scripts has a timeout; the device answers
# at once, so the timeouts bound the run and no check asserts a timing.
set -u

tool=$1 python=$2 device=$3 example=$4

tmp=$(mktemp -d "${TMPDIR:-/tmp}/syncstream-cscript.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

. "$(dirname "$0")/lib.sh"

dev() { echo "exec:$python $device $*"; }
# script NAME: the script on stdin goes to $tmp/NAME.connect
script() { cat >"$tmp/$1.connect"; }

# ---- the help names the option ----

run help 0 connect --help && expect_out help '--script=FILE' && expect_out help "exit N"

# ---- the example: a router login ----

run example 0 connect --script "$example" "$(dev)" && expect_out example 'config line 30' &&
    expect_out example '^bye'
run example_retry 0 connect --script "$example" "$(dev --reject 2)" &&
    expect_out example_retry 'Login incorrect' && expect_out example_retry 'config line 30'
run example_gave_up 1 connect --script "$example" "$(dev --reject 9)" &&
    expect_err example_gave_up "router-login.connect:[0-9]+: retry: gave up after 3 retries"

# ---- branches on several patterns: the one that comes first is taken ----

script branch <<'S'
timeout 10
expect
    "login: "   -> echo "took login"; sendline "admin"
    "router# "  -> echo "took prompt"; goto in
end
expect "Password: "
sendline "secret"
expect "router# "
in:
sendline "exit 0"
expect eof
S
run branch_login 0 connect --script "$tmp/branch.connect" "$(dev)" &&
    expect_err branch_login '^took login$' && expect_out branch_login '^bye'
run branch_prompt 0 connect --script "$tmp/branch.connect" "$(dev --logged-in)" &&
    expect_err branch_prompt '^took prompt$' && expect_out branch_prompt '^bye' &&
    if grep -q 'took login' "$tmp/branch_prompt.err"; then fail branch_prompt "took login too"; fi
# a regex branch and an exact one
script branch_re <<'S'
timeout 10
expect
    re "log[a-z]+: " -> echo "regex"
    "no such text"   -> echo "exact"
end
S
run branch_re 0 connect --script "$tmp/branch_re.connect" "$(dev)" && expect_err branch_re '^regex$'

# ---- retry after "Login incorrect" ----

script retry <<'S'
timeout 10
login:
expect "login: "
sendline "admin"
expect "Password: "
sendline "secret"
expect
    "Login incorrect" -> echo "again"; retry 2 login
    "router# "        -> echo "in"
end
S
run retry_ok 0 connect --script "$tmp/retry.connect" "$(dev --reject 2)" &&
    [ "$(grep -c '^again$' "$tmp/retry_ok.err")" = 2 ] && pass "retry_ok retried twice" &&
    expect_err retry_ok '^in$'
run retry_out 1 connect --script "$tmp/retry.connect" "$(dev --reject 3)" &&
    expect_err retry_out "retry.connect:8: retry: gave up after 2 retries"

# ---- paging through --More-- ----

script more <<'S'
timeout 10
expect "router# "
sendline "show running-config"
expect
    "--More--" -> echo "page"; send " "; again
    "router# "
end
sendline "exit"
expect eof
S
run more 0 connect --script "$tmp/more.connect" "$(dev --logged-in --pages 5)" &&
    expect_out more '^config line 50' &&
    [ "$(grep -c '^page$' "$tmp/more.err")" = 4 ] && pass "more: 4 pages turned"
# `again` is bounded by max-steps: a pager that never ends is stopped
script more_bound <<'S'
max-steps 6
timeout 10
expect "router# "
sendline "show running-config"
expect
    "--More--" -> send " "; again
    "router# "
end
S
run more_bound 1 connect --script "$tmp/more_bound.connect" "$(dev --logged-in --pages 50)" &&
    expect_err more_bound "more_bound.connect:[0-9]+: the script ran 6 steps \(max-steps\)"

# ---- the timeout branch ----

script timeout <<'S'
timeout 10
expect "router# "
sendline "silence"
timeout 0.3
expect
    "never said" -> exit 1
    timeout      -> echo "no answer"
end
timeout 10
sendline "exit 0"
expect "bye"
exit 7
S
run timeout_branch 7 connect --script "$tmp/timeout.connect" "$(dev --logged-in)" &&
    expect_err timeout_branch '^no answer$' && expect_out timeout_branch 'bye'
# without a timeout branch: the error payload, exit 4, the file and line
script timeout_fail <<'S'
timeout 10
expect "router# "
sendline "silence"
timeout 0.3
expect "never said"
S
run timeout_fail 4 connect --script "$tmp/timeout_fail.connect" "$(dev --logged-in)" &&
    expect_err timeout_fail "timeout_fail.connect:5: not done within 0.3 s" &&
    expect_err timeout_fail '^--- received, not matched \([0-9]+ bytes\) ---$' &&
    expect_err timeout_fail 'router# '

# ---- the end of the stream and the exit status ----

script eof <<'S'
timeout 10
expect "router# "
sendline "exit 3"
expect eof
wait
exit
S
run eof_status 3 connect --script "$tmp/eof.connect" "$(dev --logged-in)" && expect_out eof_status 'bye'
# an eof branch in a block; what was left is printed
script eof_branch <<'S'
timeout 10
expect "router# "
sendline "exit 0"
expect
    "never said" -> exit 1
    eof          -> echo "ended"; wait; exit 9
end
S
run eof_branch 9 connect --script "$tmp/eof_branch.connect" "$(dev --logged-in)" &&
    expect_err eof_branch '^ended$' && expect_out eof_branch 'bye'
# no eof branch: exit 5 and the payload, as a step
script eof_fail <<'S'
timeout 10
expect "router# "
sendline "exit 0"
expect "never said"
S
run eof_fail 5 connect --script "$tmp/eof_fail.connect" "$(dev --logged-in)" &&
    expect_err eof_fail "eof_fail.connect:4: the stream ended first" && expect_err eof_fail 'bye'
# the end of the script without exit: 0, or what wait took
printf 'wait\n' >"$tmp/wait_only.connect"
run wait_only 6 connect --script "$tmp/wait_only.connect" 'exec:echo done; exit 6' &&
    expect_out wait_only '^done'

# ---- bad scripts: exit 2 before connecting, FILE:LINE and what is wrong ----

bad() { # bad NAME REGEX: the script on stdin is refused with REGEX on stderr
    script "$1"
    run "bad_$1" 2 connect --script "$tmp/$1.connect" exec:true && expect_err "bad_$1" "$2"
}
printf 'send "x"\nsned "y"\n' | bad keyword "keyword.connect:2: unknown keyword 'sned'"
printf '# c\nsend "abc\n' | bad unterminated "unterminated.connect:2: unterminated string"
printf 'expect\n  "a" -> goto nowhere\nend\n' | bad label "label.connect:2: unknown label 'nowhere'"
printf 'a:\na:\n' | bad twice "twice.connect:2: label 'a' is defined twice \(first on line 1\)"
printf 'expect\n  "a"\n' | bad noend "noend.connect:1: this expect block has no end"
printf 'again\n' | bad again "again.connect:1: again goes in a branch of an expect block"
printf 'send "\\q"\n' | bad escape 'escape.connect:1: bad escape'
printf 'expect\n  timeout -> exit 1\nend\n' | bad only_timeout 'only_timeout.connect:3: an expect block with only a timeout branch'
printf 'expect\n  "a" -> goto x; send "b"\nend\nx:\n' | bad after_goto 'after_goto.connect:2: nothing runs after goto'
printf 'timeout soon\n' | bad timeout_value "timeout_value.connect:1: timeout wants seconds"
printf 'exit 300\n' | bad exit_value "exit_value.connect:1: exit wants a whole number from 0 to 255"
printf 'expect re "("\n' >"$tmp/regex.connect"
run bad_regex 2 connect --script "$tmp/regex.connect" "$(dev --logged-in)" &&
    expect_err bad_regex "regex.connect:1: '\(' is not a valid regular expression"
run no_file 1 connect --script "$tmp/none.connect" exec:true && expect_err no_file "cannot read the script"
run with_steps 2 connect --script "$tmp/eof.connect" -e x exec:true && expect_err with_steps 'not both'
# a loop without expects is stopped by max-steps, not run forever
printf 'loop:\nsend "x"\ngoto loop\n' >"$tmp/loop.connect"
run loop 1 connect --script "$tmp/loop.connect" 'exec:cat >/dev/null' &&
    expect_err loop "loop.connect:[23]: the script ran 100000 steps \(max-steps\)"

exit $failed
