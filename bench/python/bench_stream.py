#!/usr/bin/env python3
"""syncstream.stream beside threadedstream and pexpect, in one run.

    PYTHONPATH=build/python:/path/to/threadedstream python3 bench/python/bench_stream.py \
        [--pings N] [--mbytes M]

Each client talks TCP on 127.0.0.1 to a server in a process of its own (so
that the server does not compete for the client's GIL):

- round trip: write b"ping\\n", read_until(b"ping\\n") from an echo server;
  median and p99 of --pings (default 2000) round trips.
- consume: the server sends --mbytes (default 50) MB once the client says
  "go"; the client takes them as they come; MB/s.

The clients: threadedstream's TcpStream (its str/bytes defect patched here
only: the buffers set to b"" after construction), pexpect 4.8's fdspawn on a
socket (expect_exact, read_nonblocking), and syncstream.stream.TcpStream. The
results are in docs/benchmarks.md.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

PING = b"ping\n"
CHUNK = 64 * 1024
CONSUME_CAP = 30.0


def serve(mode, nbytes):
    """The server (a child process): print the port, serve one client."""
    srv = socket.create_server(("127.0.0.1", 0))
    print(srv.getsockname()[1], flush=True)
    conn, _ = srv.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if mode == "echo":
        while True:
            data = conn.recv(CHUNK)
            if not data:
                break
            conn.sendall(data)
    else:
        conn.recv(16)  # "go": the client's clock runs
        block = b"x" * CHUNK
        left = nbytes
        try:
            while left > 0:
                n = min(left, CHUNK)
                conn.sendall(block[:n])
                left -= n
            conn.shutdown(socket.SHUT_WR)
            conn.recv(16)
        except ConnectionError:
            pass  # a client that stopped early (threadedstream, capped)
    conn.close()


class Server:
    def __init__(self, mode, nbytes=0):
        self.proc = subprocess.Popen([sys.executable, __file__, "--server", mode, str(nbytes)],
                                     stdout=subprocess.PIPE)
        self.port = int(self.proc.stdout.readline())

    def close(self):
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---- the clients: (connect, round trip, consume) -------------------------

def threadedstream_client(port):
    from threadedstream.streams.tcpstream import TcpStream
    s = TcpStream("127.0.0.1", port)
    s._in_buffer = s._out_buffer = b""  # its known defect, patched here only
    s.start()
    return s


def threadedstream_ping(s):
    s.write(PING)
    s.read_until(PING, timeout=10)


def threadedstream_consume(s, nbytes):
    s.write(b"go")
    got = 0
    # it never sees the end of the stream; and it is slow: its rate is
    # measured over what it took in CONSUME_CAP seconds
    deadline = time.monotonic() + CONSUME_CAP
    while got < nbytes:
        got += len(s.read(1 << 20))
        if time.monotonic() > deadline:
            break
    return got


def threadedstream_close(s):
    s.stop()


def pexpect_client(port):
    import pexpect.fdpexpect
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    child = pexpect.fdpexpect.fdspawn(sock.fileno(), timeout=10, maxread=CHUNK)
    child._sock = sock
    return child


def pexpect_ping(c):
    c._sock.sendall(PING)
    c.expect_exact(PING)


def pexpect_consume(c, nbytes):
    import pexpect
    c._sock.sendall(b"go")
    got = 0
    try:
        while True:
            got += len(c.read_nonblocking(CHUNK, timeout=10))
    except pexpect.EOF:
        pass
    return got


def pexpect_close(c):
    c._sock.close()


def ours_client(port):
    from syncstream.stream import TcpStream
    return TcpStream("127.0.0.1", port)


def ours_ping(s):
    s.write(PING)
    s.read_until(PING, timeout=10)


def ours_consume(s, nbytes):
    s.write(b"go")
    got = 0
    try:
        while True:
            got += len(s.read(1 << 20, timeout=10))
    except EOFError:
        pass
    return got


def ours_close(s):
    s.stop()


CLIENTS = {
    "threadedstream": (threadedstream_client, threadedstream_ping, threadedstream_consume,
                       threadedstream_close),
    "pexpect": (pexpect_client, pexpect_ping, pexpect_consume, pexpect_close),
    "syncstream": (ours_client, ours_ping, ours_consume, ours_close),
}


def round_trips(name, pings):
    connect, ping, _, close = CLIENTS[name]
    srv = Server("echo")
    c = connect(srv.port)
    for _ in range(min(100, pings)):
        ping(c)  # warm up
    times = []
    for _ in range(pings):
        t0 = time.perf_counter()
        ping(c)
        times.append(time.perf_counter() - t0)
    close(c)
    srv.close()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


def consume(name, nbytes):
    connect, _, take, close = CLIENTS[name]
    srv = Server("send", nbytes)
    c = connect(srv.port)
    t0 = time.perf_counter()
    got = take(c, nbytes)
    dt = time.perf_counter() - t0
    close(c)
    srv.close()
    return got / dt / 1e6, got


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--server":
        serve(sys.argv[2], int(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pings", type=int, default=2000)
    ap.add_argument("--mbytes", type=int, default=50)
    ap.add_argument("--only", choices=sorted(CLIENTS), action="append")
    args = ap.parse_args()
    names = args.only or list(CLIENTS)
    nbytes = args.mbytes * 1000 * 1000
    rows = {}
    for name in names:
        med, p99 = round_trips(name, args.pings)
        rate, got = consume(name, nbytes)
        rows[name] = (med, p99, rate, got)
        print("%-15s round trip median %9.1f us  p99 %9.1f us  consume %8.1f MB/s (%d bytes)"
              % (name, med * 1e6, p99 * 1e6, rate, got), flush=True)
    if "syncstream" in rows:
        ours = rows["syncstream"]
        for name in names:
            if name != "syncstream":
                med, p99, rate, _ = rows[name]
                print("syncstream vs %-15s round trip %.1fx faster, consume %.1fx"
                      % (name, med / ours[0], ours[2] / rate))


if __name__ == "__main__":
    main()
