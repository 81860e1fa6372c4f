#!/usr/bin/env bash
# End-to-end tests of `syncstream connect`.
#
#     test_connect.sh SYNCSTREAM PYTHON3
#
# Each check prints "ok" or "FAIL" with the reason; the script exits 1 if any
# check failed. Peers are local programs (exec:) and a TCP server on
# 127.0.0.1 run by python3; every wait is bounded. No check asserts a timing.
set -u

tool=$1 python=$2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/syncstream-connect.XXXXXX") || exit 1
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

. "$(dirname "$0")/lib.sh"


# ---- help and usage ----

run help 0 connect --help && expect_out help '^Usage: syncstream connect' &&
    expect_out help 'Exit status'
run help_cmd 0 help connect && expect_out help_cmd 'tcp://HOST:PORT'
run no_uri 2 connect && expect_err no_uri 'no URI given' && expect_err no_uri "Try 'syncstream connect --help'"
run two_uris 2 connect exec:true exec:false && expect_err two_uris "one URI only"
run bad_scheme 2 connect bogus:x && expect_err bad_scheme "cannot use 'bogus:x'"
run bad_port 2 connect tcp://127.0.0.1:99999 && expect_err bad_port "cannot use" &&
    expect_err bad_port "the port '99999' is not a number from 1 to 65535"
run bad_serial 2 connect 'serial:/dev/null?parity=mark' && expect_err bad_serial "cannot use" &&
    expect_err bad_serial "parity=mark: allowed values are none, even or odd"
# a URI's mistake named: the setting, the value given and what is allowed
run bad_baud 2 connect 'serial:/dev/null?baud=12345' &&
    expect_err bad_baud "baud=12345: not a supported rate \(one of 50 .* 115200 .* 4000000\)"
run unknown_setting 2 connect 'serial:/dev/null?speed=9600' &&
    expect_err unknown_setting "unknown serial setting 'speed' \(known: baud, data"
# a setting given twice is refused, even when both values are valid
run twice_baud 2 connect 'serial:/dev/null?baud=115200&baud=9600' &&
    expect_err twice_baud "serial setting baud is given more than once"
# a name that does not resolve: the name and the resolver's answer (not "No
# route to host"; where no name server answers, that it failed for now)
run unresolved 1 connect tcp://no-such-host.invalid:80 -e x -t 20 &&
    expect_err unresolved "cannot resolve the host name 'no-such-host.invalid': the host name" &&
    if grep -q 'No route' "$tmp/unresolved.err"; then fail unresolved "says No route"; fi
run bad_escape 2 connect exec:true -s 'a\q' && expect_err bad_escape 'bad escape'
run bad_timeout 2 connect exec:true -t soon && expect_err bad_timeout "seconds"
run bad_regex 2 connect 'exec:echo x; sleep 5' -E '(' && expect_err bad_regex 'not a valid regular expression'
run empty_expect 2 connect exec:true -e '' && expect_err empty_expect 'non-empty'
run bad_option 2 connect --bogus exec:true && expect_err bad_option "unknown option '--bogus'"

# ---- scripts against a local program ----

prompt='printf "login: "; read u; echo "hi $u"; printf "$ "; read c; echo "ran $c"'
run script_ok 0 connect "exec:$prompt" -e 'login: ' -s 'bob\n' -E 'hi [a-z]+' -e '$ ' \
    -s 'ls\n' -e 'ran ls' &&
    expect_out script_ok 'login: ' && expect_out script_ok 'hi bob' && expect_out script_ok 'ran ls'
run script_quiet 0 connect -q "exec:$prompt" -e 'login: ' -s 'x\n' -e 'hi x' &&
    [ ! -s "$tmp/script_quiet.out" ] && pass "script_quiet prints nothing"

# timeout: exit 4, then the payload (what arrived) on stderr
run timeout 4 connect 'exec:echo partial output; sleep 5' -e never -t 0.3 &&
    expect_err timeout "step 1 \(--expect 'never'\): not done within 0.3 s" &&
    expect_err timeout '^--- received, not matched \([0-9]+ bytes\) ---$' &&
    expect_err timeout 'partial output' && expect_err timeout '^--- not sent \(0 bytes\) ---$'
# the end of the stream in the middle of a pattern: exit 5, the payload
run eof 5 connect 'exec:printf "Compl"' -e 'Completed.' &&
    expect_err eof "the stream ended first" && expect_err eof '^Compl$'
# a flood that fills the read buffer (16 MiB) without a match: the step fails
# at once (no byte can come), says so and at what size, and shows a bounded
# excerpt: head, tail, how many bytes between (not 16 MiB on stderr); -t 50
# is only a bound, the run's own limit is 60 s
run flood 4 connect 'exec-pipe:yes flood' -e never -t 50 &&
    expect_err flood "step 1 \(--expect 'never'\): the read buffer filled \(16777216 bytes, 16 MiB\)" &&
    expect_err flood '^--- received, not matched \(16777216 bytes; the first and last 2048 shown\) ---$' &&
    expect_err flood '^--- 16773120 bytes not shown' &&
    expect_err flood '^flood$' &&
    { size=$(wc -c <"$tmp/flood.err"); [ "$size" -lt 8192 ] && pass "flood stderr is $size bytes" ||
        fail flood "stderr is $size bytes"; }
# asked to keep the whole payload: it goes to the file, byte for byte
run flood_saved 4 connect 'exec-pipe:yes flood' -e never -t 50 --save-payload "$tmp/flood.payload" &&
    expect_err flood_saved "^--- received, not matched \(16777216 bytes\): saved to $tmp/flood.payload ---\$" &&
    { size=$(wc -c <"$tmp/flood.payload"); [ "$size" -eq 16777216 ] &&
        [ "$(head -c 6 "$tmp/flood.payload")" = flood ] && pass "flood_saved payload is $size bytes" || fail flood_saved "payload is $size bytes"; }
run flood_unsaved 1 connect 'exec-pipe:yes flood' -e never -t 50 --save-payload "$tmp/no/such/dir" &&
    expect_err flood_unsaved "cannot save the payload to '$tmp/no/such/dir'"
# a program on pipes: its stderr comes out on ours
run pipes 0 connect 'exec-pipe:echo to-out; echo to-err >&2; sleep 0.1' -e 'to-out' &&
    expect_out pipes to-out

# ---- TCP ----

cat >"$tmp/server.py" <<'PY'
import socket, sys
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("127.0.0.1", 0))
srv.listen(4)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.settimeout(60)
for _ in range(2):
    conn, _ = srv.accept()
    conn.settimeout(30)
    conn.sendall(b"220 ready\r\n")
    buf = b""
    while b"\n" not in buf:
        chunk = conn.recv(100)
        if not chunk:
            break
        buf += chunk
    conn.sendall(b"ECHO " + buf)
    conn.close()
PY
"$python" "$tmp/server.py" "$tmp/port" &
server_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port" 2>/dev/null)
run tcp 0 connect "tcp://127.0.0.1:$port" -e 'ready' -s 'hello\n' -E 'ECHO h[a-z]+' &&
    expect_out tcp '220 ready' && expect_out tcp 'ECHO hello'
# a pipe session: standard input goes out, what arrives comes out, until the end
printf 'piped\n' | timeout 60 "$tool" connect "tcp://127.0.0.1:$port" >"$tmp/pipe.out" 2>"$tmp/pipe.err"
check_status pipe 0 $? && expect_out pipe '^ECHO piped' && expect_out pipe '220 ready'
wait "$server_pid" 2>/dev/null
server_pid=
run refused 1 connect "tcp://127.0.0.1:$port" -e x && expect_err refused 'refused'

# the end of standard input is the end of the program's input
printf 'one\ntwo\n' | timeout 60 "$tool" connect 'exec-pipe:sort -r' >"$tmp/pipe_eof.out" 2>"$tmp/pipe_eof.err"
if check_status pipe_eof 0 $?; then
    if [ "$(cat "$tmp/pipe_eof.out")" = "$(printf 'two\none')" ]; then
        pass "pipe_eof: sort saw the end of its input"
    else
        fail pipe_eof "stdout is [$(cat "$tmp/pipe_eof.out")]"
    fi
fi

# a session that ends with its program exits with the program's status, as
# ssh(1) does: its exit code, or 128 + N for signal N
run exit_code 7 connect 'exec:exit 7'
run exit_code_pipe 3 connect 'exec-pipe:echo bye; exit 3' && expect_out exit_code_pipe '^bye$'
run exit_signal 137 connect 'exec-pipe:kill -KILL $$'
run exit_signal_pty 143 connect 'exec:kill -TERM $$'

# a pipe session whose stream does not end within --timeout after the input
printf '' | timeout 60 "$tool" connect 'exec-pipe:sleep 5' -t 0.3 >"$tmp/pipe_to.out" 2>"$tmp/pipe_to.err"
check_status pipe_to 4 $? && expect_err pipe_to 'did not end within 0.3 s'

# ---- interactive: standard input is a terminal ----

cat >"$tmp/term.py" <<'PY'
import os, pty, select, sys, time
tool = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execv(tool, [tool, "connect", "exec:cat"])
out = b""
def read_until(want, limit=20):
    global out
    end = time.time() + limit
    while want not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return want in out
ok = read_until(b"Ctrl-] quits")
os.write(fd, b"hello\r")
# the program's terminal echoes the line, then cat prints it (our terminal
# turns each "\r\n" into "\r\r\n")
ok = ok and read_until(b"hello\r\r\nhello")
os.write(fd, b"\x1d")
ok = ok and read_until(b"disconnected")
_, status = os.waitpid(pid, 0)
print("output:", out)
sys.exit(0 if ok and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else 1)
PY
if timeout 60 "$python" "$tmp/term.py" "$tool" >"$tmp/term.out" 2>&1; then
    pass "interactive session: typed keys reach the program, Ctrl-] quits"
else
    fail interactive "$(head -c 600 "$tmp/term.out")"
fi

exit $failed
