"""LineProcBuffer and LineProcMirror: sync-stream's process classes, across the
fork, spawn and forkserver start methods, pools, stops, resets, big lines from
many processes, a killed child, Ctrl-C, and bad input.

Worker functions live at module level so that spawned children can import
them. Every wait is bounded (TIMEOUT)."""

import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest

import syncstream
from syncstream import GroupedMessage, LineProcBuffer, LineProcMirror

TIMEOUT = 60
METHODS = ("fork", "spawn")


@pytest.fixture(params=METHODS)
def ctx(request):
    return multiprocessing.get_context(request.param)


def wait_ok(pbuf):
    assert pbuf.wait(TIMEOUT) is None


@contextlib.contextmanager
def pool_of(ctx, n):
    """A pool ended by close() and join() rather than Pool.__exit__'s
    terminate(): CPython's terminate() can hang, its task handler waiting
    for the input queue's lock (seen once under load, in the second pool of
    test_stop_all_mirrors). The documented examples keep `with Pool`."""
    pool = ctx.Pool(n)
    try:
        yield pool
        pool.close()
        pool.join()
    except BaseException:
        pool.terminate()
        raise


# --- workers (module level, for spawn) ---

def worker_doc(buffer):
    # sync-stream's guide, "Synchronize among processes"
    try:
        with contextlib.redirect_stdout(buffer):
            print("Message", "item")
    except Exception as err:
        buffer.send_error(err)
    else:
        buffer.send_eof()


def worker_docstring(buffer):
    # the example in LineProcBuffer's docstring
    with buffer:
        print("example")


def create_warn(catch=False):
    if catch:
        with warnings.catch_warnings(record=True):
            warnings.filterwarnings("error")
            warnings.warn("An example of python warning.", UserWarning)
    else:
        warnings.warn("An example of python warning.", UserWarning)


def worker_reference(buffer):
    # sync-stream's own test worker: stdout assigned, warnings, an error
    sys.stdout = buffer
    sys.stderr = buffer
    for i in range(10):
        print("Line:", "buffer", "new", i, end="\n")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        create_warn()
    try:
        create_warn(catch=True)
    except Warning as warn:
        buffer.send_warning(warn)
    try:
        raise TypeError("A test error.")
    except TypeError as err:
        buffer.send_error(err)


def worker_lite(buffer):
    sys.stdout = buffer
    for i in range(2):
        print("Line:", "buffer", "new", i)
    buffer.send_eof()


def worker_stop(buffer):
    try:
        sys.stdout = buffer
        for i in range(2000):
            print("Line:", "buffer", "new", i)
            time.sleep(0.01)
    except Exception as error:
        buffer.send_error(error)
    else:
        buffer.send_eof()


BIG = 200 * 1024


def worker_big(args):
    mirror, n = args
    with mirror:
        for i in range(3):
            letter = "abcdefghijklmnopqrstuvwxyz"[(n * 3 + i) % 26]
            # in pieces, so that the mirror assembles the line
            line = "{0}:{1}:".format(n, i) + letter * BIG + "\n"
            for k in range(0, len(line), 5000):
                mirror.write(line[k:k + 5000])


def worker_killed(mirror):
    mirror.write("before the kill\n")
    os.kill(os.getpid(), signal.SIGKILL)


def worker_logging(mirror):
    log = logging.getLogger("syncstream-test-{0}".format(os.getpid()))
    log.setLevel(logging.DEBUG)
    handler = logging.StreamHandler(mirror)
    handler.setFormatter(logging.Formatter("%(levelname)s - %(message)s"))
    log.addHandler(handler)
    log.debug("Test item 1.")
    log.warning("Test item 2.")
    mirror.send_eof()


def worker_forever(mirror):
    with mirror:
        while True:
            print("tick")
            time.sleep(0.01)


# --- the documented examples ---

def test_guide_example_pool(ctx):
    pbuf = syncstream.LineProcBuffer(10)
    with ctx.Pool(4) as pool:
        pool.map_async(worker_doc, tuple(pbuf.mirror for _ in range(4)))
        wait_ok(pbuf)
    assert pbuf.read() == ("Message item",) * 4


def test_docstring_example_pool(ctx):
    pbuf = LineProcBuffer(maxlen=10)
    with ctx.Pool(4) as p:
        p.map_async(worker_docstring, tuple(pbuf.mirror for _ in range(4)))
        wait_ok(pbuf)
    assert pbuf.read() == ("example",) * 4


def test_reference_process_test(ctx):
    pbuf = LineProcBuffer(maxlen=20)
    with pool_of(ctx, 4) as pool:
        pool.map_async(worker_reference, tuple(pbuf.mirror for _ in range(4)))
        wait_ok(pbuf)
    messages = pbuf.read()
    assert len(messages) == 20
    # each process ends with its warning then its error: the newest item is
    # an error, and a warning comes before it (the four processes' last
    # items interleave, so the one before it may be another's error)
    kinds = [getattr(m, "type", "line") for m in messages]
    assert kinds[-1] == "error"
    assert "warning" in kinds[:-1]
    errors = [m for m in messages if isinstance(m, GroupedMessage) and m.type == "error"]
    assert errors[0].data[-1] == "TypeError: A test error."
    assert errors[0].data[0] == "Traceback (most recent call last):"


def test_warn_text_arrives_as_lines():
    # spawn: a fork child would inherit pytest's capture of warnings
    ctx = multiprocessing.get_context("spawn")
    pbuf = LineProcBuffer(maxlen=100)
    p = ctx.Process(target=worker_reference, args=(pbuf.mirror,))
    p.start()
    wait_ok(pbuf)
    p.join(TIMEOUT)
    lines = [m for m in pbuf.read() if isinstance(m, str)]
    assert lines[:10] == ["Line: buffer new {0}".format(i) for i in range(10)]
    assert "UserWarning: An example of python warning." in lines[10]


def test_reference_process_clear():
    # fork only: the spawn start method is covered by the tests above
    ctx = multiprocessing.get_context("fork")
    pbuf = LineProcBuffer(maxlen=20)
    with pool_of(ctx, 4) as pool:
        pool.map_async(worker_lite, tuple(pbuf.mirror for _ in range(4)))
        wait_ok(pbuf)
        pool.map_async(worker_lite, tuple(pbuf.mirror for _ in range(4)))
        wait_ok(pbuf)
    assert len(pbuf.read()) == 16
    pbuf.clear()
    assert pbuf.read() == ()
    with pool_of(ctx, 4) as pool:
        pool.map_async(worker_lite, tuple(pbuf.mirror for _ in range(4)))
        wait_ok(pbuf)
        pbuf.clear()
        pool.map_async(worker_lite, tuple(pbuf.mirror for _ in range(4)))
        wait_ok(pbuf)
    assert len(pbuf.read()) == 8


def test_stop_all_mirrors(ctx):
    pbuf = LineProcBuffer(maxlen=200)
    with pool_of(ctx, 4) as pool:
        pool.map_async(worker_stop, tuple(pbuf.mirror for _ in range(4)))
        deadline = time.monotonic() + TIMEOUT
        while len(pbuf.read()) < 8 and time.monotonic() < deadline:
            pbuf.receive(1.0)
        pbuf.stop_all_mirrors()
        wait_ok(pbuf)
        assert pbuf.n_mirrors == 0
        pbuf.reset_states()
    messages = pbuf.read()
    errors = [m for m in messages if isinstance(m, GroupedMessage)]
    assert len(errors) == 4
    for e in errors:
        assert e.type == "error"
        assert e.data[-1] == "StopIteration: syncstream: The sub-process is terminated by users."
    # usable again after the reset
    with pool_of(ctx, 2) as pool:
        pool.map_async(worker_lite, tuple(pbuf.mirror for _ in range(2)))
        wait_ok(pbuf)
    # two processes' lines: each in its order, no order between the two
    got = pbuf.read(4)
    assert sorted(got) == ["Line: buffer new 0"] * 2 + ["Line: buffer new 1"] * 2
    assert got[0] == "Line: buffer new 0"


def test_force_stop_and_killed_children():
    # fork only: the spawn start method is covered by the tests above
    ctx = multiprocessing.get_context("fork")
    pbuf = LineProcBuffer(maxlen=10)
    procs = [ctx.Process(target=worker_forever, args=(pbuf.mirror,)) for _ in range(2)]
    for p in procs:
        p.start()
    assert pbuf.receive(TIMEOUT) is True
    pbuf.force_stop()
    assert pbuf.wait(TIMEOUT) is None
    assert pbuf.receive() is False
    assert pbuf.n_mirrors == 0
    for p in procs:
        p.kill()
        p.join(TIMEOUT)
    pbuf.reset_states()
    assert pbuf.read()  # what came before stays


def test_killed_child_ends_wait(ctx):
    pbuf = LineProcBuffer(maxlen=10)
    p = ctx.Process(target=worker_killed, args=(pbuf.mirror,))
    p.start()
    wait_ok(pbuf)
    p.join(TIMEOUT)
    assert p.exitcode == -signal.SIGKILL
    items = pbuf.read()
    assert items[0] == "before the kill"
    assert isinstance(items[1], GroupedMessage) and items[1].type == "error"
    assert "without an end" in str(items[1])


def test_big_lines_many_processes(ctx):
    pbuf = LineProcBuffer(maxlen=100)
    mirrors = [(pbuf.mirror, n) for n in range(6)]
    with pool_of(ctx, 3) as pool:
        res = pool.map_async(worker_big, mirrors)
        wait_ok(pbuf)
        res.get(TIMEOUT)
    lines = pbuf.read()
    assert len(lines) == 18
    seen = set()
    for line in lines:
        n, i, body = line.split(":")
        letter = "abcdefghijklmnopqrstuvwxyz"[(int(n) * 3 + int(i)) % 26]
        assert body == letter * BIG
        seen.add((int(n), int(i)))
    assert len(seen) == 18
    # each process's lines in its order
    for n in range(6):
        mine = [int(x.split(":")[1]) for x in lines if x.startswith("{0}:".format(n))]
        assert mine == [0, 1, 2]


def test_logging_in_child():
    # fork only: the spawn start method is covered by the tests above
    ctx = multiprocessing.get_context("fork")
    pbuf = LineProcBuffer(maxlen=10)
    p = ctx.Process(target=worker_logging, args=(pbuf.mirror,))
    p.start()
    wait_ok(pbuf)
    p.join(TIMEOUT)
    assert pbuf.read() == ("DEBUG - Test item 1.", "WARNING - Test item 2.")


def test_forkserver():
    ctx = multiprocessing.get_context("forkserver")
    pbuf = LineProcBuffer(maxlen=10)
    with pool_of(ctx, 2) as pool:
        pool.map_async(worker_docstring, tuple(pbuf.mirror for _ in range(2)))
        wait_ok(pbuf)
    assert pbuf.read() == ("example",) * 2


# --- in this process, threads, receive() ---

def test_mirror_in_this_process_and_receive():
    pbuf = LineProcBuffer(maxlen=10)
    m1, m2 = pbuf.mirror, pbuf.mirror
    assert m1 is not m2 and pbuf.n_mirrors == 2
    m1.write("partial")
    assert m1.read() == "partial" and m1.read(3) == "par"
    m1.write(" line\nnext")
    assert pbuf.receive(TIMEOUT) is True
    assert pbuf.read() == ("partial line",)
    m1.send_eof()  # sends "next", then an end
    assert pbuf.receive(TIMEOUT) is True  # one of two mirrors ended (or "next" came)
    with m2:
        print("in with")
    assert pbuf.wait(TIMEOUT) is None
    assert pbuf.read() == ("partial line", "next", "in with")
    assert m2.closed and not m1.closed


def test_mirror_while_another_thread_waits():
    import threading
    pbuf = LineProcBuffer(maxlen=10)
    first = pbuf.mirror
    results = []
    waiter = threading.Thread(target=lambda: results.append(pbuf.wait(TIMEOUT)))
    waiter.start()
    second = pbuf.mirror  # not blocked by the waiting thread
    assert pbuf.n_mirrors == 2
    for m, text in ((first, "one"), (second, "two")):
        with m:
            print(text)
    waiter.join(TIMEOUT)
    assert results == [None]
    assert sorted(pbuf.read()) == ["one", "two"]


def test_reset_states_detaches_old_mirrors():
    pbuf = LineProcBuffer(maxlen=10)
    m = pbuf.mirror
    with pytest.raises(TypeError, match="still mirrors"):
        pbuf.reset_states()
    m.write("one\n")
    m.send_eof()
    wait_ok(pbuf)
    old_copy = pickle.loads(pickle.dumps(m))
    pbuf.reset_states()
    with pytest.raises(BrokenPipeError):
        for _ in range(100):
            m.write("after\n")
    with pytest.raises(PermissionError):
        old_copy.write("after\n")
    fresh = pbuf.mirror
    fresh.write("two\n")
    fresh.close()
    wait_ok(pbuf)
    assert pbuf.read() == ("one", "two")


def test_mirror_of_a_freed_buffer():
    pbuf = LineProcBuffer(maxlen=10)
    used, unused = pbuf.mirror, pbuf.mirror
    used.write("one\n")
    del pbuf
    import gc
    gc.collect()
    with pytest.raises(BrokenPipeError):
        for _ in range(100):
            used.write("more\n")
    with pytest.raises(ConnectionRefusedError):
        unused.write("never\n")


def test_stopped_mirror_in_this_process():
    pbuf = LineProcBuffer(maxlen=10)
    m = pbuf.mirror
    m.write("a\n")
    pbuf.stop_all_mirrors()
    with pytest.raises(StopIteration, match="terminated by users"):
        m.write("b\n")
    with pytest.raises(StopIteration):
        print("c", file=m)
    m.send_error(ValueError("stopped"))
    wait_ok(pbuf)
    items = pbuf.read()
    assert items[0] == "a" and items[-1].type == "error"


# --- Ctrl-C ---

def test_ctrl_c_interrupts_wait_and_receive():
    code = textwrap.dedent("""
        import sys
        import syncstream
        pbuf = syncstream.LineProcBuffer(5)
        m = pbuf.mirror
        what = sys.argv[1]
        print("ready", flush=True)
        try:
            if what == "wait":
                pbuf.wait()
            else:
                while pbuf.receive():
                    pass
        except KeyboardInterrupt:
            print("interrupted", flush=True)
    """)
    for what in ("wait", "receive"):
        proc = subprocess.Popen([sys.executable, "-c", code, what], stdout=subprocess.PIPE,
                                text=True, env=os.environ)
        try:
            assert proc.stdout.readline() == "ready\n"
            time.sleep(0.2)
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=TIMEOUT)
        finally:
            proc.kill()
            proc.wait()
        assert out == "interrupted\n"


# --- bad input, closed objects, fork ---

def test_errors():
    for bad in (0, -1, "10", None, 1.5):
        with pytest.raises(TypeError, match="positive integer"):
            LineProcBuffer(bad)
    with pytest.raises(ValueError):
        LineProcBuffer(2 ** 40)
    with pytest.raises(TypeError):
        LineProcMirror()
    pbuf = LineProcBuffer(5)
    with pytest.raises(NotImplementedError):
        pbuf.write("x")
    with pytest.raises(TypeError, match="pickle"):
        pickle.dumps(pbuf)
    with pytest.raises(TypeError):
        pbuf.read("x")
    with pytest.raises(ValueError):
        pbuf.wait(-1)
    with pytest.raises(OSError):
        pbuf.fileno()
    m = pbuf.mirror
    for bad in (None, b"x", 3):
        with pytest.raises(TypeError):
            m.write(bad)
    with pytest.raises(ValueError):
        m.timeout = -1
    m.timeout = 5
    assert m.timeout == 5.0
    m.close()
    m.close()
    assert m.closed and not m.writable()
    with pytest.raises(OSError):
        m.write("x\n")
    m.send_eof()
    m.send_warning(UserWarning("ignored"))
    copy = pickle.loads(pickle.dumps(m))
    assert copy.closed
    wait_ok(pbuf)
    pbuf.close()
    assert pbuf.closed
    with pytest.raises(OSError):
        pbuf.read()
    with pytest.raises(OSError):
        pbuf.wait(1)
    with pytest.raises(OSError):
        pbuf.receive(1)


def test_buffer_in_fork_child_raises():
    pbuf = LineProcBuffer(5)
    m = pbuf.mirror
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            try:
                pbuf.wait(1)
                code = 1
            except RuntimeError:
                pass
            try:
                pbuf.read()
                code = 2
            except RuntimeError:
                pass
            try:
                pbuf.closed
                code = 4
            except RuntimeError:
                pass
            if pbuf.maxlen != 5:
                code = 5
            m.write("from the fork child\n")
            m.close()
        except BaseException:
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    wait_ok(pbuf)
    assert pbuf.read() == ("from the fork child",)
