"""Lines sent between machines over HTTP (sync-stream's syncstream.host).

- serve(): our C server (ss_host_server) in this process, on its own threads.
- LineHostBuffer(api_route, maxlen).serve(app): the same routes on a Flask app.
- LineHostMirror(address): sends a program's lines to either server (or to
  sync-stream's), batched by a background thread (ss_host_mirror).
- LineHostReader(address): reads and controls a server's buffer
  (ss_host_reader), and follows it live.

docs/host-protocol.md describes the wire protocol, sync-stream 1.2's.
"""

import collections
import collections.abc
import contextlib
import io
import os
from typing import Any, ChainMap, Dict, Iterator, Optional, Tuple, Union

from . import _core
from .mproc import _line_io, _stored_items
from .base import (GroupedMessage, SerializedMessage, _FileProtocol, _Messages, _NeedsInit,
                   _NotPicklable, _Redirecting)

__all__ = ("serve", "HostServer", "LineHostMirror", "LineHostBuffer", "LineHostReader")

_Item = Union[str, GroupedMessage]


def _check_address(address: Any) -> str:
    if not isinstance(address, str) or address == "":
        raise TypeError('syncstream: The argument "address" should be a non-empty str.')
    return address


def _timeout_ms(timeout: Optional[float]) -> int:
    if timeout is None:
        return 0
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError('syncstream: The argument "timeout" should be a number or None.')
    if not timeout > 0:
        raise ValueError('syncstream: The argument "timeout" should be positive.')
    return max(1, min(int(timeout * 1000), 2**31 - 1))


class HostServer(_NeedsInit, contextlib.AbstractContextManager):
    """A running C host server (what serve() returns).

    ``address`` is the URL of its buffer (give it to LineHostMirror and
    LineHostReader), ``host`` and ``port`` where it listens. ``stop()`` (or
    leaving a ``with`` block) stops it and joins its threads.
    """

    def __init__(self, listen: str, route: str, maxlen: int, token: Optional[str]) -> None:
        self._core = _core.HostServer(listen, route, maxlen, token)
        self.route = route
        self.host = listen.rsplit(":", 1)[0]
        self.port: int = self._core.port
        self.maxlen = maxlen
        self.address = "http://{0}:{1}{2}".format(self.host, self.port, route)
        self._initialized = True

    def __repr__(self) -> str:
        state = "stopped" if self.closed else "serving"
        return "<syncstream.host.HostServer {0} {1}>".format(self.address, state)

    def __exit__(self, exc_type: Any, exc_value: Any, exc_traceback: Any) -> None:
        self.stop()
        return None

    @property
    def closed(self) -> bool:
        """Whether stop() was called."""
        return self._core.closed

    def stop(self) -> None:
        """Stop serving: open connections close, the threads are joined. Idempotent."""
        self._core.close()

    close = stop

    def read(self, size: Optional[int] = None) -> Tuple[_Item, ...]:
        """The newest size items of the buffer (all with None), oldest first."""
        return self._core.read(size)

    def stop_all_mirrors(self) -> None:
        """Ask every mirror to stop (their writes then raise StopIteration)."""
        self._core.set_stop(True)

    def reset_states(self) -> None:
        """Withdraw the stop request."""
        self._core.set_stop(False)


def serve(
    listen: str = "127.0.0.1:0",
    route: str = "/sync-stream",
    maxlen: int = 20,
    *,
    token: Optional[str] = None,
) -> HostServer:
    """Start our C host server in this process, serving on its own threads.

    ``listen`` is "ADDR:PORT" ("[ADDR]:PORT" for IPv6); port 0, the default,
    lets the system pick one (``server.port``). It speaks sync-stream's
    protocol and ours (docs/host-protocol.md); no Flask is needed. With
    ``token``, every request needs "Authorization: Bearer TOKEN".

    Returns a HostServer; use it as a context manager or call stop().
    Raises OSError (EADDRINUSE...) or ValueError for a bad address or route.
    """
    for name, value in (("listen", listen), ("route", route)):
        if not isinstance(value, str) or value == "":
            raise TypeError('syncstream: The argument "{0}" should be a non-empty str.'.format(name))
    if isinstance(maxlen, bool) or not isinstance(maxlen, int) or maxlen < 1:
        raise TypeError('syncstream: The argument "maxlen" should be a positive integer.')
    if token is not None and not isinstance(token, str):
        raise TypeError('syncstream: The argument "token" should be a str or None.')
    return HostServer(listen, route, maxlen, token)


class LineHostMirror(_NeedsInit, _Redirecting, _Messages, _FileProtocol,
                     contextlib.AbstractContextManager):
    """Sends the lines written to it to a host buffer (sync-stream's LineHostMirror).

    ``LineHostMirror(address, aggressive=False, timeout=None)``

    ``address`` is the buffer's URL, e.g. "http://127.0.0.1:5000/sync-stream",
    served by serve(), LineHostBuffer on Flask, ``syncstream serve`` or
    sync-stream itself. Completed lines are queued and a background thread
    sends them in batches, in order, retrying while the server is down: no
    line is lost or sent twice. ``aggressive=True`` makes every write wait
    until its lines are delivered. ``timeout`` (seconds) bounds each request
    and each wait for delivery (None: no bound on waits).

    Used as a context manager it redirects sys.stdout and sys.stderr to
    itself; leaving closes it (sending the exception that ended the block, if
    any). Thread-safe; a mirror inherited through fork or pickled to another
    process starts a new connection there.
    """

    def __init__(
        self, address: str, aggressive: bool = False, timeout: Optional[float] = None
    ) -> None:
        self.address: str = _check_address(address)
        self.aggressive: bool = bool(aggressive)
        self.__timeout = timeout
        self.__timeout_ms = _timeout_ms(timeout)
        self.__pid = os.getpid()
        self.__core = _core.HostMirror(address, None, self.__timeout_ms)
        self._initialized = True

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickle as the arguments: the receiving process makes its own mirror."""
        return (type(self), (self.address, self.aggressive, self.__timeout))

    @property
    def _m(self) -> "_core.HostMirror":
        # A fork child has no copy of the parent's sending thread.
        if self.__pid != os.getpid():
            self.__pid = os.getpid()
            self.__core = _core.HostMirror(self.address, None, self.__timeout_ms)
        return self.__core

    @property
    def __wait(self) -> float:
        return self.__timeout if self.__timeout is not None else -1

    def _end_block(self, exc: Optional[BaseException]) -> None:
        """Leaving ``with mirror:`` closes it, sending exc if not None."""
        self.close(exc)

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._m.closed

    def close(self, exc: Optional[BaseException] = None) -> None:
        """Send the partial line (and exc with its traceback, if given), wait for
        delivery (at most timeout, or 30 s without one: then TimeoutError, and
        unsent() gives what was not delivered), then end the connection. A
        second call does nothing."""
        if self.closed:
            return
        text = None if exc is None else str(GroupedMessage(exc))
        # Without a timeout, a server that never comes back must not hang the
        # program's end: 30 s, then TimeoutError, and unsent() has the rest.
        self._m._close(text, self.__timeout if self.__timeout is not None else 30.0)

    def write(self, data: str) -> int:
        """Queue the completed lines of data; returns the number of characters.

        Raises StopIteration once a reader asked every mirror to stop, OSError
        once closed, TypeError for anything but a str.
        """
        n = self._m.write(data)
        if self.aggressive:
            self._m.flush(self.__wait)
        return n

    def new_line(self, check: bool = True) -> None:
        """End the partial line if it is not empty."""
        self._m.new_line()

    def send_eof(self) -> None:
        """End the partial line and wait until everything queued is delivered.

        The mirror stays usable (as in sync-stream)."""
        if self.closed:
            return
        self._m.new_line()
        self._m.flush(self.__wait)

    def _send_message(self, kind: str, exc: BaseException) -> None:
        # queued as one record; nothing once closed, as sync-stream
        if not self.closed:
            self._m._append(kind, str(GroupedMessage(exc)))

    def check_states(self) -> None:
        """Raise StopIteration if the server asked every mirror to stop (as
        far as its last answer said)."""
        if not self.closed and self._m.stats()["stopped"]:
            raise StopIteration("syncstream: The mirror worker is terminated by users.")

    def flush(self) -> None:
        """Wait until every completed line is delivered (at most timeout)."""
        if not self.closed:
            self._m.flush(self.__wait)

    def stats(self) -> Dict[str, Any]:
        """The mirror's counters: records queued, sent, pending, retries, the
        protocol found ("ext" or "base"), the last error."""
        return self._m.stats()

    def unsent(self) -> Tuple[_Item, ...]:
        """After close(): the records that could not be delivered."""
        return self._m.unsent()

    def read(self) -> str:
        """sync-stream returns its unsent partial line; here it is kept in C: ""."""
        if self.closed:
            raise OSError("syncstream: The mirror cannot be read now.")
        return ""

    def clear(self) -> None:
        """Nothing to clear: the partial line belongs to the C mirror."""


class LineHostReader(_NeedsInit, _NotPicklable, contextlib.ContextDecorator):
    """Reads and controls a host buffer (sync-stream's LineHostReader).

    ``LineHostReader(address, timeout=None)``: ``read(size)``, ``len()``,
    ``maxlen``, ``closed``, ``clear()``, ``reset_states()``,
    ``stop_all_mirrors()``, as sync-stream's (an error answer raises
    ConnectionError, a server that cannot be reached ConnectionRefusedError
    or another OSError). Beyond sync-stream: ``follow()``, a live iterator
    over new records (our servers only). The connection is kept between
    calls; the context manager exists for compatibility.
    """

    def __init__(self, address: str, timeout: Optional[float] = None) -> None:
        self.address: str = _check_address(address)
        self.__timeout_ms = _timeout_ms(timeout)
        self.__pid = os.getpid()
        self.__core = _core.HostReader(address, self.__timeout_ms)
        self.__headers: Dict[str, str] = {
            "Accept": "application/json",
            "User-Agent": "cainmagi/syncstream",
        }
        self._initialized = True

    _why_not_picklable = (
        "it holds a connection to the server; give the other process the address "
        "and make a LineHostReader(address) there"
    )

    @property
    def _r(self) -> "_core.HostReader":
        if self.__pid != os.getpid():
            self.__pid = os.getpid()
            self.__core = _core.HostReader(self.address, self.__timeout_ms)
        return self.__core

    def __enter__(self) -> "LineHostReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    @property
    def headers(self) -> ChainMap[str, str]:
        """The headers of a GET (as sync-stream's)."""
        return collections.ChainMap({}, self.__headers)

    @property
    def headers_post(self) -> ChainMap[str, str]:
        """The headers of a POST (as sync-stream's)."""
        return collections.ChainMap({}, {"Content-Type": "application/json"}, self.__headers)

    def __len__(self) -> int:
        """The number of items in the server's view (partial line included)."""
        return self._r._state("curlen")

    @property
    def maxlen(self) -> int:
        """The server's maxlen."""
        return self._r._state("maxlen")

    @property
    def closed(self) -> bool:
        """Whether the server asks every mirror to stop."""
        return self._r._state("closed")

    def clear(self) -> bool:
        """Delete every record and the partial line. True on success."""
        return self._r.clear()

    def reset_states(self) -> bool:
        """Withdraw the stop request. True on success."""
        return self._r.reset_states()

    def stop_all_mirrors(self) -> bool:
        """Ask every mirror to stop. True on success."""
        return self._r.stop_all_mirrors()

    def read(self, size: Optional[int] = None) -> Tuple[_Item, ...]:
        """The newest size items (all with None), oldest first: a str per line,
        a GroupedMessage per warning or error."""
        if size is not None and (isinstance(size, bool) or not isinstance(size, int)):
            raise TypeError("syncstream: read() size must be an int or None")
        return self._r.read(size)

    def follow(
        self, cursor: int = 0, timeout: Optional[float] = None, limit: int = 0
    ) -> Iterator[_Item]:
        """Yield the server's records as they arrive, from after ``cursor``
        (0: from the oldest kept), forever, or until ``timeout`` seconds pass
        with none. Ctrl-C ends the wait at once. Our servers only (OSError
        EOPNOTSUPP against sync-stream's). The ``cursor`` attribute of the
        iterator's last step is kept in ``self.cursor``; ``self.missed``
        counts records that rotated out before they were read."""
        if isinstance(cursor, bool) or not isinstance(cursor, int) or cursor < 0:
            raise TypeError("syncstream: follow() cursor must be an int >= 0")
        wait = -1.0 if timeout is None else float(timeout)
        self.cursor = cursor
        self.missed = 0
        while True:
            items, self.cursor, missed = self._r._follow(self.cursor, limit, wait)
            if missed:
                self.missed += missed
            if not items and not missed:
                return
            yield from items


class LineHostBuffer(_NeedsInit, _NotPicklable):
    """sync-stream's LineHostBuffer: its routes on a Flask app, on our C buffer.

    ``LineHostBuffer(api_route="/sync-stream", endpoint=None, maxlen=20)``;
    ``serve(app)`` adds ROUTE and ROUTE-state to a flask.Flask app, which
    sync-stream's mirror and reader and ours talk to. The records live in a
    C LineBuffer (one partial line shared by every POST, as in sync-stream).
    For a server without Flask, use syncstream.host.serve().
    """

    def __init__(
        self, api_route: str = "/sync-stream", endpoint: Optional[str] = None, maxlen: int = 20
    ) -> None:
        if isinstance(maxlen, bool) or not isinstance(maxlen, int) or maxlen < 1:
            raise TypeError('syncstream: The argument "maxlen" should be a positive integer.')
        if not isinstance(api_route, str) or api_route == "":
            raise TypeError('syncstream: The argument "api_route" should be a non-empty str.')
        self._buffer = _core.LineBuffer(maxlen, per_thread=False)
        self.api_route = api_route
        self.endpoint = api_route.lstrip("/").replace("/", ".") if endpoint is None else endpoint
        self.__closed_state = False
        self._initialized = True

    _why_not_picklable = (
        "its records live in this process and its routes on this process's Flask app; "
        "other processes reach it over HTTP with LineHostMirror(address) and "
        "LineHostReader(address)"
    )

    @property
    def maxlen(self) -> int:
        """The most items kept."""
        return self._buffer.maxlen

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._buffer.closed

    @property
    def storage(self) -> Tuple[_Item, ...]:
        """sync-stream's storage: the stored items, oldest first, without the
        partial line. A snapshot."""
        return _stored_items(self._buffer)

    @property
    def last_line(self) -> io.StringIO:
        """sync-stream's last_line: the partial line the POSTs share, in an
        io.StringIO positioned at its end (closed once the buffer is). A
        snapshot."""
        return _line_io(None if self._buffer.closed else self._buffer._partial())

    def __len__(self) -> int:
        return len(self._buffer)

    def read(self, size: Optional[int] = None) -> Tuple[_Item, ...]:
        """The newest size items, oldest first (str or GroupedMessage)."""
        return self._buffer.read(size)

    def read_serialized(self, size: Optional[int] = None) -> Tuple[Union[str, SerializedMessage], ...]:
        """read() with every GroupedMessage serialized (JSON-compatible)."""
        return tuple(
            item if isinstance(item, str) else item.serialize() for item in self.read(size)
        )

    def clear(self) -> None:
        """Remove every record and the partial line."""
        self._buffer.clear()

    def new_line(self) -> None:
        """End the partial line if it is not empty."""
        self._buffer.new_line()

    def close(self) -> None:
        """Empty and close the buffer."""
        self._buffer.close()

    def flush(self) -> None:
        """Nothing to do."""

    def write(self, data: str) -> Any:
        """Not for use: mirrors write (as in sync-stream)."""
        raise NotImplementedError(
            "syncstream: Should not use this method, use `self.mirror.write()` for instead."
        )

    def stop_all_mirrors(self) -> None:
        """Ask every mirror to stop (their writes then raise StopIteration)."""
        self.__closed_state = True

    def reset_states(self) -> None:
        """Withdraw the stop request."""
        self.__closed_state = False

    def _post(self, args: Any) -> Tuple[Dict[str, Any], int]:
        if not isinstance(args, collections.abc.Mapping):
            return {"message": "syncstream: the request data must be a JSON object."}, 400
        dtype = str(args.get("type", "")).strip()
        data = args.get("data", None)
        if dtype == "str":
            value = data.get("value", None) if isinstance(data, collections.abc.Mapping) else None
            if not isinstance(value, str):
                return {"message": 'syncstream: "data" must be {"value": str}.'}, 400
            self._buffer.write(value)
        elif dtype in ("error", "warning"):
            if isinstance(data, str):
                text = data
            elif isinstance(data, collections.abc.Mapping) and isinstance(
                data.get("data"), (list, tuple)
            ):
                text = "\n".join(str(line) for line in data["data"])
            else:
                return {"message": 'syncstream: "data" must be a message.'}, 400
            self._buffer.new_line()
            self._buffer._append(dtype, text)
        elif dtype == "close":
            self._buffer.new_line()
        else:
            return {"message": "syncstream: The message type could not be recognized."}, 400
        return {"message": "success", "closed": self.__closed_state}, 201

    def serve(self, app: Any) -> None:
        """Add the buffer's routes (api_route and api_route + "-state") to a
        flask.Flask app."""
        # Flask only here: the rest of the package never needs it.
        from flask import request
        from flask.views import MethodView

        buf = self

        class BufferView(MethodView):
            def post(self) -> Any:
                if not request.is_json:
                    return {"message": "syncstream: the request must be JSON."}, 415
                return buf._post(request.get_json(silent=True))

            def get(self) -> Any:
                number = request.args.get("n", None)
                if number is not None:
                    try:
                        number = int(number)
                    except ValueError:
                        return {"message": "syncstream: n is not a number: " + number}, 400
                return {"message": "success", "data": buf.read_serialized(number)}, 200

            def delete(self) -> Any:
                buf.clear()
                return {"message": "success"}, 200

        class StateView(MethodView):
            def get(self) -> Any:
                name = str(request.args.get("state", "")).strip()
                if not name:
                    return {"message": "syncstream: the state to read is missing."}, 400
                value: Any = None
                if name == "curlen":
                    value = len(buf)
                elif name == "maxlen":
                    value = buf.maxlen
                elif name == "closed":
                    value = buf._LineHostBuffer__closed_state
                return {"message": "success", "data": value}, 200

            def post(self) -> Any:
                args = request.get_json(silent=True) if request.is_json else None
                if not isinstance(args, collections.abc.Mapping):
                    return {"message": "syncstream: the request data must be a JSON object."}, 400
                name = str(args.get("state", "")).strip()
                if not name:
                    return {"message": "syncstream: the state to set is missing."}, 400
                if name == "closed":
                    value = str(args.get("value")).casefold().strip()
                    if value == "true":
                        buf.stop_all_mirrors()
                    else:
                        buf.reset_states()
                return {"message": "success"}, 201

            def delete(self) -> Any:
                buf.reset_states()
                return {"message": "success"}, 200

        app.add_url_rule(
            self.api_route, endpoint=self.endpoint, view_func=BufferView.as_view("buffer_post")
        )
        app.add_url_rule(
            self.api_route + "-state",
            endpoint=self.endpoint + "-state",
            view_func=StateView.as_view("buffer_state"),
        )
