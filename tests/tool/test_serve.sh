#!/usr/bin/env bash
# End-to-end tests of `syncstream serve`: the base protocol exactly as the
# Python sync-stream client speaks it (sync_stream_client.py, standard library
# only), with and without a token; usage errors; a port in use; clean stops on
# SIGINT and SIGTERM with requests still open.
#
#     test_serve.sh SYNCSTREAM PYTHON3 SRCDIR
#
# Every server listens on 127.0.0.1 with a port the kernel picks (--listen
# 127.0.0.1:0); the port is read from the server's first line. Each check prints
# "ok" or "FAIL"; the script exits 1 if any failed. Waits are bounded loops.
set -u

tool=$1 python=$2 srcdir=$3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/syncstream-serve.XXXXXX") || exit 1
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh"

# start_server NAME ARGS...: run `serve --listen 127.0.0.1:0 ARGS` in the
# background; sets server_pid and port (empty if it did not start in 20 s).
start_server() {
    local name=$1
    shift
    : >"$tmp/$name.err" # exists before the background shell opens it
    "$tool" serve --listen 127.0.0.1:0 "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err" &
    server_pid=$!
    port=
    for _ in $(seq 200); do
        port=$(sed -n 's|.*serving https\{0,1\}://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/$name.err")
        [ -n "$port" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    fail "$name" "the server did not start: $(head -c 600 "$tmp/$name.err")"
    return 1
}

# stop_server NAME SIGNAL: signal the server, wait for it (bounded), check it
# exits 0 saying why.
stop_server() {
    local name=$1 sig=$2
    kill -"$sig" "$server_pid"
    for _ in $(seq 200); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        fail "$name" "still running 20 s after SIG$sig"
        kill -KILL "$server_pid"
    fi
    wait "$server_pid"
    local status=$?
    server_pid=
    if [ "$status" -eq 0 ] && grep -q "stopped by SIG$sig" "$tmp/$name.err"; then
        pass "$name: SIG$sig stops it cleanly"
    else
        fail "$name" "status $status after SIG$sig: $(tail -c 600 "$tmp/$name.err")"
    fi
}

# 1. The Python client's base protocol, end to end.
if start_server python --maxlen 10; then
    if "$python" "$srcdir/sync_stream_client.py" "http://127.0.0.1:$port/sync-stream" \
        >"$tmp/python.log" 2>&1; then
        pass "python client: $(tail -1 "$tmp/python.log")"
    else
        fail "python client" "$(grep -v '^ok' "$tmp/python.log" | head -c 2000)"
    fi
    # a long-poll and an event stream left open do not keep the server from stopping
    "$python" - "$port" <<'EOF' &
import sys, urllib.request
try:
    urllib.request.urlopen("http://127.0.0.1:%s/sync-stream-events" % sys.argv[1], timeout=30).read()
except Exception:
    pass
EOF
    reader_pid=$!
    sleep 0.3
    stop_server python TERM
    wait "$reader_pid"
fi

# 2. With a token: the same client passing it; none gets 401 with a message.
printf 'tok-%s\n' "$RANDOM$RANDOM" >"$tmp/token"
if start_server token --maxlen 10 --route /sync-stream --token-file "$tmp/token"; then
    if "$python" "$srcdir/sync_stream_client.py" "http://127.0.0.1:$port/sync-stream" \
        "$(head -1 "$tmp/token")" >"$tmp/token.log" 2>&1; then
        pass "python client with a token"
    else
        fail "python client with a token" "$(grep -v '^ok' "$tmp/token.log" | head -c 2000)"
    fi
    answer=$("$python" - "$port" <<'EOF'
import json, sys, urllib.error, urllib.request
try:
    urllib.request.urlopen("http://127.0.0.1:%s/sync-stream" % sys.argv[1], timeout=30)
    print("no error")
except urllib.error.HTTPError as err:
    print(err.code, json.load(err)["message"])
EOF
)
    if [ "$answer" = "401 missing or wrong bearer token" ]; then pass "no token: 401"; else
        fail "no token" "got '$answer'"; fi
    stop_server token INT
fi

# 3. Usage errors (status 2) and start failures (status 1).
usage() {
    local name=$1
    shift
    "$tool" serve "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err"
    local status=$?
    if [ "$status" -eq 2 ] && grep -q "Try 'syncstream serve --help'" "$tmp/$name.err"; then
        pass "$name: usage error"
    else
        fail "$name" "status $status: $(head -c 400 "$tmp/$name.err")"
    fi
}
usage maxlen-zero --maxlen 0
usage maxlen-word --maxlen ten
usage route --route nope
usage route-root --route /
usage cert-alone --cert x.pem
usage extra-arg extra
usage unknown-opt --bogus
usage listen-bad --listen localhost
usage listen-name --listen localhost:5000
usage route-chars --route '/a b'
usage maxlen-huge --maxlen 999999999999
usage budget-zero --body-budget 0
usage budget-small --body-budget 1000 --max-body 2000
if grep -q "must be at least --max-body" "$tmp/budget-small.err"; then pass "budget-small: says why"; else
    fail budget-small "$(head -c 400 "$tmp/budget-small.err")"; fi

"$tool" serve --help >"$tmp/help.out" 2>&1
if [ $? -eq 0 ] && grep -q -- "--token-file" "$tmp/help.out" && grep -q "Example" "$tmp/help.out"; then
    pass "serve --help"
else
    fail "serve --help" "$(head -c 400 "$tmp/help.out")"
fi

if start_server busy; then
    "$tool" serve --listen "127.0.0.1:$port" </dev/null >"$tmp/busy2.out" 2>"$tmp/busy2.err"
    status=$?
    if [ "$status" -eq 1 ] && grep -q "already in use" "$tmp/busy2.err"; then
        pass "port in use: status 1"
    else
        fail "port in use" "status $status: $(head -c 400 "$tmp/busy2.err")"
    fi
    stop_server busy TERM
fi
"$tool" serve --listen 127.0.0.1:0 --token-file "$tmp/missing" </dev/null >/dev/null 2>"$tmp/notoken.err"
status=$?
if [ "$status" -eq 1 ] && grep -q "No such file" "$tmp/notoken.err"; then pass "missing token file: status 1"; else
    fail "missing token file" "status $status: $(head -c 400 "$tmp/notoken.err")"; fi

# 4. HTTPS with a certificate made here; the client checks it against that CA.
if openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null &&
    start_server tls --cert "$tmp/cert.pem" --key "$tmp/key.pem"; then
    answer=$("$python" - "$port" "$tmp/cert.pem" <<'EOF'
import json, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
url = "https://127.0.0.1:%s/sync-stream" % sys.argv[1]
body = json.dumps({"type": "str", "data": {"value": "over tls\n"}}).encode()
req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, context=ctx, timeout=30).read()
print(json.load(urllib.request.urlopen(url, context=ctx, timeout=30))["data"])
EOF
)
    if [ "$answer" = "['over tls']" ] && grep -q "serving https://" "$tmp/tls.err"; then
        pass "https with --cert and --key"
    else
        fail "https" "got '$answer': $(head -c 400 "$tmp/tls.err")"
    fi
    stop_server tls TERM
fi
"$tool" serve --listen 127.0.0.1:0 --cert "$tmp/cert.pem" --key "$tmp/cert.pem" </dev/null \
    >/dev/null 2>"$tmp/badkey.err"
status=$?
if [ "$status" -eq 1 ] && grep -q "certificate or key" "$tmp/badkey.err"; then
    pass "a key that is not a key: status 1"
else
    fail "bad key" "status $status: $(head -c 400 "$tmp/badkey.err")"
fi
printf '\n' >"$tmp/empty-token"
"$tool" serve --listen 127.0.0.1:0 --token-file "$tmp/empty-token" </dev/null >/dev/null 2>"$tmp/empty.err"
status=$?
if [ "$status" -eq 1 ] && grep -q "no token" "$tmp/empty.err"; then pass "empty token file: status 1"; else
    fail "empty token file" "status $status: $(head -c 400 "$tmp/empty.err")"; fi

exit $failed
