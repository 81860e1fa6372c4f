"""Leak check: 100 000 create/use/destroy cycles with the resident set flat.

Each workload runs in a child interpreter that measures its own RSS after a
warm-up (allocator pools, interned strings, caches reach their steady state)
and again after the remaining cycles; a leak of a few dozen bytes per cycle
exceeds the bound.

Where it runs (scripts/test.sh runs both):
- build/release (no sanitizer): every workload, 100 000 cycles (10 000 for
  captures, which start two threads each), by scripts/test.sh after the
  release build.
- build/asan (the meson suite "python"): the buffer workloads, 20 000 cycles,
  so that ASan checks every access of the cycles. ASan puts freed memory in a
  quarantine before reuse, which grows RSS without a leak: the child runs with
  quarantine_size_mb=0, so that RSS measures live memory again. The capture
  workload is skipped there: ASan keeps per-thread state of every thread that
  ever ran, which grows RSS by some hundred bytes per thread.
- build/tsan: skipped (shadow memory and per-thread history grow RSS).
"""

import os
import subprocess
import sys
import textwrap

import pytest

_PRELOAD = os.environ.get("LD_PRELOAD", "")
SANITIZED = "asan" in _PRELOAD or "tsan" in _PRELOAD or "ubsan" in _PRELOAD
CYCLES = 20_000 if SANITIZED else 100_000
# Two threads and three pipes per capture make it far dearer than a buffer.
CAPTURE_CYCLES = 10_000
# Growth allowed between the warm-up and the end: a leak of 32 bytes a cycle
# over 90 000 cycles is 2.7 MiB.
BOUND = 2 * 1024 * 1024
TIMEOUT = 1200

pytestmark = pytest.mark.skipif(
    "tsan" in _PRELOAD,
    reason="ThreadSanitizer's shadow memory grows RSS; build/release and build/asan run this")

HARNESS = """
import gc, os, sys
import syncstream
PAGE = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE
def run(cycle, cycles):
    warm = cycles // 10
    for i in range(warm):
        cycle(i)
    gc.collect()
    before = rss()
    for i in range(warm, cycles):
        cycle(i)
    gc.collect()
    print(rss() - before, flush=True)
"""


def growth(body, cycles):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0:detect_leaks=0"
    code = HARNESS + textwrap.dedent(body) + "\nrun(cycle, %d)\n" % cycles
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.split()[-1])


def test_linebuffer_cycles_do_not_leak():
    grew = growth("""
        def cycle(i):
            buf = syncstream.LineBuffer(4)
            buf.write("line %d\\nanother\\npartial" % i)
            buf.read()
            buf.read(2)
            len(buf)
            buf.new_line()
            buf.send_warning(UserWarning("w"))
            buf.clear()
            buf.write("x\\n")
            buf.close()
    """, CYCLES)
    assert grew < BOUND, "RSS grew by %d bytes over %d cycles" % (grew, CYCLES)


def test_records_and_follow_cycles_do_not_leak():
    grew = growth("""
        def cycle(i):
            buf = syncstream.LineBuffer(3)
            buf.write("a\\nb\\nc\\nd \\udcff\\n")
            batch = buf.records(since=1, limit=2)
            buf.records(batch.cursor)
            list(buf)
            follower = buf.follow(cursor=0, timeout=0)
            for rec in follower:
                rec.text, rec.source, rec.time
            try:
                buf.records(-1)
            except ValueError:
                pass
            follower = buf.follow()
            buf.close()
            list(follower)
    """, CYCLES)
    assert grew < BOUND, "RSS grew by %d bytes over %d cycles" % (grew, CYCLES)


@pytest.mark.skipif(SANITIZED, reason="a sanitizer keeps state per thread ever run; "
                    "scripts/test.sh runs this in build/release")
def test_capture_cycles_do_not_leak():
    grew = growth("""
        buf = syncstream.LineBuffer(4)
        def cycle(i):
            with syncstream.capture(buf, tee=(i % 2 == 0)):
                os.write(1, b"out\\n")
                os.write(2, b"err")
            cap = syncstream._core.FdCapture(syncstream.LineBuffer(2), 2, source="s")
            del cap
    """, CAPTURE_CYCLES)
    assert grew < BOUND, "RSS grew by %d bytes over %d cycles" % (grew, CAPTURE_CYCLES)
