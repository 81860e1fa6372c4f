"""Hostile input to the public classes: a clear exception, never a crash or a
confusing one; the stubs match the runtime."""

import ast
import copy
import inspect
import pathlib
import pickle

import pytest

import syncstream
from syncstream import _core


def test_proc_wait_timeout_of_a_wrong_type_is_a_clear_type_error():
    buffer = syncstream.LineProcBuffer(5)
    try:
        for bad in (b"1", "1", [1]):
            with pytest.raises(TypeError, match="timeout must be None or a number"):
                buffer.wait(bad)
        with pytest.raises(ValueError, match="timeout"):
            buffer.wait(-1)
    finally:
        buffer.close()


def test_c_method_signatures_are_introspectable():
    # A text signature without $self shifts every argument by one.
    params = list(inspect.signature(_core.ProcBuffer._wait).parameters)
    assert params == ["self", "ends_seen", "seq_seen", "timeout"]


def test_stubs_mark_final_the_types_that_cannot_be_subclassed():
    stub = pathlib.Path(_core.__file__).parent / "_core.pyi"
    tree = ast.parse(stub.read_text())
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        runtime = getattr(_core, node.name)
        final = any(isinstance(d, ast.Name) and d.id == "final" for d in node.decorator_list)
        basetype = bool(runtime.__flags__ & (1 << 10))  # Py_TPFLAGS_BASETYPE
        assert final == (not basetype), node.name


def test_host_mirror_flush_with_a_huge_timeout_is_no_limit():
    # 2**64 seconds used to overflow the conversion to milliseconds (UBSan).
    # No server listens there: the flush returns or ends with the
    # connection's error (OSError); it must not abort the process.
    mirror = _core.HostMirror("http://127.0.0.1:1/x", timeout_ms=200)
    try:
        for huge in (2.0**64, float("inf")):
            try:
                mirror.flush(huge)
            except OSError:
                pass
    finally:
        try:
            mirror._close(None, 0.1)
        except OSError:  # the close record is not delivered either
            pass


def _uninitialized_uses():
    """(class, what to do with an object made by cls.__new__(cls)) pairs."""
    from syncstream import host

    return [
        (syncstream.LineBuffer, lambda o: o.read()),
        (syncstream.LineProcBuffer, lambda o: o.wait(0.1)),
        (syncstream.LineProcBuffer, lambda o: o.receive(0.1)),
        (syncstream.LineProcBuffer, lambda o: o.reset_states()),
        (syncstream.LineProcMirror, lambda o: o.aggressive),
        (syncstream.LineProcMirror, lambda o: o.write("x\n")),
        (syncstream.LineFileBuffer, lambda o: pickle.dumps(o)),
        (syncstream.LineFileBuffer, lambda o: o.read()),
        (syncstream.LineHostMirror, lambda o: o.write("x\n")),
        (syncstream.LineHostMirror, lambda o: o.closed),
        (syncstream.LineHostMirror, lambda o: o.close()),
        (syncstream.LineHostMirror, lambda o: pickle.dumps(o)),
        (syncstream.LineHostReader, lambda o: o.read()),
        (syncstream.LineHostReader, lambda o: len(o)),
        (syncstream.LineHostReader, lambda o: o.headers),
        (syncstream.LineHostBuffer, lambda o: o.read()),
        (syncstream.LineHostBuffer, lambda o: o.maxlen),
        (host.HostServer, lambda o: o.closed),
        (host.HostServer, lambda o: o.stop()),
    ]


@pytest.mark.parametrize("cls, use", _uninitialized_uses())
def test_uninitialized_objects_raise_the_c_types_error(cls, use):
    # Every class, C-based or pure Python, says the same thing.
    obj = cls.__new__(cls)
    with pytest.raises(ValueError, match=r"syncstream: \w+\.__init__\(\) was not called"):
        use(obj)


def test_an_initialized_object_lacking_an_attribute_raises_attribute_error():
    reader = syncstream.LineHostReader("http://127.0.0.1:1/x")
    assert not hasattr(reader, "_no_such_attribute")
    assert not hasattr(reader, "cursor")  # set by follow() only
    pbuf = syncstream.LineProcBuffer(2)
    try:
        with pytest.raises(AttributeError, match="_no_such_attribute"):
            pbuf._no_such_attribute
    finally:
        pbuf.close()


@pytest.mark.parametrize("make, why", [
    (lambda: syncstream.LineHostReader("http://127.0.0.1:1/x"), "holds a connection"),
    (lambda: syncstream.LineHostBuffer("/sync-stream"), "records live in this process"),
])
def test_host_buffer_and_reader_refuse_pickling_naming_the_public_class(make, why):
    obj = make()
    name = type(obj).__name__
    for dump in (pickle.dumps, copy.deepcopy):
        with pytest.raises(TypeError) as info:
            dump(obj)
        message = str(info.value)
        assert message.startswith("syncstream: cannot pickle a " + name + ": "), message
        assert why in message and "_core" not in message and "lock" not in message


def test_host_and_proc_mirrors_still_pickle():
    mirror = syncstream.LineHostMirror("http://127.0.0.1:1/x", timeout=0.5)
    restored = pickle.loads(pickle.dumps(mirror))
    try:
        assert restored.address == mirror.address
    finally:
        for m in (mirror, restored):
            try:
                m.close()
            except OSError:  # no server: the close record is not delivered
                pass
    pbuf = syncstream.LineProcBuffer(2)
    try:
        assert not pickle.loads(pickle.dumps(pbuf.mirror)).closed
    finally:
        pbuf.close()


def test_proc_wait_returns_none_as_sync_stream_and_raises_on_timeout():
    pbuf = syncstream.LineProcBuffer(5)
    try:
        done, pending = pbuf.mirror, pbuf.mirror
        done.send_eof()
        with pytest.raises(TimeoutError, match=r"1 mirror\(s\) had not ended"):
            pbuf.wait(0.2)
        assert pbuf.n_mirrors == 1
        pending.close()
        assert pbuf.wait(60) is None
        assert pbuf.n_mirrors == 0
    finally:
        pbuf.close()
