# What the tool's test scripts share (sourced, after they set tool, the
# syncstream binary, and tmp, their temporary directory): a check's "ok" or
# "FAIL" line, with failed set to 1 by any failure (the scripts' exit status),
# and running the tool with its output kept for the checks.

failed=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }

# run NAME EXPECTED_STATUS ARGS...: run the tool with stdin from $tmp/NAME.in if
# it exists, else /dev/null (not a terminal), for 60 s at the most; keep its
# stdout and stderr in $tmp/NAME.out and $tmp/NAME.err; check the exit status.
run() {
    local name=$1 want=$2 in=/dev/null
    shift 2
    [ -f "$tmp/$name.in" ] && in=$tmp/$name.in
    timeout 60 "$tool" "$@" <"$in" >"$tmp/$name.out" 2>"$tmp/$name.err"
    check_status "$name" "$want" $?
}

# check_status NAME EXPECTED GOT: GOT is EXPECTED, or a failure naming stderr.
check_status() {
    if [ "$3" -ne "$2" ]; then
        fail "$1" "exit status $3, expected $2; stderr: $(head -c 600 "$tmp/$1.err")"
        return 1
    fi
    pass "$1 (status $2)"
}

# expect_err / expect_out NAME REGEX: that stream of run NAME has a line matching.
expect_err() {
    if grep -Eq -- "$2" "$tmp/$1.err"; then pass "$1 stderr /$2/"; else
        fail "$1" "stderr does not match /$2/: $(head -c 600 "$tmp/$1.err")"; fi
}
expect_out() {
    if grep -Eq -- "$2" "$tmp/$1.out"; then pass "$1 stdout /$2/"; else
        fail "$1" "stdout does not match /$2/: $(head -c 600 "$tmp/$1.out")"; fi
}

# in_order NAME STREAM LINE...: the stream is exactly these lines, in this order.
in_order() {
    local name=$1 stream=$2
    shift 2
    if [ "$(cat "$tmp/$name.$stream")" = "$(printf '%s\n' "$@")" ]; then
        pass "$name std$stream in order"; else
        fail "$name" "std$stream is [$(echo $(cat "$tmp/$name.$stream"))], expected [$*]"; fi
}

# free_port: a free TCP port of 127.0.0.1; wait_port PORT: until something
# listens there (a bounded wait). Both need python set, to a python3.
free_port() {
    "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
    for _ in $(seq 500); do
        "$python" -c "import socket; socket.create_connection(('127.0.0.1',$1)).close()" 2>/dev/null && return 0
        sleep 0.02
    done
    return 1
}
