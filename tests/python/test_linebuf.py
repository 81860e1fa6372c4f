"""syncstream.LineBuffer: sync-stream's LineBuffer on ss_linebuf."""

import syncstream


def test_write_read():
    buf = syncstream.LineBuffer(3)
    assert buf.read() == ()
    assert buf.write("abc") == 3
    assert buf.read() == ("abc",)
    buf.write("d\nxy\n")
    assert buf.read() == ("abcd", "xy")
    buf.write("1\n2\n3\n4")
    assert buf.read() == ("2", "3", "4")
    assert buf.read(2) == ("3", "4")
    assert len(buf) == 3
