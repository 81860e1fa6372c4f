/*
 * test_stream_rfc2217.c: rfc2217:// and telnet:// streams against a real
 * ser2net serving a socat pty pair (helpers/ser2net.c): the settings reach
 * the device ser2net opened (its termios), every byte value passes both ways,
 * the modem lines and BREAK are sent; and against a scripted telnet server of
 * the test's own on 127.0.0.1: the exact bytes of those commands, an IAC cut
 * between two reads, a server that refuses RFC 2217, answers another rate, or
 * never answers.
 */
#include <fcntl.h>
#include <termios.h>

#include "ser2net.h"
#include "stream_test.h"

#define IAC 255

static ss_test_ser2net rfc, tel;

static int setup(void **state)
{
    (void)state;
    if (ss_test_ser2net_start(&rfc, true) < 0 || ss_test_ser2net_start(&tel, false) < 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ss_test_ser2net_stop(&rfc);
    ss_test_ser2net_stop(&tel);
    return 0;
}

/* A stream on scheme://127.0.0.1:port, query added. */
static ss_stream *open_uri(const char *scheme, int port, const char *query)
{
    char uri[256];
    snprintf(uri, sizeof(uri), "%s://127.0.0.1:%d%s", scheme, port, query);
    ss_transport t;
    assert_int_equal(ss_transport_open_uri(&t, uri, 10000), 0);
    ss_stream *s = NULL;
    assert_int_equal(ss_stream_new(&s, NULL, &t, NULL), 0);
    return s;
}

static int open_fd(const char *path)
{
    int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

/* Every byte value from the stream to the device and back, unchanged. */
static void every_byte_both_ways(ss_stream *s, const char *peer_path)
{
    int device = open_fd(peer_path);
    uint8_t all[256], got[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    assert_int_equal(ss_stream_write(s, all, sizeof(all), 10000, NULL), 0);
    read_exact(device, got, sizeof(got));
    assert_memory_equal(got, all, sizeof(all));
    assert_int_equal(write(device, all, sizeof(all)), (ssize_t)sizeof(all));
    size_t have = 0;
    while (have < sizeof(got)) {
        ssize_t n = ss_stream_read(s, got + have, sizeof(got) - have, 10000, NULL);
        assert_true(n > 0);
        have += (size_t)n;
    }
    assert_memory_equal(got, all, sizeof(all));
    close(device);
}

/* The rate and stop bits asked in the URI are the device's (ser2net set them
 * on the pty it opened). A pty keeps those, but always has 8 data bits and no
 * parity (Linux's pty_set_termios): those two are checked by the server's
 * answers, which the open waits for. */
static void test_settings_reach_the_device(void **state)
{
    (void)state;
    static const struct {
        const char *query;
        speed_t speed;
        bool cstopb;
    } cases[] = {
        {"?baud=9600&data=7&parity=even&stop=2", B9600, true},
        {"?baud=57600&stop=1&rtscts=0", B57600, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ss_stream *s = open_uri("rfc2217", rfc.port, cases[i].query);
        int dev = open_fd(rfc.dev);
        struct termios tio;
        assert_int_equal(tcgetattr(dev, &tio), 0);
        assert_int_equal(cfgetospeed(&tio), cases[i].speed);
        assert_int_equal(!!(tio.c_cflag & CSTOPB), cases[i].cstopb);
        close(dev);
        /* the device's bytes still pass after the settings */
        every_byte_both_ways(s, rfc.peer);
        ss_stream_free(s);
    }
}

static void test_rfc2217_bytes_and_lines(void **state)
{
    (void)state;
    ss_stream *s = open_uri("rfc2217", rfc.port, "");
    every_byte_both_ways(s, rfc.peer);
    /* `connect`'s BREAK and DTR / RTS pulses: sent without error (a pty has
     * no modem lines, so ser2net cannot show them: their bytes are checked
     * against the scripted server below) and the stream goes on */
    for (int line = SS_LINE_BREAK; line <= SS_LINE_RTS; line++) {
        assert_int_equal(ss_stream_set_line(s, line, true), 0);
        assert_int_equal(ss_stream_set_line(s, line, false), 0);
    }
    every_byte_both_ways(s, rfc.peer);
    ss_stream_free(s);
}

static void test_telnet_bytes(void **state)
{
    (void)state;
    ss_stream *s = open_uri("telnet", tel.port, "");
    every_byte_both_ways(s, tel.peer);
    every_byte_both_ways(s, tel.peer);
    /* no COM-PORT-OPTION on a telnet:// connection */
    assert_int_equal(ss_stream_set_line(s, SS_LINE_DTR, true), -ENOTSUP);
    ss_stream_free(s);
}

/* ---- a scripted server of the test's own ---- */

typedef struct script {
    peer p;
    const uint8_t *opening; /* sent at once */
    size_t opening_len;
    const uint8_t *answer; /* sent once a COM-PORT subnegotiation came */
    size_t answer_len;
    uint8_t got[4096]; /* everything received until the client closed */
    size_t got_len;
} script;

static void scripted(int fd, void *arg)
{
    script *sc = arg;
    send_all(fd, sc->opening, sc->opening_len);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    static const uint8_t sb[] = {IAC, 250, 44};
    bool answered = false;
    while (poll(&pfd, 1, 10000) > 0) {
        ssize_t n = recv(fd, sc->got + sc->got_len, sizeof(sc->got) - sc->got_len, 0);
        if (n <= 0)
            break;
        sc->got_len += (size_t)n;
        if (!answered && sc->answer && memmem(sc->got, sc->got_len, sb, sizeof(sb))) {
            send_all(fd, sc->answer, sc->answer_len);
            answered = true;
        }
    }
}

/* Agree to everything our client asks for, as ser2net does. */
static const uint8_t agree[] = {IAC, 253, 0, IAC, 251, 0, IAC, 253, 3, IAC, 251, 3, IAC, 253, 44};

static void test_line_commands_on_the_wire(void **state)
{
    (void)state;
    script sc = {.opening = agree, .opening_len = sizeof(agree)};
    peer_start(&sc.p, scripted, &sc);
    char uri[64];
    snprintf(uri, sizeof(uri), "rfc2217://127.0.0.1:%s", sc.p.port);
    ss_transport t;
    assert_int_equal(ss_transport_open_uri(&t, uri, 10000), 0);
    ss_stream *s = NULL;
    assert_int_equal(ss_stream_new(&s, NULL, &t, NULL), 0);
    assert_int_equal(ss_stream_set_line(s, SS_LINE_DTR, false), 0);
    assert_int_equal(ss_stream_set_line(s, SS_LINE_DTR, true), 0);
    assert_int_equal(ss_stream_set_line(s, SS_LINE_RTS, false), 0);
    assert_int_equal(ss_stream_set_line(s, SS_LINE_BREAK, true), 0);
    assert_int_equal(ss_stream_set_line(s, SS_LINE_BREAK, false), 0);
    static const uint8_t data[] = {'a', IAC, '\r', 'b'};
    assert_int_equal(ss_stream_write(s, data, sizeof(data), 10000, NULL), 0);
    assert_int_equal(ss_stream_flush(s, 10000, NULL), 0);
    ss_stream_free(s);
    peer_stop(&sc.p);
    static const uint8_t want[] = {IAC, 250, 44, 5, 9,  IAC, 240, IAC, 250, 44,  5,    8,  IAC, 240,
                                   IAC, 250, 44, 5, 12, IAC, 240, IAC, 250, 44,  5,    5,  IAC, 240,
                                   IAC, 250, 44, 5, 6,  IAC, 240, 'a', IAC, IAC, '\r', 'b'};
    assert_non_null(memmem(sc.got, sc.got_len, want, sizeof(want)));
}

/* An IAC IAC cut between two reads is one data byte 255. */
static void test_iac_cut_between_reads(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, NULL, NULL);
    char uri[64];
    snprintf(uri, sizeof(uri), "telnet://127.0.0.1:%s", p.port);
    ss_transport t;
    assert_int_equal(ss_transport_open_uri(&t, uri, 10000), 0);
    ss_stream *s = NULL;
    assert_int_equal(ss_stream_new(&s, NULL, &t, NULL), 0);
    int fd = accept(p.listen_fd, NULL, NULL);
    assert_true(fd >= 0);
    static const uint8_t will_bin[] = {IAC, 251, 0, 'a', IAC};
    send_all(fd, will_bin, sizeof(will_bin));
    wait_ready(s, 1);
    static const uint8_t rest[] = {IAC, 'b'};
    send_all(fd, rest, sizeof(rest));
    wait_ready(s, 3);
    char got[3];
    assert_int_equal(ss_stream_read(s, got, sizeof(got), 10000, NULL), 3);
    assert_memory_equal(got,
                        "a\xff"
                        "b",
                        3);
    ss_stream_free(s);
    close(fd);
    peer_stop(&p);
}

/* Open an rfc2217:// URI against a scripted server; the open's result. */
static int open_scripted(const uint8_t *opening, size_t olen, const uint8_t *answer, size_t alen,
                         const char *query, int timeout_ms)
{
    script sc = {.opening = opening, .opening_len = olen, .answer = answer, .answer_len = alen};
    peer_start(&sc.p, scripted, &sc);
    char uri[128];
    snprintf(uri, sizeof(uri), "rfc2217://127.0.0.1:%s%s", sc.p.port, query);
    ss_transport t;
    int rc = ss_transport_open_uri(&t, uri, timeout_ms);
    if (rc == 0)
        t.ops->close(t.impl);
    peer_stop(&sc.p);
    return rc;
}

static void test_server_refusals(void **state)
{
    (void)state;
    /* not an RFC 2217 server: it refuses COM-PORT-OPTION */
    static const uint8_t refuse[] = {IAC, 253, 0, IAC, 251, 0, IAC, 254, 44};
    assert_int_equal(open_scripted(refuse, sizeof(refuse), NULL, 0, "?baud=9600", 10000),
                     -EPROTONOSUPPORT);
    /* a rate it cannot make: it answers the one it kept */
    static const uint8_t other[] = {IAC, 250, 44, 101, 0, 1, 0xc2, 0x00, IAC, 240};
    assert_int_equal(open_scripted(agree, sizeof(agree), other, sizeof(other), "?baud=9600", 10000),
                     SS_EREJECTED);
    /* the same answer when it was asked for: accepted */
    assert_int_equal(
        open_scripted(agree, sizeof(agree), other, sizeof(other), "?baud=115200", 10000), 0);
    /* a server that never answers: the open's timeout */
    assert_int_equal(open_scripted(NULL, 0, NULL, 0, "?baud=9600", 300), -ETIMEDOUT);
}

/* The URIs: the host named, and each mistake said. */
static void test_uris(void **state)
{
    (void)state;
    char host[64], why[256];
    assert_int_equal(ss_transport_uri_check("rfc2217://box:2000?baud=9600&parity=odd", host,
                                            sizeof(host), why, sizeof(why)),
                     0);
    assert_string_equal(host, "box");
    assert_int_equal(
        ss_transport_uri_check("telnet://[::1]:23", host, sizeof(host), why, sizeof(why)), 0);
    assert_string_equal(host, "::1");
    static const struct {
        const char *uri, *why;
    } cases[] = {
        {"rfc2217://h:1?reopen=5", "reopen is for serial: ports only"},
        {"rfc2217://h:1?rtscts=1&xonxoff=1", "one flow control"},
        {"rfc2217://h?baud=9600", "rfc2217:// wants HOST:PORT"},
        {"rfc2217://h:1?baud=0", "baud=0: not a rate"},
        {"rfc2217://h:1?stop=1&stop=2", "stop is given more than once"},
        {"telnet://h", "telnet:// wants HOST:PORT"},
        {"telnet://h:0", "the port '0' is not a number"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(ss_transport_uri_check(cases[i].uri, NULL, 0, why, sizeof(why)), -EINVAL);
        if (!strstr(why, cases[i].why))
            fail_msg("%s: '%s' does not say '%s'", cases[i].uri, why, cases[i].why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_reach_the_device),
        cmocka_unit_test(test_rfc2217_bytes_and_lines),
        cmocka_unit_test(test_telnet_bytes),
        cmocka_unit_test(test_line_commands_on_the_wire),
        cmocka_unit_test(test_iac_cut_between_reads),
        cmocka_unit_test(test_server_refusals),
        cmocka_unit_test(test_uris),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
