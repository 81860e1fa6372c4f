/*
 * The telnet codec (stream/telnet.c) and RFC 2217's messages
 * (stream/rfc2217.c), fed bytes directly: the answers to every kind of
 * request, data byte-exact both ways whatever the cuts between feeds, and the
 * bound on a subnegotiation.
 */
#include "stream/rfc2217.h"
#include "stream/telnet.h"
#include "stream/uri.h"
#include "test.h"

#define IAC 255

typedef struct sbs {
    int count;
    uint8_t opt;
    uint8_t data[SS__TELNET_SB_MAX];
    size_t len;
} sbs;

static void on_sb(void *ctx, uint8_t opt, const uint8_t *data, size_t len)
{
    sbs *s = ctx;
    s->count++;
    s->opt = opt;
    memcpy(s->data, data, len);
    s->len = len;
}

/* A codec whose opening requests were sent (and are dropped here). */
static void start(ss__telnet *t, bool comport, sbs *s)
{
    assert_int_equal(ss__telnet_init(t, comport, on_sb, s), 0);
    ss__buf_reset(&t->out);
}

/* Feed bytes; the data they decode to must be want (wlen bytes). */
static void feed(ss__telnet *t, const uint8_t *in, size_t n, const void *want, size_t wlen)
{
    uint8_t out[4096];
    assert_true(n <= sizeof(out));
    ssize_t d = ss__telnet_decode(t, in, n, out);
    assert_int_equal(d, (ssize_t)wlen);
    if (wlen)
        assert_memory_equal(out, want, wlen);
}

/* What the codec queued to send since the last call must be want. */
static void sent(ss__telnet *t, const void *want, size_t wlen)
{
    assert_int_equal(t->out.len, wlen);
    if (wlen)
        assert_memory_equal(t->out.data, want, wlen);
    ss__buf_reset(&t->out);
}

static void test_opening_requests(void **state)
{
    (void)state;
    ss__telnet t;
    assert_int_equal(ss__telnet_init(&t, true, NULL, NULL), 0);
    static const uint8_t want[] = {IAC, 251, 0,   IAC, 253, 0,   IAC, 251,
                                   3,   IAC, 253, 3,   IAC, 251, 44};
    sent(&t, want, sizeof(want));
    ss__telnet_free(&t);
}

static void test_negotiation_answers(void **state)
{
    (void)state;
    ss__telnet t;
    sbs s = {0};
    start(&t, false, &s);
    /* our requests answered: no answer back, the options are on */
    static const uint8_t yes[] = {IAC, 253, 0, IAC, 251, 0, IAC, 253, 3, IAC, 251, 3};
    feed(&t, yes, sizeof(yes), NULL, 0);
    sent(&t, NULL, 0);
    assert_int_equal(t.us[0], SS__TELNET_YES);
    assert_int_equal(t.him[0], SS__TELNET_YES);
    /* asked again: already so, no answer (no loop between two sides) */
    feed(&t, yes, sizeof(yes), NULL, 0);
    sent(&t, NULL, 0);
    /* what we do not do is refused: DO TERMINAL-TYPE, WILL LINEMODE */
    static const uint8_t unknown[] = {IAC, 253, 24, IAC, 251, 34};
    static const uint8_t refused[] = {IAC, 252, 24, IAC, 254, 34};
    feed(&t, unknown, sizeof(unknown), NULL, 0);
    sent(&t, refused, sizeof(refused));
    /* and refused again when asked again (the state stays NO) */
    feed(&t, unknown, sizeof(unknown), NULL, 0);
    sent(&t, refused, sizeof(refused));
    /* COM-PORT-OPTION only on an rfc2217:// connection */
    static const uint8_t comport[] = {IAC, 253, 44};
    static const uint8_t wont_comport[] = {IAC, 252, 44};
    feed(&t, comport, sizeof(comport), NULL, 0);
    sent(&t, wont_comport, sizeof(wont_comport));
    /* the server's ECHO is accepted */
    static const uint8_t will_echo[] = {IAC, 251, 1};
    static const uint8_t do_echo[] = {IAC, 253, 1};
    feed(&t, will_echo, sizeof(will_echo), NULL, 0);
    sent(&t, do_echo, sizeof(do_echo));
    /* an option on that the peer turns off is acknowledged once */
    static const uint8_t off[] = {IAC, 254, 0, IAC, 252, 0};
    static const uint8_t ack[] = {IAC, 252, 0, IAC, 254, 0};
    feed(&t, off, sizeof(off), NULL, 0);
    sent(&t, ack, sizeof(ack));
    feed(&t, off, sizeof(off), NULL, 0);
    sent(&t, NULL, 0);
    /* other commands (NOP, GA, AYT) are no data */
    static const uint8_t cmds[] = {'a', IAC, 241, 'b', IAC, 249, IAC, 246, 'c'};
    feed(&t, cmds, sizeof(cmds), "abc", 3);
    ss__telnet_free(&t);
}

/* Every byte value through encode, then decode, with the cut between two
 * feeds at every place: the same bytes come out. */
static void test_every_byte_every_cut(void **state)
{
    (void)state;
    uint8_t data[256];
    for (int i = 0; i < 256; i++)
        data[i] = (uint8_t)i;
    ss__telnet tx, rx;
    sbs s = {0};
    start(&tx, false, &s);
    uint8_t wire[512];
    size_t used;
    size_t len = ss__telnet_encode(&tx, data, sizeof(data), wire, sizeof(wire), &used);
    assert_int_equal(used, 256);
    assert_int_equal(len, 257); /* IAC doubled */
    assert_int_equal(wire[255], IAC);
    assert_int_equal(wire[256], IAC);
    for (size_t cut = 0; cut <= len; cut++) {
        start(&rx, false, &s);
        static const uint8_t will_bin[] = {IAC, 251, 0};
        feed(&rx, will_bin, sizeof(will_bin), NULL, 0);
        uint8_t out[512];
        ssize_t a = ss__telnet_decode(&rx, wire, cut, out);
        assert_true(a >= 0);
        ssize_t b = ss__telnet_decode(&rx, wire + cut, len - cut, out + a);
        assert_true(b >= 0);
        assert_int_equal(a + b, 256);
        assert_memory_equal(out, data, 256);
        ss__telnet_free(&rx);
    }
    ss__telnet_free(&tx);
}

/* Without BINARY (the NVT): a received CR NUL is a CR, also cut between two
 * feeds; a CR is sent as it is (see telnet.h); an IAC IAC is never split. */
static void test_nvt_cr_nul(void **state)
{
    (void)state;
    ss__telnet t;
    sbs s = {0};
    start(&t, false, &s);
    uint8_t wire[8];
    size_t used;
    static const uint8_t in[] = {'a', '\r', IAC};
    size_t len = ss__telnet_encode(&t, in, 3, wire, sizeof(wire), &used);
    assert_int_equal(used, 3);
    assert_int_equal(len, 4);
    assert_memory_equal(wire, "a\r\xff\xff", 4);
    len = ss__telnet_encode(&t, in, 3, wire, 3, &used);
    assert_int_equal(used, 2);
    assert_int_equal(len, 2);
    static const uint8_t cr[] = {'x', '\r'}, nul[] = {0, 0, 'y'};
    feed(&t, cr, sizeof(cr), "x\r", 2);
    feed(&t, nul, sizeof(nul), "\0y", 2);
    /* once the peer sends BINARY, a NUL is data */
    static const uint8_t will_bin[] = {IAC, 251, 0, '\r', 0};
    feed(&t, will_bin, sizeof(will_bin), "\r\0", 2);
    ss__telnet_free(&t);
}

static void test_subnegotiation(void **state)
{
    (void)state;
    ss__telnet t;
    sbs s = {0};
    start(&t, true, &s);
    /* cut anywhere, with an IAC IAC inside, data on both sides */
    static const uint8_t sb[] = {'a', IAC, 250, 44, 101, 0, 0, IAC, IAC, 1, IAC, 240, 'b'};
    for (size_t cut = 0; cut <= sizeof(sb); cut++) {
        s.count = 0;
        uint8_t out[16];
        ssize_t a = ss__telnet_decode(&t, sb, cut, out);
        ssize_t b = ss__telnet_decode(&t, sb + cut, sizeof(sb) - cut, out + a);
        assert_int_equal(a + b, 2);
        assert_memory_equal(out, "ab", 2);
        assert_int_equal(s.count, 1);
        assert_int_equal(s.opt, 44);
        assert_int_equal(s.len, 5);
        static const uint8_t body[] = {101, 0, 0, IAC, 1};
        assert_memory_equal(s.data, body, 5);
    }
    /* over the bound: dropped whole, counted, and the next one comes through */
    uint8_t big[SS__TELNET_SB_MAX + 100];
    big[0] = IAC;
    big[1] = 250;
    big[2] = 44;
    memset(big + 3, 'x', sizeof(big) - 5);
    big[sizeof(big) - 2] = IAC;
    big[sizeof(big) - 1] = 240;
    s.count = 0;
    feed(&t, big, sizeof(big), NULL, 0);
    assert_int_equal(s.count, 0);
    assert_int_equal(t.sb_dropped, 1);
    feed(&t, sb, sizeof(sb), "ab", 2);
    assert_int_equal(s.count, 1);
    /* a command inside one (not IAC IAC or IAC SE) ends it unheard, and counts */
    static const uint8_t broken[] = {IAC, 250, 44, 1, IAC, 253, 3, 'z'};
    s.count = 0;
    feed(&t, broken, sizeof(broken), "z", 1);
    assert_int_equal(s.count, 0);
    sent(&t, NULL, 0); /* DO SGA: already asked, now on */
    ss__telnet_free(&t);
}

/* A peer that floods requests and never reads our answers is stopped. */
static void test_answers_bounded(void **state)
{
    (void)state;
    ss__telnet t;
    sbs s = {0};
    start(&t, false, &s);
    uint8_t req[3 * 1000];
    for (size_t i = 0; i < sizeof(req); i += 3) {
        req[i] = IAC;
        req[i + 1] = 253;
        req[i + 2] = 24;
    }
    ssize_t rc = 0;
    for (int i = 0; i < 100 && rc >= 0; i++)
        rc = ss__telnet_decode(&t, req, sizeof(req), req);
    assert_int_equal(rc, -ENOBUFS);
    assert_true(t.out.len <= SS__TELNET_OUT_MAX);
    ss__telnet_free(&t);
}

static void test_rfc2217_messages(void **state)
{
    (void)state;
    ss_serial_opts o = {
        .baud = 115200, .data_bits = 7, .parity = SS_PARITY_EVEN, .stop_bits = 2, .rtscts = true};
    ss__rfc2217_set set[SS__RFC2217_MAX_SETS];
    assert_int_equal(ss__rfc2217_settings(&o, 0, set), 0);
    assert_int_equal(
        ss__rfc2217_settings(&o, SS__URI_SET_BAUD | SS__URI_SET_PARITY | SS__URI_SET_RTSCTS, set),
        3);
    assert_int_equal(set[0].cmd, SS__RFC2217_BAUD);
    assert_int_equal(set[0].value, 115200);
    assert_int_equal(set[1].cmd, SS__RFC2217_PARITY);
    assert_int_equal(set[1].value, 3);
    assert_int_equal(set[2].cmd, SS__RFC2217_CONTROL);
    assert_int_equal(set[2].value, SS__RFC2217_FLOW_HARDWARE);
    o.xonxoff = true;
    assert_int_equal(ss__rfc2217_settings(&o, SS__URI_SET_XONXOFF, set), -EINVAL);

    ss__telnet t;
    sbs s = {0};
    start(&t, true, &s);
    /* a baud rate whose bytes hold an IAC: doubled on the wire */
    ss__rfc2217_set b = {SS__RFC2217_BAUD, 0x0001ff00};
    assert_int_equal(ss__rfc2217_send(&t, &b), 0);
    static const uint8_t want[] = {IAC, 250, 44, 1, 0, 1, IAC, IAC, 0, IAC, 240};
    sent(&t, want, sizeof(want));

    ss__rfc2217_set a;
    static const uint8_t baud[] = {101, 0, 0, 0x25, 0x80}, size[] = {102, 7};
    assert_true(ss__rfc2217_answer(baud, sizeof(baud), &a));
    assert_int_equal(a.cmd, SS__RFC2217_BAUD);
    assert_int_equal(a.value, 9600);
    assert_true(ss__rfc2217_answer(size, sizeof(size), &a));
    assert_int_equal(a.cmd, SS__RFC2217_DATASIZE);
    assert_int_equal(a.value, 7);
    /* notifications, short or long answers and our own commands are not answers */
    static const uint8_t modem[] = {107, 0}, shortb[] = {101, 0, 0}, longs[] = {102, 7, 7},
                         ours[] = {2, 7};
    assert_false(ss__rfc2217_answer(modem, sizeof(modem), &a));
    assert_false(ss__rfc2217_answer(shortb, sizeof(shortb), &a));
    assert_false(ss__rfc2217_answer(longs, sizeof(longs), &a));
    assert_false(ss__rfc2217_answer(ours, sizeof(ours), &a));
    assert_false(ss__rfc2217_answer(ours, 0, &a));
    assert_int_equal(ss__rfc2217_line(SS_LINE_DTR, true), SS__RFC2217_DTR_ON);
    assert_int_equal(ss__rfc2217_line(SS_LINE_RTS, false), SS__RFC2217_RTS_OFF);
    assert_int_equal(ss__rfc2217_line(SS_LINE_BREAK, true), SS__RFC2217_BREAK_ON);
    assert_int_equal(ss__rfc2217_line(0, true), 0);
    ss__telnet_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opening_requests),     cmocka_unit_test(test_negotiation_answers),
        cmocka_unit_test(test_every_byte_every_cut), cmocka_unit_test(test_nvt_cr_nul),
        cmocka_unit_test(test_subnegotiation),       cmocka_unit_test(test_answers_bounded),
        cmocka_unit_test(test_rfc2217_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
