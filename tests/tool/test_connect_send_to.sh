#!/usr/bin/env bash
# `syncstream connect URI --send-to URL`: the device's lines mirrored as
# records to a real `syncstream serve` on a free port of 127.0.0.1, read back
# with `syncstream read`: from a script, a session and a shared session, a
# partial last line included.
#
#     test_connect_send_to.sh SYNCSTREAM PYTHON3
#
# Each check prints "ok" or "FAIL" with the reason; exits 1 if any failed.
# Waits are bounded loops (and `run`'s 60 s); no check asserts a timing.
set -u

tool=$1 python=$2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/syncstream-sendto.XXXXXX") || exit 1
serve_pid=
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh"

# fresh_server: a new, empty `serve`; its buffer's URL in $url.
fresh_server() {
    if [ -n "$serve_pid" ]; then kill "$serve_pid"; wait "$serve_pid" 2>/dev/null; fi
    local port
    port=$(free_port)
    "$tool" serve --listen "127.0.0.1:$port" 2>/dev/null &
    serve_pid=$!
    wait_port "$port" || fail serve "serve did not listen on $port"
    url=http://127.0.0.1:$port/sync-stream
}

# records NAME [sort]: what the server holds, one "SOURCE KIND TEXT[ stderr]"
# line a record (sorted: two pipes' lines come in either order), compared
# with the lines of $tmp/want.
records() {
    timeout 30 "$tool" read -n 1000 --json "$url" 2>"$tmp/$1.read.err" |
        "$python" -c 'import json, sys
out = []
for l in sys.stdin:
    r = json.loads(l)
    out.append(r["source"] + " " + r["kind"] + " " + r["text"] + (" stderr" if r["stderr"] else ""))
print("".join(x + "\n" for x in (sorted(out) if sys.argv[1:] else out)), end="")' ${2:+sort} \
        >"$tmp/$1.records"
    if diff -u "$tmp/want" "$tmp/$1.records" >"$tmp/$1.diff"; then pass "$1 records"; else
        fail "$1" "unexpected records: $(head -c 800 "$tmp/$1.diff")"; fi
}

# A script: the lines before the expectation and the partial line it
# matched, which the end of the session delivers, all with the URI (cut to
# 31 bytes) as their source.
fresh_server
dev='exec:printf "boot 1\nboot 2\nlogin: "; sleep 30'
run script 0 connect -q -e 'login: ' --timeout 10 --send-to "$url" "$dev"
printf '%s line boot 1\n%s line boot 2\n%s line login: \n' \
    "${dev:0:31}" "${dev:0:31}" "${dev:0:31}" >"$tmp/want"
records script

# A session (standard input not a terminal), named with --source, its
# program's standard error flagged but mirrored too.
fresh_server
run session 0 connect --source board --send-to "$url" \
    'exec-pipe:printf "one\ntwo\n"; echo oops >&2; printf "last"'
printf 'board line last\nboard line one\nboard line oops stderr\nboard line two\n' >"$tmp/want"
records session sort

# A shared console: the clients' copy and the server's.
fresh_server
run shared 0 connect --share tcp://127.0.0.1:0 --source shared --send-to "$url" \
    'exec:printf "s1\ns2\n"'
printf 'shared line s1\nshared line s2\n' >"$tmp/want"
records shared

# A server that wants a token, and one on https with its own certificate:
# --send-to-token-file and --send-to-cacert, as send's --token-file and --cacert.
printf 's3cret\n' >"$tmp/token"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null
port=$(free_port)
"$tool" serve --listen "127.0.0.1:$port" --token-file "$tmp/token" \
    --cert "$tmp/cert.pem" --key "$tmp/key.pem" 2>/dev/null &
serve_pid=$!
wait_port "$port" || fail serve "serve did not listen on $port"
url=https://127.0.0.1:$port/sync-stream
run no_token 1 connect --source tok --send-to "$url" --send-to-cacert "$tmp/cert.pem" \
    'exec:printf "refused\n"'
expect_err no_token "401"
run untrusted 1 connect --source tok --send-to "$url" --send-to-token-file "$tmp/token" \
    'exec:printf "refused\n"'
expect_err untrusted "certificate"
run token 0 connect --source tok --send-to "$url" --send-to-token-file "$tmp/token" \
    --send-to-cacert "$tmp/cert.pem" 'exec:printf "let in\n"'
run token_read 0 read -n 10 --cacert "$tmp/cert.pem" -t "$tmp/token" "$url"
if grep -q ' tok line let in$' "$tmp/token_read.out" && ! grep -q refused "$tmp/token_read.out"
then pass "token_read output"; else
    fail token_read "unexpected: $(cat "$tmp/token_read.out")"; fi
run token_alone 2 connect --send-to-token-file "$tmp/token" 'exec:true'
expect_err token_alone "--send-to-token-file goes with --send-to"
run cacert_alone 2 connect --send-to-cacert "$tmp/cert.pem" 'exec:true'
expect_err cacert_alone "--send-to-cacert goes with --send-to"

# Bad input: a URL that is not http(s), a source too long, --source alone.
run bad_url 2 connect --send-to ftp://x/y 'exec:true'
expect_err bad_url "not an http:// or https:// URL"
run long_source 2 connect --send-to "$url" --source 0123456789012345678901234567890123 'exec:true'
expect_err long_source "at most 31 bytes"
run source_alone 2 connect --source x 'exec:true'
expect_err source_alone "goes with --send-to"

exit "$failed"
