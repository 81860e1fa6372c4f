#!/usr/bin/env bash
# The web page of `syncstream serve` in headless chromium (web_page_test.js,
# driven by playwright-core), without and with a token.
#
#     test_web_page.sh SYNCSTREAM NODE SRCDIR NODE_MODULES SHOT_DIR
#
# NODE_MODULES holds playwright-core (scripts/deps.sh test installs it there).
# The page's screenshots are kept in SHOT_DIR (their paths are printed).
# Servers listen on 127.0.0.1 with a port the kernel picks. Exits 1 if a check
# failed. Waits are bounded.
set -u

tool=$1 node=$2 srcdir=$3 modules=$4 shots=$5

if [ ! -d "$modules/playwright-core" ]; then
    echo "FAIL playwright-core is not in $modules: run 'bash scripts/deps.sh test'"
    exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/syncstream-web.XXXXXX") || exit 1
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
failed=0

run_page_test() {
    local name=$1 token_file=$2
    shift 2
    : >"$tmp/$name.err" # exists before the background shell opens it
    "$tool" serve --listen 127.0.0.1:0 "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err" &
    server_pid=$!
    local port=
    for _ in $(seq 200); do
        port=$(sed -n 's|.*serving http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/$name.err")
        [ -n "$port" ] && break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        echo "FAIL $name: the server did not start: $(head -c 400 "$tmp/$name.err")"
        failed=1
        return
    fi
    echo "== $name"
    NODE_PATH=$modules timeout 180 "$node" "$srcdir/web_page_test.js" "http://127.0.0.1:$port" "$tool" \
        "$shots" ${token_file:+"$token_file"} ||
        failed=1
    kill -TERM "$server_pid"
    wait "$server_pid"
    server_pid=
}

run_page_test page ""
printf 'web-%s\n' "$RANDOM$RANDOM" >"$tmp/token"
run_page_test page-token "$tmp/token" --token-file "$tmp/token"
exit $failed
