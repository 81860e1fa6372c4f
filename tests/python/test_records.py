"""Records, cursors and follow() on a LineBuffer (beyond sync-stream)."""

import gc
import pickle
import threading
import time
import weakref

import pytest

import syncstream
from syncstream import LineBuffer, Record, RecordBatch
from sigint_check import assert_sigint_interrupts

JOIN_TIMEOUT = 60


def texts(records):
    return [r.text for r in records]


def test_record_fields():
    buf = LineBuffer(5)
    before = time.time_ns()
    buf.write("one\ntwo")
    after = time.time_ns()
    (rec,) = list(buf)  # the partial line "two" is not a record
    assert isinstance(rec, Record)
    seq, t, source, kind, text = rec  # five items unpack
    assert (seq, source, kind, text) == (1, "", "line", "one")
    assert before <= rec.time_ns <= after
    assert rec.time == pytest.approx(rec.time_ns / 1e9)
    assert rec.stderr is False and rec.continued is False
    with pytest.raises(AttributeError):
        rec.text = "x"


def test_warning_and_error_records():
    buf = LineBuffer(5)
    buf.send_warning(UserWarning("careful"))
    try:
        raise ValueError("bad")
    except ValueError as exc:
        buf.send_error(exc)
    warn, err = buf.records().records
    assert warn.kind == "warning" and "careful" in warn.text
    assert err.kind == "error" and "ValueError: bad" in err.text
    assert "Traceback" in err.text and "\n" in err.text


def test_text_that_is_not_utf8_keeps_its_bytes():
    raw = b"caf\xe9 \xff\n"
    buf = LineBuffer(2)
    buf.write(raw.decode("utf-8", "surrogateescape"))
    (rec,) = list(buf)
    assert rec.text.encode("utf-8", "surrogateescape") == raw[:-1]


def test_records_since_a_cursor():
    buf = LineBuffer(10)
    batch = buf.records()
    assert isinstance(batch, RecordBatch)
    assert batch == ((), 0, 0)
    buf.write("a\nb\nc\n")
    batch = buf.records()
    assert texts(batch.records) == ["a", "b", "c"] and batch.cursor == 3 and batch.missed == 0
    assert [r.seq for r in batch.records] == [1, 2, 3]
    assert buf.records(since=batch.cursor) == ((), 3, 0)
    buf.write("d\n")
    batch = buf.records(since=batch.cursor)
    assert texts(batch.records) == ["d"] and batch.cursor == 4
    first = buf.records(since=0, limit=2)
    assert texts(first.records) == ["a", "b"] and first.cursor == 2
    assert texts(buf.records(first.cursor, 2).records) == ["c", "d"]


def test_records_counts_what_was_rotated_out():
    buf = LineBuffer(3)
    buf.write("".join("%d\n" % i for i in range(10)))
    batch = buf.records()
    assert texts(batch.records) == ["7", "8", "9"]
    assert batch.missed == 7 and batch.cursor == 10
    assert buf.records(since=8).missed == 0
    buf.clear()
    assert buf.records(since=10) == ((), 10, 0)
    buf.write("x\n")
    batch = buf.records(since=9)
    assert texts(batch.records) == ["x"] and batch.missed == 1


def test_iteration_is_a_snapshot_of_the_records():
    buf = LineBuffer(4)
    assert list(buf) == []
    buf.write("a\nb\nc")
    it = iter(buf)
    buf.write("\n")
    assert texts(it) == ["a", "b"]
    assert texts(buf) == ["a", "b", "c"]


def test_records_bad_arguments():
    buf = LineBuffer(2)
    for bad in ("1", 1.5, [], b"1"):
        with pytest.raises(TypeError):
            buf.records(bad)
        with pytest.raises(TypeError):
            buf.follow(cursor=bad)
    with pytest.raises(ValueError):
        buf.records(-1)
    with pytest.raises(ValueError):
        buf.records(2**64)
    with pytest.raises(ValueError):
        buf.records(0, 0)
    for bad in ("1", [], b""):
        with pytest.raises(TypeError):
            buf.follow(timeout=bad)
    for bad in (-1, float("nan"), 1e300):
        with pytest.raises(ValueError):
            buf.follow(timeout=bad)


def test_closed_buffer():
    buf = LineBuffer(2)
    buf.write("a\n")
    buf.close()
    for call in (buf.records, buf.follow, lambda: iter(buf)):
        with pytest.raises(OSError):
            call()


def test_uninitialized_subclass():
    class Bad(LineBuffer):
        def __init__(self):
            pass

    with pytest.raises(ValueError):
        Bad().records()
    with pytest.raises(ValueError):
        Bad().follow()


def test_follow_gives_stored_then_live_records():
    buf = LineBuffer(100)
    buf.write("old\n")
    got = []
    follower = buf.follow()
    started = threading.Event()

    def consume():
        for rec in follower:
            got.append(rec.text)
            started.set()
            if rec.text == "last":
                break

    t = threading.Thread(target=consume)
    t.start()
    assert started.wait(JOIN_TIMEOUT)
    for i in range(50):
        buf.write("line %d\n" % i)
    buf.write("last\n")
    t.join(JOIN_TIMEOUT)
    assert not t.is_alive()
    assert got == ["old"] + ["line %d" % i for i in range(50)] + ["last"]
    assert follower.cursor == 52 and follower.missed == 0


def test_follow_from_a_cursor_and_timeout():
    buf = LineBuffer(10)
    buf.write("a\nb\nc\n")
    f = buf.follow(cursor=2, timeout=0.05)
    assert texts(f) == ["c"]
    assert f.cursor == 3
    assert list(f) == []  # an ended iterator stays ended
    assert list(buf.follow(cursor=3, timeout=0)) == []


def test_follow_counts_missed_records():
    buf = LineBuffer(3)
    buf.write("".join("%d\n" % i for i in range(8)))
    f = buf.follow(timeout=0)
    assert texts(f) == ["5", "6", "7"]
    assert f.missed == 5


def test_follow_ends_when_the_buffer_is_closed():
    buf = LineBuffer(10)
    got = []
    f = buf.follow()
    t = threading.Thread(target=lambda: got.extend(texts(f)))
    t.start()
    buf.write("x\n")
    # Wait until the follower has read "x", then close.
    deadline = time.monotonic() + JOIN_TIMEOUT
    while f.cursor < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    buf.close()
    t.join(JOIN_TIMEOUT)
    assert not t.is_alive()
    assert got == ["x"]


def test_follow_outlives_the_name_of_its_buffer():
    buf = LineBuffer(2)
    buf.write("a\n")
    f = buf.follow(timeout=0)
    del buf  # the iterator keeps the buffer alive
    assert texts(f) == ["a"]


def test_records_from_threads_keep_order_by_seq():
    buf = LineBuffer(10000)

    def worker(n):
        for i in range(200):
            buf.write("w%d %d\n" % (n, i))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    recs = list(buf)
    assert [r.seq for r in recs] == list(range(1, 801))
    for n in range(4):
        assert [r.text for r in recs if r.text.startswith("w%d " % n)] == [
            "w%d %d" % (n, i) for i in range(200)]


def test_record_pickles():
    buf = LineBuffer(2)
    buf.write("a\n")
    (rec,) = list(buf)
    assert pickle.loads(pickle.dumps(rec)) == rec


def test_follow_is_interrupted_by_ctrl_c():
    assert_sigint_interrupts(
        setup="import syncstream; b = syncstream.LineBuffer(4)",
        call="for _ in b.follow(): pass")


def test_follow_with_timeout_is_interrupted_by_ctrl_c():
    assert_sigint_interrupts(
        setup="import syncstream; b = syncstream.LineBuffer(4); b.write('a\\n')",
        call="for _ in b.follow(timeout=3600): pass")


def test_help_teaches():
    doc = syncstream.LineBuffer.records.__doc__ + syncstream.LineBuffer.follow.__doc__
    assert "cursor" in doc and "missed" in doc
    assert "text.encode" in Record.text.__doc__ or "surrogateescape" in Record.text.__doc__


def test_follower_in_a_cycle_is_collected():
    buf = LineBuffer(2)
    buf.follower = buf.follow()
    ref = weakref.ref(buf)
    del buf
    gc.collect()
    assert ref() is None
