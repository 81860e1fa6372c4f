"""syncstream.LineFileBuffer: sync-stream's LineFileBuffer on ss_filebuf.

The expected values are sync-stream 1.2's, except where a comment says how
and why ours differs.
"""

import errno
import multiprocessing
import os
import pickle
import subprocess
import sys
import threading

import pytest

import syncstream
from syncstream import LineFileBuffer

TIMEOUT = 120
LINES = 200


def test_write_read_as_sync_stream(tmp_path):
    buf = LineFileBuffer(tmp_path / "log.txt", maxlen=3)
    assert buf.read() == () and len(buf) == 0
    assert buf.write("abc") == 3  # sync-stream returns the count of a line's chars too
    assert buf.read() == ("abc",) and len(buf) == 1
    buf.write("d\nxy\n")
    assert buf.read() == ("abcd", "xy")
    buf.write("1\n2\n3\n4")
    assert buf.read() == ("2", "3", "4")
    assert buf.read(2) == ("3", "4")
    assert buf.read(0) == () and buf.read(-1) == ()
    buf.new_line()
    assert buf.read() == ("2", "3", "4")
    assert buf.maxlen == 3
    # our one file: the path's suffix replaced by .log
    assert os.path.isfile(tmp_path / "log.log")


def test_other_handles_see_records_not_partial_lines(tmp_path):
    a = LineFileBuffer(tmp_path / "log", 10, tmp_id="a")
    b = LineFileBuffer(tmp_path / "log", 10, tmp_id="b")
    a.write("from a\nhalf a")
    b.write("from b\nhalf b")
    assert a.read() == ("from a", "from b", "half a")
    assert b.read() == ("from a", "from b", "half b")
    a.new_line()
    assert b.read() == ("from a", "from b", "half a", "half b")


def test_clear_and_send_exc(tmp_path):
    buf = LineFileBuffer(str(tmp_path / "log"), 10)
    buf.write("x\npartial")
    buf.clear()
    assert buf.read() == ()
    try:
        raise KeyError("boom")
    except KeyError as exc:
        buf.send_exc(exc)
    items = buf.read()
    assert len(items) == 1 and isinstance(items[0], str)
    assert "Traceback" in items[0] and "KeyError: 'boom'" in items[0]
    buf.send_warning(UserWarning("careful"))
    assert buf.read()[-1] == "UserWarning: careful"


def test_context_manager(tmp_path):
    buf = LineFileBuffer(tmp_path / "log", 10)
    stdout, stderr = sys.stdout, sys.stderr
    with buf:
        assert sys.stdout is buf and sys.stderr is buf
        print("out")
        print("err", file=sys.stderr)
        print("unended", end="")
    assert sys.stdout is stdout and sys.stderr is stderr
    assert buf.read() == ("out", "err", "unended")
    with pytest.raises(ValueError):
        with buf:
            raise ValueError("inside")
    assert buf.read()[-1].endswith("ValueError: inside")


def test_close(tmp_path):
    buf = LineFileBuffer(tmp_path / "log", 10)
    buf.write("last")
    buf.close()
    buf.close()
    assert buf.closed and not buf.readable() and not buf.writable()
    for call in (lambda: buf.read(), lambda: buf.write("x"), buf.new_line, buf.clear):
        with pytest.raises(OSError) as info:
            call()
        assert info.value.errno == errno.EBADF
    assert LineFileBuffer(tmp_path / "log", 10).read() == ("last",)


def test_bad_arguments(tmp_path):
    for maxlen in (0, -1, "3", None, 1.5):
        with pytest.raises(TypeError):
            LineFileBuffer(tmp_path / "log", maxlen)
    for path in ("", "   ", None, 3):
        with pytest.raises(TypeError):
            LineFileBuffer(path)
    with pytest.raises(TypeError):
        LineFileBuffer(tmp_path / "log", 5, "")
    with pytest.raises(ValueError):
        LineFileBuffer(tmp_path / "log", 1 << 40)
    with pytest.raises(FileNotFoundError):
        LineFileBuffer(tmp_path / "missing" / "log")
    (tmp_path / "other.log").write_text("not ours\n")
    with pytest.raises(OSError):
        LineFileBuffer(tmp_path / "other.log")
    assert (tmp_path / "other.log").read_text() == "not ours\n"
    buf = LineFileBuffer(tmp_path / "log", 5)
    for bad in (None, b"x", 3):
        with pytest.raises(TypeError):
            buf.write(bad)
    with pytest.raises(TypeError):
        buf.read("2")
    with pytest.raises(OSError):
        buf.fileno()
    uninit = LineFileBuffer.__new__(LineFileBuffer)
    with pytest.raises(ValueError):
        uninit.write("x")


def test_threads_share_one_handle(tmp_path):
    buf = LineFileBuffer(tmp_path / "log", 4 * LINES)

    def worker(n):
        for i in range(LINES):
            buf.write("thread {0} line {1}\n".format(n, i))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive()
    assert sorted(buf.read()) == sorted(
        "thread {0} line {1}".format(n, i) for n in range(4) for i in range(LINES)
    )


def _writer(path, n, pieces):
    buf = path if isinstance(path, LineFileBuffer) else LineFileBuffer(path, 4 * LINES, str(n))
    for i in range(LINES):
        # written in pieces: a line is stored whole once ended
        for piece in ("proc {0} ".format(n), "line {0}".format(i), " end\n")[:pieces]:
            buf.write(piece)
        if pieces < 3:
            buf.write(" end\n")


def _expected(count):
    return sorted("proc {0} line {1} end".format(n, i) for n in range(count) for i in range(LINES))


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_processes_write_one_file(tmp_path, method):
    ctx = multiprocessing.get_context(method)
    path = str(tmp_path / "log")
    procs = [ctx.Process(target=_writer, args=(path, n, 2)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(TIMEOUT)
        assert p.exitcode == 0
    assert sorted(LineFileBuffer(path, 4 * LINES).read()) == _expected(4)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_handle_handed_to_processes(tmp_path, method):
    # The parent's handle itself goes to the children: inherited (fork) or
    # pickled (spawn); each child opens the file again.
    buf = LineFileBuffer(tmp_path / "log", 4 * LINES)
    buf.write("parent's partial")
    ctx = multiprocessing.get_context(method)
    procs = [ctx.Process(target=_writer, args=(buf, n, 3)) for n in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(TIMEOUT)
        assert p.exitcode == 0
    items = buf.read()
    assert items[-1] == "parent's partial"
    assert sorted(items[:-1]) == _expected(3)


def test_bound_respected_across_processes(tmp_path):
    ctx = multiprocessing.get_context("fork")
    path = str(tmp_path / "log")
    LineFileBuffer(path, 50)  # creates the file with maxlen 50
    procs = [ctx.Process(target=_writer, args=(path, n, 3)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(TIMEOUT)
        assert p.exitcode == 0
    buf = LineFileBuffer(path, 50)
    items = buf.read()
    assert len(items) == 50 and len(buf) == 50 and buf.maxlen == 50
    # each process's newest line is among the newest records
    assert set(items) <= set(_expected(4))


def test_write_is_bound_once_and_overrides_win(tmp_path):
    buf = LineFileBuffer(tmp_path / "log", 10)
    assert buf.write is buf.write
    got = []
    buf.write = got.append
    print("mine", file=buf)
    assert got == ["mine", "\n"] and buf.read() == ()
    del buf.write
    print("file", 2, file=buf)
    assert buf.read() == ("file 2",)


def test_partial_line_reaches_the_file_at_exit(tmp_path):
    # A partial line is the handle's until it ends; a process that exits
    # leaves it in the file as a record.
    path = str(tmp_path / "log")
    code = (
        "import syncstream\n"
        "buf = syncstream.LineFileBuffer(%r, 10)\n"
        "print('whole', file=buf)\n"
        "print('partial', 'at', 'exit', end='', file=buf)\n" % path
    )
    subprocess.run([sys.executable, "-c", code], timeout=TIMEOUT, check=True)
    assert LineFileBuffer(path, 10).read() == ("whole", "partial at exit")


def _child_writes(buf, queue):
    queue.put(buf.read())  # the parent's partial line is not the child's
    print("child", file=buf)


def test_fork_keeps_the_partial_line_with_the_parent(tmp_path):
    buf = LineFileBuffer(tmp_path / "log", 10)
    print("parent", "half", end="", file=buf)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_writes, args=(buf, queue))
    child.start()
    assert queue.get(timeout=TIMEOUT) == ()
    child.join(TIMEOUT)
    assert child.exitcode == 0
    print(" done", file=buf)
    buf.close()
    # once, whole, after the child's line
    assert LineFileBuffer(tmp_path / "log", 10).read() == ("child", "parent half done")


def test_pickle_round_trip(tmp_path):
    buf = LineFileBuffer(tmp_path / "log", 7, "me")
    buf.write("a\n")
    copy = pickle.loads(pickle.dumps(buf))
    assert copy.maxlen == 7 and copy.read() == ("a",)


def test_exported():
    assert syncstream.file.LineFileBuffer is LineFileBuffer
