"""Run a command with its standard output and error on a new pseudo-terminal
and print what it wrote there, bytes as Python's repr, on one line.

    run_on_pty.py [--when TEXT FILE]... -- COMMAND [ARG]...

--when TEXT FILE: once TEXT has appeared in the output, create FILE (so that
the command's jobs can wait for the output to have reached the terminal).
Everything is bounded: the command gets 30 s, then is killed (status 124).
"""
import os
import pty
import select
import sys
import time


def main(argv):
    whens = []
    while argv[0] == "--when":
        whens.append((argv[1].encode(), argv[2]))
        argv = argv[3:]
    assert argv[0] == "--"
    cmd = argv[1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out = b""
    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the other side is closed
                data = b""
            if not data:
                break
            out += data
            for text, path in whens:
                if text in out and not os.path.exists(path):
                    open(path, "w").close()
    else:
        os.kill(pid, 9)
        status = 124
    _, st = os.waitpid(pid, 0)
    if status is None:
        status = os.waitstatus_to_exitcode(st)
    print(repr(out))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
