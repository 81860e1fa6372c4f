#!/usr/bin/env bash
# End-to-end tests of `syncstream serve --store redis://...` with a real
# redis-server started here (its own port, config and directory): the Python
# sync-stream client's base protocol against the Redis store; two server
# processes on one key (a line posted to one is read from the other); a server
# stopped and started again keeps the buffer; Redis stopped gives 503 with a
# JSON message, and started again with its data is used without restarting
# the servers; --store usage errors.
#
#     test_serve_redis.sh SYNCSTREAM PYTHON3 SRCDIR
#
# Each check prints "ok" or "FAIL"; the script exits 1 if any failed. Waits
# are bounded loops.
set -u

tool=$1 python=$2 srcdir=$3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/syncstream-redis.XXXXXX") || exit 1
pids=()
redis_pid=
cleanup() {
    for p in "${pids[@]}" $redis_pid; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh"

# A free port of 127.0.0.1, from the kernel.
redis_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/redis.conf" <<EOF
bind 127.0.0.1
port $redis_port
dir $tmp
logfile $tmp/redis.log
save ""
appendonly yes
appendfsync always
EOF

# start_redis: run redis-server in the background and wait until it answers.
start_redis() {
    redis-server "$tmp/redis.conf" </dev/null >/dev/null 2>&1 &
    redis_pid=$!
    for _ in $(seq 200); do
        [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ] && return 0
        kill -0 "$redis_pid" 2>/dev/null || break
        sleep 0.1
    done
    fail "redis-server" "did not start: $(tail -c 600 "$tmp/redis.log")"
    exit 1
}

stop_redis() {
    kill "$redis_pid"
    wait "$redis_pid"
    redis_pid=
}

# start_server NAME KEY [ARGS...]: `serve --store redis://.../KEY` in the
# background; sets the variable NAME_port and appends to pids.
start_server() {
    local name=$1 key=$2
    shift 2
    rm -f "$tmp/$name.err" # a restarted server's port is read afresh
    "$tool" serve --listen 127.0.0.1:0 --store "redis://127.0.0.1:$redis_port/$key" "$@" \
        </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pids+=($!)
    eval "${name}_pid=$!"
    for _ in $(seq 200); do
        local port
        port=$(sed -n 's|.*serving http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/$name.err" 2>/dev/null)
        if [ -n "$port" ]; then
            eval "${name}_port=$port"
            return 0
        fi
        sleep 0.1
    done
    fail "$name" "the server did not start: $(head -c 600 "$tmp/$name.err")"
    return 1
}

# http METHOD PORT SUFFIX [BODY]: prints "STATUS BODY".
http() {
    "$python" - "$@" <<'EOF'
import sys, urllib.error, urllib.request
method, port, suffix = sys.argv[1:4]
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request("http://127.0.0.1:%s/sync-stream%s" % (port, suffix), data=body,
                             method=method, headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=30) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as err:
    print(err.code, err.read().decode())
EOF
}

start_redis

# 1. The Python client's base protocol against the Redis store.
if start_server py python-key --maxlen 10; then
    if "$python" "$srcdir/sync_stream_client.py" "http://127.0.0.1:$py_port/sync-stream" \
        >"$tmp/python.log" 2>&1; then
        pass "python client against the Redis store: $(tail -1 "$tmp/python.log")"
    else
        fail "python client" "$(grep -v '^ok' "$tmp/python.log" | head -c 2000)"
    fi
fi

# 2. Two server processes, one key.
start_server one shared && start_server two shared
http POST "$one_port" "" '{"type": "str", "data": {"value": "posted to one\n"}}' >/dev/null
got=$(http GET "$two_port" "")
case $got in
*'"data":["posted to one"]'*) pass "a line posted to one server is read from the other" ;;
*) fail "two servers" "got '$got'" ;;
esac

# 3. A server stopped and started again: the buffer is where it was.
kill "$one_pid"
wait "$one_pid"
start_server one shared
got=$(http GET "$one_port" "?since=0")
case $got in
*'"seq":1'*'"text":"posted to one"'*) pass "a restarted server serves the same buffer" ;;
*) fail "server restart" "got '$got'" ;;
esac

# 4. Redis away: 503 with a message; back with its data: served again.
stop_redis
got=$(http POST "$two_port" "" '{"type": "str", "data": {"value": "during\n"}}')
case $got in
'503 {"message":'*'Redis store cannot be reached'*) pass "Redis away: 503 with a JSON message" ;;
*) fail "Redis away" "got '$got'" ;;
esac
start_redis
got=
for _ in $(seq 100); do
    got=$(http POST "$two_port" "" '{"type": "str", "data": {"value": "after\n"}}')
    case $got in 201*) break ;; esac
    sleep 0.1
done
got=$(http GET "$one_port" "")
case $got in
*'"data":["posted to one","after"]'*) pass "Redis back with its data, servers reconnected" ;;
*) fail "Redis back" "got '$got'" ;;
esac

# 5. Usage errors.
for bad in bogus redis://host redis://host:0/k 'redis://h/a b'; do
    "$tool" serve --store "$bad" </dev/null >"$tmp/usage.out" 2>"$tmp/usage.err"
    status=$?
    if [ "$status" -eq 2 ] && grep -q -- "--store wants memory or redis://" "$tmp/usage.err"; then
        pass "--store '$bad': usage error"
    else
        fail "--store '$bad'" "status $status: $(head -c 400 "$tmp/usage.err")"
    fi
done

# Every server stops cleanly on SIGTERM.
for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || continue
    kill "$p"
    wait "$p"
    status=$?
    [ "$status" -eq 0 ] || fail "stop" "server $p exited with $status"
done
pids=()
exit $failed
