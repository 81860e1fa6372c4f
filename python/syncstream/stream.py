"""threadedstream's streams on the syncstream C library's ss_stream.

TcpStream, SerialStream, SshStream and ExecStream, and open(uri) for every URI
`syncstream connect` takes, with threadedstream's methods (start, read, write,
read_until, read_line, read_lines, peek, ready, contains, index, check,
consume_buffer, waiting, stop) and pexpect's expect/sendline. A background
I/O thread (C) moves the bytes; every wait releases the GIL and is interrupted
by Ctrl-C. See docs/python.md, "Streams".

Every exception a stream raises carries ``error_payload = (read, unsent)``:
the bytes received and not consumed (after whatever the failing call had
consumed, which comes first) and the bytes not sent. Nothing is lost: the
stream keeps its read buffer, so a later call can still take those bytes.
"""

import codecs
import errno
import os
import re
import time

from . import _core

__all__ = (
    "StoppedThreadError",
    "EOF",
    "TIMEOUT",
    "IoStream",
    "TcpStream",
    "SerialStream",
    "SshStream",
    "ExecStream",
    "open",
)


class StoppedThreadError(Exception):
    """The stream was stopped (threadedstream's name): every call after stop()."""


class _Sentinel:
    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return "syncstream.stream." + self._name


#: In expect()'s list: match the end of the stream instead of raising EOFError.
EOF = _Sentinel("EOF")
#: In expect()'s list: match the timeout instead of raising TimeoutError.
TIMEOUT = _Sentinel("TIMEOUT")

_TIMEDOUT = -errno.ETIMEDOUT
_NOBUFS = -errno.ENOBUFS  # a write that does not fit, with no time to wait
_PARITY = {"N": 0, "E": 1, "O": 2}


def _exception(code, message, what):
    """The exception threadedstream (or the OS) raises for a library code."""
    text = "syncstream: %s: %s" % (what, message)
    if code in (_TIMEDOUT, _NOBUFS):
        return TimeoutError(text)
    if code == _core.E_EOF:
        return EOFError(text)
    if code == _core.E_CLOSED:
        return StoppedThreadError(text)
    if code == _core.E_CONNLOST:
        return ConnectionAbortedError(text)
    if -4096 < code < 0:
        # OSError picks the subclass: ConnectionResetError, BrokenPipeError...
        return OSError(-code, text)
    return ConnectionError(text)


def _pcre(pattern, encoding):
    """An expect() pattern (bytes, str or re.Pattern) as PCRE2 bytes."""
    flags = 0
    if isinstance(pattern, re.Pattern):
        flags = pattern.flags
        pattern = pattern.pattern
    if isinstance(pattern, str):
        pattern = pattern.encode(encoding or "utf-8")
    if not isinstance(pattern, bytes):
        raise TypeError("syncstream: expect: a pattern must be bytes, str or re.Pattern, not %s"
                        % type(pattern).__name__)
    inline = b"".join(f for flag, f in ((re.IGNORECASE, b"i"), (re.MULTILINE, b"m"),
                                         (re.DOTALL, b"s"), (re.VERBOSE, b"x")) if flags & flag)
    return (b"(?" + inline + b")" + pattern) if inline else pattern


class IoStream:
    """threadedstream's IoStream API on a _core.Stream. Use the subclasses or open()."""

    def __init__(self, core, separator="\n", encoding=None, errors="strict"):
        self._core = core
        self._encoding = encoding
        self._errors = errors
        self._separator = self._bytes(separator)
        if not self._separator:
            raise ValueError("syncstream: the separator is empty")
        self._decoder = codecs.getincrementaldecoder(encoding)(errors) if encoding else None
        #: pexpect's: what came before the last expect()'s match, and the match.
        self.before = None
        self.after = None
        self.match = None

    # ---- conversion ---------------------------------------------------------

    def _bytes(self, data):
        if isinstance(data, str):
            return data.encode(self._encoding or "utf-8", self._errors)
        if isinstance(data, (bytes, bytearray, memoryview)):
            return bytes(data)
        raise TypeError("syncstream: expected bytes or str, not %s" % type(data).__name__)

    def _text(self, data):
        """Bytes consumed from the stream, as the caller sees them."""
        if self._decoder is None:
            return data
        return self._decoder.decode(data)

    def _payload(self, data):
        if self._encoding is None:
            return data
        try:
            return data.decode(self._encoding, "surrogateescape")
        except UnicodeError:
            return data.decode(self._encoding, "replace")

    def _raise(self, failure, what, consumed=b""):
        code, message, read, unsent = failure.args
        exc = _exception(code, message, what)
        exc.error_payload = (self._payload(consumed + read), self._payload(unsent))
        raise exc from None

    # ---- life ---------------------------------------------------------------

    def start(self):
        """Nothing to do: the I/O thread moves bytes from construction on
        (threadedstream's streams start at start()). Returns the stream."""
        return self

    def stop(self):
        """Close the transport (a program on it is killed); every later call,
        and every call waiting, raises StoppedThreadError with the payload."""
        self._core.close()

    close = stop

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def name(self):
        return self._core.name()

    # ---- reading ------------------------------------------------------------

    def read(self, count=4096, timeout=0):
        """Take up to count bytes. As threadedstream, does not wait by default
        (timeout=0) and returns what is there, possibly nothing; a timeout
        (seconds, None: no limit) waits for at least one byte. At the end of
        the stream, once the buffer is empty, raises EOFError."""
        try:
            return self._text(self._core.read(count, timeout))
        except _core.StreamFailure as f:
            if f.args[0] == _TIMEDOUT and timeout == 0:
                return self._text(b"")
            self._raise(f, "read")

    def read_until(self, target, timeout=None):
        """Take everything up to and including target (found also when split
        across arrivals); wait at most timeout seconds (None: no limit).
        TimeoutError, EOFError (the stream ended first), a ConnectionError or
        StoppedThreadError, with nothing taken and the payload."""
        target = self._bytes(target)
        try:
            return self._text(self._core.read_until(target, timeout))
        except _core.StreamFailure as f:
            self._raise(f, "read_until(%r)" % (target,))

    def read_line(self, timeout=None):
        """read_until(the separator): a line, with its separator."""
        try:
            return self._text(self._core.read_until(self._separator, timeout))
        except _core.StreamFailure as f:
            self._raise(f, "read_line")

    def read_lines(self, max_lines, skip=None, until=None, timeout=None, line_timeout=0.1):
        """Read max_lines lines (0: until the end of the stream, which then
        ends the call) and return them. skip(line) true: the line does not
        count and is not returned; until(line) true: it is the last one.
        timeout bounds the whole call, line_timeout each line (None: no limit).
        On an error the payload's read part starts with every line this call
        consumed, skipped ones included."""
        lines = []
        consumed = []
        deadline = None if timeout is None else _core_time() + timeout
        while len(lines) < max_lines or max_lines == 0:
            wait = line_timeout
            if deadline is not None:
                left = max(0.0, deadline - _core_time())
                wait = left if wait is None else min(wait, left)
            try:
                raw = self._core.read_until(self._separator, wait)
            except _core.StreamFailure as f:
                if max_lines == 0 and f.args[0] == _core.E_EOF:
                    break
                self._raise(f, "read_lines(%d)" % max_lines, b"".join(consumed))
            consumed.append(raw)
            line = self._text(raw)
            if skip is not None and skip(line):
                continue
            lines.append(line)
            if until is not None and until(line):
                break
        return lines

    def expect(self, patterns, timeout=None):
        """pexpect's expect: wait for the first of patterns (regular
        expressions: bytes, str or re.Pattern, PCRE2 syntax; EOF and TIMEOUT
        match those conditions) and take everything up to the end of its
        match. Returns (index, match): match an re.Match over the bytes taken
        (None for EOF and TIMEOUT). Also sets before, after and match."""
        if not isinstance(patterns, (list, tuple)):
            patterns = [patterns]
        regexes, where = [], []
        eof_index = timeout_index = None
        for i, p in enumerate(patterns):
            if p is EOF:
                eof_index = i
            elif p is TIMEOUT:
                timeout_index = i
            else:
                regexes.append(_pcre(p, self._encoding))
                where.append(i)
        try:
            if not regexes:
                # only conditions: wait for the end of the stream
                regexes, where = [b"\\z(?<=.)(?!)"], [None]
            index, data, start = self._core.expect(regexes, True, timeout)
        except _core.StreamFailure as f:
            code = f.args[0]
            if code == _core.E_EOF and eof_index is not None:
                self.before, self.after, self.match = self.consume_buffer(), EOF, None
                return eof_index, None
            if code == _TIMEDOUT and timeout_index is not None:
                self.before, self.after, self.match = self._payload(f.args[2]), TIMEOUT, None
                return timeout_index, None
            self._raise(f, "expect")
        text = self._text(data)
        pattern = patterns[where[index]]
        flags = pattern.flags if isinstance(pattern, re.Pattern) else 0
        source = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
        if isinstance(source, str) and self._encoding:
            subject, cut = text, len(self._text_len(data[:start]))
        else:
            subject, cut = data, start
            if isinstance(source, str):
                source = source.encode("utf-8")
        try:
            # PCRE2 found it; Python's re gives the groups where its syntax agrees
            match = re.compile(source, flags).fullmatch(subject, cut)
        except re.error:
            match = None
        self.before, self.after, self.match = subject[:cut], subject[cut:], match
        return where[index], match

    def _text_len(self, data):
        return data.decode(self._encoding, "surrogateescape") if self._encoding else data

    def peek(self, count=32):
        """The first count bytes of the read buffer, not taken; no waiting."""
        try:
            return self._payload(self._core.peek(count))
        except _core.StreamFailure as f:
            self._raise(f, "peek")

    def ready(self):
        """The number of bytes in the read buffer."""
        return self._core.ready()

    def contains(self, target):
        """True when the read buffer holds target now."""
        return self._core.contains(self._bytes(target))

    def index(self, target):
        """Where target starts in the read buffer (bytes); ValueError if absent."""
        return self._core.peek(self._core.ready()).index(self._bytes(target))

    def check(self, check_operation):
        """bool(check_operation(the read buffer)), nothing taken."""
        return bool(check_operation(self.peek(self._core.ready())))

    def consume_buffer(self):
        """Take the whole read buffer and return it."""
        return self.read(self._core.ready(), timeout=0)

    def stderr(self):
        """Take the separate error channel's bytes: the stderr of a program on
        pipes or of an SSH command."""
        return self._text_len(self._core.take_stderr())

    # ---- writing ------------------------------------------------------------

    def write(self, data, timeout=None):
        """Queue data for sending (sent by the I/O thread). Waits only when the
        16 MiB write buffer is full, at most timeout seconds. Returns the
        number of bytes queued."""
        data = self._bytes(data)
        try:
            return self._core.write(data, timeout)
        except _core.StreamFailure as f:
            self._raise(f, "write")

    def sendline(self, line=""):
        """pexpect's sendline: write line and the separator."""
        return self.write(self._bytes(line) + self._separator)

    def flush(self, timeout=None):
        """Wait until every queued byte has been handed to the transport."""
        try:
            self._core.flush(timeout)
        except _core.StreamFailure as f:
            self._raise(f, "flush")

    def sendeof(self, timeout=None):
        """Send what is queued, then the end of the peer's input (TCP's FIN,
        a program's stdin closed, an SSH channel's EOF)."""
        try:
            self._core.shutdown_write(timeout)
        except _core.StreamFailure as f:
            self._raise(f, "sendeof")

    def waiting(self):
        """The number of bytes queued and not yet sent."""
        return self._core.waiting()

    # ---- exit status --------------------------------------------------------

    @property
    def returncode(self):
        """How the program at the other end (exec, SSH) ended, as
        subprocess's: the exit code, or minus the signal; None while it runs."""
        return self._core.returncode()

    @property
    def exitstatus(self):
        """pexpect's: the exit code, None while running or when killed."""
        rc = self._core.returncode()
        return rc if rc is not None and rc >= 0 else None

    @property
    def signalstatus(self):
        """pexpect's: the signal that killed the program, else None."""
        rc = self._core.returncode()
        return -rc if rc is not None and rc < 0 else None


def _core_time():
    return time.monotonic()


def _ms(seconds):
    return -1 if seconds is None else int(seconds * 1000)


class TcpStream(IoStream):
    """A TCP connection to host:port (a name, IPv4 or IPv6 address).
    separator (read_line's) is b"\\x00", as threadedstream's TcpStream."""

    def __init__(self, host, port, separator=b"\x00", *, encoding=None, errors="strict",
                 connect_timeout=10.0):
        try:
            core = _core.Stream.tcp(host, str(port), _ms(connect_timeout), b"\n")
        except _core.StreamFailure as f:
            self._raise_open(f, "%s:%s" % (host, port))
        IoStream.__init__(self, core, separator, encoding, errors)

    @staticmethod
    def _raise_open(failure, what):
        code, message = failure.args[0], failure.args[1]
        exc = _exception(code, message, what)
        exc.error_payload = (b"", b"")
        raise exc from None


_raise_open = TcpStream._raise_open


class SerialStream(IoStream):
    """A serial port, raw. pyserial's settings: baudrate, bytesize (5-8),
    parity ("N", "E", "O"), stopbits (1, 2), rtscts, xonxoff. A device that
    goes away (a USB adapter pulled) is reopened every reopen seconds until it
    is back (None: the stream ends with the error instead)."""

    def __init__(self, port, baudrate=115200, separator="\n", *, bytesize=8, parity="N",
                 stopbits=1, rtscts=False, xonxoff=False, reopen=0.2, encoding=None,
                 errors="strict"):
        if parity not in _PARITY:
            raise ValueError("syncstream: SerialStream: parity must be one of N, E, O, not %r"
                             % (parity,))
        try:
            core = _core.Stream.serial(str(port), baudrate, bytesize, _PARITY[parity], stopbits,
                                       rtscts, xonxoff, -1 if reopen is None else
                                       max(1, int(reopen * 1000)), b"\n")
        except _core.StreamFailure as f:
            _raise_open(f, str(port))
        except OverflowError:
            raise ValueError("syncstream: SerialStream: bad setting") from None
        IoStream.__init__(self, core, separator, encoding, errors)


class SshStream(IoStream):
    """A command (or the login shell) on host over SSH. Host keys are checked
    against known_hosts (default ~/.ssh/known_hosts); accept_new_hostkey
    accepts and records an unknown host's key. Authentication: key_filename,
    password, then ssh-agent and the default keys. The command's stderr is
    stderr(); its end, returncode."""

    def __init__(self, host, user, password=None, key_filename=None, port=22, command=None,
                 known_hosts=None, accept_new_hostkey=False, *, pty=False, separator="\n",
                 encoding=None, errors="strict", connect_timeout=10.0):
        try:
            core = _core.Stream.ssh(host, user, password,
                                    None if key_filename is None else os.fspath(key_filename),
                                    port, command,
                                    None if known_hosts is None else os.fspath(known_hosts),
                                    accept_new_hostkey, pty, _ms(connect_timeout), b"\n")
        except _core.StreamFailure as f:
            _raise_open(f, "%s@%s:%s" % (user, host, port))
        IoStream.__init__(self, core, separator, encoding, errors)


class ExecStream(IoStream):
    """A local program: argv a list (or a str, run by /bin/sh -c). pty=True
    runs it on a pseudo-terminal (as pexpect's spawn; echo=False turns the
    terminal's echo off); otherwise on pipes, its stderr kept apart
    (stderr())."""

    def __init__(self, argv, pty=False, *, echo=True, separator="\n", encoding=None,
                 errors="strict"):
        if isinstance(argv, (str, bytes)):
            argv = ["/bin/sh", "-c", argv]
        args = [os.fsencode(a) for a in argv]
        try:
            core = _core.Stream.exec(args, pty, echo, b"\n")
        except _core.StreamFailure as f:
            _raise_open(f, os.fsdecode(args[0]) if args else "exec")
        IoStream.__init__(self, core, separator, encoding, errors)


def open(uri, *, separator="\n", encoding=None, errors="strict", connect_timeout=10.0,
         **ssh):
    """A stream from a URI, as `syncstream connect` takes it: tcp://HOST:PORT,
    serial:PATH?baud=..., telnet://HOST:PORT, rfc2217://HOST:PORT?baud=...
    (a remote serial port), exec:COMMAND, exec-pipe:COMMAND,
    ssh://[USER@]HOST[:PORT][/COMMAND]. ValueError for a URI that does not
    parse (the message says which part). An ssh:// URI also takes
    SshStream's password, key_filename, known_hosts, accept_new_hostkey and
    pty; without them it logs in with ssh-agent and the default keys and
    checks ~/.ssh/known_hosts, as `syncstream connect` does."""
    if ssh and not uri.startswith("ssh://"):
        raise TypeError("syncstream: open: %s apply to ssh:// URIs only" % ", ".join(ssh))
    if ssh:
        host, port, user, command = _core.Stream.parse_ssh_uri(uri)
        return SshStream(host, user, port=port, command=command, separator=separator,
                         encoding=encoding, errors=errors, connect_timeout=connect_timeout,
                         **ssh)
    try:
        core = _core.Stream.open_uri(uri, _ms(connect_timeout), b"\n")
    except _core.StreamFailure as f:
        _raise_open(f, uri)
    return IoStream(core, separator, encoding, errors)
