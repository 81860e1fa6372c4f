#!/usr/bin/env python3
"""The base host protocol as the Python package sync-stream 1.2 speaks it.

A stand-in for an unmodified sync-stream LineHostMirror and LineHostReader,
written with the standard library only (the package itself needs urllib3 and
Flask, which a test machine need not have). Each request carries exactly the
method, URL, headers and JSON body that /work/shared/PROTOCOL.md (our
docs/host-protocol.md) says the Python client sends, and each answer is read
the way it reads it.

    sync_stream_client.py URL [TOKEN]

URL is the buffer's route on a server started with --maxlen 10 and nothing
stored, for example http://127.0.0.1:5000/sync-stream. Prints one line per
check and exits 1 if any failed.
"""
import json
import sys
import traceback
import urllib.error
import urllib.parse
import urllib.request

URL = sys.argv[1]
TOKEN = sys.argv[2] if len(sys.argv) > 2 else None
FAILED = []

GET_HEADERS = {"Accept": "application/json", "User-Agent": "cainmagi/syncstream"}
POST_HEADERS = dict(GET_HEADERS, **{"Content-Type": "application/json"})


def check(name, got, want):
    if got == want:
        print("ok   " + name)
    else:
        print("FAIL %s: got %r, want %r" % (name, got, want))
        FAILED.append(name)


def request(method, url, body=None, headers=None):
    """(status, decoded JSON body); an error status is an answer, not an exception."""
    headers = dict(headers or GET_HEADERS)
    if TOKEN:
        headers["Authorization"] = "Bearer " + TOKEN
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method.upper())
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


class ServiceError(Exception):
    """What the Python client raises (ConnectionError) on an error status."""


def expect_ok(status, info):
    if status >= 400:
        raise ServiceError(info.get("message", "unknown error"))
    return info


class Mirror:
    """LineHostMirror: a private partial line, a state check before each write."""

    def __init__(self, address, aggressive=False):
        self.address = address
        self.aggressive = aggressive
        self.buffer = ""

    def check_states(self):
        url = "%s-state?%s" % (self.address, urllib.parse.urlencode({"state": "closed"}))
        info = expect_ok(*request("get", url))
        if info.get("data", None) is True:
            raise StopIteration("syncstream: The mirror worker is terminated by users.")

    def send_data(self, data):
        expect_ok(*request("post", self.address, {"type": "str", "data": {"value": data}},
                           POST_HEADERS))

    def write(self, data, check=True):
        if check:
            self.check_states()
        if self.aggressive:
            self.send_data(data)
            return len(data)
        lines = data.splitlines()
        if len(lines) > 1 or (len(lines) == 1 and lines[0] == "") or \
                (data and data[-1] in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"):
            self.buffer += data
            self.send_data(self.buffer)
            self.buffer = ""
        elif len(lines) == 1:
            self.buffer += data
        return len(data)

    def new_line(self, check=True):
        if self.buffer:
            self.write("\n", check=check)

    def send_eof(self):
        self.new_line()
        expect_ok(*request("post", self.address, {"type": "close"}, POST_HEADERS))

    def send_grouped(self, kind, lines):
        self.new_line(check=kind != "error")
        message = {"/is_syncsdata": True, "/type": "GroupedMessage", "type": kind,
                   "data": lines}
        expect_ok(*request("post", self.address, {"type": kind, "data": message},
                           POST_HEADERS))


class Reader:
    """LineHostReader."""

    def __init__(self, address):
        self.address = address

    def state(self, name):
        url = "%s-state?%s" % (self.address, urllib.parse.urlencode({"state": name}))
        return expect_ok(*request("get", url))["data"]

    def read(self, size=None):
        url = self.address if size is None else "%s?n=%d" % (self.address, max(0, size))
        return tuple(expect_ok(*request("get", url))["data"])

    def clear(self):
        return expect_ok(*request("delete", self.address)).get("message") == "success"

    def reset_states(self):
        return expect_ok(*request("delete", self.address + "-state")).get("message") == "success"

    def stop_all_mirrors(self):
        info = expect_ok(*request("post", self.address + "-state",
                                  {"state": "closed", "value": "true"}, POST_HEADERS))
        return info.get("message") == "success"


def grouped(kind, lines):
    return {"/is_syncsdata": True, "/type": "GroupedMessage", "type": kind, "data": lines}


def main():
    reader = Reader(URL)
    check("maxlen", reader.state("maxlen"), 10)
    check("closed at start", reader.state("closed"), False)
    check("empty at start", reader.read(), ())

    # PROTOCOL.md's example, through an aggressive mirror (each write posted as is)
    m = Mirror(URL, aggressive=True)
    for text in ["Hello!\n", "a b\n", "x\n y\n", "tail"]:
        m.write(text)
    check("example read(2)", reader.read(2), (" y", "tail"))
    check("example len", reader.state("curlen"), 5)
    check("example read()", reader.read(), ("Hello!", "a b", "x", " y", "tail"))
    check("read(0)", reader.read(0), ())
    check("read(-4) is read(0)", reader.read(-4), ())
    check("clear", reader.clear(), True)
    check("cleared", (reader.read(), reader.state("curlen")), ((), 0))

    # an ordinary mirror: whole lines, a warning, then closing on an error
    m = Mirror(URL)
    m.write("par")
    m.write("tial")
    check("partial stays in the mirror", reader.read(), ())
    m.write(" line\nnext")
    # the mirror sent "partial line\nnext": "next" is the server's partial line
    check("line sent on its break", reader.read(), ("partial line", "next"))
    m.send_grouped("warning", ["UserWarning: careful"])
    try:
        raise ValueError("boom")
    except ValueError:
        tb = traceback.format_exc().splitlines()
    m.send_grouped("error", tb)
    m.send_eof()
    got = reader.read()
    check("warning and error records", got,
          ("partial line", "next", grouped("warning", ["UserWarning: careful"]),
           grouped("error", tb)))

    # the stop request: every mirror's next write raises StopIteration
    check("stop_all_mirrors", reader.stop_all_mirrors(), True)
    check("closed after stop", reader.state("closed"), True)
    try:
        Mirror(URL).write("refused\n")
        check("write after stop raises", False, True)
    except StopIteration:
        check("write after stop raises", True, True)
    check("reset_states", reader.reset_states(), True)
    check("closed after reset", reader.state("closed"), False)
    Mirror(URL).write("accepted again\n")
    check("write after reset", reader.read(1), ("accepted again",))

    # a NUL in a record (json.dumps writes \u0000), in a line and in a partial
    # line, reads back whole
    m = Mirror(URL, aggressive=True)
    m.write("x\x00y\np\x00")
    check("NUL in records", reader.read(2), ("x\x00y", "p\x00"))
    m.send_eof()

    # unknown state names read as null; a mirror's close adds its line break
    check("unknown state", reader.state("nothing"), None)
    m = Mirror(URL)
    m.write("no break at close")
    m.send_eof()
    check("close sends the partial line", reader.read(1), ("no break at close",))

    # non-ASCII text round-trips; rotation keeps the newest maxlen records
    Mirror(URL).write("h\u00e9llo w\u00f6rld \u2603\n")
    check("unicode", reader.read(1), ("h\u00e9llo w\u00f6rld \u2603",))
    m = Mirror(URL)
    for i in range(15):
        m.write("r%d\n" % i)
    check("rotation", reader.read(), tuple("r%d" % i for i in range(5, 15)))

    # error answers are JSON with a message, as the client reports them
    status, info = request("get", URL + "?n=abc")
    check("non-integer n", (status, bool(info.get("message"))), (400, True))
    status, info = request("post", URL, {"type": "nonsense"}, POST_HEADERS)
    check("unknown type", (status, bool(info.get("message"))), (400, True))
    status, info = request("get", URL + "-state")
    check("missing state name", (status, bool(info.get("message"))), (400, True))
    check("nothing changed by bad requests", len(reader.read()), 10)

    print("%d checks failed" % len(FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
