"""Pieces shared by every mode (sync-stream's syncstream.base).

GroupedMessage is how a warning or an error (with its traceback) travels and
how read() returns it: one item holding several lines.
"""

import collections.abc
import contextlib
import sys
import traceback
import types
from typing import (TYPE_CHECKING, Any, Generic, List, Literal, Optional, Protocol, Sequence,
                    TextIO, Tuple, Type, TypedDict, TypeGuard, TypeVar, Union)

from . import _core

__all__ = (
    "is_end_line_break",
    "SerializedMessage",
    "is_serialized_grouped_message",
    "redirect_stdout",
    "redirect_stderr",
    "GroupedMessage",
)

MessageType = Literal["str", "warning", "error"]


def is_end_line_break(val_str: str) -> bool:
    """Whether val_str ends with a line break, as str.splitlines breaks lines."""
    return bool(val_str) and val_str[-1].splitlines() == [""]


# The keys starting with "/" are not identifiers, hence the functional form.
_SerializedBase = TypedDict(
    "_SerializedBase", {"/is_syncsdata": Literal[True], "/type": Literal["GroupedMessage"]}
)


class SerializedMessage(_SerializedBase):
    """A GroupedMessage as a JSON-compatible dict (GroupedMessage.serialize()).

    "/is_syncsdata" is always True and "/type" always "GroupedMessage"; "type"
    is "str", "warning" or "error" and "data" the message's lines.
    """

    type: MessageType
    data: Tuple[str, ...]


def is_serialized_grouped_message(obj: Any) -> TypeGuard[SerializedMessage]:
    """Whether obj is a serialized GroupedMessage (a mapping with its markers)."""
    return (
        isinstance(obj, collections.abc.Mapping)
        and bool(obj.get("/is_syncsdata", False))
        and obj.get("/type") == "GroupedMessage"
    )


class _Writable(Protocol):
    def write(self, data: str) -> int: ...


_Target = TypeVar("_Target", bound=_Writable)


class _RedirectStream(contextlib.ContextDecorator, Generic[_Target]):
    """A contextlib redirector (_redirector), typed to accept any object with
    write(str)."""

    _redirector: Any

    def __init__(self, target: _Target) -> None:
        self._inner = self._redirector(target)

    def __enter__(self) -> _Target:
        return self._inner.__enter__()  # type: ignore[no-any-return]

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        exc_traceback: Optional[types.TracebackType],
    ) -> None:
        self._inner.__exit__(exc_type, exc_value, exc_traceback)


class redirect_stdout(_RedirectStream[_Target]):
    """contextlib.redirect_stdout, typed to accept any object with write(str)."""

    _redirector = contextlib.redirect_stdout


class redirect_stderr(_RedirectStream[_Target]):
    """contextlib.redirect_stderr, typed to accept any object with write(str)."""

    _redirector = contextlib.redirect_stderr


class _FileProtocol:
    """The io file-protocol answers of a line buffer that is not a real file.

    A mixin for the classes whose ``closed`` says whether they are closed:
    readable() and writable() are True until then, there is no terminal, no
    file descriptor and no random access.
    """

    __slots__ = ()

    if TYPE_CHECKING:  # the class mixed with gives closed; a real one here would hide it

        @property
        def closed(self) -> bool: ...

    def readable(self) -> bool:
        """True until closed."""
        return not self.closed

    def writable(self) -> bool:
        """True until closed."""
        return not self.closed

    def seekable(self) -> bool:
        """False: no random access."""
        return False

    def isatty(self) -> bool:
        """False: not a terminal."""
        return False

    def fileno(self) -> Any:
        """Raise OSError: no file descriptor of its own."""
        raise OSError("syncstream: {0} does not use fileno.".format(type(self).__name__))

    def seek(self, *args: object) -> Any:
        """Raise OSError: no random access."""
        raise OSError(
            "syncstream: {0} does not support random access.".format(type(self).__name__)
        )


_Self = TypeVar("_Self", bound="_Redirecting")


class _Redirecting:
    """A mixin making a writable object a context manager that redirects.

    ``with obj:`` replaces sys.stdout and sys.stderr by obj until the block
    ends (blocks may nest, each giving back what it replaced); then
    _end_block(exc) runs with the exception that ended the block, or None.
    """

    __slots__ = ()

    def __enter__(self: _Self) -> _Self:
        """Redirect sys.stdout and sys.stderr to this object until __exit__."""
        saved: List[Tuple[TextIO, TextIO]] = self.__dict__.setdefault("_saved_streams", [])
        saved.append((sys.stdout, sys.stderr))
        sys.stdout = sys.stderr = self  # type: ignore[assignment]
        return self

    def __exit__(self, exc_type: Any, exc_value: Optional[BaseException], exc_tb: Any) -> None:
        """Give sys.stdout and sys.stderr back, then end the block (see the
        class); an exception goes on."""
        sys.stdout, sys.stderr = self.__dict__["_saved_streams"].pop()
        self._end_block(exc_value)
        return None

    def _end_block(self, exc: Optional[BaseException]) -> None:
        """What leaving a ``with`` block does besides giving the streams back."""


class _Messages:
    """A mixin giving send_warning() and send_error(), which store an
    exception with its traceback as one record through _send_message()."""

    __slots__ = ()

    def send_warning(self, obj_warn: Warning) -> None:
        """Store a warning as one record.

        The partial line is ended first; read() returns the record as a
        GroupedMessage of type "warning" (a LineFileBuffer: one str) holding
        the lines of traceback.format_exception(obj_warn).
        """
        self._send_message("warning", obj_warn)

    def send_error(self, obj_err: BaseException) -> None:
        """Store an exception, with its traceback, as one record (type "error").

        As send_warning(); a LineProcMirror also sends an end, which its
        buffer's wait() counts (as sync-stream's does).
        """
        self._send_message("error", obj_err)

    def _send_message(self, kind: str, exc: BaseException) -> None:
        self._append(kind, str(GroupedMessage(exc)))  # type: ignore[attr-defined]


class _NeedsInit:
    """A mixin for the classes whose __init__ sets their state.

    An object made with cls.__new__(cls) and never initialized has none of
    it: reading any attribute it lacks raises the ValueError the C types
    raise ("syncstream: X.__init__() was not called") instead of an
    AttributeError naming a private attribute. __init__ sets _initialized
    last; after it a missing attribute is an AttributeError as usual.
    """

    __slots__ = ()

    if not TYPE_CHECKING:  # mypy would take every attribute for one __getattr__ gives

        def __getattr__(self, name: str) -> Any:
            if (name.startswith("__") and name.endswith("__")) or self.__dict__.get(
                "_initialized"
            ):
                raise AttributeError(
                    "{0!r} object has no attribute {1!r}".format(type(self).__name__, name)
                )
            raise ValueError(
                "syncstream: {0}.__init__() was not called".format(type(self).__name__)
            )


class _NotPicklable:
    """A mixin for the classes that cannot be pickled: a clear TypeError
    naming the class and saying why (_why_not_picklable)."""

    __slots__ = ()
    _why_not_picklable = ""

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(
            "syncstream: cannot pickle a {0}: {1}".format(
                type(self).__name__, self._why_not_picklable
            )
        )


class GroupedMessage:
    """Several lines that belong together: a warning or an error with its traceback.

    GroupedMessage(data) takes a str (one line), a sequence of str (its lines),
    a Warning instance (type "warning") or another exception (type "error"),
    whose lines are traceback.format_exception's. ``type`` is "str",
    "warning" or "error"; ``data`` the tuple of lines; str() joins them with
    newlines.
    """

    def __init__(
        self, data: Union[str, Sequence[str], Warning, BaseException, None] = None
    ) -> None:
        self.type: MessageType = "str"
        self.data: Tuple[str, ...] = ()
        if data is None:
            return
        if isinstance(data, str):
            self.data = (data,)
        elif isinstance(data, BaseException):
            self.type = "warning" if isinstance(data, Warning) else "error"
            text = "".join(traceback.format_exception(type(data), data, data.__traceback__))
            self.data = tuple(text.splitlines())
        else:
            self.data = tuple(str(item) for item in data)

    @classmethod
    def _from_record(cls, kind: MessageType, text: str) -> "GroupedMessage":
        """A warning or error record read from a buffer (called by syncstream._core)."""
        message = cls()
        message.type = kind
        message.data = tuple(text.split("\n"))
        return message

    def __repr__(self) -> str:
        return "<{0} object (type={1}) at 0x{2:x}>".format(type(self).__name__, self.type, id(self))

    def __str__(self) -> str:
        return "\n".join(self.data)

    def serialize(self) -> SerializedMessage:
        """This message as a JSON-compatible dict."""
        return {
            "/is_syncsdata": True,
            "/type": "GroupedMessage",
            "type": self.type,
            "data": self.data,
        }

    @classmethod
    def deserialize(cls, jdata: Any) -> Any:
        """The GroupedMessage serialize() made, or jdata itself if it is not one."""
        if not is_serialized_grouped_message(jdata):
            return jdata
        message = cls()
        message.type = jdata["type"]
        message.data = tuple(jdata["data"])
        return message


_core._register_message_type(GroupedMessage)
