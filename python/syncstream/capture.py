"""syncstream.capture(): file descriptors 1 and 2 into a LineBuffer (beyond sync-stream).

Redirecting sys.stdout catches Python's print(); capturing the descriptors
also catches what C extensions, os.write(1, ...), os.system() and child
processes write, as records of the buffer.
"""

import contextlib
import io
import sys
from typing import Iterator, List, Optional

from . import _core
from .mproc import LineBuffer

__all__ = ("capture",)


def _line_buffer_python_streams() -> List[io.TextIOWrapper]:
    # A block-buffered sys.stdout (a pipe, a file) would hold print()'s text
    # until exit, after what C code and children wrote meanwhile: line
    # buffering inside the block keeps the order of lines.
    changed = []
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and not stream.line_buffering:
            try:
                stream.reconfigure(line_buffering=True)
            except (OSError, ValueError):
                continue
            changed.append(stream)
    return changed


def _flush_python_streams() -> None:
    # Text still in Python's buffers belongs on the side of the capture's
    # edge where it was written: flush it before the descriptors change.
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):
                pass  # a closed or broken stream has nothing to deliver


@contextlib.contextmanager
def capture(
    buffer: Optional[LineBuffer] = None,
    *,
    stdout: bool = True,
    stderr: bool = True,
    tee: bool = False,
    maxlen: int = 1000,
) -> Iterator[LineBuffer]:
    """Capture file descriptors 1 and 2 into a LineBuffer while the block runs.

    ``with syncstream.capture() as buffer: ...`` -- everything written to
    descriptor 1 (stdout) and 2 (stderr) inside the block, by Python, C
    extensions, ``os.write`` or child processes (``os.system``,
    ``subprocess.run`` without ``capture_output``), becomes lines of
    ``buffer``: a new ``LineBuffer(maxlen)``, or the one given. Records from
    descriptor 1 have source ``"stdout"``, from descriptor 2 ``"stderr"``
    (and ``stderr`` true): see ``buffer.records()``.

    ``stdout=False`` or ``stderr=False`` leaves that descriptor alone.
    ``tee=True`` also passes every byte on to where the descriptor pointed
    before, as ``tee(1)``.

    ``sys.stdout`` and ``sys.stderr`` are flushed at entry (what was printed
    before goes where it went before) and at exit (what was printed inside is
    captured), and line-buffered inside the block, so that ``print()``'s
    lines keep their order among the lines of C code and child processes. The descriptors are restored at exit, also on an exception;
    every byte written inside the block is in the buffer then. A child
    process still running after the block, holding the descriptor, loses
    what it writes later: wait for children inside the block.

    Raises OSError when a descriptor is not open or cannot be redirected
    (nothing is changed then), or at exit when the buffer was closed inside
    the block.
    """
    if buffer is None:
        buffer = LineBuffer(maxlen)
    targets = []
    if stdout:
        targets.append((1, "stdout", False))
    if stderr:
        targets.append((2, "stderr", True))
    _flush_python_streams()
    captures: List[_core.FdCapture] = []
    line_buffered: List[io.TextIOWrapper] = []
    try:
        for fd, source, is_stderr in targets:
            captures.append(_core.FdCapture(buffer, fd, source=source, tee=tee, stderr=is_stderr))
        line_buffered = _line_buffer_python_streams()
        yield buffer
    finally:
        _flush_python_streams()
        for stream in line_buffered:
            try:
                stream.reconfigure(line_buffering=False)
            except (OSError, ValueError):
                pass
        errors = []
        # The reverse order of the beginnings.
        for cap in reversed(captures):
            try:
                cap.end()
            except OSError as exc:
                errors.append(exc)
        if errors and sys.exc_info()[1] is None:
            raise errors[0]
