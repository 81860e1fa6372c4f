#!/usr/bin/env python3
"""Check `syncstream inspect` output for the ring file written by make_ring.c.

    check_output.py json FILE        JSON Lines of the whole ring
    check_output.py tail FULL PART   PART (from -n 2 --json) is FULL's newest items
    check_output.py text FILE        the text format of the whole ring

Prints one line per failed check and exits 1 if any failed.
"""
import datetime
import json
import re
import sys

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


LONG = "".join(chr(ord("a") + i % 26) for i in range(150))
KEYS = {"seq", "time", "time_ns", "source", "kind", "text", "continued", "partial", "stderr", "exit"}
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
# make_ring's invalid UTF-8 line as each format must show it: one U+FFFD per
# bad byte in JSON, \xHH per bad byte in text.
BAD_JSON = "bad utf8 \ufffd\ufffd and \ufffd( surrogate \ufffd\ufffd\ufffd overlong \ufffd\ufffd \ufffd\ufffd\ufffd end"
BAD_TEXT = "bad utf8 \\xff\\xfe and \\xc3( surrogate \\xed\\xa0\\x80 overlong \\xc0\\xaf \\xe0\\x80\\xaf end"
ESC = 'quote " backslash \\ tab \t bell \x07 end'
ERROR = 'Traceback (most recent call last):\n  File "job.py", line 1\nValueError: boom'


def iso(time_ns):
    sec, ns = divmod(time_ns, 10**9)
    t = datetime.datetime.fromtimestamp(sec, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (ns // 1000)


def load_json(path):
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8")  # strict: the output itself must be UTF-8
    except UnicodeDecodeError as e:
        check(False, "JSON output is not valid UTF-8: %s" % e)
        return [], []
    lines = text.split("\n")
    check(lines[-1] == "", "JSON output does not end with a newline")
    lines = lines[:-1]
    objs = []
    for i, line in enumerate(lines):
        try:
            o = json.loads(line)  # strict: raw control characters are refused
        except ValueError as e:
            check(False, "line %d is not valid JSON (%s): %r" % (i + 1, e, line))
            continue
        if check(isinstance(o, dict) and set(o) == KEYS, "line %d: keys %r" % (i + 1, line)):
            objs.append(o)
    return lines, objs


def by_text(objs, text):
    found = [o for o in objs if o["text"] == text]
    check(len(found) == 1, "expected exactly one record with text %r, found %d" % (text, len(found)))
    return found[0] if found else None


def check_json(path):
    lines, objs = load_json(path)
    if not check(len(objs) >= 10, "only %d JSON records" % len(objs)):
        return
    for o in objs:
        check(type(o["seq"]) is int and type(o["time_ns"]) is int, "seq/time_ns not integers: %r" % o)
        check(TIME_RE.match(o["time"]) is not None, "bad time %r" % o["time"])
        check(o["time"] == iso(o["time_ns"]), "time %r does not match time_ns %r" % (o["time"], o["time_ns"]))
        check(o["kind"] in ("line", "warning", "error"), "bad kind %r" % o["kind"])
        for k in ("continued", "partial", "stderr", "exit"):
            check(type(o[k]) is bool, "%s not a bool: %r" % (k, o))
    stored = [o for o in objs if not o["partial"]]
    seqs = [o["seq"] for o in stored]
    check(seqs == sorted(seqs) and len(set(seqs)) == len(seqs) and all(s > 0 for s in seqs),
          "stored seqs not increasing: %r" % seqs)

    # The oldest records were rotated out (maxlen 12), the newest filler kept.
    check(not any(o["text"] == "filler 1" for o in objs), "'filler 1' should have been shed")
    by_text(objs, "filler 5")

    w = by_text(objs, "disk almost full\nsecond line of the warning")
    if w:
        check(w["kind"] == "warning", "warning has kind %r" % w["kind"])
    e = by_text(objs, ERROR)
    if e:
        check(e["kind"] == "error", "error has kind %r" % e["kind"])
    by_text(objs, BAD_JSON)
    by_text(objs, "nul\x00byte")
    by_text(objs, ESC)
    by_text(objs, "caf\u00e9 \u2713")
    check(any('"nul\\u0000byte"' in l for l in lines), "NUL not written as \\u0000")
    # Exactly as Python writes it: \" \\ \t \u0007.
    check(any(json.dumps(ESC) in l for l in lines), "quote, backslash, tab or BEL badly escaped")
    check(any(json.dumps(BAD_JSON) in l for l in lines),
          "invalid UTF-8 not written as \\ufffd")

    # The over-long line: pieces flagged continued, all but the last.
    start = [i for i, o in enumerate(objs) if o["text"].startswith("abcdefgh")]
    if check(len(start) == 1, "long line's first piece not found exactly once"):
        pieces = []
        for o in objs[start[0]:]:
            pieces.append(o)
            if not o["continued"]:
                break
        check(len(pieces) >= 3, "long line cut into %d pieces, expected >= 3" % len(pieces))
        check("".join(p["text"] for p in pieces) == LONG, "long line pieces do not join back")
        check(all(len(p["text"]) <= 64 for p in pieces), "a piece is longer than max_line")
        check(all(p["continued"] for p in pieces[:-1]) and not pieces[-1]["continued"],
              "continued flags wrong on the long line's pieces")

    wk = by_text(objs, "from the worker")
    if wk:
        check(wk["source"] == "worker" and wk["stderr"], "worker record: %r" % wk)
        check(not objs[0]["stderr"], "stderr flag set on a main record")

    last = objs[-1]
    check(last["partial"] and last["seq"] == 0 and last["text"] == "prompt> ",
          "last item is not the partial line 'prompt> ': %r" % last)
    check(sum(o["partial"] for o in objs) == 1, "more than one partial item")
    check(all(o["source"] == "main" for o in objs if o["text"] != "from the worker"),
          "a record with an unexpected source")


def check_tail(full_path, part_path):
    full, _ = load_json(full_path)
    part, objs = load_json(part_path)
    check(len(part) in (2, 3), "-n 2 gave %d items" % len(part))
    check(part == full[-len(part):], "-n 2 output is not the newest items of the full output")
    check(objs and objs[-1]["partial"], "-n 2 output does not end with the partial line")
    check(any(o["text"] == "from the worker" for o in objs), "-n 2 lost the newest record")


def check_text(path):
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        check(False, "text output is not valid UTF-8: %s" % e)
        return
    lines = text.split("\n")
    check(lines[-1] == "", "text output does not end with a newline")
    lines = lines[:-1]
    head = re.compile(r"^(\d+|-) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) (\S+) "
                      r"(line|warning|error)((?:,continued)?(?:,partial)?(?:,stderr)?) (.*)$")
    recs = []
    for l in lines:
        if l.startswith("    ") and recs:
            recs[-1]["text"] += "\n" + l[4:]
            continue
        m = head.match(l)
        if not check(m is not None, "text line not in SEQ TIME SOURCE KIND TEXT form: %r" % l):
            continue
        recs.append({"seq": m.group(1), "source": m.group(3), "kind": m.group(4),
                     "flags": m.group(5), "text": m.group(6)})
    texts = [r["text"] for r in recs]

    def one(t, kind="line", flags="", source="main"):
        found = [r for r in recs if r["text"] == t]
        if check(len(found) == 1, "text: expected one record %r, found %d" % (t, len(found))):
            r = found[0]
            check((r["kind"], r["flags"], r["source"]) == (kind, flags, source),
                  "text: record %r shown as %r" % (t, r))

    one("filler 5")
    one("disk almost full\nsecond line of the warning", kind="warning")
    one(ERROR, kind="error")
    one(BAD_TEXT)
    one("nul\\x00byte")
    one('quote " backslash \\ tab \t bell \\x07 end')
    one("caf\u00e9 \u2713")
    one("from the worker", flags=",stderr", source="worker")
    check("filler 1" not in texts, "text: 'filler 1' should have been shed")
    cont = [r for r in recs if r["flags"] == ",continued"]
    check(len(cont) >= 2 and cont[0]["text"].startswith("abcdefgh"),
          "text: the long line's pieces are not marked ,continued")
    if check(bool(recs), "text: no records"):
        last = recs[-1]
        check(last["seq"] == "-" and last["flags"] == ",partial" and last["text"] == "prompt> ",
              "text: last line is not the partial line: %r" % last)
    check(not any("\x00" in l or "\x07" in l or "\x1b" in l for l in lines),
          "text: a raw control byte reached the output")


def main():
    mode = sys.argv[1]
    if mode == "json":
        check_json(sys.argv[2])
    elif mode == "tail":
        check_tail(sys.argv[2], sys.argv[3])
    elif mode == "text":
        check_text(sys.argv[2])
    else:
        sys.exit("unknown mode " + mode)
    for f in failures:
        print("  " + f)
    sys.exit(1 if failures else 0)


main()
