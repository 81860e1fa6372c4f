"""syncstream.stream against real peers: a TCP server (socketserver on
127.0.0.1), local programs with and without a pty, a socat pty pair as a
serial device. Every wait is bounded."""

import errno
import os
import queue
import shutil
import signal
import socket
import socketserver
import struct
import subprocess
import tempfile
import threading
import time
import tty

import pytest

from syncstream import stream
from syncstream.stream import (EOF, TIMEOUT, ExecStream, SerialStream, StoppedThreadError,
                               TcpStream)

WAIT = 10.0

# A sanitized build's runtime is preloaded into python3 (tests/python/
# meson.build); the programs these tests run are not sanitized, and
# ThreadSanitizer's runtime crashes them (SIGSEGV in sh): they go without it.
os.environ.pop("LD_PRELOAD", None)


def until(cond, what):
    deadline = time.monotonic() + WAIT
    while not cond():
        assert time.monotonic() < deadline, "gave up waiting for " + what
        time.sleep(0.005)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        # the test drives the accepted socket; handle() returns when it is done
        done = threading.Event()
        self.server.conns.put((self.request, done))
        done.wait(WAIT * 3)


class Server:
    """A TCP server on 127.0.0.1; peer() is the socket of the next client."""

    def __init__(self):
        self.srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler,
                                                   bind_and_activate=False)
        # small kernel buffers (inherited by accepted sockets): a peer that
        # does not read holds a write up soon
        self.srv.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        self.srv.server_bind()
        self.srv.server_activate()
        self.srv.daemon_threads = True
        self.srv.conns = queue.Queue()
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()
        self.dones = []

    def peer(self):
        conn, done = self.srv.conns.get(timeout=WAIT)
        self.dones.append(done)
        return conn

    def close(self):
        for d in self.dones:
            d.set()
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def tcp(server):
    with TcpStream("127.0.0.1", server.port) as s:
        peer = server.peer()
        yield s, peer
        peer.close()


def test_read_until_target_split_across_segments(tcp):
    s, peer = tcp
    peer.sendall(b"hello wor")
    until(lambda: s.ready() == 9, "the first segment")
    assert not s.contains(b"world")
    # a second Python thread sends while the main one waits: the GIL is free
    threading.Thread(target=peer.sendall, args=(b"ld! rest",)).start()
    assert s.read_until(b"world!", timeout=WAIT) == b"hello world!"
    until(lambda: s.ready() == 5, "the rest")
    assert s.peek() == b" rest"
    assert s.consume_buffer() == b" rest"


def test_end_of_stream(tcp):
    s, peer = tcp
    peer.sendall(b"partial")
    peer.shutdown(socket.SHUT_WR)
    with pytest.raises(EOFError) as e:
        s.read_until(b"\n", timeout=WAIT)
    assert e.value.error_payload == (b"partial", b"")
    # nothing was lost: the bytes are still there, then the end
    assert s.read(100, timeout=WAIT) == b"partial"
    with pytest.raises(EOFError) as e:
        s.read(100)
    assert e.value.error_payload == (b"", b"")


def test_timeout_payload(tcp):
    s, peer = tcp
    peer.sendall(b"abc")
    until(lambda: s.ready() == 3, "abc")
    with pytest.raises(TimeoutError) as e:
        s.read_until(b"X", timeout=0.1)
    assert e.value.error_payload == (b"abc", b"")
    assert s.read() == b"abc"
    assert s.read() == b""  # threadedstream's read does not wait


def test_buffer_inspection(tcp):
    s, peer = tcp
    peer.sendall(b"one\x00two\x00three")
    until(lambda: s.ready() == 13, "the bytes")
    assert s.contains(b"two") and not s.contains(b"four")
    assert s.index(b"two") == 4
    with pytest.raises(ValueError):
        s.index(b"four")
    assert s.check(lambda buf: buf.endswith(b"three"))
    assert s.peek(3) == b"one"
    # TcpStream's separator is NUL, as threadedstream's
    assert s.read_line(timeout=WAIT) == b"one\x00"
    assert s.read_lines(1, line_timeout=WAIT) == [b"two\x00"]


def test_read_lines(server):
    with TcpStream("127.0.0.1", server.port, separator=b"\n") as s:
        peer = server.peer()
        peer.sendall(b"# c\na\nb\nSTOP\nafter\n")
        lines = s.read_lines(10, skip=lambda l: l.startswith(b"#"),
                             until=lambda l: l == b"STOP\n", timeout=WAIT, line_timeout=WAIT)
        assert lines == [b"a\n", b"b\n", b"STOP\n"]
        assert s.read_line(timeout=WAIT) == b"after\n"
        peer.sendall(b"x\ny")
        with pytest.raises(TimeoutError) as e:
            s.read_lines(3, line_timeout=0.2)
        # the payload starts with the lines the call consumed
        assert e.value.error_payload == (b"x\ny", b"")
        peer.close()


def test_write_and_sendline(tcp):
    s, peer = tcp
    assert s.write(b"ping ") == 5
    s.sendline("pong")
    s.flush(timeout=WAIT)
    assert s.waiting() == 0
    got = b""
    peer.settimeout(WAIT)
    while len(got) < 10:
        got += peer.recv(100)
    assert got == b"ping pong\x00"  # sendline ends with the separator


def test_text_mode(server):
    with TcpStream("127.0.0.1", server.port, separator="\n", encoding="utf-8") as s:
        peer = server.peer()
        peer.sendall("héllo\nwörld".encode())
        assert s.read_line(timeout=WAIT) == "héllo\n"
        with pytest.raises(TimeoutError) as e:
            s.read_until("!", timeout=0.1)
        assert e.value.error_payload == ("wörld", "")
        assert s.expect([r"w(ö)rl"], timeout=WAIT)[1].group(1) == "ö"
        peer.close()


def test_expect(tcp):
    s, peer = tcp
    peer.sendall(b"login: ")
    index, m = s.expect([rb"Password: ", rb"(\w+): "], timeout=WAIT)
    assert index == 1 and m.group(1) == b"login"
    assert s.before == b"" and s.after == b"login: "
    peer.sendall(b"noise 12")
    until(lambda: s.ready() == 8, "noise")
    peer.sendall(b"34ms\n")
    index, m = s.expect([rb"([0-9]+)ms"], timeout=WAIT)
    assert index == 0 and m.group(1) == b"1234" and s.before == b"noise "
    assert s.expect([rb"nothing", TIMEOUT], timeout=0.1) == (1, None)
    peer.shutdown(socket.SHUT_WR)
    assert s.expect([rb"nothing", EOF], timeout=WAIT) == (1, None)
    assert s.before == b"\n"


def test_stop(tcp):
    s, peer = tcp
    peer.sendall(b"kept")
    until(lambda: s.ready() == 4, "kept")
    s.stop()
    with pytest.raises(StoppedThreadError) as e:
        s.read_until(b"x", timeout=WAIT)
    assert e.value.error_payload == (b"kept", b"")
    with pytest.raises(StoppedThreadError):
        s.write(b"more")


def test_peer_reset_mid_write(tcp):
    s, peer = tcp
    peer.sendall(b"unread")
    until(lambda: s.ready() == 6, "unread")
    data = bytes(range(256)) * (4 * 4096)  # 4 MiB, more than the sockets hold
    s.write(data)
    until(lambda: 0 < s.waiting() < len(data), "the kernel to fill up")
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()  # a reset
    with pytest.raises(ConnectionError) as e:
        s.flush(timeout=WAIT)
    read, unsent = e.value.error_payload
    assert read == b"unread"
    # exactly what was not sent: the end of data
    assert 0 < len(unsent) < len(data) and data.endswith(unsent)
    # the reset is sticky: every later call reports it again, with the bytes
    for _ in range(2):
        with pytest.raises(ConnectionResetError) as e:
            s.read_until(b"x", timeout=WAIT)
        assert e.value.error_payload[0] == b"unread"


def test_connect_refused():
    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    srv.close()
    with pytest.raises(ConnectionRefusedError) as e:
        TcpStream("127.0.0.1", port)
    assert e.value.error_payload == (b"", b"")


def test_ctrl_c_interrupts_a_wait(tcp):
    s, _ = tcp
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            s.read_until(b"never", timeout=WAIT)
    finally:
        timer.cancel()


def test_exec_pipes_exit_status():
    with ExecStream(["sh", "-c", "echo out; echo err >&2; exit 3"]) as s:
        assert s.read_line(timeout=WAIT) == b"out\n"
        assert s.expect([EOF], timeout=WAIT) == (0, None)
        until(lambda: s.returncode is not None, "the exit status")
        assert s.returncode == 3 and s.exitstatus == 3 and s.signalstatus is None
        assert s.stderr() == b"err\n"


def test_exec_pty():
    with ExecStream(["sh", "-c", "test -t 0 && read x && echo got $x; exit 7"], pty=True,
                    echo=False) as s:
        s.sendline("ping")
        # the terminal turns \n into \r\n
        assert s.read_until(b"got ping\r\n", timeout=WAIT) == b"got ping\r\n"
        assert s.expect([EOF], timeout=WAIT)[0] == 0
        until(lambda: s.returncode is not None, "sh to end")
        assert s.returncode == 7


def test_exec_sendeof():
    with ExecStream(["cat"]) as s:
        s.write(b"all of it")
        assert s.returncode is None
        s.sendeof(timeout=WAIT)
        assert s.read_until(b"it", timeout=WAIT) == b"all of it"
        assert s.expect([EOF], timeout=WAIT) == (0, None)
        until(lambda: s.returncode is not None, "cat to end")
        assert s.returncode == 0


def test_exec_killed_by_signal():
    with ExecStream("kill -TERM $$") as s:
        s.expect([EOF], timeout=WAIT)
        until(lambda: s.returncode is not None, "the status")
        assert s.signalstatus == signal.SIGTERM and s.exitstatus is None


def test_open_uris(server):
    with stream.open("tcp://127.0.0.1:%d" % server.port) as s:
        peer = server.peer()
        peer.sendall(b"via uri\n")
        assert s.read_line(timeout=WAIT) == b"via uri\n"
        peer.close()
    with stream.open("exec-pipe:echo piped; echo e >&2") as s:
        assert s.read_line(timeout=WAIT) == b"piped\n"
        s.expect([EOF], timeout=WAIT)
        assert s.stderr() == b"e\n"
    with stream.open("exec:echo on a pty", encoding="utf-8") as s:
        assert s.read_until("pty", timeout=WAIT) == "on a pty"
    with pytest.raises(ValueError, match="baud"):
        stream.open("serial:/dev/null?baud=fast")
    with pytest.raises(ValueError):
        stream.open("gopher://x")


def test_exec_not_found():
    with pytest.raises(FileNotFoundError):
        ExecStream(["/nonexistent/program"])


# ---- serial: a socat pty pair ---------------------------------------------

class Socat:
    def __init__(self, d):
        self.dev, self.peer = os.path.join(d, "dev"), os.path.join(d, "peer")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["socat", "pty,raw,echo=0,link=" + self.dev, "pty,raw,echo=0,link=" + self.peer])
        until(lambda: os.path.exists(self.dev) and os.path.exists(self.peer), "socat's ptys")

    def stop(self):
        # SIGTERM: socat removes its links; a link left behind would point
        # start()'s wait at the old, closed pty (EIO on open)
        self.proc.terminate()
        self.proc.wait(WAIT)
        for link in (self.dev, self.peer):
            if os.path.lexists(link):
                os.unlink(link)


@pytest.fixture
def socat():
    if not shutil.which("socat"):
        pytest.skip("socat is not installed")
    with tempfile.TemporaryDirectory() as d:
        s = Socat(d)
        s.start()
        yield s
        if s.proc.poll() is None:
            s.stop()


def read_fd(fd, n):
    got = b""
    deadline = time.monotonic() + WAIT
    while len(got) < n:
        assert time.monotonic() < deadline
        try:
            got += os.read(fd, n - len(got))
        except BlockingIOError:
            time.sleep(0.005)
    return got


def open_peer(path):
    deadline = time.monotonic() + WAIT
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            break
        except OSError as e:
            # EIO: socat has made the link but not yet opened its pty's master
            assert e.errno == errno.EIO and time.monotonic() < deadline, e
            time.sleep(0.02)
    # raw here too: socat may not have set it yet when the link appears
    tty.setraw(fd)
    return fd


def test_serial_device(socat):
    with SerialStream(socat.dev, baudrate=115200) as s:
        fd = open_peer(socat.peer)
        try:
            os.write(fd, b"AT\r\nOK")
            assert s.read_until(b"OK", timeout=WAIT) == b"AT\r\nOK"
            s.write(b"ATZ\r")
            assert read_fd(fd, 4) == b"ATZ\r"
        finally:
            os.close(fd)


def test_serial_device_vanishes_and_returns(socat):
    with SerialStream(socat.dev, reopen=0.05) as s:
        socat.stop()  # the device goes away
        socat.start()  # and comes back under the same path
        fd = open_peer(socat.peer)
        try:
            # bytes written before the stream reopened the device are lost by
            # the pty, so keep saying it until the stream hears
            deadline = time.monotonic() + WAIT
            while not s.contains(b"back"):
                assert time.monotonic() < deadline, "the stream never reopened the device"
                try:
                    os.write(fd, b"back\n")
                except OSError:
                    pass  # EIO while socat sets its new pair up
                time.sleep(0.05)
            assert s.read_until(b"back\n", timeout=WAIT) == b"back\n"
        finally:
            os.close(fd)


def test_serial_bad_settings(tmp_path):
    with pytest.raises(ValueError):
        SerialStream("/dev/null", parity="X")
    with pytest.raises(FileNotFoundError):
        SerialStream(str(tmp_path / "absent"))
