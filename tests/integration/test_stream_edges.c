/*
 * test_stream_edges.c: stream mode at its edges, through a user's transport
 * over a socketpair (pair_transport.h): regex searches over big arrivals and
 * UTF-8 line noise, reading at the read buffer's cap, writes that fail half
 * way, and calls after a close. Each test is a reproducer of a bug found in
 * review (docs/stream-mode.md's guarantees, asserted).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <signal.h>
#include <sys/resource.h>

#include "pair_transport.h"
#include "stream_test.h"

/* The device end sends a whole buffer, however big (the socket is blocking). */
typedef struct late_send {
    int dev;
    const char *data;
    size_t len;
    int delay_ms;
} late_send;

static void *late_send_main(void *arg)
{
    late_send *l = arg;
    usleep((useconds_t)l->delay_ms * 1000);
    send_all(l->dev, l->data, l->len);
    return NULL;
}

/* expect re while the device sends len bytes of data, starting after
 * delay_ms; the match is in *m once the device has sent everything. */
static void expect_while_sending(ss_stream *s, int dev, const char *data, size_t len, int delay_ms,
                                 const ss_pattern *re, ss_stream_match *m)
{
    late_send l = {dev, data, len, delay_ms};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, late_send_main, &l), 0);
    assert_int_equal(ss_stream_expect(s, re, 1, 5000, m, NULL), 0);
    pthread_join(th, NULL);
}

/* ---- regular expressions ---- */

/* More than a window's worth is buffered before expect is called: the match
 * at the very start is still found (it was never examined). */
static void test_regex_finds_match_far_behind_end(void **state)
{
    (void)state;
    int dev;
    ss_stream *s = pair_stream(NULL, NULL, &dev, NULL);
    size_t n = 100000;
    char *big = malloc(n + 3);
    assert_non_null(big);
    memcpy(big, "ABC", 3);
    memset(big + 3, 'x', n);
    late_send l = {dev, big, n + 3, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, late_send_main, &l), 0);
    wait_ready(s, n + 3);
    pthread_join(th, NULL);
    ss_pattern re = {.text = "ABC", .kind = SS_PATTERN_REGEX};
    ss_stream_match m = {0};
    assert_int_equal(ss_stream_expect(s, &re, 1, 2000, &m, NULL), 0);
    assert_int_equal(m.len, 3);
    assert_int_equal(m.match_start, 0);
    assert_int_equal(ss_stream_ready(s), n);
    ss_stream_match_clear(&m);
    free(big);
    close(dev);
    ss_stream_free(s);
}

/* expect waits; then one send brings a prompt followed by more than a window
 * (the loop reads a few hundred KiB per wake-up). */
static void test_regex_finds_match_in_big_arrival(void **state)
{
    (void)state;
    int dev;
    ss_stream *s = pair_stream(NULL, NULL, &dev, NULL);
    size_t n = 300000;
    char *big = malloc(n + 8);
    assert_non_null(big);
    memcpy(big, "prompt> ", 8);
    memset(big + 8, 'y', n);
    ss_pattern re = {.text = "[a-z]+> ", .kind = SS_PATTERN_REGEX};
    ss_stream_match m = {0};
    expect_while_sending(s, dev, big, n + 8, 100, &re, &m);
    assert_int_equal(m.len, 8);
    assert_memory_equal(m.data, "prompt> ", 8);
    ss_stream_match_clear(&m);
    free(big);
    close(dev);
    ss_stream_free(s);
}

/* A partial match that grows past the window is given up, and with it every
 * start up to half a window before the newest byte: the short match right
 * after it ("b" at 2) is not found, the one past the window is. */
static void test_regex_long_partial_gives_up_half_a_window(void **state)
{
    (void)state;
    int dev;
    ss_stream *s = pair_stream(NULL, NULL, &dev, NULL);
    size_t n = 3 + SS_STREAM_REGEX_WINDOW + 1000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, '-', n);
    memcpy(big, "a b", 3);
    big[n] = 'b';
    ss_pattern re = {.text = "a.*z|b", .kind = SS_PATTERN_REGEX};
    ss_stream_match m = {0};
    /* "a b": a partial match of a.*z at 0; b is not tried yet */
    send_all(dev, big, 3);
    assert_int_equal(ss_stream_expect(s, &re, 1, 200, &m, NULL), -ETIMEDOUT);
    expect_while_sending(s, dev, big + 3, n + 1 - 3, 50, &re, &m);
    assert_int_equal(m.len, n + 1);
    assert_int_equal(m.match_start, n);
    ss_stream_match_clear(&m);
    free(big);
    close(dev);
    ss_stream_free(s);
}

/* CPU time of the calling thread, in seconds. */
static double thread_cpu_s(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_THREAD, &ru), 0);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* A flood that keeps a regex partial and never completes it: the call ends
 * with its timeout, and its search costs time linear in the bytes. Searching
 * each start again (the quadratic bug) took 18 s of CPU for the digits and
 * 9 s for the a's; the budget below is some 50 times what the linear search
 * takes under the sanitizers, and the call's whole CPU time counts. */
static void test_regex_flood_costs_linear_time(void **state)
{
    (void)state;
    static const struct {
        const char *re;
        char fill;
        size_t len;
    } cases[] = {
        {"[0-9]+ms", '7', 500 * 1000},
        {"a+b", 'a', 1000 * 1000},
        {"BEGIN.*END", '-', 1000 * 1000},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int dev;
        ss_stream *s = pair_stream(NULL, NULL, &dev, NULL);
        char *flood = malloc(cases[i].len);
        assert_non_null(flood);
        memset(flood, cases[i].fill, cases[i].len);
        memcpy(flood, "BEGIN", cases[i].fill == '-' ? 5 : 0);
        late_send l = {dev, flood, cases[i].len, 0};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, late_send_main, &l), 0);
        ss_pattern re = {.text = cases[i].re, .kind = SS_PATTERN_REGEX};
        ss_stream_match m = {0};
        double cpu = thread_cpu_s();
        assert_int_equal(ss_stream_expect(s, &re, 1, 1500, &m, NULL), -ETIMEDOUT);
        cpu = thread_cpu_s() - cpu;
        pthread_join(th, NULL);
        print_message("%s over %zu bytes: %.3f s of CPU\n", cases[i].re, cases[i].len, cpu);
        assert_true(cpu < 1.0);
        /* everything arrived and is still there */
        assert_int_equal(ss_stream_ready(s), cases[i].len);
        free(flood);
        close(dev);
        ss_stream_free(s);
    }
}

/* A byte at a time: a partial match is followed over the new bytes alone (by
 * PCRE2's DFA matcher), and the match found is still pcre2_match's: lazy
 * repeats, alternatives in order, a later start once a partial one dies. */
typedef struct trickle {
    int dev;
    const char *text;
} trickle;

static void *trickle_main(void *arg)
{
    trickle *t = arg;
    for (const char *p = t->text; *p; p++) {
        send_all(t->dev, p, 1);
        usleep(1000);
    }
    return NULL;
}

static void test_regex_byte_at_a_time(void **state)
{
    (void)state;
    static const struct {
        const char *re, *text, *match;
    } cases[] = {
        {"BEGIN.*?END", "xxBEGIN abc END yy END\n", "BEGIN abc END"},
        {"BEGIN.*END", "BEGIN a END b\n", "BEGIN a END"},
        {"[0-9]+", "abc 12345 ", "12345"},
        {"a.*z|b", "a b\n", "b"},
        {"dog(sbody)??", "dogsbody!", "dog"},
        {"(a|ab)(c|bcd)(d*)", "abcd!", "abcd"},
        {"login: |Password: ", "Last login: x\nlogin: ", "login: "},
        {"(?i)error [0-9]+:", "ok\nERROR 42: disk", "ERROR 42:"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int dev;
        ss_stream *s = pair_stream(NULL, NULL, &dev, NULL);
        trickle t = {dev, cases[i].text};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, trickle_main, &t), 0);
        ss_pattern re = {.text = cases[i].re, .kind = SS_PATTERN_REGEX};
        ss_stream_match m = {0};
        assert_int_equal(ss_stream_expect(s, &re, 1, 10000, &m, NULL), 0);
        print_message("%s: '%s'\n", cases[i].re, m.data + m.match_start);
        assert_string_equal(m.data + m.match_start, cases[i].match);
        ss_stream_match_clear(&m);
        pthread_join(th, NULL);
        close(dev);
        ss_stream_free(s);
    }
}

/* UTF-8: the stream ends in the middle of a character: the end of the stream,
 * not an error. */
static void test_utf_regex_eof_mid_character(void **state)
{
    (void)state;
    int dev;
    ss_stream *s = pair_stream(NULL, NULL, &dev, NULL);
    send_all(dev, "ab\xc3", 3);
    close(dev);
    ss_pattern re = {.text = "zz", .kind = SS_PATTERN_REGEX, .pcre2_options = PCRE2_UTF};
    ss_stream_match m = {0};
    ss_stream_payload pl = {0};
    assert_int_equal(ss_stream_expect(s, &re, 1, 5000, &m, &pl), SS_EEOF);
    assert_int_equal(pl.read_len, 3);
    ss_stream_payload_clear(&pl);
    ss_stream_free(s);
}

/* UTF-8: a search that starts inside a character (a partial match given up
 * one byte on) and invalid bytes before the match are no error. */
static void test_utf_regex_over_noise(void **state)
{
    (void)state;
    int dev;
    ss_stream *s = pair_stream(NULL, NULL, &dev, NULL);
    send_all(dev, "\xff\xc3 login: ", 10);
    ss_pattern re = {.text = "login: ", .kind = SS_PATTERN_REGEX, .pcre2_options = PCRE2_UTF};
    ss_stream_match m = {0};
    assert_int_equal(ss_stream_expect(s, &re, 1, 5000, &m, NULL), 0);
    assert_int_equal(m.match_start, 3);
    ss_stream_match_clear(&m);

    /* "é yZ", more than a window of ü, then "yZ": the partial match of "é.*X"
     * at the é is given up with half a window, so the search goes on from a
     * byte that may well be inside a ü, and finds the last yZ */
    size_t n = 5 + SS_STREAM_REGEX_WINDOW + 100 + 2;
    char *big = malloc(n);
    assert_non_null(big);
    memcpy(big, "\xc3\xa9 yZ", 5);
    for (size_t i = 5; i + 1 < n - 2; i += 2)
        memcpy(big + i, "\xc3\xbc", 2);
    memcpy(big + n - 2, "yZ", 2);
    ss_pattern re2 = {
        .text = "\xc3\xa9.*X|yZ", .kind = SS_PATTERN_REGEX, .pcre2_options = PCRE2_UTF};
    send_all(dev, big, 5);
    assert_int_equal(ss_stream_expect(s, &re2, 1, 100, &m, NULL), -ETIMEDOUT);
    expect_while_sending(s, dev, big + 5, n - 5, 50, &re2, &m);
    assert_int_equal(m.len, n);
    assert_int_equal(m.match_start, n - 2);
    ss_stream_match_clear(&m);
    free(big);
    close(dev);
    ss_stream_free(s);
}

/* UTF-8: a character split between two arrivals is matched whole. */
static void test_utf_regex_character_split_across_arrivals(void **state)
{
    (void)state;
    int dev;
    ss_stream *s = pair_stream(NULL, NULL, &dev, NULL);
    send_all(dev, "caf\xc3", 4);
    ss_pattern re = {.text = "\xc3\xa9", .kind = SS_PATTERN_REGEX, .pcre2_options = PCRE2_UTF};
    ss_stream_match m = {0};
    expect_while_sending(s, dev, "\xa9!", 2, 100, &re, &m);
    assert_int_equal(m.match_start, 3);
    assert_int_equal(m.len, 5);
    ss_stream_match_clear(&m);
    close(dev);
    ss_stream_free(s);
}

/* ---- reading at the read buffer's cap ---- */

/* A full read buffer that holds no match: no byte can come until some are
 * taken, so every matching read fails at once with -ENOBUFS and the payload
 * (it waited for its whole timeout before), and the bytes stay. */
static int never_satisfied(void *ctx, const char *data, size_t len, size_t *ret_consume)
{
    (void)ctx, (void)data, (void)len, (void)ret_consume;
    return 0;
}

static int count_line(void *ctx, const char *text, size_t len)
{
    (void)text, (void)len;
    (*(int *)ctx)++;
    return 0;
}

static void test_full_buffer_without_match_fails_at_once(void **state)
{
    (void)state;
    int dev;
    ss_stream_opts o = {.read_cap = 4096};
    ss_stream *s = pair_stream(NULL, &o, &dev, NULL);
    char big[8192];
    memset(big, 'z', sizeof(big));
    late_send l = {dev, big, 4096 + 2000, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, late_send_main, &l), 0);
    wait_ready(s, 4096);

    /* long timeouts: the full buffer ends these calls first (they waited for
     * the timeout before) */
    ss_stream_payload pl = {0};
    char *out;
    size_t len;
    assert_int_equal(ss_stream_read_until(s, "never", 5, 10000, &out, &len, &pl), -ENOBUFS);
    assert_int_equal(pl.read_len, 4096);
    assert_int_equal(ss_stream_read_line(s, 10000, &out, &len, NULL), -ENOBUFS);
    ss_pattern pats[] = {{.text = "never"}, {.text = "z{3}y", .kind = SS_PATTERN_REGEX}};
    ss_stream_match m = {0};
    assert_int_equal(ss_stream_expect(s, pats, 2, 10000, &m, &pl), -ENOBUFS);
    assert_int_equal(pl.read_len, 4096);
    int lines = 0;
    ss_read_lines_opts lo = {
        .on_line = count_line, .ctx = &lines, .timeout_ms = 10000, .line_timeout_ms = 10000};
    assert_int_equal(ss_stream_read_lines(s, &lo, NULL), -ENOBUFS);
    assert_int_equal(lines, 0);
    assert_int_equal(ss_stream_check(s, never_satisfied, NULL, 10000, NULL), -ENOBUFS);
    assert_int_equal(ss_stream_ready(s), 4096);

    /* taking bytes makes room: the rest comes, and a match there is found */
    char buf[4096];
    assert_int_equal(ss_stream_read(s, buf, sizeof(buf), 1000, NULL), 4096);
    pthread_join(th, NULL);
    send_all(dev, "y", 1);
    assert_int_equal(ss_stream_expect(s, pats, 2, 5000, &m, NULL), 1);
    assert_int_equal(m.len, 2001);
    assert_int_equal(m.match_start, 1997);
    ss_stream_match_clear(&m);
    ss_stream_payload_clear(&pl);
    close(dev);
    ss_stream_free(s);
}

/* The buffer was full once; a line then taken leaves 2 bytes free, and the
 * newline that ends the next line fits: it is read, although the buffer is
 * nowhere near half empty. */
static void test_read_resumes_for_bytes_that_fit(void **state)
{
    (void)state;
    int dev;
    ss_stream_opts o = {.read_cap = 64};
    ss_stream *s = pair_stream(NULL, &o, &dev, NULL);
    char first[64];
    memcpy(first, "A\n", 2);
    memset(first + 2, 'B', 62);
    send_all(dev, first, 64);
    wait_ready(s, 64);
    char *out;
    size_t len;
    assert_int_equal(ss_stream_read_line(s, 2000, &out, &len, NULL), 0);
    assert_string_equal(out, "A");
    free(out);
    send_all(dev, "\n", 1);
    assert_int_equal(ss_stream_read_line(s, 5000, &out, &len, NULL), 0);
    assert_int_equal(len, 62);
    free(out);
    close(dev);
    ss_stream_free(s);
}

/* A first arrival that leaves less than half the cap free is no pause: the
 * buffer never filled. */
static void test_first_arrival_does_not_pause_reading(void **state)
{
    (void)state;
    int dev;
    ss_stream_opts o = {.read_cap = 8};
    ss_stream *s = pair_stream(NULL, &o, &dev, NULL);
    send_all(dev, "bootin", 6);
    wait_ready(s, 6);
    send_all(dev, "g\n", 2);
    char *out;
    size_t len;
    assert_int_equal(ss_stream_read_line(s, 5000, &out, &len, NULL), 0);
    assert_string_equal(out, "booting");
    free(out);
    close(dev);
    ss_stream_free(s);
}

/* ---- writes that fail half way ---- */

/* The idle transport takes 3 bytes straight from the caller's thread, then
 * fails: the payload hands back only the 3 bytes never sent. */
static void test_write_error_after_partial_send(void **state)
{
    (void)state;
    int dev;
    pair_knobs k = {.write_then_fail = 3};
    ss_stream *s = pair_stream(NULL, NULL, &dev, &k);
    ss_stream_payload pl = {0};
    assert_int_equal(ss_stream_write(s, "abcdef", 6, 1000, &pl), -EPIPE);
    char got[16] = {0};
    assert_int_equal(recv(dev, got, sizeof(got), MSG_DONTWAIT), 3);
    assert_string_equal(got, "abc");
    assert_int_equal(pl.unsent_len, 3);
    assert_string_equal(pl.unsent, "def");
    assert_int_equal(pl.written, 3);
    ss_stream_payload_clear(&pl);
    close(dev);
    ss_stream_free(s);
}

/* A write that would fit in the buffer but finds too little room fails
 * whole; a bigger one says how much of it was queued. */
static void test_write_without_room_says_what_was_queued(void **state)
{
    (void)state;
    int dev;
    pair_knobs k = {.never_write = true};
    ss_stream_opts o = {.write_cap = 8};
    ss_stream *s = pair_stream(NULL, &o, &dev, &k);
    ss_stream_payload pl = {0};
    assert_int_equal(ss_stream_write(s, "0123", 4, 0, &pl), 0);
    /* 4 of 8 bytes are free: 6 fit in the buffer, so none of them goes in */
    assert_int_equal(ss_stream_write(s, "ABCDEF", 6, 0, &pl), -ENOBUFS);
    assert_int_equal(pl.written, 0);
    assert_int_equal(ss_stream_waiting(s), 4);
    assert_int_equal(ss_stream_write(s, "ABCDEF", 6, 50, &pl), -ETIMEDOUT);
    assert_int_equal(pl.written, 0);
    assert_int_equal(ss_stream_waiting(s), 4);
    /* 20 bytes never fit: the first 4 are queued, and the payload says so */
    assert_int_equal(ss_stream_write(s, "0123456789ABCDEFGHIJ", 20, 0, &pl), -ENOBUFS);
    assert_int_equal(pl.written, 4);
    assert_int_equal(ss_stream_waiting(s), 8);
    assert_int_equal(pl.unsent_len, 8 + 16);
    assert_memory_equal(pl.unsent, "01230123456789ABCDEFGHIJ", 24);
    ss_stream_payload_clear(&pl);
    close(dev);
    ss_stream_free(s);
}

/* ---- the bridge's last line ---- */

typedef struct seen {
    pthread_mutex_t mu;
    char text[256];
    size_t len;
    int lines;
} seen;

static int on_seen_line(void *ctx, const char *source, ss_kind kind, uint32_t flags,
                        const char *text, size_t len)
{
    (void)source, (void)kind, (void)flags;
    seen *sn = ctx;
    pthread_mutex_lock(&sn->mu);
    if (sn->len + len + 1 < sizeof(sn->text)) {
        memcpy(sn->text + sn->len, text, len);
        sn->len += len;
        sn->text[sn->len++] = '|';
    }
    sn->lines++;
    pthread_mutex_unlock(&sn->mu);
    return 0;
}

static int seen_lines(seen *sn)
{
    pthread_mutex_lock(&sn->mu);
    int n = sn->lines;
    pthread_mutex_unlock(&sn->mu);
    return n;
}

/* A stream bridged with only into sn, whose device sent "one\ntwo": "one" has
 * reached the callback, "two" is in the loop's line assembler. */
static ss_stream *bridged_only_one_two(seen *sn, int *dev)
{
    ss_stream *s = pair_stream(NULL, NULL, dev, NULL);
    ss_bridge_opts bo = {.on_line = on_seen_line, .ctx = sn, .only = true};
    assert_int_equal(ss_stream_bridge(s, &bo), 0);
    send_all(*dev, "one\ntwo", 7);
    for (int i = 0; i < 10000 && seen_lines(sn) < 1; i++)
        usleep(1000);
    return s;
}

/* With only, the bridge is the one copy of the bytes: its unterminated last
 * line reaches the callback when the stream is closed. */
static void test_bridge_only_close_keeps_last_line(void **state)
{
    (void)state;
    int dev;
    seen sn = {.mu = PTHREAD_MUTEX_INITIALIZER};
    ss_stream *s = bridged_only_one_two(&sn, &dev);
    ss_stream_free(s);
    sn.text[sn.len] = '\0';
    assert_string_equal(sn.text, "one|two|");
    close(dev);
}

/* ... and when the transport fails. */
static void test_bridge_only_error_keeps_last_line(void **state)
{
    (void)state;
    int dev;
    seen sn = {.mu = PTHREAD_MUTEX_INITIALIZER};
    ss_stream *s = bridged_only_one_two(&sn, &dev);
    /* the device closes with a byte from us unread: a reset, not an end */
    assert_int_equal(ss_stream_write(s, "x", 1, 1000, NULL), 0);
    char c;
    for (int i = 0; i < 1000 && recv(dev, &c, 1, MSG_PEEK | MSG_DONTWAIT) != 1; i++)
        usleep(1000);
    close(dev);
    char buf[8];
    assert_int_equal(ss_stream_read(s, buf, sizeof(buf), 10000, NULL), -ECONNRESET);
    pthread_mutex_lock(&sn.mu);
    sn.text[sn.len] = '\0';
    assert_string_equal(sn.text, "one|two|");
    pthread_mutex_unlock(&sn.mu);
    ss_stream_free(s);
}

/* A write error on the I/O thread ends a read blocked meanwhile: it is the
 * next call's error, and that read is the next call. */
static void *write_later(void *arg)
{
    ss_stream *s = arg;
    usleep(100000);
    (void)ss_stream_write(s, "abcdef", 6, 1000, NULL);
    return NULL;
}

static void test_write_error_wakes_blocked_reader(void **state)
{
    (void)state;
    int dev;
    /* the direct send finds the transport busy: the I/O thread sends, 3 bytes
     * go, then the transport fails */
    pair_knobs k = {.eagain_writes = 1, .write_then_fail = 3};
    ss_stream *s = pair_stream(NULL, NULL, &dev, &k);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_later, s), 0);
    char *out;
    size_t len;
    ss_stream_payload pl = {0};
    /* woken by the error: it would otherwise end in -ETIMEDOUT */
    assert_int_equal(ss_stream_read_line(s, 20000, &out, &len, &pl), -EPIPE);
    assert_int_equal(pl.unsent_len, 3);
    assert_string_equal(pl.unsent, "def");
    pthread_join(th, NULL);
    ss_stream_payload_clear(&pl);
    close(dev);
    ss_stream_free(s);
}

/* ---- after a close ---- */

/* Every call after a close returns SS_ECLOSED; the bytes are in the payload. */
static void test_reads_after_close(void **state)
{
    (void)state;
    int dev;
    ss_stream *s = pair_stream(NULL, NULL, &dev, NULL);
    send_all(dev, "abc", 3);
    wait_ready(s, 3);
    ss_stream_close(s);
    char buf[8];
    ss_stream_payload pl = {0};
    assert_int_equal(ss_stream_read(s, buf, sizeof(buf), 0, &pl), SS_ECLOSED);
    assert_int_equal(pl.read_len, 3);
    assert_string_equal(pl.read, "abc");
    assert_int_equal(ss_stream_peek(s, buf, sizeof(buf)), SS_ECLOSED);
    char *out;
    size_t len;
    assert_int_equal(ss_stream_read_until(s, "c", 1, 0, &out, &len, NULL), SS_ECLOSED);
    assert_int_equal(ss_stream_ready(s), 3);
    ss_stream_payload_clear(&pl);
    close(dev);
    ss_stream_free(s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regex_finds_match_far_behind_end),
        cmocka_unit_test(test_regex_finds_match_in_big_arrival),
        cmocka_unit_test(test_regex_long_partial_gives_up_half_a_window),
        cmocka_unit_test(test_regex_flood_costs_linear_time),
        cmocka_unit_test(test_regex_byte_at_a_time),
        cmocka_unit_test(test_utf_regex_eof_mid_character),
        cmocka_unit_test(test_utf_regex_over_noise),
        cmocka_unit_test(test_utf_regex_character_split_across_arrivals),
        cmocka_unit_test(test_full_buffer_without_match_fails_at_once),
        cmocka_unit_test(test_read_resumes_for_bytes_that_fit),
        cmocka_unit_test(test_first_arrival_does_not_pause_reading),
        cmocka_unit_test(test_write_error_after_partial_send),
        cmocka_unit_test(test_write_without_room_says_what_was_queued),
        cmocka_unit_test(test_bridge_only_close_keeps_last_line),
        cmocka_unit_test(test_bridge_only_error_keeps_last_line),
        cmocka_unit_test(test_write_error_wakes_blocked_reader),
        cmocka_unit_test(test_reads_after_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
