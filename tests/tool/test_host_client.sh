#!/usr/bin/env bash
# End-to-end tests of `syncstream send`, `read` and `stop` against a
# base-protocol server (tests/host/base_server.py, standing in for the Python
# package's), then against `syncstream serve`, each on a free port of
# 127.0.0.1.
#
#     test_host_client.sh SYNCSTREAM PYTHON3 BASE_SERVER
#
# Each check prints "ok" or "FAIL" with the reason; exits 1 if any failed.
# Waits are bounded loops; no check asserts a timing.
set -u

tool=$1 python=$2 server=$3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/syncstream-host.XXXXXX") || exit 1
server_pid= serve_pid= follow_pid= tls_pid= send_pid=
cleanup() {
    for pid in $server_pid $serve_pid $follow_pid $tls_pid $send_pid; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh"

# run NAME EXPECTED_STATUS ARGS... (stdin from $tmp/NAME.in when it exists)
same_out() {
    if diff -u "$2" "$tmp/$1.out" >"$tmp/$1.diff"; then pass "$1 output"; else
        fail "$1" "unexpected output: $(head -c 800 "$tmp/$1.diff")"; fi
}

# wait_for FILE PATTERN: until a line of FILE matches (a bounded wait).
wait_for() {
    for _ in $(seq 500); do
        grep -q -- "$2" "$1" && return 0
        sleep 0.02
    done
    return 1
}
# end_follow: SIGINT to the follower in the background; its exit status in $status.
end_follow() {
    kill -INT "$follow_pid"
    wait "$follow_pid"
    status=$?
    follow_pid=
}

port=$(free_port)
"$python" "$server" --port "$port" --maxlen 100 >/dev/null &
server_pid=$!
wait_port "$port"
url=http://127.0.0.1:$port/sync-stream
# Without --source, standard input's records come from the host name (at most
# 31 bytes of it), a command's from its name.
host=$(hostname | cut -c1-31)

# Standard input, a partial last line included, arrives as lines.
printf 'one\ntwo\nthree' >"$tmp/stdin.in"
run stdin 0 send --source me "$url"
printf -- '- - - line one\n- - - line two\n- - - line three\n' >"$tmp/want"
run read_all 0 read "$url"
same_out read_all "$tmp/want"

run read_n 0 read -n 1 --json "$url"
printf '{"seq":0,"time":"1970-01-01T00:00:00.000000Z","time_ns":0,"source":"","kind":"line","text":"three","continued":false,"partial":false,"stderr":false,"exit":false}\n' >"$tmp/want"
same_out read_n "$tmp/want"

# A command's output, stdout and stderr (two pipes: in either order), then how
# it ended; its status is send's. The base protocol carries no flags.
run command 5 send "$url" -- sh -c 'echo out; echo err >&2; exit 5'
expect_err command 'sh exited with status 5'
run read_cmd 0 read -n 3 "$url"
if [ "$(head -2 "$tmp/read_cmd.out" | sort | tr '\n' '|')" = "- - - line err|- - - line out|" ] &&
    [ "$(tail -1 "$tmp/read_cmd.out")" = "- - - error exited with status 5" ]; then
    pass "read_cmd output"; else fail read_cmd "unexpected: $(cat "$tmp/read_cmd.out")"; fi

# A stop request: send ends with status 6 and stops its command.
run stop 0 stop "$url"
run stopped 6 send "$url" -- sh -c 'while :; do echo tick; sleep 0.05; done'
expect_err stopped "a stop was requested"
run reset 0 stop --reset "$url"
printf 'again\n' >"$tmp/again.in"
run again 0 send "$url"

# A NUL through the base protocol.
printf 'x\0y\n' >"$tmp/base_nul.in"
run base_nul 0 send "$url"
run base_nul_read 0 read -n 1 --json "$url"
expect_out base_nul_read '"text":"x\\u0000y"'

# Follow needs our server's extensions.
run follow 1 read --follow "$url"
expect_err follow "base protocol"

# Lines that cannot be delivered are shown, not lost.
dead=http://127.0.0.1:$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')/sync-stream
printf 'kept 1\nkept 2\n' >"$tmp/dead.in"
run dead 1 send --timeout=1 "$dead"
expect_err dead "2 lines not delivered"
expect_err dead "^- - $host line kept 2$"
# the line and the exit record of echo
run wrong_route 1 send "http://127.0.0.1:$port/elsewhere" -- echo lost
expect_err wrong_route "2 lines not delivered.*404"
run read_dead 1 read "$dead"
expect_err read_dead "Connection refused"

# A host name that does not resolve: the name and the resolver's error, not
# "No route to host". send retries (the name may appear) until its timeout.
nohost=http://no-such-host.invalid:5000/x
printf 'kept 1\n' >"$tmp/nohost_send.in"
run nohost_send 1 send --timeout=2 "$nohost"
expect_err nohost_send "1 line not delivered.*cannot resolve the host name 'no-such-host.invalid': ."
for cmd in read stop; do
    run "nohost_$cmd" 1 "$cmd" "$nohost"
    expect_err "nohost_$cmd" "^syncstream: $cmd: $nohost: the host name .*: cannot resolve the host name 'no-such-host.invalid': ."
    if grep -q 'No route' "$tmp/nohost_$cmd.err"; then fail "nohost_$cmd" "says No route"; fi
done

# Against syncstream serve: records with seq, time and source; a live follow;
# a token.
printf 's3cret\n' >"$tmp/token"
sport=$(free_port)
"$tool" serve --listen "127.0.0.1:$sport" --maxlen 5 --token-file "$tmp/token" 2>/dev/null &
serve_pid=$!
wait_port "$sport"
surl=http://127.0.0.1:$sport/sync-stream
printf 'a\nb\n' >"$tmp/no_token.in"
run no_token 1 send --timeout=5 "$surl"
expect_err no_token "2 lines not delivered.*401"
printf 'a\nb\nc\n' >"$tmp/ext_send.in"
run ext_send 0 send -s me -t "$tmp/token" "$surl"
run ext_read 0 read -t "$tmp/token" "$surl"
if grep -Eq '^3 [0-9T:.-]+Z me line c$' "$tmp/ext_read.out" && [ "$(wc -l <"$tmp/ext_read.out")" -eq 3 ]; then
    pass "ext_read output"; else fail ext_read "unexpected: $(cat "$tmp/ext_read.out")"; fi
# Only what the server holds (maxlen 5), none reported missed.
seq 1 10 >"$tmp/ext_many.in"
run ext_many 0 send -t "$tmp/token" "$surl"
run ext_read_n 0 read -n 100 --json -t "$tmp/token" "$surl"
if [ "$(wc -l <"$tmp/ext_read_n.out")" -eq 5 ] && grep -q '"seq":13,.*"text":"10"' "$tmp/ext_read_n.out" &&
    ! grep -q rotated "$tmp/ext_read_n.err"; then pass "ext_read_n output"; else
    fail ext_read_n "unexpected: $(cat "$tmp/ext_read_n.out" "$tmp/ext_read_n.err")"; fi
run ext_no_token 1 read "$surl"
expect_err ext_no_token "401"
# Not -n 0: the lines may be sent before the follower has read where "now" is.
"$tool" read -f -t "$tmp/token" "$surl" >"$tmp/follow.out" 2>"$tmp/follow.err" &
follow_pid=$!
printf 'live 1\nlive 2\n' >"$tmp/live.in"
run live 0 send -s live -t "$tmp/token" "$surl"
wait_for "$tmp/follow.out" ' live line live 2$'
end_follow
if [ "$status" -eq 130 ] && grep -q '^1[45] .* live line live 2$' "$tmp/follow.out"; then
    pass "follow (status 130)"; else fail follow "status $status: $(cat "$tmp/follow.out" "$tmp/follow.err")"; fi
# The server restarts under a follow: it says so and reads on from the new
# life's first record.
"$tool" read -f -t "$tmp/token" "$surl" >"$tmp/refollow.out" 2>"$tmp/refollow.err" &
follow_pid=$!
wait_for "$tmp/refollow.out" ' live line live 2$'
kill "$serve_pid"
wait "$serve_pid"
"$tool" serve --listen "127.0.0.1:$sport" --maxlen 5 --token-file "$tmp/token" 2>/dev/null &
serve_pid=$!
wait_port "$sport"
printf 'reborn 1\nreborn 2\n' >"$tmp/reborn.in"
run reborn 0 send -s new -t "$tmp/token" "$surl"
wait_for "$tmp/refollow.out" ' new line reborn 2$'
end_follow
if [ "$status" -eq 130 ] && grep -q '^1 .* new line reborn 1$' "$tmp/refollow.out" &&
    grep -q '^2 .* new line reborn 2$' "$tmp/refollow.out" &&
    grep -q 'the server restarted' "$tmp/refollow.err"; then pass "follow across a restart (status 130)"; else
    fail refollow "status $status: $(cat "$tmp/refollow.out" "$tmp/refollow.err")"; fi
# Records may hold any byte: a NUL reaches every reader, shown as \x00 in
# text and \u0000 in JSON (it used to fail every read while the record was
# kept).
printf 'x\0y\n' >"$tmp/nul_send.in"
run nul_send 0 send -s bin -t "$tmp/token" "$surl"
run nul_read 0 read -n 1 -t "$tmp/token" "$surl"
expect_out nul_read '^[0-9]+ [0-9T:.-]+Z bin line x\\x00y$'
run nul_json 0 read -n 1 --json -t "$tmp/token" "$surl"
expect_out nul_json '"source":"bin","kind":"line","text":"x\\u0000y"'
"$tool" read -f -t "$tmp/token" "$surl" >"$tmp/nul_follow.out" 2>"$tmp/nul_follow.err" &
follow_pid=$!
wait_for "$tmp/nul_follow.out" ' bin line x\\x00y$'
end_follow
if [ "$status" -eq 130 ] && grep -q ' bin line x\\x00y$' "$tmp/nul_follow.out"; then
    pass "follow a NUL (status 130)"; else
    fail nul_follow "status $status: $(cat "$tmp/nul_follow.out" "$tmp/nul_follow.err")"; fi
run ext_stop 0 stop -t "$tmp/token" "$surl"
run ext_stopped 6 send -t "$tmp/token" "$surl" -- sh -c 'while :; do echo tick; sleep 0.05; done'
run ext_reset 0 stop --reset -t "$tmp/token" "$surl"
# A command's stderr and its exit record reach a syncstream server flagged,
# and read shows them (colored when asked).
run ext_cmd 5 send -t "$tmp/token" "$surl" -- sh -c 'echo out; echo err >&2; exit 5'
run ext_cmd_json 0 read -n 3 --json -t "$tmp/token" "$surl"
if "$python" -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 3, recs
by_text = {r["text"]: r for r in recs}
assert not by_text["out"]["stderr"] and not by_text["out"]["exit"], recs
assert by_text["err"]["stderr"] and by_text["err"]["kind"] == "line", recs
last = recs[-1]
assert last["text"] == "exited with status 5" and last["exit"] and last["kind"] == "error", recs
assert all(r["source"] == "sh" for r in recs), recs
' "$tmp/ext_cmd_json.out"; then pass "ext_cmd flags"; else
    fail ext_cmd_json "unexpected: $(cat "$tmp/ext_cmd_json.out")"; fi
run ext_cmd_text 0 read -n 3 --color=always -t "$tmp/token" "$surl"
esc=$(printf '\033')
expect_out ext_cmd_text "^${esc}\\[33m[0-9]+ .* sh line,stderr err${esc}\\[m$"
expect_out ext_cmd_text "^${esc}\\[1;31m[0-9]+ .* sh error,exit exited with status 5${esc}\\[m$"
run ext_cmd_ok 0 send -t "$tmp/token" "$surl" -- true
run ext_cmd_ok_read 0 read -n 1 -t "$tmp/token" "$surl"
expect_out ext_cmd_ok_read '^[0-9]+ .* true line,exit exited with status 0$'
# SIGINT while a command runs: send stops it, delivers what it printed and how
# it ended, and exits 130 (not the status of the command it stopped); the
# records' source is its name.
"$tool" send -t "$tmp/token" "$surl" -- sh -c 'echo before; exec sleep 60' \
    >"$tmp/sigint.out" 2>"$tmp/sigint.err" &
send_pid=$!
for _ in $(seq 500); do
    "$tool" read -n 1 -t "$tmp/token" "$surl" 2>/dev/null | grep -q ' sh line before$' && break
    sleep 0.02
done
kill -INT "$send_pid"
for _ in $(seq 750); do kill -0 "$send_pid" 2>/dev/null || break; sleep 0.02; done
kill -KILL "$send_pid" 2>/dev/null
wait "$send_pid"
status=$?
send_pid=
run sigint_read 0 read -n 2 -t "$tmp/token" "$surl"
if [ "$status" -eq 130 ] && grep -q '^[0-9]* .* sh line before$' "$tmp/sigint_read.out" &&
    grep -q '^[0-9]* .* sh error,exit killed by signal 15 (SIGTERM)$' "$tmp/sigint_read.out"; then
    pass "send interrupted (status 130)"; else
    fail send_sigint "status $status: $(cat "$tmp/sigint.err" "$tmp/sigint_read.out")"; fi

# https with a certificate made here, trusted with --cacert.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
tport=$(free_port)
"$tool" serve --listen "127.0.0.1:$tport" --cert "$tmp/cert.pem" --key "$tmp/key.pem" 2>/dev/null &
tls_pid=$!
wait_port "$tport"
turl=https://127.0.0.1:$tport/sync-stream
printf 'secure\n' >"$tmp/tls_send.in"
run tls_send 0 send --cacert "$tmp/cert.pem" "$turl"
run tls_read 0 read --cacert "$tmp/cert.pem" "$turl"
if grep -qF "$host line secure" "$tmp/tls_read.out" && grep -q '^1 .* line secure$' "$tmp/tls_read.out"; then
    pass "tls_read output"; else
    fail tls_read "unexpected: $(cat "$tmp/tls_read.out")"; fi
run tls_untrusted 1 read "$turl"
expect_err tls_untrusted "certificate"

# Usage errors.
run no_url 2 send
run bad_url 2 read ftp://x/y
run two_urls 2 stop "$url" "$url"
run bad_n 2 read -n -3 "$url"
run no_token_file 1 read -t "$tmp/missing" "$url"
run help_send 0 send --help
run help_read 0 help read
run help_stop 0 stop -h

exit $failed
