/*
 * test_stream_serial.c: the serial transport on a pseudo-terminal pair
 * (openpty) standing in for a USB adapter: its settings as tcgetattr sees
 * them, bytes both ways, a hang-up (the "adapter" pulled) followed by its
 * return under the same stable name, with timestamped events and writes that
 * wait or fail meanwhile; and transport URIs.
 */
#include <fcntl.h>
#include <pty.h>
#include <sys/stat.h>
#include <termios.h>

#include "stream/serial.h"
#include "stream_test.h"

static char tmpdir[] = "/tmp/ss-serial-XXXXXX";
static char link_path[256]; /* plays /dev/serial/by-id/usb-...: points at the pty */

static int setup(void **state)
{
    (void)state;
    if (ss_test_tmpdir_make(tmpdir) < 0)
        return -1;
    snprintf(link_path, sizeof(link_path), "%s/usb-Test_Adapter-if00-port0", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return ss_test_tmpdir_remove(tmpdir);
}

/* A new "adapter": a pty pair whose slave the stable name points at. */
static int plug_adapter(int *ret_slave)
{
    int master, slave;
    char name[64];
    assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
    unlink(link_path);
    assert_int_equal(symlink(name, link_path), 0);
    *ret_slave = slave;
    return master;
}

/* A stream on a plugged adapter, serial options so (NULL: the defaults), the
 * stream's options o; the stream holds the only slave fd, as with a real port.
 * Returns the master (the device's end). */
static int adapter_stream(const ss_serial_opts *so, const ss_stream_opts *o, ss_stream **ret)
{
    int slave;
    int master = plug_adapter(&slave);
    close(slave);
    ss_transport t;
    assert_int_equal(ss_transport_serial_open(&t, link_path, so), 0);
    *ret = NULL;
    assert_int_equal(ss_stream_new(ret, NULL, &t, o), 0);
    return master;
}

/* The adapter is pulled: its device end closes and its stable name goes. */
static void pull_adapter(int master)
{
    close(master);
    unlink(link_path);
}

/* Wait for the next event (bounded: 10 s). */
static void next_event(ss_stream *s, ss_stream_event *ev)
{
    for (int i = 0; i < 10000; i++) {
        if (ss_stream_next_event(s, ev) == 1)
            return;
        usleep(1000);
    }
    fail_msg("no event within 10 s");
}

/* The device says text, which the stream reads whole, then the adapter is
 * pulled: the DOWN event, in *ev. */
static void say_then_pull(ss_stream *s, int master, const char *text, ss_stream_event *ev)
{
    size_t len = strlen(text);
    assert_int_equal(write(master, text, len), (ssize_t)len);
    wait_ready(s, len);
    pull_adapter(master);
    next_event(s, ev);
    assert_int_equal(ev->kind, SS_STREAM_EVENT_DOWN);
}

static void test_settings_seen_by_tcgetattr(void **state)
{
    (void)state;
    int slave;
    int master = plug_adapter(&slave);
    ss_serial_opts so = {.baud = 4000000,
                         .data_bits = 7,
                         .parity = SS_PARITY_EVEN,
                         .stop_bits = 2,
                         .rtscts = true,
                         .xonxoff = true};
    ss_transport t;
    assert_int_equal(ss_transport_serial_open(&t, link_path, &so), 0);
    /* Linux ptys keep the speed, stop bits and flow control, but force 8 bits
     * without parity (pty_set_termios): those two are checked on the settings
     * the transport makes, below. */
    struct termios tio;
    assert_int_equal(tcgetattr(slave, &tio), 0);
    assert_int_equal(cfgetospeed(&tio), B4000000);
    assert_int_equal(cfgetispeed(&tio), B4000000);
    assert_true(tio.c_cflag & CSTOPB);
    assert_true(tio.c_cflag & CRTSCTS);
    assert_true(tio.c_cflag & CLOCAL);
    assert_true(tio.c_iflag & IXON);
    assert_true(tio.c_iflag & IXOFF);
    assert_false(tio.c_lflag & (ECHO | ICANON)); /* raw */
    ss_stream *s = NULL;
    assert_int_equal(ss_stream_new(&s, NULL, &t, NULL), 0);
    ss_stream_free(s);
    struct termios made = tio;
    assert_int_equal(ss__serial_termios(&made, &so, NULL), 0);
    assert_int_equal(made.c_cflag & CSIZE, CS7);
    assert_true(made.c_cflag & PARENB);
    assert_false(made.c_cflag & PARODD);
    so.parity = SS_PARITY_ODD;
    so.data_bits = 5;
    assert_int_equal(ss__serial_termios(&made, &so, NULL), 0);
    assert_int_equal(made.c_cflag & CSIZE, CS5);
    assert_true(made.c_cflag & PARODD);

    /* the defaults: 115200 8N1, no flow control */
    assert_int_equal(ss_transport_serial_open(&t, link_path, NULL), 0);
    assert_int_equal(tcgetattr(slave, &tio), 0);
    assert_int_equal(cfgetospeed(&tio), B115200);
    assert_int_equal(tio.c_cflag & CSIZE, CS8);
    assert_false(tio.c_cflag & (PARENB | CSTOPB | CRTSCTS));
    assert_false(tio.c_iflag & (IXON | IXOFF));
    t.ops->close(t.impl);

    /* refused settings and paths */
    ss_serial_opts bad = {.baud = SS__SERIAL_MAX_BAUD + 1};
    assert_int_equal(ss_transport_serial_open(&t, link_path, &bad), -EINVAL);
    bad = (ss_serial_opts){.data_bits = 9};
    assert_int_equal(ss_transport_serial_open(&t, link_path, &bad), -EINVAL);
    assert_int_equal(ss_transport_serial_open(&t, "/nonexistent/tty", NULL), -ENOENT);
    assert_int_equal(ss_transport_serial_open(&t, "/dev/null", NULL), -ENOTTY);
    close(slave);
    close(master);
}

/* A rate that is no B* constant is set through termios2 (BOTHER), and a
 * Linux pty keeps it: TCGETS2 on the port reads it back, as tio would show. */
static void test_any_baud(void **state)
{
    (void)state;
    static const unsigned rates[] = {250000, 12345, 74880, 9600};
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        int slave;
        int master = plug_adapter(&slave);
        ss_transport t;
        assert_int_equal(
            ss_transport_serial_open(&t, link_path, &(ss_serial_opts){.baud = rates[i]}), 0);
        unsigned got = 0;
        assert_int_equal(ss__serial_get_baud(slave, &got), 0);
        assert_int_equal(got, rates[i]);
        bool other = false;
        struct termios tio = {0};
        assert_int_equal(
            ss__serial_termios(
                &tio, &(ss_serial_opts){.baud = rates[i], .data_bits = 8, .stop_bits = 1}, &other),
            0);
        assert_int_equal(other, rates[i] != 9600);
        /* the bytes flow at that rate too */
        ss_stream *s = NULL;
        assert_int_equal(ss_stream_new(&s, NULL, &t, NULL), 0);
        assert_int_equal(ss_stream_write(s, "M115\n", 5, 10000, NULL), 0);
        char buf[8];
        read_exact(master, buf, 5);
        assert_memory_equal(buf, "M115\n", 5);
        ss_stream_free(s);
        close(slave);
        close(master);
    }
    char uri[512];
    snprintf(uri, sizeof(uri), "serial:%s?baud=250000", link_path);
    int slave;
    int master = plug_adapter(&slave);
    ss_transport t;
    assert_int_equal(ss_transport_open_uri(&t, uri, 1000), 0);
    unsigned got = 0;
    assert_int_equal(ss__serial_get_baud(slave, &got), 0);
    assert_int_equal(got, 250000);
    t.ops->close(t.impl);
    close(slave);
    close(master);
}

/* The out-of-band lines: a pty takes a BREAK (and has nothing to do with
 * it) but has no DTR or RTS, which is what can be checked without a UART;
 * a transport without lines says so; a closed stream too. */
static void test_set_line(void **state)
{
    (void)state;
    ss_stream *s;
    int master = adapter_stream(NULL, NULL, &s);
    assert_int_equal(ss_stream_set_line(s, SS_LINE_BREAK, true), 0);
    assert_int_equal(ss_stream_set_line(s, SS_LINE_BREAK, false), 0);
    assert_int_equal(ss_stream_set_line(s, SS_LINE_DTR, false), -ENOTTY);
    assert_int_equal(ss_stream_set_line(s, SS_LINE_RTS, true), -ENOTTY);
    assert_int_equal(ss_stream_set_line(s, 0, true), -EINVAL);
    assert_int_equal(ss_stream_set_line(s, SS_LINE_RTS + 1, true), -EINVAL);
    /* the stream still works */
    assert_int_equal(ss_stream_write(s, "ok", 2, 10000, NULL), 0);
    char buf[2];
    read_exact(master, buf, 2);
    assert_memory_equal(buf, "ok", 2);
    ss_stream_close(s);
    assert_int_equal(ss_stream_set_line(s, SS_LINE_BREAK, true), SS_ECLOSED);
    ss_stream_free(s);
    close(master);

    ss_transport t;
    assert_int_equal(ss_transport_open_uri(&t, "exec-pipe:cat", 1000), 0);
    assert_int_equal(ss_stream_new(&s, NULL, &t, NULL), 0);
    assert_int_equal(ss_stream_set_line(s, SS_LINE_BREAK, true), -ENOTSUP);
    ss_stream_free(s);
}

static void test_hangup_and_reopen(void **state)
{
    (void)state;
    ss_stream *s;
    int master =
        adapter_stream(&(ss_serial_opts){.reopen_ms = 20}, &(ss_stream_opts){.name = "board"}, &s);
    /* the console is recorded too: its lines and its events */
    ss_linebuf *lb = NULL;
    assert_int_equal(ss_linebuf_new(&lb, NULL), 0);
    ss_bridge_opts bo = {.linebuf = lb};
    assert_int_equal(ss_stream_bridge(s, &bo), 0);

    /* bytes both ways */
    assert_int_equal(write(master, "U-Boot 2024\r\n=> ", 16), 16);
    char *out;
    size_t len;
    assert_int_equal(ss_stream_read_until(s, "=> ", 3, 10000, &out, &len, NULL), 0);
    assert_string_equal(out, "U-Boot 2024\r\n=> ");
    free(out);
    assert_int_equal(ss_stream_write(s, "version\n", 8, 1000, NULL), 0);
    char buf[64];
    read_exact(master, buf, 8);
    assert_memory_equal(buf, "version\n", 8);

    /* the adapter is pulled: a hang-up, an event, nothing lost */
    int64_t before = ss__test_now_ns();
    pull_adapter(master);
    ss_stream_event ev;
    next_event(s, &ev);
    assert_int_equal(ev.kind, SS_STREAM_EVENT_DOWN);
    assert_true(ev.time_ns >= before);
    assert_int_equal(ev.offset, 16);
    assert_non_null(strstr(ev.text, "went away"));
    /* a write made meanwhile waits for the device */
    assert_int_equal(ss_stream_write(s, "reset\n", 6, 1000, NULL), 0);
    assert_int_equal(ss_stream_waiting(s), 6);
    assert_int_equal(ss_stream_read_until(s, "x", 1, 50, &out, &len, NULL), -ETIMEDOUT);

    /* it comes back under the same stable name: reopened, the write goes out */
    int slave;
    master = plug_adapter(&slave);
    close(slave);
    next_event(s, &ev);
    assert_int_equal(ev.kind, SS_STREAM_EVENT_UP);
    assert_int_equal(ev.dropped, 0);
    assert_non_null(strstr(ev.text, "reopened"));
    read_exact(master, buf, 6);
    assert_memory_equal(buf, "reset\n", 6);
    assert_int_equal(ss_stream_flush(s, 10000, NULL), 0);
    assert_int_equal(write(master, "ok\n", 3), 3);
    assert_int_equal(ss_stream_read_line(s, 10000, &out, &len, NULL), 0);
    assert_string_equal(out, "ok");
    free(out);
    assert_int_equal(ss_stream_next_event(s, &ev), 0);
    ss_stream_free(s);
    close(master);

    /* in the line buffer: the lines, and both events as warnings, in order
     * (an event ends the partial line "=> " first) */
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 5);
    assert_string_equal(set.items[0].text, "U-Boot 2024");
    assert_string_equal(set.items[1].text, "=> ");
    assert_int_equal(set.items[2].kind, SS_KIND_WARNING);
    assert_non_null(strstr(set.items[2].text, "went away"));
    assert_int_equal(set.items[3].kind, SS_KIND_WARNING);
    assert_non_null(strstr(set.items[3].text, "reopened"));
    assert_string_equal(set.items[4].text, "ok");
    for (size_t i = 0; i < set.count; i++)
        assert_string_equal(set.items[i].source, "board");
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_writes_fail_while_down(void **state)
{
    (void)state;
    ss_stream *s;
    int master = adapter_stream(&(ss_serial_opts){.reopen_ms = 10},
                                &(ss_stream_opts){.fail_writes_while_down = true}, &s);
    ss_stream_event ev;
    say_then_pull(s, master, "boot", &ev);
    ss_stream_payload pl = {0};
    assert_int_equal(ss_stream_write(s, "cmd\n", 4, 1000, &pl), -ENOTCONN);
    assert_string_equal(pl.read, "boot");
    assert_string_equal(pl.unsent, "cmd\n");
    ss_stream_payload_clear(&pl);
    ss_stream_free(s);
}

/* A serial port that is not to be reopened ends with an error. */
static void test_no_reopen(void **state)
{
    (void)state;
    ss_stream *s;
    int master = adapter_stream(&(ss_serial_opts){.reopen_ms = -1}, NULL, &s);
    close(master);
    char buf[8];
    ssize_t rc = ss_stream_read(s, buf, sizeof(buf), 10000, NULL);
    assert_true(rc == -EIO || rc == SS_EEOF);
    ss_stream_free(s);
}

static void test_uris(void **state)
{
    (void)state;
    int slave;
    int master = plug_adapter(&slave);
    char uri[512];
    snprintf(uri, sizeof(uri), "serial:%s?baud=9600&data=8&parity=odd&stop=1&rtscts=0", link_path);
    ss_transport t;
    assert_int_equal(ss_transport_open_uri(&t, uri, 1000), 0);
    struct termios tio;
    assert_int_equal(tcgetattr(slave, &tio), 0);
    assert_int_equal(cfgetospeed(&tio), B9600);
    t.ops->close(t.impl);
    close(slave);
    close(master);

    assert_int_equal(ss_transport_open_uri(&t, "exec:echo hi", 1000), 0);
    ss_stream *s = NULL;
    assert_int_equal(ss_stream_new(&s, NULL, &t, NULL), 0);
    char *line;
    size_t len;
    assert_int_equal(ss_stream_read_line(s, 10000, &line, &len, NULL), 0);
    assert_string_equal(line, "hi\r");
    free(line);
    ss_stream_free(s);

    const char *bad[] = {"tcp://host",
                         "tcp://:80",
                         "tcp://h:0",
                         "tcp://h:65536",
                         "tcp://::1:80",
                         "tcp://[::1]80",
                         "serial:",
                         "serial:/dev/x?baud=fast",
                         "serial:/dev/x?parity=mark",
                         "serial:/dev/x?data=9",
                         "exec:",
                         "ssh://u:pw@h",
                         "ssh://",
                         "bogus",
                         ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ss_transport_open_uri(&t, bad[i], 0), -EINVAL);
}

/* A URI that does not parse is refused with a sentence naming the setting,
 * the value given and what is allowed; a setting given twice is refused
 * (which value wins would be a guess), even when both values are valid. */
static void test_uri_mistakes_named(void **state)
{
    (void)state;
    static const struct {
        const char *uri, *why;
    } cases[] = {
        {"serial:/dev/x?baud=0", "serial setting baud=0: not a rate from 1 to 100000000"},
        {"serial:/dev/x?baud=100000001", "baud=100000001: not a rate from 1 to 100000000"},
        {"serial:/dev/x?baud=115200&baud=9600", "serial setting baud is given more than once"},
        {"serial:/dev/x?parity=none&stop=2&parity=odd", "setting parity is given more than once"},
        {"serial:/dev/x?parity=mark", "parity=mark: allowed values are none, even or odd"},
        {"serial:/dev/x?data=9", "data=9: allowed values are 5, 6, 7 or 8"},
        {"serial:/dev/x?reopen=0", "reopen=0: allowed values are milliseconds from 1"},
        {"serial:/dev/x?speed=9600", "unknown serial setting 'speed'"},
        {"serial:/dev/x?baud", "serial setting 'baud' has no '=VALUE'"},
        {"serial:/dev/x?baud=9600&", "an empty serial setting"},
        {"tcp://h:65536", "the port '65536' is not a number from 1 to 65535"},
        {"tcp://::1:80", "an IPv6 address goes in brackets"},
        {"bogus:x", "unknown scheme"},
    };
    ss_transport t;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char why[640] = "unchanged", host[64] = "unchanged";
        assert_int_equal(ss_transport_uri_check(cases[i].uri, host, sizeof(host), why, sizeof(why)),
                         -EINVAL);
        if (!strstr(why, cases[i].why))
            fail_msg("%s: '%s' lacks '%s'", cases[i].uri, why, cases[i].why);
        assert_string_equal(host, "");
        assert_int_equal(ss_transport_open_uri(&t, cases[i].uri, 0), -EINVAL);
    }
    /* a sentence longer than the room is cut, still a string */
    char small[16];
    assert_int_equal(ss_transport_uri_check("serial:/dev/x?baud=0", NULL, 0, small, sizeof(small)),
                     -EINVAL);
    assert_int_equal(strlen(small), sizeof(small) - 1);

    /* accepted: the host named for messages, nothing said */
    char why[64] = "unchanged", host[64];
    assert_int_equal(ss_transport_uri_check("tcp://[::1]:23", host, sizeof(host), why, sizeof(why)),
                     0);
    assert_string_equal(host, "::1");
    assert_string_equal(why, "");
    assert_int_equal(
        ss_transport_uri_check("ssh://pi@rack-3:2222/uptime", host, sizeof(host), NULL, 0), 0);
    assert_string_equal(host, "rack-3");
    assert_int_equal(ss_transport_uri_check("serial:/dev/x?baud=9600&parity=even&reopen=-1", host,
                                            sizeof(host), NULL, 0),
                     0);
    assert_string_equal(host, "");
}

/* An event is whole whatever room the read buffer has left: 2 bytes here. */
static void test_event_text_whole_with_little_room(void **state)
{
    (void)state;
    ss_stream *s;
    int master =
        adapter_stream(&(ss_serial_opts){.reopen_ms = 20}, &(ss_stream_opts){.read_cap = 8}, &s);
    ss_stream_event ev;
    say_then_pull(s, master, "bootin", &ev);
    assert_non_null(strstr(ev.text, "went away"));
    ss_stream_free(s);
}

/* The read buffer is full (reading stopped) when the adapter is pulled and a
 * write finds it gone; it comes back before anyone reads. Both events arrive,
 * DOWN first, and the write goes out once it is back. */
static void test_events_while_read_buffer_full(void **state)
{
    (void)state;
    ss_stream *s;
    int master =
        adapter_stream(&(ss_serial_opts){.reopen_ms = 20}, &(ss_stream_opts){.read_cap = 4}, &s);
    assert_int_equal(write(master, "boot", 4), 4);
    wait_ready(s, 4);
    pull_adapter(master);
    assert_int_equal(ss_stream_write(s, "cmd\n", 4, 1000, NULL), 0);
    ss_stream_event ev;
    next_event(s, &ev);
    assert_int_equal(ev.kind, SS_STREAM_EVENT_DOWN);
    int slave;
    master = plug_adapter(&slave); /* our slave fd: no hang-up when the stream's closes */
    char buf[8];
    read_exact(master, buf, 4);
    assert_memory_equal(buf, "cmd\n", 4);
    next_event(s, &ev);
    assert_int_equal(ev.kind, SS_STREAM_EVENT_UP);
    assert_int_equal(ss_stream_consume(s), 4);
    ss_stream_free(s);
    close(slave);
    close(master);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_seen_by_tcgetattr),
        cmocka_unit_test(test_any_baud),
        cmocka_unit_test(test_set_line),
        cmocka_unit_test(test_hangup_and_reopen),
        cmocka_unit_test(test_writes_fail_while_down),
        cmocka_unit_test(test_no_reopen),
        cmocka_unit_test(test_event_text_whole_with_little_room),
        cmocka_unit_test(test_events_while_read_buffer_full),
        cmocka_unit_test(test_uris),
        cmocka_unit_test(test_uri_mistakes_named),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
