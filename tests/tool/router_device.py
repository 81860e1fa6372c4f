#!/usr/bin/env python3
"""A router console for the `connect --script` tests, run on a pty (exec:).

    router_device.py [--reject N] [--logged-in] [--pages N]

Asks "login: " and "Password: " (user admin, password secret); the first N
logins are refused with "Login incorrect", as a mistyped password would be.
--logged-in starts at the prompt "router# ". Commands: "show running-config"
prints N pages of ten lines, each but the last followed by "--More--", which
waits for one key (space: the next page, q: stop); "exit [STATUS]" says bye
and ends with STATUS (default 0); "silence" prints nothing and waits for the
next command; anything else is echoed back as "% unknown: ...".
"""
import argparse
import os
import sys
import termios
import tty


def out(text):
    sys.stdout.write(text)
    sys.stdout.flush()


def read_line():
    line = sys.stdin.readline()
    if not line:
        sys.exit(0)
    return line.strip()


def more():
    """Say --More-- and take one key, without waiting for Enter (the pager's
    habit). The terminal is in cbreak mode before the prompt is out, so a key
    sent as soon as it is seen is not held in a line."""
    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        out("--More--")
        key = os.read(fd, 1)
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, old)
    out("\r        \r")
    return key


def login(reject):
    while True:
        out("login: ")
        user = read_line()
        if not user:
            continue  # an empty line asks again, as a getty does
        out("Password: ")
        password = read_line()
        if reject > 0 or user != "admin" or password != "secret":
            reject -= 1
            out("Login incorrect\n\n")
            continue
        return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reject", type=int, default=0)
    ap.add_argument("--logged-in", action="store_true")
    ap.add_argument("--pages", type=int, default=3)
    a = ap.parse_args()

    out("Router console\n")
    if not a.logged_in:
        login(a.reject)
    while True:
        out("router# ")
        cmd = read_line()
        if cmd == "show running-config":
            for page in range(a.pages):
                for i in range(10):
                    out("config line %d\n" % (page * 10 + i + 1))
                if page + 1 < a.pages:
                    if more() == b"q":
                        break
        elif cmd.startswith("exit"):
            out("bye\n")
            parts = cmd.split()
            sys.exit(int(parts[1]) if len(parts) > 1 else 0)
        elif cmd == "silence":
            pass
        elif cmd:
            out("%% unknown: %s\n" % cmd)


if __name__ == "__main__":
    main()
