"""The examples of sync-stream's documentation (the seed) for LineBuffer, and
of docs/python.md and the README, run against our package."""

import subprocess
import sys
import threading
import time

import syncstream

TIMEOUT = 60


def test_seed_use_case_threads_collected():
    # The seed's first use: "Multiple threads are created. The messages
    # (stdout) from different threads are required to be collected." Its
    # documentation's sync-thread example: four threads print ten lines each
    # inside `with buffer:`, then the main thread reads the newest ten.
    def worker_thread():
        thd_id = threading.get_native_id()
        for i in range(10):
            time.sleep(0.01)
            print('Thd: "{0}";'.format(thd_id), "Line:", "buffer", "new", i)

    def run_4_threads(buffer):
        with buffer:
            thd_pool = [threading.Thread(target=worker_thread) for _ in range(4)]
            for thd in thd_pool:
                thd.start()
            for thd in thd_pool:
                thd.join(TIMEOUT)
                assert not thd.is_alive()

    tbuf = syncstream.LineBuffer(10)
    run_4_threads(tbuf)
    messages = tbuf.read()
    assert len(messages) == 10
    for message in messages:
        head, _, number = message.rpartition(" ")
        assert head.startswith('Thd: "') and head.endswith('"; Line: buffer new')
        assert 0 <= int(number) < 10
    # The newest ten of forty lines: each thread's are in its own order.
    by_thread = {}
    for message in messages:
        head, _, number = message.rpartition(" ")
        by_thread.setdefault(head, []).append(int(number))
    for numbers in by_thread.values():
        assert numbers == sorted(numbers)


def test_seed_api_aliases():
    # The documentation's aliases of the class.
    assert syncstream.LineBuffer is syncstream.mproc.LineBuffer
    tbuf = syncstream.mproc.LineBuffer(maxlen=20)
    assert tbuf.maxlen == 20


def test_readme_example():
    code = (
        "import syncstream\n"
        "buffer = syncstream.LineBuffer(10)\n"
        "with buffer:\n"
        "    print('hello')\n"
        "print(buffer.read())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=TIMEOUT, check=True).stdout
    assert out == "('hello',)\n"


def test_docs_python_example():
    buffer = syncstream.LineBuffer(10)

    def worker(n):
        for i in range(3):
            print("worker", n, "line", i)

    with buffer:
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
    lines = buffer.read()
    assert len(lines) == 10
    assert all(line.startswith("worker ") for line in lines)
