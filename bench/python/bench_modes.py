#!/usr/bin/python3
"""The file buffer and the host mirror: ours against pure-Python sync-stream 1.2.

    ninja -C build/release
    /usr/bin/python3 bench/python/bench_modes.py \\
        --ours build/release/python --peer ../shared/peers/sync-stream

Run by hand, not by the tests. Like bench_python.py (whose child-process
runner this imports), each measurement runs in its own child interpreter with
one package first on sys.path. The peer is much slower, so it gets fewer lines
(--peer-lines) than ours (--lines): the table compares lines/s.

- file_buffer: print() of short lines into LineFileBuffer(maxlen=1000) in a
  temporary directory on local disk, from 1 or 4 processes (each its own
  buffer object and tmp_id, as sync-stream asks); timed from the start to the
  last process's close().
- mirror_server: print() into a LineHostMirror, then close(), timed until the
  server holds every line (maxlen = the line count, checked). The peer's
  mirror posts to the peer's Flask server (LineHostBuffer, werkzeug, threaded,
  in its own process); ours posts to syncstream.host.serve() (C threads, in
  the mirror's process). mirror_to_flask: our mirror to the peer's Flask
  server.

Loopback only; every wait is bounded (--timeout seconds per child).
The peer needs python3-flask, python3-fasteners... (scripts/deps.sh bench).
"""

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Callable, Dict, List, Tuple

from bench_python import report_best, run_child  # beside this file, first on sys.path

MAXLEN = 1000


def _file_worker(syncstream, path: str, tmp_id: str, count: int) -> None:
    buf = syncstream.LineFileBuffer(path, maxlen=MAXLEN, tmp_id=tmp_id)
    for i in range(count):
        print("worker", tmp_id, "line", i, file=buf)
    buf.close()


def workload_file_buffer(syncstream, procs: int, lines: int, ctx: dict) -> Tuple[int, float]:
    per_proc = lines // procs
    with tempfile.TemporaryDirectory(dir=ctx["tmpdir"]) as tmp:
        path = os.path.join(tmp, "bench.log")
        fork = multiprocessing.get_context("fork")
        start = time.perf_counter()
        if procs == 1:
            _file_worker(syncstream, path, "0", per_proc)
        else:
            workers = [fork.Process(target=_file_worker, args=(syncstream, path, str(i), per_proc))
                       for i in range(procs)]
            for w in workers:
                w.start()
            for w in workers:
                w.join(ctx["timeout"])
                assert w.exitcode == 0, w.exitcode
        seconds = time.perf_counter() - start
        items = syncstream.LineFileBuffer(path, maxlen=MAXLEN, tmp_id="check").read()
        assert len(items) == min(MAXLEN, per_proc * procs), len(items)
    return per_proc * procs, seconds


def _http_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def _peer_server(lines: int, ctx: dict) -> Tuple[subprocess.Popen, str]:
    """The peer's Flask server in its own process; returns it and the address."""
    env = dict(os.environ, PYTHONPATH=ctx["peer"], PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve-peer", str(lines)],
                            env=env, stdout=subprocess.PIPE, text=True)
    address = proc.stdout.readline().strip()
    assert address.startswith("http://127.0.0.1:"), address
    return proc, address


def _serve_peer(maxlen: int) -> None:
    import logging

    import flask
    from werkzeug.serving import make_server

    import syncstream

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = flask.Flask("bench")
    syncstream.LineHostBuffer("/sync-stream", maxlen=maxlen).serve(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print("http://127.0.0.1:%d/sync-stream" % server.server_port, flush=True)
    server.serve_forever()


def _mirror(syncstream, address: str, lines: int, visible: Callable[[], int],
            timeout: float) -> float:
    start = time.perf_counter()
    mirror = syncstream.LineHostMirror(address, timeout=timeout)
    for i in range(lines):
        print("mirror line", i, file=mirror)
    mirror.close()
    deadline = time.monotonic() + timeout
    while visible() < lines:
        assert time.monotonic() < deadline, "lines not visible in time"
        time.sleep(0.001)
    return time.perf_counter() - start


def _flask_count(address: str) -> int:
    return _http_json(address + "-state?state=curlen")["data"]


def workload_mirror_server(syncstream, procs: int, lines: int, ctx: dict) -> Tuple[int, float]:
    if "host" in syncstream.__dict__ and hasattr(syncstream.host, "serve"):
        with syncstream.host.serve("127.0.0.1:0", maxlen=lines) as server:
            last = "mirror line %d" % (lines - 1)
            # The last line's arrival, then (untimed) the count: copying the
            # whole buffer on each poll would slow the server down.
            seconds = _mirror(syncstream, server.address, lines,
                              lambda: lines if server.read(1) == (last,) else 0,
                              ctx["timeout"])
            assert len(server.read()) == lines
        return lines, seconds
    return workload_mirror_to_flask(syncstream, procs, lines, ctx)


def workload_mirror_to_flask(syncstream, procs: int, lines: int, ctx: dict) -> Tuple[int, float]:
    proc, address = _peer_server(lines, ctx)
    try:
        seconds = _mirror(syncstream, address, lines, lambda: _flask_count(address), ctx["timeout"])
        last = _http_json(address + "?n=1")["data"]
        assert last == ["mirror line %d" % (lines - 1)], last
    finally:
        proc.terminate()
        proc.wait(10)
    return lines, seconds


# name -> (function, process counts)
WORKLOADS: Dict[str, Tuple[Callable, List[int]]] = {
    "file_buffer": (workload_file_buffer, [1, 4]),
    "mirror_server": (workload_mirror_server, [1]),
    "mirror_to_flask": (workload_mirror_to_flask, [1]),
}


def child(workload: str, procs: int, lines: int, repeat: int, ctx: dict) -> None:
    import syncstream  # the one first on sys.path: ours or the peer
    import syncstream.host  # noqa: F401  (the peer does not import it in __init__)

    function = WORKLOADS[workload][0]
    report_best(syncstream, lambda: function(syncstream, procs, lines, ctx), repeat)


def measure(path: str, workload: str, procs: int, lines: int, args) -> float:
    ctx = {"tmpdir": args.tmpdir, "timeout": args.timeout, "peer": os.path.abspath(args.peer)}
    return run_child(__file__, path, [workload, str(procs), "--lines", str(lines), "--repeat",
                                      str(args.repeat), "--ctx", json.dumps(ctx)],
                     args.timeout * (args.repeat + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours", default="build/release/python")
    parser.add_argument("--peer", default="../shared/peers/sync-stream")
    parser.add_argument("--lines", type=int, default=200_000, help="lines for ours")
    parser.add_argument("--peer-lines", type=int, default=1_500, help="lines for the peer")
    parser.add_argument("--repeat", type=int, default=1, help="best of N in one child")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--tmpdir", default="/tmp", help="directory on local disk")
    parser.add_argument("--only", nargs="*", choices=sorted(WORKLOADS))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--ctx", help=argparse.SUPPRESS)
    parser.add_argument("--serve-peer", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_peer:
        _serve_peer(args.serve_peer)
        return
    if args.child:
        child(args.child[0], int(args.child[1]), args.lines, args.repeat, json.loads(args.ctx))
        return

    print("| workload | processes | sync-stream 1.2 lines/s | syncstream lines/s | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (_, counts) in WORKLOADS.items():
        if args.only and name not in args.only:
            continue
        for procs in counts:
            if name == "mirror_to_flask":
                # Our mirror to their server, against their mirror to their server.
                peer = measure(args.peer, "mirror_server", procs, args.peer_lines, args)
            else:
                peer = measure(args.peer, name, procs, args.peer_lines, args)
            ours = measure(args.ours, name, procs, args.lines, args)
            print("| %s | %d | %.0f | %.0f | %.0fx |" % (name, procs, peer, ours, ours / peer),
                  flush=True)


if __name__ == "__main__":
    main()
