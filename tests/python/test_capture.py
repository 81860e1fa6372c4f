"""syncstream.capture(): file descriptors 1 and 2 into a LineBuffer.

Each test runs its capture in a child interpreter: pytest itself captures
descriptors 1 and 2, and a test must see exactly what reached the original
descriptors (tee, output before and after the block).
"""

import os
import subprocess
import sys
import textwrap

import pytest

import syncstream
from syncstream import LineBuffer

TIMEOUT = 120


def run_child(code):
    """Run code in a child interpreter; returns (stdout bytes, stderr bytes)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout, proc.stderr


# The shell and programs the children start are not instrumented: they do
# not get the sanitizer runtime the interpreter was started with (libtsan
# preloaded into dash crashes it).
PRELUDE = """
import os, subprocess, sys
os.environ.pop("LD_PRELOAD", None)
import syncstream
def show(buf):
    for r in buf.records().records:
        sys.__stdout__.write("%s|%s|%s\\n" % (r.source, r.stderr, r.text))
    sys.__stdout__.flush()
"""


def test_captures_every_writer_of_fds_1_and_2():
    out, err = run_child(PRELUDE + """
print("before")
with syncstream.capture() as buf:
    print("python print")
    print("python stderr", file=sys.stderr)
    os.write(1, b"os.write 1\\n")
    os.write(2, b"os.write 2\\n")
    os.system("echo system out; echo system err >&2")
    subprocess.run(["sh", "-c", "echo child out; echo child err >&2"], check=True)
    sys.stdout.write("no line break")
print("after")
show(buf)
""")
    lines = out.decode().splitlines()
    assert lines[0] == "before" and lines[1] == "after"
    # Each descriptor is its own pipe, read by its own thread: the order holds
    # within a descriptor, not between the two.
    assert [x for x in lines[2:] if x.startswith("stdout|")] == [
        "stdout|False|python print",
        "stdout|False|os.write 1",
        "stdout|False|system out",
        "stdout|False|child out",
        "stdout|False|no line break",
    ]
    assert [x for x in lines[2:] if not x.startswith("stdout|")] == [
        "stderr|True|python stderr",
        "stderr|True|os.write 2",
        "stderr|True|system err",
        "stderr|True|child err",
    ]
    assert err == b""


def test_into_a_given_buffer_and_fd_choice():
    out, err = run_child(PRELUDE + """
buf = syncstream.LineBuffer(10)
buf.write("mine\\n")
with syncstream.capture(buf, stderr=False) as got:
    assert got is buf
    os.write(1, b"one\\n")
    os.write(2, b"to the terminal\\n")
with syncstream.capture(buf, stdout=False):
    os.write(1, b"out again\\n")
    os.write(2, b"two\\n")
show(buf)
""")
    assert out.decode().splitlines() == [
        "out again", "|False|mine", "stdout|False|one", "stderr|True|two"]
    assert err == b"to the terminal\n"


def test_tee_passes_on_to_the_original_fds():
    out, err = run_child(PRELUDE + """
with syncstream.capture(tee=True) as buf:
    print("shown and kept")
    os.system("echo err too >&2")
show(buf)
""")
    lines = out.decode().splitlines()
    assert lines[0] == "shown and kept"
    # two descriptors, two pipes: no order between their records
    assert sorted(lines[1:]) == ["stderr|True|err too", "stdout|False|shown and kept"]
    assert err == b"err too\n"


def test_descriptors_are_restored_after_an_exception():
    out, err = run_child(PRELUDE + """
try:
    with syncstream.capture() as buf:
        print("inside")
        raise KeyError("k")
except KeyError:
    pass
print("restored")
os.write(2, b"stderr restored\\n")
show(buf)
""")
    assert out.decode().splitlines() == ["restored", "stdout|False|inside"]
    assert err == b"stderr restored\n"


def test_nested_captures():
    out, _ = run_child(PRELUDE + """
outer = syncstream.LineBuffer(10)
inner = syncstream.LineBuffer(10)
with syncstream.capture(outer, stderr=False):
    os.write(1, b"o1\\n")
    with syncstream.capture(inner, stderr=False, tee=True):
        os.write(1, b"i1\\n")
    os.write(1, b"o2\\n")
show(outer); show(inner)
""")
    assert out.decode().splitlines() == [
        "stdout|False|o1", "stdout|False|i1", "stdout|False|o2", "stdout|False|i1"]


def test_closed_buffer_and_bad_arguments():
    buf = LineBuffer(2)
    buf.close()
    with pytest.raises(OSError):
        with syncstream.capture(buf):
            pass
    with pytest.raises(TypeError):
        with syncstream.capture("not a buffer"):
            pass
    with pytest.raises(TypeError):
        syncstream._core.FdCapture(LineBuffer(2), "1")


def test_fd_not_open():
    buf = LineBuffer(2)
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(OSError):
        syncstream._core.FdCapture(buf, w)


def test_capture_ends_when_collected():
    out, _ = run_child(PRELUDE + """
buf = syncstream.LineBuffer(10)
cap = syncstream._core.FdCapture(buf, 1, source="one")
os.write(1, b"kept\\n")
assert cap.active
del cap
os.write(1, b"restored\\n")
show(buf)
""")
    assert out.decode().splitlines() == ["restored", "one|False|kept"]
