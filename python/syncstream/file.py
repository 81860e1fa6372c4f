"""A line buffer in a file shared by processes (sync-stream's syncstream.file).

LineFileBuffer keeps its lines in one syncstream log file (the C library's
ss_filebuf, docs/file-format.md): every process, on this machine or on another
one mounting the same disk, opens its own LineFileBuffer on the same path.
"""

import os
from typing import Any, Optional, Tuple, Union

from . import _core
from .base import GroupedMessage, _FileProtocol, _Messages, _NeedsInit, _Redirecting

__all__ = ("LineFileBuffer",)


class LineFileBuffer(_NeedsInit, _Redirecting, _Messages, _FileProtocol, _core.FileBuffer):
    """A bounded buffer of lines in a log file shared by processes.

    ``LineFileBuffer(file_path, maxlen=20, tmp_id="tmp")``

    The lines live in ``<file_path without its suffix>.log``, one record per
    line, appended under a file lock, so that lines written by several
    processes at once never interleave. The file keeps the newest ``maxlen``
    records. Each handle keeps its own unfinished (partial) line in memory;
    ``read()`` shows the calling handle's partial line last, as sync-stream
    shows a process's own. ``tmp_id`` names the records this handle writes
    (their source); unlike sync-stream, handles with the same ``tmp_id``
    never disturb each other.

    Used as a context manager it redirects ``sys.stdout`` and ``sys.stderr``
    to itself; leaving the block ends the partial line, or stores the
    exception that ends it as one record (which goes on).

    Every method is thread-safe and process-safe. A handle inherited through
    ``fork`` opens the file again in the child (the partial line stays with
    the parent); a handle pickled to a ``spawn`` child opens it there.
    """

    def __init__(
        self, file_path: Union[str, "os.PathLike[str]"], maxlen: int = 20, tmp_id: str = "tmp"
    ) -> None:
        # sync-stream's checks and messages.
        if not isinstance(maxlen, int) or maxlen < 1:
            raise TypeError('syncstream: The argument "maxlen" should be a positive integer.')
        if file_path is None:
            raise TypeError('syncstream: The argument "file_path" should be a non-empty str.')
        path = os.fspath(file_path)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        path = path.strip()
        if not path:
            raise TypeError('syncstream: The argument "file_path" should be a non-empty str.')
        tmp_id = str(tmp_id)
        if tmp_id == "":
            raise TypeError('syncstream: The argument "tmp_id" should be a non-empty str.')
        stem = os.path.splitext(path)[0]
        if os.path.split(stem)[1] == "":
            raise TypeError(
                'syncstream: The argument "file_path" should contain a non-empty file name.'
            )
        self.__args = (file_path, maxlen, tmp_id)
        super().__init__(stem + ".log", maxlen, tmp_id)
        self._initialized = True

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickle as the arguments: the receiving process opens the file itself."""
        return (type(self), self.__args)

    def _end_block(self, exc: Optional[BaseException]) -> None:
        """Leaving ``with buffer:`` ends the partial line or stores exc."""
        if exc is None:
            self.new_line()
        else:
            self.send_exc(exc)

    def close(self, exc: Optional[BaseException] = None) -> None:
        """End the partial line (or store exc as send_exc() does), then close.

        Later reads and writes raise OSError; the file stays. A second call
        does nothing.
        """
        if self.closed:
            return
        if exc is None:
            self.new_line()
        else:
            self.send_exc(exc)
        self._close()

    def send_exc(self, exc: BaseException) -> None:
        """Store an exception or a warning, with its traceback, as one record.

        read() returns it as one str, its lines joined by newlines, as in
        sync-stream. Does nothing once closed.
        """
        if self.closed:
            return
        self._append("warning" if isinstance(exc, Warning) else "error", str(GroupedMessage(exc)))

    def _send_message(self, kind: str, exc: BaseException) -> None:
        # send_warning() and send_error() are send_exc(), as in sync-stream:
        # the kind follows the exception's class.
        self.send_exc(exc)
