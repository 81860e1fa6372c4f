"""syncstream.host: serve() (the C server in-process), LineHostBuffer on Flask,
LineHostMirror and LineHostReader, against each other and against sync-stream
1.2's own mirror and reader (the peer, in a subprocess with its source on
PYTHONPATH). Servers listen on 127.0.0.1 on ports the system picks.
"""

import errno
import multiprocessing
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading

import pytest

import syncstream
from syncstream import GroupedMessage, LineHostBuffer, LineHostMirror, LineHostReader, host

TIMEOUT = 60
# ../shared/peers beside the checkout (or beside the worktrees' directory)
ROOT = pathlib.Path(__file__).resolve().parents[2]
PEER = next((p for p in (ROOT.parent / "shared/peers/sync-stream",
                         ROOT.parent.parent / "shared/peers/sync-stream")
             if (p / "syncstream" / "host.py").is_file()), ROOT / "missing")


def norm(items):
    """Items comparable: a GroupedMessage as (type, data)."""
    return tuple(x if isinstance(x, str) else (x.type, x.data) for x in items)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_mirror_reader_round_trip():
    with host.serve(maxlen=10) as srv:
        assert srv.address == "http://127.0.0.1:{0}/sync-stream".format(srv.port)
        mirror = LineHostMirror(srv.address, timeout=TIMEOUT)
        with mirror:
            print("hello")
            print("partial", end="")
            mirror.send_warning(UserWarning("careful"))
        assert mirror.closed
        items = srv.read()
        assert items[:2] == ("hello", "partial")
        assert isinstance(items[2], GroupedMessage) and items[2].type == "warning"
        assert items[2].data[-1] == "UserWarning: careful"
        reader = LineHostReader(srv.address, timeout=TIMEOUT)
        with reader:
            assert norm(reader.read()) == norm(items) and norm(reader.read(1)) == norm(items[-1:])
            assert reader.read(0) == ()
            assert len(reader) == 3 and reader.maxlen == 10 and reader.closed is False
            assert reader.clear() is True and reader.read() == ()
    assert srv.closed


def test_mirror_error_and_stop():
    with host.serve() as srv:
        mirror = LineHostMirror(srv.address, timeout=TIMEOUT)
        with pytest.raises(KeyError):
            with mirror:
                print("before")
                raise KeyError("boom")
        items = srv.read()
        assert items[0] == "before" and items[1].type == "error"
        assert items[1].data[-1] == "KeyError: 'boom'"
        reader = LineHostReader(srv.address, timeout=TIMEOUT)
        assert reader.stop_all_mirrors() is True and reader.closed is True
        other = LineHostMirror(srv.address, timeout=TIMEOUT)
        with pytest.raises(StopIteration):
            for _ in range(1000):  # the stop is learnt from the next answer
                other.write("x\n")
                other.flush()
        with pytest.raises(StopIteration):
            other.check_states()
        assert reader.reset_states() is True and reader.closed is False
        other.close()


def test_mirror_methods_and_closed():
    with host.serve() as srv:
        mirror = LineHostMirror(srv.address, aggressive=True, timeout=TIMEOUT)
        assert mirror.write("a\nb") == 3
        assert srv.read() == ("a",)  # aggressive: delivered on return
        mirror.send_eof()
        assert srv.read() == ("a", "b")
        mirror.send_error(ValueError("v"))
        mirror.flush()
        assert srv.read()[-1].type == "error"
        assert mirror.readable() and mirror.writable() and not mirror.isatty()
        assert mirror.read() == ""
        assert mirror.stats()["protocol"] == "ext"
        mirror.close()
        mirror.close()
        assert mirror.closed and mirror.unsent() == ()
        with pytest.raises(OSError) as info:
            mirror.write("late\n")
        assert info.value.errno == errno.EBADF
        with pytest.raises(OSError):
            mirror.read()


def test_bad_arguments():
    for bad in (None, "", 3):
        with pytest.raises(TypeError):
            LineHostMirror(bad)
        with pytest.raises(TypeError):
            LineHostReader(bad)
    with pytest.raises(ValueError):
        LineHostMirror("ftp://127.0.0.1/x")
    with pytest.raises(ValueError):
        LineHostMirror("http://127.0.0.1:1/x", timeout=-1)
    with pytest.raises(TypeError):
        LineHostMirror("http://127.0.0.1:1/x", timeout="3")
    with pytest.raises(ValueError):
        host.serve(route="no-slash")
    with pytest.raises(ValueError):
        host.serve(listen="nowhere")
    with pytest.raises(TypeError):
        host.serve(maxlen=0)
    with pytest.raises(TypeError):
        LineHostBuffer(maxlen="3")
    with host.serve() as srv:
        with pytest.raises(OSError) as info:
            host.serve(listen="127.0.0.1:{0}".format(srv.port))
        assert info.value.errno == errno.EADDRINUSE
        mirror = LineHostMirror(srv.address, timeout=TIMEOUT)
        for bad in (None, b"x", 3):
            with pytest.raises(TypeError):
                mirror.write(bad)
        mirror.close()
        reader = LineHostReader(srv.address, timeout=TIMEOUT)
        with pytest.raises(TypeError):
            reader.read("2")
        with pytest.raises(ConnectionError) as info:  # a 404: another route
            LineHostReader(srv.address + "-nothing", timeout=TIMEOUT).read()
        assert info.value.errno == errno.ENOENT
    with pytest.raises(ConnectionRefusedError):
        LineHostReader("http://127.0.0.1:{0}/sync-stream".format(free_port()), timeout=5).read()
    srv.stop()
    with pytest.raises(OSError):
        srv.read()


def test_close_without_server_keeps_unsent():
    mirror = LineHostMirror("http://127.0.0.1:{0}/sync-stream".format(free_port()), timeout=0.5)
    mirror.write("kept\n")
    with pytest.raises(TimeoutError):
        mirror.close()
    assert mirror.closed and mirror.unsent() == ("kept",)


def test_follow_live():
    with host.serve(maxlen=1000) as srv:
        mirror = LineHostMirror(srv.address, timeout=TIMEOUT)

        def produce():
            for i in range(50):
                mirror.write("line {0}\n".format(i))
                mirror.flush()

        thread = threading.Thread(target=produce)
        reader = LineHostReader(srv.address, timeout=TIMEOUT)
        got = []
        thread.start()
        for item in reader.follow(timeout=TIMEOUT):
            got.append(item)
            if len(got) == 50:
                break
        thread.join(TIMEOUT)
        assert got == ["line {0}".format(i) for i in range(50)]
        assert reader.cursor == 50 and reader.missed == 0
        assert list(reader.follow(reader.cursor, timeout=0.1)) == []
        mirror.close()


def test_mirror_across_server_restart():
    port = free_port()
    listen = "127.0.0.1:{0}".format(port)
    srv = host.serve(listen, maxlen=1000)
    mirror = LineHostMirror(srv.address, timeout=TIMEOUT)
    for i in range(10):
        mirror.write("before {0}\n".format(i))
    mirror.flush()
    assert len(srv.read()) == 10
    srv.stop()
    for i in range(10):  # queued while the server is down
        mirror.write("during {0}\n".format(i))
    srv = host.serve(listen, maxlen=1000)
    try:
        for i in range(10):
            mirror.write("after {0}\n".format(i))
        mirror.flush()
        assert srv.read() == tuple(
            ["during {0}".format(i) for i in range(10)] + ["after {0}".format(i) for i in range(10)]
        )
        mirror.close()
    finally:
        srv.stop()


def _child_writes(mirror, n):
    with mirror:
        for i in range(20):
            print("proc {0} line {1}".format(n, i))


# The server's threads run in this process when it forks; ThreadSanitizer
# refuses to start threads (the child's mirror) after such a fork.
UNDER_TSAN = "tsan" in os.environ.get("LD_PRELOAD", "")


@pytest.mark.parametrize("method", [
    pytest.param("fork", marks=pytest.mark.skipif(UNDER_TSAN, reason="TSan: threads after fork")),
    "spawn",
])
def test_mirror_handed_to_processes(method):
    with host.serve(maxlen=1000) as srv:
        mirror = LineHostMirror(srv.address, timeout=TIMEOUT)
        ctx = multiprocessing.get_context(method)
        procs = [ctx.Process(target=_child_writes, args=(mirror, n)) for n in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(TIMEOUT)
            assert p.exitcode == 0
        assert sorted(srv.read()) == sorted(
            "proc {0} line {1}".format(n, i) for n in range(3) for i in range(20)
        )
        mirror.close()


def test_ctrl_c_interrupts_follow_and_flush():
    with host.serve() as srv:
        code = (
            "import sys, syncstream\n"
            "r = syncstream.LineHostReader(sys.argv[1])\n"
            "try:\n"
            "    print('ready', flush=True)\n"
            "    for item in r.follow(): pass\n"
            "except KeyboardInterrupt:\n"
            "    print('interrupted', flush=True)\n"
        )
        proc = subprocess.Popen([sys.executable, "-c", code, srv.address],
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline() == "ready\n"
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=TIMEOUT)
        finally:
            proc.kill()
        assert out == "interrupted\n"
    # a mirror waiting for a server that is not there
    code = (
        "import sys, syncstream\n"
        "m = syncstream.LineHostMirror(sys.argv[1])\n"
        "m.write('x\\n')\n"
        "try:\n"
        "    print('ready', flush=True)\n"
        "    m.flush()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    url = "http://127.0.0.1:{0}/sync-stream".format(free_port())
    proc = subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    assert out == "interrupted\n"


# ---- Flask ----

flask = pytest.importorskip("flask")


def make_app(maxlen=10):
    app = flask.Flask(__name__)
    hbuf = LineHostBuffer("/sync-stream", maxlen=maxlen)
    hbuf.serve(app)
    return app, hbuf


def test_flask_test_client_base_protocol():
    app, hbuf = make_app()
    client = app.test_client()
    for text in ("Hello!\n", "a b\n", "x\n y\n", "tail"):
        res = client.post("/sync-stream", json={"type": "str", "data": {"value": text}})
        assert res.status_code == 201 and res.get_json()["message"] == "success"
    assert client.get("/sync-stream?n=2").get_json()["data"] == [" y", "tail"]
    assert client.get("/sync-stream-state?state=curlen").get_json()["data"] == 5
    assert client.get("/sync-stream-state?state=maxlen").get_json()["data"] == 10
    message = GroupedMessage(UserWarning("w")).serialize()
    assert client.post("/sync-stream", json={"type": "warning", "data": message}).status_code == 201
    data = client.get("/sync-stream").get_json()["data"]
    assert data[-2] == "tail" and data[-1]["type"] == "warning"
    assert isinstance(hbuf.read()[-1], GroupedMessage)
    assert client.post("/sync-stream", json={"type": "nope"}).status_code == 400
    assert client.post("/sync-stream", data="x").status_code == 415
    assert client.get("/sync-stream?n=x").status_code == 400
    assert client.get("/sync-stream-state").status_code == 400
    assert client.post("/sync-stream-state", json={"state": "closed", "value": "true"}).status_code == 201
    assert client.get("/sync-stream-state?state=closed").get_json()["data"] is True
    assert client.delete("/sync-stream-state").status_code == 200
    assert client.get("/sync-stream-state?state=closed").get_json()["data"] is False
    assert client.delete("/sync-stream").status_code == 200
    assert hbuf.read() == () and len(hbuf) == 0
    with pytest.raises(NotImplementedError):
        hbuf.write("x")


@pytest.fixture
def flask_server():
    from werkzeug.serving import make_server

    app, hbuf = make_app(maxlen=100)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield "http://127.0.0.1:{0}/sync-stream".format(server.server_port), hbuf
    finally:
        server.shutdown()
        thread.join(TIMEOUT)


def test_flask_real_server_with_our_clients(flask_server):
    address, hbuf = flask_server
    mirror = LineHostMirror(address, timeout=TIMEOUT)
    with mirror:
        print("one")
        print("two")
        mirror.send_error(RuntimeError("bad"))
    assert mirror.stats()["protocol"] == "base"
    reader = LineHostReader(address, timeout=TIMEOUT)
    items = reader.read()
    assert items[:2] == ("one", "two") and items[2].type == "error"
    assert norm(hbuf.read()) == norm(items)
    assert len(reader) == 3 and reader.maxlen == 100
    reader.stop_all_mirrors()
    assert reader.closed is True
    with pytest.raises(OSError):  # follow is our servers' extension
        list(reader.follow(timeout=1))


def run_peer(code, address):
    env = dict(os.environ, PYTHONPATH=str(PEER))
    env.pop("LD_PRELOAD", None)
    return subprocess.run([sys.executable, "-c", code, address], env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)


PEER_MIRROR = (
    "import sys\n"
    "from syncstream.host import LineHostMirror\n"
    "m = LineHostMirror(sys.argv[1], timeout=10)\n"
    "with m:\n"
    "    print('from peer')\n"
    "    print('second', end='')\n"
)
PEER_READER = (
    "import sys\n"
    "from syncstream.host import LineHostReader\n"
    "with LineHostReader(sys.argv[1], timeout=10) as r:\n"
    "    print(repr([str(x) for x in r.read()]), len(r), r.maxlen, r.closed)\n"
)


@pytest.mark.skipif(not (PEER / "syncstream" / "host.py").is_file(), reason="no sync-stream peer")
def test_reference_clients_against_flask_and_serve(flask_server):
    address, hbuf = flask_server
    with host.serve(maxlen=100) as srv:
        for url, read in ((address, hbuf.read), (srv.address, srv.read)):
            res = run_peer(PEER_MIRROR, url)
            assert res.returncode == 0, res.stderr
            assert read() == ("from peer", "second")
            res = run_peer(PEER_READER, url)
            assert res.returncode == 0, res.stderr
            assert res.stdout == "['from peer', 'second'] 2 100 False\n"


def test_exported():
    assert syncstream.host.LineHostMirror is LineHostMirror
    code = "import sys, syncstream; print('flask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=TIMEOUT, check=True).stdout
    assert out == "False\n"  # Flask is imported by LineHostBuffer.serve() only


def test_ctrl_c_interrupts_a_write_blocked_on_a_full_queue():
    # No server: the mirror keeps its lines and retries, its 16 MiB queue
    # fills and write() waits for room. SIGINT ends that wait; every line a
    # write accepted before stays queued (the count printed at exit).
    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from sigint_check import assert_sigint_interrupts

    out = assert_sigint_interrupts(
        setup="""
            import atexit, syncstream
            m = syncstream.LineHostMirror("http://127.0.0.1:1/sync-stream", timeout=1)
            line = "x" * 1000 + "\\n"
            n = 0
            for _ in range(16000):
                m.write(line)
                n += 1
            atexit.register(lambda: print("queued %d wrote %d"
                                          % (m.stats()["records_queued"], n), flush=True))
        """,
        call="""
            while True:
                m.write(line)
                n += 1
        """)
    queued, wrote = (int(word) for word in out.split("queued ")[1].split()[::2][:2])
    assert queued == wrote > 16000, out
