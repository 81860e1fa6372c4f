#!/usr/bin/env python3
"""A stand-in for sync-stream 1.2's host server: exactly the base protocol of
PROTOCOL.md (docs/host-protocol.md), nothing of our extensions, so that
ROUTE-health is a 404 as on the Python package's server. The tests run our
mirror and reader against it to check the fallback to the base protocol (the
Python package itself cannot be installed where the tests run).

Usage: base_server.py [--port P] [--route R] [--maxlen N]
Prints "PORT <n>" on standard output once it listens on 127.0.0.1 (port 0, the
default, picks a free one), then serves until killed.
"""
import argparse
import collections
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class LineBuffer:
    """sync-stream's LineBuffer: maxlen records plus one partial line."""

    def __init__(self, maxlen):
        self.maxlen = maxlen
        self.records = collections.deque(maxlen=maxlen)
        self.partial = ""

    def write(self, text):
        if not text:
            return
        pieces = (self.partial + text).splitlines(keepends=True)
        self.partial = ""
        for piece in pieces:
            body = piece.splitlines()[0] if piece.splitlines() else ""
            if body != piece:  # the piece ended with a line break
                self.records.append(body)
            else:
                self.partial = piece

    def new_line(self):
        if self.partial:
            self.records.append(self.partial)
            self.partial = ""

    def append(self, message):
        self.new_line()
        self.records.append(message)

    def view(self):
        items = list(self.records)
        if self.partial:
            items.append(self.partial)
        return items[-self.maxlen:] if len(items) > self.maxlen else items

    def read(self, n=None):
        items = self.view()
        if n is None:
            return items
        return items[-n:] if n > 0 else []

    def clear(self):
        self.records.clear()
        self.partial = ""


def is_message(value):
    if isinstance(value, str):
        return True
    return (isinstance(value, dict) and value.get("/is_syncsdata") is True
            and value.get("/type") == "GroupedMessage"
            and value.get("type") in ("str", "warning", "error")
            and isinstance(value.get("data"), list)
            and all(isinstance(x, str) for x in value["data"]))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "syncstream-test-base/1.2"

    def log_message(self, *args):
        pass

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        try:
            obj = json.loads(raw)
        except ValueError:
            return None
        return obj if isinstance(obj, dict) else None

    def route(self):
        url = urlsplit(self.path)
        route = self.server.route
        if url.path == route:
            return "main", parse_qs(url.query)
        if url.path == route + "-state":
            return "state", parse_qs(url.query)
        return None, None

    def do_GET(self):
        which, query = self.route()
        buf = self.server.buffer
        if which == "main":
            n = None
            if "n" in query:
                try:
                    n = int(query["n"][0])
                except ValueError:
                    return self.answer(400, {"message": "n must be an integer"})
            with self.server.lock:
                data = buf.read(n)
            return self.answer(200, {"message": "success", "data": data})
        if which == "state":
            if "state" not in query:
                return self.answer(400, {"message": "the state name is missing"})
            name = query["state"][0]
            with self.server.lock:
                value = {"closed": self.server.closed, "maxlen": buf.maxlen,
                         "curlen": len(buf.view())}.get(name)
            return self.answer(200, {"message": "success", "data": value})
        return self.answer(404, {"message": "not found: " + self.path})

    def do_POST(self):
        which, _ = self.route()
        if which is None:
            return self.answer(404, {"message": "not found: " + self.path})
        obj = self.body()
        if obj is None:
            return self.answer(400, {"message": "the body is not a JSON object"})
        buf = self.server.buffer
        if which == "state":
            if "state" not in obj:
                return self.answer(400, {"message": "the state name is missing"})
            if obj["state"] == "closed":
                with self.server.lock:
                    self.server.closed = str(obj.get("value")).lower() == "true"
            return self.answer(201, {"message": "success"})
        kind = obj.get("type")
        data = obj.get("data")
        with self.server.lock:
            if kind == "str":
                if not isinstance(data, dict) or not isinstance(data.get("value"), str):
                    return self.answer(400, {"message": "str data must be {\"value\": TEXT}"})
                buf.write(data["value"])
            elif kind in ("warning", "error"):
                if not is_message(data):
                    return self.answer(400, {"message": "a message must be a string or a grouped message"})
                buf.append(data)
            elif kind == "close":
                buf.new_line()
            else:
                return self.answer(400, {"message": "unknown type: %r" % (kind,)})
        return self.answer(201, {"message": "success"})

    def do_DELETE(self):
        which, _ = self.route()
        if which == "main":
            with self.server.lock:
                self.server.buffer.clear()
            return self.answer(200, {"message": "success"})
        if which == "state":
            with self.server.lock:
                self.server.closed = False
            return self.answer(200, {"message": "success"})
        return self.answer(404, {"message": "not found: " + self.path})


def serve(handler, port, route="/sync-stream", maxlen=10, **attrs):
    """Serve with handler on 127.0.0.1:port (0: a free one) until killed; the
    server object carries route, a LineBuffer of maxlen and attrs."""
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    server.route = route
    server.buffer = LineBuffer(maxlen)
    server.closed = False
    server.lock = threading.Lock()
    for name, value in attrs.items():
        setattr(server, name, value)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--route", default="/sync-stream")
    ap.add_argument("--maxlen", type=int, default=10)
    args = ap.parse_args()
    serve(Handler, args.port, args.route, args.maxlen)


if __name__ == "__main__":
    sys.exit(main())
