"""Buffers for the threads and processes of one machine (sync-stream's mproc).

LineBuffer collects what the threads of this process write.
"""

import sys
import types
from typing import List, Optional, TextIO, Tuple, Type

from . import _core
from .base import GroupedMessage

__all__ = ("LineBuffer",)


class LineBuffer(_core.LineBuffer):
    """A thread-safe, bounded buffer of text lines (sync-stream's LineBuffer).

    ``LineBuffer(maxlen=20, *, per_thread=True)``

    Text written with ``write()``, ``print(..., file=buffer)`` or through a
    redirected ``sys.stdout`` is split into lines (where ``str.splitlines``
    splits); the newest ``maxlen`` items are kept and ``read()`` returns them
    as a tuple of str, oldest first, the calling thread's unfinished line last.

    Used as a context manager (``with buffer: ...``) it replaces
    ``sys.stdout`` and ``sys.stderr`` by itself until the block ends, so that
    ``print()`` and ``warnings.warn()`` (which prints to ``sys.stderr``) land in
    the buffer.

    ``per_thread=True`` (the default) gives each thread its own partial line:
    ``print("a", end="")`` in one thread and ``print("b")`` in another make
    the lines ``"b"`` and, once ended, ``"a"``, never ``"ab"``. A thread's
    partial line is stored when the thread ends. ``per_thread=False`` shares
    one partial line between all threads, as sync-stream does.

    Every method is thread-safe. Reading or writing a closed buffer raises
    OSError.
    """

    def __enter__(self) -> "LineBuffer":
        """Redirect sys.stdout and sys.stderr to this buffer until __exit__."""
        saved: List[Tuple[TextIO, TextIO]] = self.__dict__.setdefault("_saved_streams", [])
        saved.append((sys.stdout, sys.stderr))
        sys.stdout = sys.stderr = self  # type: ignore[assignment]
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        exc_traceback: Optional[types.TracebackType],
    ) -> None:
        """Give sys.stdout and sys.stderr back; an exception goes on."""
        sys.stdout, sys.stderr = self.__dict__["_saved_streams"].pop()
        return None

    def send_warning(self, obj_warn: Warning) -> None:
        """Store a warning as one record (beyond sync-stream, whose mirrors have it).

        The calling thread's partial line is ended first; read() returns the
        record as a GroupedMessage of type "warning" holding the lines of
        traceback.format_exception(obj_warn).
        """
        self._append("warning", str(GroupedMessage(obj_warn)))

    def send_error(self, obj_err: BaseException) -> None:
        """Store an exception, with its traceback, as one record (type "error").

        As send_warning(); read() returns a GroupedMessage of type "error".
        """
        self._append("error", str(GroupedMessage(obj_err)))
