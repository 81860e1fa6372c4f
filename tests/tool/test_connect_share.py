#!/usr/bin/env python3
"""End-to-end tests of `syncstream connect URI --share tcp://127.0.0.1:0`.

    test_connect_share.py SYNCSTREAM

The device is a local program on pipes (exec-pipe:) that prints five lines,
answers "got LINE" to each line it reads, and prints 500 KB and "chunk N
done" for "more N" (so a reading client never lags by more than a chunk
while a stuck one falls behind for sure). Clients are sockets on 127.0.0.1
and `syncstream connect` itself. Every wait is bounded; no check asserts a
timing. Prints "ok"/"FAIL" per check; exits 1 on any failure.
"""
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOOL = sys.argv[1]
WAIT = 30  # seconds any one wait may take
failed = False

DEVICE = r'''
import sys
for i in range(1, 6):
    print("old %d" % i, flush=True)
for line in sys.stdin:
    line = line.strip()
    if line.startswith("more "):
        sys.stdout.write(("y" * 99 + "\n") * 5000 + "chunk %s done\n" % line[5:])
        sys.stdout.flush()
    elif line == "quit":
        break
    else:
        print("got " + line, flush=True)
'''


def check(name, ok, why=""):
    global failed
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + why), flush=True)
    if not ok:
        failed = True
    return ok


class Sharer:
    """`syncstream connect exec-pipe:DEVICE --share tcp://127.0.0.1:0 ARGS`."""

    def __init__(self, tmp, *args):
        dev = os.path.join(tmp, "device.py")
        with open(dev, "w") as f:
            f.write(DEVICE)
        self.out = open(os.path.join(tmp, "sharer.out"), "w+b")
        self.p = subprocess.Popen(
            [TOOL, "connect", "exec-pipe:/usr/bin/python3 -u " + dev,
             "--share", "tcp://127.0.0.1:0", *args],
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.PIPE)
        self.err = b""
        self.lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()
        m = self.wait_err(rb"on tcp://127\.0\.0\.1:(\d+)")
        self.port = int(m.group(1)) if m else None
        # the old lines are in the backlog before any client comes
        self.ready = self.wait_out(b"old 5\n")

    def _drain(self):
        for line in self.p.stderr:
            with self.lock:
                self.err += line

    def wait_err(self, pattern):
        end = time.monotonic() + WAIT
        while time.monotonic() < end:
            with self.lock:
                m = re.search(pattern, self.err)
            if m:
                return m
            time.sleep(0.02)
        return None

    def wait_out(self, text):
        end = time.monotonic() + WAIT
        while time.monotonic() < end:
            self.out.seek(0)
            if text in self.out.read():
                return True
            time.sleep(0.02)
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.finish()

    def finish(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(WAIT)
        self.out.close()


class Client:
    def __init__(self, port, rcvbuf=None):
        self.s = socket.socket()
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(WAIT)
        self.s.connect(("127.0.0.1", port))
        self.buf = b""
        self.eof = False

    def send(self, data):
        self.s.sendall(data)

    def wait(self, text):
        """Read until text has arrived (True), or the end or WAIT (False)."""
        end = time.monotonic() + WAIT
        while text not in self.buf and not self.eof and time.monotonic() < end:
            r, _, _ = select.select([self.s], [], [], end - time.monotonic())
            if r:
                try:
                    chunk = self.s.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                self.eof = not chunk
                self.buf += chunk
        return text in self.buf

    def wait_eof(self):
        self.wait(b"\0never\0")
        return self.eof

    def close(self):
        self.s.close()


def usage_errors():
    for name, args, want in [
        ("bad_policy", ["--share", "tcp://127.0.0.1:0", "--share-write", "some"],
         "--share-write is one, all or none"),
        ("bad_backlog", ["--share", "tcp://127.0.0.1:0", "--share-backlog", "-1"],
         "--share-backlog wants lines"),
        ("bad_addr", ["--share", "tcp://nowhere"], "--share wants tcp://ADDR:PORT"),
        ("write_alone", ["--share-write", "all"], "go with --share"),
        ("share_steps", ["--share", "tcp://127.0.0.1:0", "-e", "x"], "not for a script (--script, --send, --expect)"),
        ("token_alone", ["--token-file", "/dev/null"], "--token-file goes with --share"),
    ]:
        p = subprocess.run([TOOL, "connect", "exec:true", *args], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=WAIT)
        check(name, p.returncode == 2 and want in p.stderr.decode(),
              "status %d, stderr %r" % (p.returncode, p.stderr[:300]))


def backlog_live_and_policy_one(tmp):
    log = os.path.join(tmp, "console.log")
    with Sharer(tmp, "--share-backlog", "3", "--log", log) as sh:
        check("one: listening", sh.port is not None, repr(sh.err))
        check("one: device ran", sh.ready)
        a = Client(sh.port)
        check("one: first client writes", a.wait(b"read-write]\r\n"), repr(a.buf))
        check("one: backlog is the last 3 lines",
              a.wait(b"old 5\r\n") and b"old 3\r\nold 4\r\nold 5\r\n" in a.buf
              and b"old 2" not in a.buf, repr(a.buf))
        b = Client(sh.port)
        check("one: second client reads only", b.wait(b"another client writes]"), repr(b.buf))
        check("one: second client's backlog", b.wait(b"old 3\r\nold 4\r\nold 5\r\n"), repr(b.buf))
        a.send(b"hello\n")
        check("one: writer's line reaches the device, both see the answer",
              a.wait(b"got hello\n") and b.wait(b"got hello\n"), repr((a.buf, b.buf)))
        b.send(b"sneaky\n")
        check("one: reader is told its input is not sent", b.wait(b"is not sent]"), repr(b.buf))
        a.send(b"after\n")
        check("one: reader's line did not reach the device",
              a.wait(b"got after") and b"got sneaky" not in a.buf, repr(a.buf))
        check("one: the local output has it all", sh.wait_out(b"got after"))
        with open(log, "rb") as f:
            check("one: --log still gets the console", b"got hello\n" in f.read())
        # the writer leaves abruptly (RST): the device and the reader go on
        a.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        a.close()
        check("one: write handed to the next client", b.wait(b"you can write now]"),
              repr(b.buf))
        b.send(b"bee\n")
        check("one: new writer reaches the device", b.wait(b"got bee\n"), repr(b.buf))
        check("one: sharer says who left", sh.wait_err(rb"client 1 left") is not None,
              repr(sh.err))
        b.send(b"quit\n")
        check("one: client sees the end", b.wait_eof(), repr(b.buf))
        check("one: session ends with the device (status 0)", sh.p.wait(WAIT) == 0,
              repr(sh.err))
        b.close()


def policy_all_and_none(tmp):
    with Sharer(tmp, "--share-write", "all", "--share-backlog", "0") as sh:
        a, b = Client(sh.port), Client(sh.port)
        check("all: both write", a.wait(b"read-write]\r\n") and b.wait(b"read-write]\r\n"),
              repr((a.buf, b.buf)))
        check("all: backlog 0 sends no old line", b"old" not in a.buf, repr(a.buf))
        a.send(b"from a\n")
        b.send(b"from b\n")
        check("all: both lines reach the device",
              all(c.wait(t) for c in (a, b) for t in (b"got from a", b"got from b")),
              repr((a.buf, b.buf)))
        a.close()
        b.close()
    with Sharer(tmp, "--share-write", "none") as sh:
        a = Client(sh.port)
        check("none: read-only", a.wait(b"read-only]\r\n"), repr(a.buf))
        check("none: backlog of the default 50 lines", a.wait(b"old 1\r\n"), repr(a.buf))
        a.send(b"x\n")
        check("none: told its input is not sent", a.wait(b"is not sent]"), repr(a.buf))
        a.close()


def token(tmp):
    tok = os.path.join(tmp, "token")
    with open(tok, "w") as f:
        f.write("  s3cret \n")
    with Sharer(tmp, "--token-file", tok) as sh:
        bad = Client(sh.port)
        bad.send(b"guess\n")
        check("token: a wrong one is refused", bad.wait(b"wrong token]") and bad.wait_eof()
              and b"old" not in bad.buf, repr(bad.buf))
        check("token: the sharer says so", sh.wait_err(rb"wrong token; dropped") is not None,
              repr(sh.err))
        good = Client(sh.port)
        good.send(b"s3cret\r\n")
        check("token: the right one attaches", good.wait(b"old 5\r\n"), repr(good.buf))
        # a terminal in raw mode ends the line with CR alone (Enter)
        cr = Client(sh.port)
        cr.send(b"s3cret\r")
        check("token: a line ended by CR attaches", cr.wait(b"old 5\r\n"), repr(cr.buf))
        cr.close()
        # `syncstream connect` as a client, sending the token itself
        p = subprocess.run([TOOL, "connect", "tcp://127.0.0.1:%d" % sh.port,
                            "--token-file", tok, "-e", "old 5", "--timeout", str(WAIT)],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=WAIT + 10)
        check("token: syncstream connect --token-file attaches", p.returncode == 0,
              "status %d, %r" % (p.returncode, p.stderr[:300]))
        good.close()


def slow_client(tmp):
    with Sharer(tmp, "--share-write", "all", "--share-backlog", "1") as sh:
        fast = Client(sh.port)
        check("slow: fast client attached", fast.wait(b"old 5\r\n"), repr(fast.buf))
        stuck = Client(sh.port, rcvbuf=4096)  # never reads until the end
        check("slow: stuck client attached", sh.wait_err(rb"client 2 attached") is not None)
        dropped = None
        for n in range(40):  # 20 MB at most, a chunk at a time
            fast.send(b"more %d\n" % n)
            if not fast.wait(b"chunk %d done\n" % n):
                check("slow: fast client got chunk %d" % n, False, repr(fast.buf[-200:]))
                break
            fast.buf = b""
            with sh.lock:
                dropped = re.search(rb"client 2 fell \d+ KiB behind; dropped", sh.err)
            if dropped:
                break
        check("slow: the stuck client is dropped with a notice", dropped is not None,
              repr(sh.err))
        fast.send(b"ping\n")
        check("slow: the fast client goes on", fast.wait(b"got ping\n"), repr(fast.buf[-200:]))
        check("slow: the stuck client's connection ends", stuck.wait_eof())
        fast.close()
        stuck.close()


def main():
    usage_errors()
    with tempfile.TemporaryDirectory() as tmp:
        backlog_live_and_policy_one(tmp)
        policy_all_and_none(tmp)
        token(tmp)
        slow_client(tmp)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
