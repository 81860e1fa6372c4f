#!/usr/bin/python3
"""The Python package against pure-Python sync-stream 1.2, the same workloads in one run.

    ninja -C build/release
    /usr/bin/python3 bench/python/bench_python.py \\
        --ours build/release/python --peer ../shared/peers/sync-stream

Run by hand, not by the tests. Both packages are named `syncstream`, so each
measurement runs in its own child interpreter with one of them first on
sys.path. Each workload is a function registered in WORKLOADS under a name;
it gets the imported package and a thread count, does its work and returns
the number of lines it made and the seconds they took. The table prints
lines/s for each implementation and their ratio.

Adding a workload (the file buffer, a host mirror): write
`def workload_NAME(syncstream, threads, lines) -> (lines, seconds)` and add it
to WORKLOADS with the thread counts to run and the fraction of the lines
the peer makes (1 unless it is too slow to finish).

The peer needs python3-typing-extensions (scripts/deps.sh bench installs it).
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from typing import Callable, Dict, List, Tuple

# print() calls per measurement (all threads together).
DEFAULT_LINES = 200_000


# The clock of the timed sections: wall time, or with --cpu the CPU time of
# the measuring process (all its threads), which other programs' load on the
# machine does not stretch.
clock = time.perf_counter


def _run_threads(threads: int, target: Callable[[int], None]) -> float:
    workers = [threading.Thread(target=target, args=(i,)) for i in range(threads)]
    start = clock()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return clock() - start


def workload_print_linebuffer(syncstream, threads: int, lines: int) -> Tuple[int, float]:
    """print() of a short line into a LineBuffer(1000), from `threads` threads."""
    buf = syncstream.LineBuffer(1000)
    per_thread = lines // threads

    def worker(n: int) -> None:
        for i in range(per_thread):
            print("worker", n, "line", i, file=buf)

    seconds = _run_threads(threads, worker)
    assert len(buf.read()) == 1000
    return per_thread * threads, seconds


def workload_redirect_stdout(syncstream, threads: int, lines: int) -> Tuple[int, float]:
    """print() to sys.stdout inside `with buffer:` (sync-stream's documented use)."""
    buf = syncstream.LineBuffer(1000)
    per_thread = lines // threads

    def worker(n: int) -> None:
        for i in range(per_thread):
            print("worker", n, "line", i)

    with buf:
        seconds = _run_threads(threads, worker)
    return per_thread * threads, seconds


def _mirror_worker(mirror, n: int, count: int) -> None:
    with mirror:
        for i in range(count):
            print("worker", n, "line", i)


def workload_proc_mirrors(syncstream, processes: int, lines: int) -> Tuple[int, float]:
    """print() in `processes` child processes, each through its own LineProcMirror
    (`with mirror:`), into one LineProcBuffer(1000); timed from the start of the
    processes until wait() saw every mirror end."""
    import multiprocessing

    buf = syncstream.LineProcBuffer(1000)
    per_process = lines // processes
    workers = [multiprocessing.Process(target=_mirror_worker, args=(buf.mirror, n, per_process))
               for n in range(processes)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    buf.wait()
    seconds = time.perf_counter() - start
    for w in workers:
        w.join()
    assert len(buf.read()) == 1000
    return per_process * processes, seconds


# name -> (function, thread counts (process counts for proc_mirrors), the
# fraction of --lines the peer makes). sync-stream 1.2's mirrors take a
# manager's lock over IPC on every write, a few hundred lines/s: the peer
# makes 1/40 of the lines there, so that a run ends in minutes; the rates
# stay comparable (its fixed cost, the processes' start, is under 1%).
WORKLOADS: Dict[str, Tuple[Callable, List[int], int]] = {
    "print_linebuffer": (workload_print_linebuffer, [1, 4], 1),
    "redirect_stdout": (workload_redirect_stdout, [1, 4], 1),
    "proc_mirrors": (workload_proc_mirrors, [4], 40),
}


def report_best(syncstream, run: Callable[[], Tuple[int, float]], repeat: int) -> None:
    """In a child: print the best lines/s of `repeat` calls of run() (which
    returns lines and seconds) as the JSON line run_child() reads."""
    best = 0.0
    for _ in range(repeat):
        done, seconds = run()
        best = max(best, done / seconds)
    print(json.dumps({"lines_per_s": best, "file": syncstream.__file__}))


def run_child(script: str, path: str, child_args: List[str], timeout: float) -> float:
    """Run `script --child CHILD_ARGS...` with the package at path first on
    sys.path, and return the lines/s its report_best() printed."""
    env = dict(os.environ, PYTHONPATH=path, PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run([sys.executable, os.path.abspath(script), "--child", *child_args],
                         env=env, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        sys.exit("%s %s failed:\n%s" % (path, " ".join(child_args), out.stderr))
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["file"].startswith(os.path.abspath(path)), result["file"]
    return result["lines_per_s"]


def child(workload: str, threads: int, lines: int, repeat: int, cpu: bool) -> None:
    import syncstream  # the one first on sys.path: ours or the peer

    global clock
    if cpu:
        clock = time.process_time

    function = WORKLOADS[workload][0]
    report_best(syncstream, lambda: function(syncstream, threads, lines), repeat)


def measure(path: str, workload: str, threads: int, lines: int, repeat: int, cpu: bool) -> float:
    return run_child(__file__, path, [workload, str(threads), "--lines", str(lines),
                                      "--repeat", str(repeat)] + (["--cpu"] if cpu else []), 3600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours", default="build/release/python",
                        help="the build tree's python directory (default: %(default)s)")
    parser.add_argument("--peer", default="../shared/peers/sync-stream",
                        help="sync-stream 1.2's source (default: %(default)s)")
    parser.add_argument("--lines", type=int, default=DEFAULT_LINES)
    parser.add_argument("--repeat", type=int, default=3, help="best of N (default: 3)")
    parser.add_argument("--only", nargs="*", choices=sorted(WORKLOADS), help="these workloads")
    parser.add_argument("--cpu", action="store_true",
                        help="lines per CPU-second of the measuring process instead of per "
                             "second (not for proc_mirrors, whose work is in other processes)")
    parser.add_argument("--child", nargs=2, metavar=("WORKLOAD", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.lines, args.repeat, args.cpu)
        return

    print("| workload | threads | sync-stream 1.2 lines/s | syncstream lines/s | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (_, thread_counts, peer_share) in WORKLOADS.items():
        if args.only and name not in args.only:
            continue
        for threads in thread_counts:
            peer = measure(args.peer, name, threads, args.lines // peer_share, args.repeat,
                           args.cpu)
            ours = measure(args.ours, name, threads, args.lines, args.repeat, args.cpu)
            print("| %s | %d | %.0f | %.0f | %.1fx |" % (name, threads, peer, ours, ours / peer),
                  flush=True)


if __name__ == "__main__":
    main()
