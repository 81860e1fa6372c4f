#!/usr/bin/env python3
"""The base-protocol stand-in (base_server.py) with two faults a real server
may show, for the tests of how a mirror copes:

- the first --fail-first POSTs to ROUTE get 503 {"message": "store down"}, as a
  server whose storage is unavailable answers (the mirror must retry them);
- a "str" POST whose text holds REJECT gets 400 {"message": "rejected on
  purpose"} and changes nothing (the mirror must stop and keep the records).

Usage: faulty_server.py [--port P] [--fail-first N]; prints "PORT <n>".
"""
import argparse
import sys

import base_server


class FaultyHandler(base_server.Handler):
    def do_POST(self):
        which, _ = self.route()
        if which == "main":
            with self.server.lock:
                fail = self.server.fail_left > 0
                if fail:
                    self.server.fail_left -= 1
            if fail:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                return self.answer(503, {"message": "store down"})
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n)
            if b"REJECT" in raw:
                return self.answer(400, {"message": "rejected on purpose"})
            # Hand the body, already read, to the base handler; the
            # connection's own stream comes back for its next request.
            stream, self.rfile = self.rfile, _Replay(raw)
            try:
                return super().do_POST()
            finally:
                self.rfile = stream
        return super().do_POST()


class _Replay:
    def __init__(self, data):
        self.data = data

    def read(self, n):
        out, self.data = self.data[:n], self.data[n:]
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fail-first", type=int, default=0)
    args = ap.parse_args()
    base_server.serve(FaultyHandler, args.port, maxlen=100, fail_left=args.fail_first)


if __name__ == "__main__":
    sys.exit(main())
