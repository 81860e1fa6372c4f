#!/usr/bin/env python3
"""The pexpect side of bench_stream: python3-pexpect on a TCP socket
(pexpect.fdpexpect), doing what bench_stream does with ss_stream.

    pexpect_peer.py read  PORT BYTES PINGS   -> bytes per second
    pexpect_peer.py until PORT BYTES PINGS   -> bytes per second
    pexpect_peer.py ping  PORT BYTES PINGS   -> median and p99 in seconds
"""
import socket
import sys
import time

import pexpect
import pexpect.fdpexpect

MARK = b"#END#\n"


def main():
    mode, port, nbytes, pings = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # maxread: as many bytes per read as bench_stream's 64 KiB; no timeout
    child = pexpect.fdpexpect.fdspawn(sock.fileno(), timeout=None, maxread=65536)
    if mode == "read":
        got = 0
        t0 = time.monotonic()
        sock.sendall(b"g")  # the server starts sending now
        try:
            while True:
                got += len(child.read_nonblocking(65536, timeout=None))
        except pexpect.EOF:
            pass
        print(got / (time.monotonic() - t0))
    elif mode == "until":
        got = 0
        t0 = time.monotonic()
        sock.sendall(b"g")
        while True:
            if child.expect_exact([MARK, pexpect.EOF]) == 1:
                break
            got += len(child.before) + len(MARK)
        print(got / (time.monotonic() - t0))
    else:
        lat = []
        for _ in range(pings):
            t0 = time.monotonic()
            sock.sendall(b"ping\n")
            child.expect_exact(b"ping\n")
            lat.append(time.monotonic() - t0)
        lat.sort()
        print(lat[len(lat) // 2], lat[int(0.99 * (len(lat) - 1) + 0.5)])
    sock.close()


if __name__ == "__main__":
    main()
