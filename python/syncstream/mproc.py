"""Buffers for the threads and processes of one machine (sync-stream's mproc).

LineBuffer collects what the threads of this process write; LineProcBuffer
what child processes write through its mirrors (LineProcMirror).
"""

import errno
import io
import operator
import threading
import time
from typing import Any, NoReturn, Optional, Sequence, Tuple, Union

from . import _core
from .base import (GroupedMessage, _FileProtocol, _Messages, _NeedsInit, _Redirecting,
                   is_end_line_break)

__all__ = ("LineBuffer", "LineProcMirror", "LineProcBuffer")


def _stored_items(buffer: _core.LineBuffer) -> Tuple[Union[str, GroupedMessage], ...]:
    """The stored items of a C buffer, as read() gives them, without a partial line."""
    return tuple(
        record.text if record.kind == "line"
        else GroupedMessage._from_record(record.kind, record.text)  # type: ignore[arg-type]
        for record in buffer.records().records
    )


def _line_io(text: Optional[str]) -> io.StringIO:
    """sync-stream's last_line: text in a StringIO positioned at its end;
    None: a closed one (the buffer is closed)."""
    line = io.StringIO()
    if text is None:
        line.close()
    else:
        line.write(text)
    return line


class LineBuffer(_Redirecting, _Messages, _core.LineBuffer):
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
    OSError. Beyond sync-stream, send_warning() and send_error() (which its
    mirrors have) store a warning or an exception as one record.

    sync-stream's ``storage`` and ``last_line`` are read-only snapshots here
    (a tuple, an io.StringIO). A subclass that overrides ``parse_lines(lines)``
    gets sync-stream's calls: its writes are split into lines in Python, with
    one partial line shared by every thread (as in sync-stream, whatever
    per_thread says), and parse_lines() receives the completed lines; the
    default parse_lines() stores them.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.parse_lines is not LineBuffer.parse_lines:
            # The C write assembles lines without Python: a subclass that wants
            # to see them gets sync-stream's Python assembly instead.
            for name, method in vars(_ParsedLines).items():
                if callable(method) and name not in cls.__dict__:
                    setattr(cls, name, method)

    @property
    def storage(self) -> Tuple[Union[str, GroupedMessage], ...]:
        """sync-stream's storage: the stored items, oldest first, without the
        partial line (a str per line, a GroupedMessage per warning or error).
        A snapshot: changing the buffer does not change it."""
        return _stored_items(self)

    @property
    def last_line(self) -> io.StringIO:
        """sync-stream's last_line: the calling thread's partial line (the
        shared one with per_thread=False) in an io.StringIO positioned at its
        end, so that getvalue() and tell() answer as sync-stream's do; closed
        once the buffer is. A snapshot: writing to it changes nothing."""
        return _line_io(None if self.closed else self._partial())

    def parse_lines(self, lines: Sequence[str]) -> None:
        """sync-stream's hook: store completed lines, one item each.

        Write calls it only in a subclass that overrides it (see the class);
        an override may filter or transform the lines, and calls
        super().parse_lines(lines) to store what it keeps.
        """
        if lines:
            _core.LineBuffer.write(self, "\n".join(lines) + "\n")


class _ParsedLines:
    """The methods a LineBuffer subclass overriding parse_lines() gets:
    sync-stream's line assembly, one partial line in Python (under a lock),
    the stored lines in the C buffer (whose own partial line stays empty)."""

    def _parse_state(self: Any) -> Tuple[threading.RLock, list]:
        state: Tuple[threading.RLock, list] = self.__dict__.get("_parsed_line")
        if state is None:
            state = self.__dict__.setdefault("_parsed_line", (threading.RLock(), [""]))
        return state

    def write(self: Any, data: str) -> int:
        """Write text: every completed line goes to parse_lines() (sync-stream's
        assembly); the rest stays as the partial line."""
        if not isinstance(data, str):
            raise TypeError("syncstream: write() argument must be str, not "
                            + type(data).__name__)
        if self.closed:
            raise OSError(errno.EBADF, "syncstream: The stream cannot be write now.")
        lock, part = self._parse_state()
        with lock:
            lines = data.splitlines()
            if lines == [""]:  # data is one line break
                self.parse_lines((part[0],))
                part[0] = ""
                return len(data)
            if is_end_line_break(data):
                lines.append("")
            if len(lines) > 1:
                lines[0] = part[0] + lines[0]
                rest = lines.pop()
                self.parse_lines(lines)
                part[0] = rest
            elif lines:
                part[0] += lines[0]
        return len(data)

    def _partial(self: Any) -> str:
        _core.LineBuffer._partial(self)  # the closed check
        return self._parse_state()[1][0]

    def read(self: Any, size: Optional[int] = None) -> Tuple[Union[str, GroupedMessage], ...]:
        """As LineBuffer.read(), the shared partial line last."""
        lock, part = self._parse_state()
        with lock:
            stored = _core.LineBuffer.read(self, size)  # checks size and closed
            if not part[0]:
                return stored
            keep = self.maxlen - 1
            view = (_core.LineBuffer.read(self)[-keep:] if keep else ()) + (part[0],)
        if size is None:
            return view
        n = operator.index(size)
        return view[-n:] if n > 0 else ()

    def __len__(self: Any) -> int:
        lock, part = self._parse_state()
        with lock:
            return min(_core.LineBuffer.__len__(self) + bool(part[0]), self.maxlen)

    def new_line(self: Any) -> None:
        """End the partial line if it is not empty (parse_lines() gets it)."""
        _core.LineBuffer.new_line(self)  # the closed check
        lock, part = self._parse_state()
        with lock:
            if part[0]:
                self.write("\n")

    def _append(self: Any, kind: str, text: str) -> None:
        self.new_line()
        _core.LineBuffer._append(self, kind, text)

    def clear(self: Any) -> None:
        """Remove every stored item and the partial line."""
        lock, part = self._parse_state()
        with lock:
            _core.LineBuffer.clear(self)
            part[0] = ""

    def close(self: Any) -> None:
        """Empty and close the buffer."""
        lock, part = self._parse_state()
        with lock:
            _core.LineBuffer.close(self)
            part[0] = ""


def _rebuild_mirror(address: str, aggressive: bool, timeout: Optional[float],
                    closed: bool) -> "LineProcMirror":
    """Unpickle a LineProcMirror (in a spawned child, a pool worker...)."""
    return LineProcMirror(aggressive=aggressive, timeout=timeout, _address=address,
                          _closed=closed)


class LineProcMirror(_NeedsInit, _Redirecting, _Messages, _core.ProcMirror):
    """The writing end of a LineProcBuffer, for the processes it collects.

    Made by ``LineProcBuffer.mirror``; hand it to ``multiprocessing.Process``
    (any start method) or to pool workers (``pool.map_async(f, mirrors)``):
    a mirror is picklable, and connects to its buffer on its first use in each
    process. Write to it as to a file (``print(file=mirror)``, a redirected
    ``sys.stdout``, a ``logging.StreamHandler``); every completed line goes to
    the buffer at once, whole, never mixed with another process's.

    ``with mirror:`` replaces ``sys.stdout`` and ``sys.stderr`` by the mirror
    (so that ``warnings.warn`` text arrives as lines), and at the end closes it:
    ``send_eof()``, or ``send_error(exc)`` when the block raised.

    After the buffer's ``stop_all_mirrors()`` a write raises StopIteration;
    ``send_eof()`` and ``send_error()`` still reach the buffer.
    """

    def __init__(self, q_maxsize: int = 0, aggressive: bool = False,
                 timeout: Optional[float] = None, *, _address: Optional[str] = None,
                 _closed: bool = False) -> None:
        if _address is None:
            raise TypeError("syncstream: a LineProcMirror is made by LineProcBuffer.mirror")
        super().__init__(_address, timeout, closed=_closed)
        self.aggressive: bool = bool(aggressive)
        self._initialized = True

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_rebuild_mirror, (self._address, self.aggressive, self.timeout, self.closed))

    def _end_block(self, exc: Optional[BaseException]) -> None:
        """Leaving ``with mirror:`` closes it: send_error(exc) or send_eof()."""
        self.close(exc)

    def close(self, exc: Optional[BaseException] = None) -> None:
        """Send an end (send_error(exc) when exc is given, else send_eof()) and close.

        Later writes raise OSError; send_* do nothing. A second call does nothing.
        """
        self._close(None if exc is None else str(GroupedMessage(exc)))

    def send_eof(self) -> None:
        """Send the partial line, then an end, which the buffer's wait() counts.

        The mirror stays usable (sync-stream: "could be reused for another
        program"). Does nothing once closed.
        """
        self._end()

    def _send_message(self, kind: str, exc: BaseException) -> None:
        # An error ends the mirror's program (sync-stream's send_error sends an
        # end), a warning does not.
        if kind == "error":
            self._end(str(GroupedMessage(exc)))
        else:
            self._append(kind, str(GroupedMessage(exc)))

    def send_data(self, data: str) -> None:
        """Write data (sync-stream's internal sending method; same as write())."""
        self.write(data)


class LineProcBuffer(_NeedsInit, _FileProtocol, _core.ProcBuffer):
    """The buffer that collects what the mirrors of many processes write.

    ``LineProcBuffer(maxlen=20)`` keeps the newest ``maxlen`` items. Give each
    child process its own ``buffer.mirror`` (each access counts one more
    mirror for ``wait()``), then ``wait()`` until every mirror has ended
    (``send_eof``, ``send_error``, the end of ``with mirror:``, or its process
    dying); ``read()`` returns the lines as str and warnings and errors as
    GroupedMessage, oldest first::

        def f(mirror):
            with mirror:
                print("example")

        if __name__ == "__main__":
            pbuf = LineProcBuffer(maxlen=10)
            with multiprocessing.Pool(4) as p:
                p.map_async(f, tuple(pbuf.mirror for _ in range(4)))
                pbuf.wait()
            print(pbuf.read())

    The lines are collected by a thread of the C library as they come, not by
    ``receive()``; ``wait()`` and ``receive()`` only wait. Ctrl-C interrupts them.
    """

    def __init__(self, maxlen: int = 20) -> None:
        super().__init__(maxlen)
        self.n_mirrors: int = 0
        self._ends_seen = 0
        self._seq_seen = 0
        self._state_lock = threading.Lock()
        self._initialized = True

    @property
    def storage(self) -> Tuple[Union[str, GroupedMessage], ...]:
        """sync-stream's storage: every stored item, oldest first, as read()
        gives them. A snapshot."""
        return self.read()

    @property
    def last_line(self) -> io.StringIO:
        """sync-stream's last_line: always empty here (partial lines stay in
        their mirrors until they end); closed once the buffer is."""
        return _line_io(None if self.closed else "")

    @property
    def mirror(self) -> LineProcMirror:
        """A new mirror of this buffer, counted for wait() (one per process)."""
        address = self._address
        with self._state_lock:
            self.n_mirrors += 1
        return LineProcMirror(_address=address)

    def stop_all_mirrors(self) -> None:
        """Ask every mirror to stop: its next write raises StopIteration.

        send_eof() and send_error() still pass, so that a worker catching the
        exception can end as usual (and wait() return).
        """
        self._stop()

    def force_stop(self) -> None:
        """Stop every mirror and make wait() and receive() return now (False).

        Until reset_states(), every wait() and receive() returns at once.
        """
        self._force_stop()

    def reset_states(self) -> None:
        """Make the buffer reusable after a stop; the stored items stay.

        Raises TypeError while mirrors have not ended (as sync-stream). Mirrors
        made before are detached: their writes raise BrokenPipeError, and a copy
        used for the first time after the reset raises PermissionError.
        """
        with self._state_lock:
            if self.n_mirrors > 0:
                raise TypeError(
                    "syncstream: There are still mirrors of this buffer running. Before "
                    "calling this method, please ensure that all the mirrors get "
                    "finalized by themselves, or the stop_all_mirrors() method, or the "
                    "force_stop() method."
                )
            self._reset()

    def receive(self, timeout: Optional[float] = None) -> bool:
        """Wait for the next event from the mirrors.

        Returns True after new items arrived or a mirror ended while others are
        still counted; False when the last counted mirror ended (or a force
        stop is in force). With timeout (seconds, beyond sync-stream) returns
        True when nothing happened in that time.
        """
        while True:
            # the lock is not held while waiting: mirror may be called meanwhile
            with self._state_lock:
                ends_seen, seq_seen = self._ends_seen, self._seq_seen
            ends, seq, forced = self._wait(ends_seen, seq_seen, timeout)
            with self._state_lock:
                if forced:
                    self.n_mirrors = 0
                    return False
                if ends > self._ends_seen:
                    self._ends_seen += 1
                    self.n_mirrors -= 1
                    return self.n_mirrors > 0
                if seq > self._seq_seen or timeout is not None:
                    self._seq_seen = max(self._seq_seen, seq)
                    return True
            # another thread's receive() took the event: wait for the next

    def wait(self, timeout: Optional[float] = None) -> None:
        """Wait until every mirror counted so far has ended (or a force stop).

        Returns None, as sync-stream's. With timeout (seconds, beyond
        sync-stream) raises TimeoutError when it passes first (as
        subprocess.Popen.wait does); n_mirrors then counts the mirrors not
        ended yet. Ctrl-C interrupts it with KeyboardInterrupt.
        """
        if timeout is not None and (isinstance(timeout, bool)
                                    or not isinstance(timeout, (int, float))):
            raise TypeError("syncstream: timeout must be None or a number of seconds, "
                            "not {0}".format(type(timeout).__name__))
        if timeout is not None and not timeout >= 0:
            raise ValueError("syncstream: timeout must be None or >= 0, not {0!r}".format(timeout))
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._state_lock:
                ends_seen = self._ends_seen
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ends, _, forced = self._wait(ends_seen, None, left)
            with self._state_lock:
                if forced:
                    self.n_mirrors = 0
                    return
                while self._ends_seen < ends:
                    self._ends_seen += 1
                    self.n_mirrors -= 1
                    if self.n_mirrors <= 0:
                        return
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    "syncstream: LineProcBuffer.wait(): {0} mirror(s) had not ended after {1} "
                    "s".format(self.n_mirrors, timeout)
                )

    def write(self, data: str) -> NoReturn:
        """Not for the buffer: write through a mirror (raises NotImplementedError)."""
        raise NotImplementedError(
            "syncstream: Should not use this method, use "
            "`self.mirror.write()` for instead."
        )

    def new_line(self) -> None:
        """Do nothing: partial lines live in the mirrors."""
        self._check()

    def flush(self) -> None:
        """Do nothing: every item is stored as it arrives."""
        self._check()

    def _check(self) -> None:
        if self.closed:
            raise OSError(errno.EBADF, "syncstream: The stream cannot be read now.")
