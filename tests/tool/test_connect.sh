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
run bad_baud 2 connect 'serial:/dev/null?baud=0' &&
    expect_err bad_baud "baud=0: not a rate from 1 to 100000000"
# any rate is accepted (termios2): /dev/null then fails as no terminal, not as a URI
run any_baud 1 connect 'serial:/dev/null?baud=250000' -e x && expect_err any_baud 'Inappropriate ioctl'
run unknown_setting 2 connect 'serial:/dev/null?speed=9600' &&
    expect_err unknown_setting "unknown serial setting 'speed' \(known: baud, data"
# a setting given twice is refused, even when both values are valid
run twice_baud 2 connect 'serial:/dev/null?baud=115200&baud=9600' &&
    expect_err twice_baud "serial setting baud is given more than once"
# a name that does not resolve: the name and the resolver's answer (not "No
# route to host"; where no name server answers, that it failed for now)
run unresolved 1 connect tcp://no-such-host.invalid:80 -e x --timeout 20 &&
    expect_err unresolved "cannot resolve the host name 'no-such-host.invalid': the host name" &&
    if grep -q 'No route' "$tmp/unresolved.err"; then fail unresolved "says No route"; fi
run bad_escape 2 connect exec:true --send 'a\q' && expect_err bad_escape 'bad escape'
run bad_timeout 2 connect exec:true --timeout soon && expect_err bad_timeout "seconds"
run bad_regex 2 connect 'exec:echo x; sleep 5' -E '(' && expect_err bad_regex 'not a valid regular expression'
run empty_expect 2 connect exec:true -e '' && expect_err empty_expect 'non-empty'
run bad_option 2 connect --bogus exec:true && expect_err bad_option "unknown option '--bogus'"

# ---- scripts against a local program ----

prompt='printf "login: "; read u; echo "hi $u"; printf "$ "; read c; echo "ran $c"'
run script_ok 0 connect "exec:$prompt" -e 'login: ' --send 'bob\n' -E 'hi [a-z]+' -e '$ ' \
    --send 'ls\n' -e 'ran ls' &&
    expect_out script_ok 'login: ' && expect_out script_ok 'hi bob' && expect_out script_ok 'ran ls'
run script_quiet 0 connect -q "exec:$prompt" -e 'login: ' --send 'x\n' -e 'hi x' &&
    [ ! -s "$tmp/script_quiet.out" ] && pass "script_quiet prints nothing"

# timeout: exit 4, then the payload (what arrived) on stderr
run timeout 4 connect 'exec:echo partial output; sleep 5' -e never --timeout 0.3 &&
    expect_err timeout "step 1 \(--expect 'never'\): not done within 0.3 s" &&
    expect_err timeout '^--- received, not matched \([0-9]+ bytes\) ---$' &&
    expect_err timeout 'partial output' && expect_err timeout '^--- not sent \(0 bytes\) ---$'
# the end of the stream in the middle of a pattern: exit 5, the payload
run eof 5 connect 'exec:printf "Compl"' -e 'Completed.' &&
    expect_err eof "the stream ended first" && expect_err eof '^Compl$'
# a flood that fills the read buffer (16 MiB) without a match: the step fails
# at once (no byte can come), says so and at what size, and shows a bounded
# excerpt: head, tail, how many bytes between (not 16 MiB on stderr); --timeout 50
# is only a bound, the run's own limit is 60 s
run flood 4 connect 'exec-pipe:yes flood' -e never --timeout 50 &&
    expect_err flood "step 1 \(--expect 'never'\): the read buffer filled \(16777216 bytes, 16 MiB\)" &&
    expect_err flood '^--- received, not matched \(16777216 bytes; the first and last 2048 shown\) ---$' &&
    expect_err flood '^--- 16773120 bytes not shown' &&
    expect_err flood '^flood$' &&
    { size=$(wc -c <"$tmp/flood.err"); [ "$size" -lt 8192 ] && pass "flood stderr is $size bytes" ||
        fail flood "stderr is $size bytes"; }
# asked to keep the whole payload: it goes to the file, byte for byte
run flood_saved 4 connect 'exec-pipe:yes flood' -e never --timeout 50 --save-payload "$tmp/flood.payload" &&
    expect_err flood_saved "^--- received, not matched \(16777216 bytes\): saved to $tmp/flood.payload ---\$" &&
    { size=$(wc -c <"$tmp/flood.payload"); [ "$size" -eq 16777216 ] &&
        [ "$(head -c 6 "$tmp/flood.payload")" = flood ] && pass "flood_saved payload is $size bytes" || fail flood_saved "payload is $size bytes"; }
run flood_unsaved 1 connect 'exec-pipe:yes flood' -e never --timeout 50 --save-payload "$tmp/no/such/dir" &&
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
run tcp 0 connect "tcp://127.0.0.1:$port" -e 'ready' --send 'hello\n' -E 'ECHO h[a-z]+' &&
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
printf '' | timeout 60 "$tool" connect 'exec-pipe:sleep 5' --timeout 0.3 >"$tmp/pipe_to.out" 2>"$tmp/pipe_to.err"
check_status pipe_to 4 $? && expect_err pipe_to 'did not end within 0.3 s'

# ---- line-ending maps (tio's --map names) ----

# typed: NL sent as CR NL, CR dropped, DEL sent as BS, lower case as upper
printf 'a\rb\n\177' >"$tmp/map_out.in"
run map_out 0 connect --map ONLCRNL,oigncr --map ODELBS,OLTU 'exec-pipe:od -An -c' &&
    expect_out map_out '^ +A +B +\\r +\\n +\\b$'
# without maps the bytes go as typed
cp "$tmp/map_out.in" "$tmp/map_none.in"
run map_none 0 connect 'exec-pipe:od -An -c' && expect_out map_none '^ +a +\\r +b +\\n +177$'
printf '\r' >"$tmp/map_ocrnl.in"
run map_ocrnl 0 connect --map OCRNL 'exec-pipe:od -An -c' && expect_out map_ocrnl '^ +\\n$'
# from the device: CR dropped / CR as NL / NL as CR NL / NL as CR
run map_igncr 0 connect --map IGNCR 'exec-pipe:printf "x\r\ny\r"' &&
    { [ "$(od -An -c <"$tmp/map_igncr.out" | tr -s ' ')" = ' x \n y' ] && pass map_igncr_bytes ||
        fail map_igncr "stdout is $(od -An -c <"$tmp/map_igncr.out")"; }
run map_icrnl 0 connect --map ICRNL,INLCRNL 'exec-pipe:printf "p\rq\n"' &&
    { [ "$(od -An -c <"$tmp/map_icrnl.out" | tr -s ' ')" = ' p \n q \r \n' ] && pass map_icrnl_bytes ||
        fail map_icrnl "stdout is $(od -An -c <"$tmp/map_icrnl.out")"; }
run map_inlcr 0 connect --map INLCR 'exec-pipe:printf "n\n"' &&
    { [ "$(od -An -c <"$tmp/map_inlcr.out" | tr -s ' ')" = ' n \r' ] && pass map_inlcr_bytes ||
        fail map_inlcr "stdout is $(od -An -c <"$tmp/map_inlcr.out")"; }
run map_bad 2 connect --map ICRNL,BOGUS exec:true &&
    expect_err map_bad "--map 'ICRNL,BOGUS': known maps are ICRNL, IGNCR"
run map_steps 2 connect --map ICRNL exec:true -e x && expect_err map_steps "are for a session"

# ---- --list: a fake sysfs and udev tree standing in for / ----

r=$tmp/root
mkdir -p "$r/sys/class/tty/tty0" "$r/sys/class/tty/ttyS1/device" "$r/sys/class/tty/ttyUSB0/device" \
    "$r/sys/class/tty/ttyACM0/device" "$r/dev/serial/by-id"
ln -s ../../../bus/usb-serial/drivers/ftdi_sio "$r/sys/class/tty/ttyUSB0/device/driver"
ln -s ../../../bus/usb/drivers/cdc_acm "$r/sys/class/tty/ttyACM0/device/driver"
# a UART probed with no hardware behind it (type 0) is not listed
ln -s ../../../bus/platform/drivers/serial8250 "$r/sys/class/tty/ttyS1/device/driver"
echo 0 >"$r/sys/class/tty/ttyS1/type"
ln -s ../../ttyUSB0 "$r/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0"
export SYNCSTREAM_TEST_ROOT=$r
run list 0 connect --list
unset SYNCSTREAM_TEST_ROOT
if [ "$(cat "$tmp/list.out")" = "$(printf '%s\n' '/dev/ttyACM0  cdc_acm  -' \
    '/dev/ttyUSB0  ftdi_sio  /dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0')" ]; then
    pass "list: ports with drivers and by-id names"
else
    fail list "stdout is [$(cat "$tmp/list.out")]"
fi
run list_uri 2 connect --list exec:true && expect_err list_uri 'takes no URI'

# ---- timestamps and the log ----

run ts_iso 0 connect --timestamps 'exec-pipe:printf "a\nb\n"' &&
    expect_out ts_iso '^\[20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z\] a$' &&
    expect_out ts_iso '^\[20[0-9-]+T[0-9:.]+Z\] b$'
run ts_delta 0 connect --timestamps=delta 'exec-pipe:printf "a\nb\nc"' &&
    expect_out ts_delta '^\[\+0\.000000\] a$' && expect_out ts_delta '^\[\+[0-9]+\.[0-9]{6}\] c$'
run ts_bad 2 connect --timestamps=soon exec:true && expect_err ts_bad 'iso or delta'
# the log: appended, as it came (escape sequences and all), or stripped of them
esc_prog='exec-pipe:printf "\033[1;31mred\033[0m \033]0;title\007plain\n"'
run log_raw 0 connect --log "$tmp/console.log" "$esc_prog" --map ICRNL
run log_strip 0 connect --log "$tmp/console.log" --log-strip --timestamps=delta "$esc_prog"
if [ "$(head -n 1 "$tmp/console.log")" = "$(printf '\033[1;31mred\033[0m \033]0;title\007plain')" ] &&
    [ "$(sed -n 2p "$tmp/console.log")" = '[+0.000000] red plain' ] &&
    [ "$(wc -l <"$tmp/console.log")" -eq 2 ]; then
    pass "log: appended raw, then stripped and stamped"
else
    fail log "$(od -c "$tmp/console.log" | head -20)"
fi
run log_nodir 1 connect --log "$tmp/no/such/dir/x.log" 'exec-pipe:true' &&
    expect_err log_nodir "cannot open the log '$tmp/no/such/dir/x.log'"
run log_strip_alone 2 connect --log-strip exec:true && expect_err log_strip_alone 'goes with --log'

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
ok = read_until(b"Ctrl-] q quits")
# the banner ends in one CR LF: the terminal's output processing makes it
ok = ok and read_until(b"the keys\r\n") and b"the keys\r\r\n" not in out
os.write(fd, b"hello\r")
# the program's terminal echoes the line, then cat prints it (our terminal
# turns each "\r\n" into "\r\r\n")
ok = ok and read_until(b"hello\r\r\nhello")
os.write(fd, b"\x1dq")
ok = ok and read_until(b"disconnected\r\n") and b"\r\r\n" + b"syncstream: disc" not in out
_, status = os.waitpid(pid, 0)
print("output:", out)
sys.exit(0 if ok and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else 1)
PY
if timeout 60 "$python" "$tmp/term.py" "$tool" >"$tmp/term.out" 2>&1; then
    pass "interactive session: typed keys reach the program, Ctrl-] q quits"
else
    fail interactive "$(head -c 600 "$tmp/term.out")"
fi

# the escape menu, with Ctrl-A as the escape key, against cat on pipes (no
# terminal echo on its side: what comes back is what was sent)
cat >"$tmp/menu.py" <<'PY'
import os, pty, select, sys, time
tool = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execv(tool, [tool, "connect", "--escape", "^a", "exec-pipe:cat"])
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
    if want not in out:
        print("missing:", want)
    return want in out
def step(keys, want):
    os.write(fd, keys)
    return read_until(want)
ok = read_until(b"Ctrl-A q quits, Ctrl-A ? lists the keys\r\n")
ok = ok and step(b"\x01?", b"keys after the escape key (Ctrl-A)")
# the escape key twice sends it once
ok = ok and step(b"\x01\x01\n", b"\x01\r\n")
ok = ok and step(b"\x01h", b"hex view on") and step(b"AB\n", b"41 42 0a ")
ok = ok and step(b"\x01h", b"hex view off") and step(b"plain\n", b"plain\r\n")
# local echo: the key shown as typed, then as cat sends it back
ok = ok and step(b"\x01e", b"local echo on") and step(b"Z\n", b"Z\r\nZ\r\n")
ok = ok and step(b"\x01e", b"local echo off")
ok = ok and step(b"\x01t", b"timestamps on") and step(b"stamped\n", b"Z] stamped\r\n")
ok = ok and step(b"\x01t", b"timestamps off") and step(b"bare\n", b"\nbare\r\n")
# a program has no serial lines: said, and the session goes on
ok = ok and step(b"\x01b", b"cannot send a BREAK: ")
ok = ok and step(b"\x01d", b"cannot send a DTR pulse: ")
ok = ok and step(b"\x01x", b"no command for that key; Ctrl-A ? lists them")
ok = ok and step(b"\x01q", b"disconnected")
_, status = os.waitpid(pid, 0)
print("output:", out)
sys.exit(0 if ok and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else 1)
PY
if timeout 60 "$python" "$tmp/menu.py" "$tool" >"$tmp/menu.out" 2>&1; then
    pass "escape menu: help, the key itself, hex view, local echo, unknown key, quit"
else
    fail menu "$(head -c 1500 "$tmp/menu.out")"
fi
# a serial device gone and back (a pty pair whose slave a stable name points
# at, as /dev/serial/by-id/ does): notices on stderr as it happens
cat >"$tmp/notice.py" <<'PY'
import os, select, subprocess, sys, time
tool, link = sys.argv[1], sys.argv[2]
def plug():
    m, s = os.openpty()
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.ttyname(s), link)
    return m, s
m, s = plug()
p = subprocess.Popen([tool, "connect", "serial:%s?reopen=50" % link],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
got = {p.stdout.fileno(): b"", p.stderr.fileno(): b""}
def wait_for(fd, want, limit=20):
    end = time.time() + limit
    while want not in got[fd] and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            got[fd] += chunk
    if want not in got[fd]:
        print("missing:", want, got)
    return want in got[fd]
ok = True
os.write(m, b"hello\n")
ok = ok and wait_for(p.stdout.fileno(), b"hello\n")
os.close(s)
os.close(m)
os.unlink(link)
ok = ok and wait_for(p.stderr.fileno(), b"went away; reopening")
m, s = plug()
ok = ok and wait_for(p.stderr.fileno(), b"is back (reopened)")
os.write(m, b"again\n")
ok = ok and wait_for(p.stdout.fileno(), b"again\n")
p.terminate()
p.wait(timeout=20)
print(got)
sys.exit(0 if ok else 1)
PY
if timeout 60 "$python" "$tmp/notice.py" "$tool" "$tmp/usb-Test-if00" >"$tmp/notice.out" 2>&1; then
    pass "serial notices: the device gone and back, said on stderr"
else
    fail notice "$(head -c 1500 "$tmp/notice.out")"
fi
# rfc2217:// against a real ser2net serving a socat pty pair: the settings
# reach the device (its termios), bytes pass both ways (255 included), a
# script's steps work, and the escape menu's BREAK and DTR pulse go through
cat >"$tmp/rfc2217.py" <<'PY'
import os, select, socket, subprocess, sys, termios, time
tool, d = sys.argv[1], sys.argv[2]
dev, peer = d + "/dev", d + "/peer"
procs = []
def spawn(*args):
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    procs.append(p)
    return p
def wait(cond, secs=10):
    end = time.time() + secs
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False
def answers(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False
ok = False
try:
    spawn("socat", "pty,raw,echo=0,link=" + dev, "pty,raw,echo=0,link=" + peer)
    assert wait(lambda: os.path.exists(dev) and os.path.exists(peer)), "no pty pair"
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with open(d + "/ser2net.yaml", "w") as f:
        f.write("connection: &t\n  accepter: telnet(rfc2217),tcp,127.0.0.1,%d\n"
                "  connector: serialdev,%s,115200n81,local\n"
                "  options:\n    kickolduser: true\n" % (port, dev))
    spawn("/usr/sbin/ser2net", "-n", "-d", "-c", d + "/ser2net.yaml")
    assert wait(lambda: answers(port)), "ser2net does not answer"
    fd = os.open(peer, os.O_RDWR | os.O_NOCTTY)
    uri = "rfc2217://127.0.0.1:%d?baud=9600&stop=2" % port
    t = subprocess.Popen([tool, "connect", uri, "--send", "ping\\xff\\n", "-e", "pong", "--timeout", "20"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    got = b""
    end = time.time() + 20
    while b"ping\xff\n" not in got and time.time() < end:
        if select.select([fd], [], [], 1)[0]:
            got += os.read(fd, 100)
    assert got == b"ping\xff\n", "the device got %r" % got
    tio = termios.tcgetattr(os.open(dev, os.O_RDWR | os.O_NOCTTY))
    assert tio[5] == termios.B9600 and tio[2] & termios.CSTOPB, "termios %r" % tio
    os.write(fd, b"po\xffng pong")
    out, err = t.communicate(timeout=20)
    assert t.returncode == 0 and out.endswith(b"pong"), (t.returncode, out, err)
    # a session: the escape menu's BREAK and DTR pulse sent through ser2net
    m, sl = os.openpty()
    t = subprocess.Popen([tool, "connect", "rfc2217://127.0.0.1:%d" % port],
                         stdin=sl, stdout=sl, stderr=sl)
    os.close(sl)
    seen = b""
    def read_until(want):
        global seen
        end = time.time() + 20
        while want not in seen and time.time() < end:
            if select.select([m], [], [], 1)[0]:
                seen += os.read(m, 1000)
        return want in seen
    assert read_until(b"q quits"), seen
    os.write(m, b"\x1db")
    assert read_until(b"a BREAK sent"), seen
    os.write(m, b"\x1dd")
    assert read_until(b"a DTR pulse sent"), seen
    os.write(m, b"\x1dq")
    t.wait(timeout=20)
    ok = t.returncode == 0
finally:
    for p in procs:
        p.terminate()
        p.wait(timeout=10)
sys.exit(0 if ok else 1)
PY
mkdir "$tmp/ser2net"
if timeout 120 "$python" "$tmp/rfc2217.py" "$tool" "$tmp/ser2net" >"$tmp/rfc2217.out" 2>&1; then
    pass "rfc2217: settings on the device, bytes both ways, BREAK and DTR from the menu"
else
    fail rfc2217 "$(head -c 1500 "$tmp/rfc2217.out")"
fi
run rfc2217_refused 1 connect 'rfc2217://127.0.0.1:1?baud=9600' &&
    expect_err rfc2217_refused 'Connection refused'
run rfc2217_reopen 2 connect 'rfc2217://127.0.0.1:1?reopen=5' &&
    expect_err rfc2217_reopen 'reopen is for serial: ports only'
run help_rfc2217 0 connect --help && expect_out help_rfc2217 'rfc2217://HOST:PORT'
run escape_bad 2 connect --escape 1 exec:true && expect_err escape_bad "--escape '1': give X or \^X"

exit $failed
