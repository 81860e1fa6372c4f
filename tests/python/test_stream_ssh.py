"""syncstream.stream.SshStream against a real OpenSSH sshd on 127.0.0.1: the C
tests' harness (tests/helpers/sshd.c), which tests/tool/with_sshd starts
around this file and describes in SSHD_* (meson test py_stream_ssh)."""

import os

import pytest

from syncstream import stream
from syncstream.stream import EOF, SshStream

WAIT = 10.0

if "SSHD_PORT" not in os.environ:
    pytest.skip("needs the sshd of tests/tool/with_sshd (meson test py_stream_ssh)",
                allow_module_level=True)

PORT = int(os.environ["SSHD_PORT"])
USER = os.environ["SSHD_USER"]
KNOWN = os.environ["SSHD_KNOWN_HOSTS"]


def connect(command, **kw):
    kw.setdefault("known_hosts", KNOWN)
    kw.setdefault("key_filename", os.environ["SSHD_KEY"])
    return SshStream("127.0.0.1", USER, port=PORT, command=command, **kw)


def test_command_output_stderr_and_exit_status():
    with connect("echo out; echo err >&2; exit 5") as s:
        assert s.read_line(timeout=WAIT) == b"out\n"
        assert s.expect([EOF], timeout=WAIT) == (0, None)
        assert s.returncode == 5 and s.exitstatus == 5
        assert s.stderr() == b"err\n"


def test_interactive_command_with_password():
    with connect("cat", key_filename=None, password=os.environ["SSHD_PASSWORD"],
                 encoding="utf-8") as s:
        s.sendline("héllo")
        assert s.read_line(timeout=WAIT) == "héllo\n"
        s.sendeof(timeout=WAIT)
        with pytest.raises(EOFError) as e:
            s.read_line(timeout=WAIT)
        assert e.value.error_payload == ("", "")
        assert s.returncode == 0


def test_target_split_across_segments():
    with connect("printf abc; sleep 0.2; printf 'def\\n'") as s:
        assert s.read_until(b"cde", timeout=WAIT) == b"abcde"


def test_unknown_host_refused_then_accepted(tmp_path):
    known = tmp_path / "known_hosts"
    with pytest.raises(ConnectionError) as e:
        connect("true", known_hosts=known)
    assert e.value.error_payload == (b"", b"")
    with connect("echo ok", known_hosts=known, accept_new_hostkey=True) as s:
        assert s.read_line(timeout=WAIT) == b"ok\n"
    assert known.read_text().strip()


def test_wrong_key_refused():
    with pytest.raises(ConnectionError):
        connect("true", key_filename=os.environ["SSHD_OTHER_KEY"])


def test_open_ssh_uri():
    with stream.open("ssh://%s@127.0.0.1:%d/echo via uri" % (USER, PORT), known_hosts=KNOWN,
                     key_filename=os.environ["SSHD_KEY"]) as s:
        assert s.read_line(timeout=WAIT) == b"via uri\n"
        s.expect([EOF], timeout=WAIT)
        assert s.returncode == 0
    with pytest.raises(TypeError):
        stream.open("tcp://127.0.0.1:1", password="x")
