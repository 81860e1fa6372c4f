"""Hostile input to the public classes: a clear exception, never a crash or a
confusing one; the stubs match the runtime."""

import ast
import inspect
import pathlib

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
