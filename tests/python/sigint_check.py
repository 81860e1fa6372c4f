"""A test helper: a blocking call is interrupted by Ctrl-C (SIGINT).

    from sigint_check import assert_sigint_interrupts

    def test_wait_is_interruptible():
        assert_sigint_interrupts(
            setup="import syncstream; b = syncstream.LineBuffer(4)",
            call="for _ in b.follow(): pass")

The setup and the call run in a fresh interpreter (the build tree's package
on its path, as the test's own). Once the setup has run, the child prints a
marker and makes the call; the parent then sends SIGINT and waits for the
child to report KeyboardInterrupt. The call must block for ever (or far longer
than the bound) without the signal, so that the check fails when the wait
cannot be interrupted.

The requirement is 100 ms; the bound checked is GRACE seconds, generous, so
that a loaded machine does not fail the test: a wait that ignores the signal
never ends, which the bound catches all the same. The child reports how long
the interruption took (the time from the signal's arrival to the exception)
in the result, for a human to read; nothing asserts on it.
"""

import os
import select
import signal
import subprocess
import sys
import textwrap
import time

# Generous: the machine running the tests may be heavily loaded.
GRACE = 10.0
READY_TIMEOUT = 60.0
READY = "sigint_check: ready"

_CHILD = """
import os, signal, sys, time, threading
_got = []
_default = signal.getsignal(signal.SIGINT)
def _handler(signum, frame):
    _got.append(time.monotonic())
    _default(signum, frame)
signal.signal(signal.SIGINT, _handler)
{setup}
print({ready!r}, flush=True)
try:
{call}
except KeyboardInterrupt:
    delay = time.monotonic() - _got[0] if _got else -1.0
    print("sigint_check: KeyboardInterrupt after %.3f s" % delay, flush=True)
    sys.exit(0)
print("sigint_check: the call returned", flush=True)
sys.exit(3)
"""


def assert_sigint_interrupts(setup: str, call: str, delay: float = 0.3) -> str:
    """Run call in a child, send SIGINT delay seconds after it starts, and
    assert that it raises KeyboardInterrupt within GRACE seconds. Returns the
    child's output."""
    code = _CHILD.format(setup=textwrap.dedent(setup), ready=READY,
                         call=textwrap.indent(textwrap.dedent(call), "    "))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        seen = ""
        while READY not in seen:
            left = deadline - time.monotonic()
            assert left > 0, "the child did not reach the call: " + seen
            if select.select([proc.stdout], [], [], left)[0]:
                line = proc.stdout.readline()
                assert line, "the child ended before the call: " + seen
                seen += line
        # The call has started (or is about to): let it block first.
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=GRACE)
        except subprocess.TimeoutExpired:
            raise AssertionError("SIGINT did not interrupt the call within %s s" % GRACE)
        assert proc.returncode == 0, "the child's exit status %s: %s" % (proc.returncode, out)
        assert "KeyboardInterrupt after" in out, out
        return out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(READY_TIMEOUT)
        proc.stdout.close()
