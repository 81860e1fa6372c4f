#!/usr/bin/env python3
"""A stand-in for an older syncstream server, from before epochs: ROUTE-health
without "epoch", cursor reads without "epoch", and a live tail whose event ids
are bare sequence numbers. It holds --records records "r1".."rN" (seq 1..N)
and stores nothing more. The tests check that our reader still follows it,
and finds it restarted when it comes back with fewer records than the cursor.

Usage: old_ext_server.py [--port P] [--records N]; prints "PORT <n>".
"""
import argparse
import json
import sys
from urllib.parse import parse_qs, urlsplit

import base_server


class OldExtHandler(base_server.Handler):
    def record(self, seq):
        return {"seq": seq, "time_ns": seq, "source": "old", "kind": "line",
                "text": "r%d" % seq, "continued": False}

    def start(self, query, header):
        """The cursor to read after: a SEQ beyond the newest starts from 0."""
        since = int(header if header is not None else query.get("since", ["0"])[0])
        return 0 if since > self.server.records else since

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        route, count = self.server.route, self.server.records
        if url.path == route + "-health":
            return self.answer(200, {"message": "success", "status": "ok",
                                     "records": count, "maxlen": count,
                                     "closed": False, "version": "0.0.9",
                                     "next_seq": count + 1})
        if url.path == route and "since" in query:
            since = self.start(query, None)
            recs = [self.record(s) for s in range(since + 1, count + 1)]
            return self.answer(200, {"message": "success", "data": [],
                                     "records": recs,
                                     "next": recs[-1]["seq"] if recs else since,
                                     "missed": 0})
        if url.path == route + "-events":
            since = self.start(query, self.headers.get("Last-Event-ID"))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for seq in range(since + 1, count + 1):
                data = json.dumps(self.record(seq), separators=(",", ":"))
                self.wfile.write(("id: %d\nevent: record\ndata: %s\n\n"
                                  % (seq, data)).encode())
            self.close_connection = True
            return None
        return super().do_GET()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--records", type=int, default=5)
    args = ap.parse_args()
    base_server.serve(OldExtHandler, args.port, records=args.records)


if __name__ == "__main__":
    sys.exit(main())
