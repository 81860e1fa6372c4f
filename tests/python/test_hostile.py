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
