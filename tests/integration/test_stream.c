/*
 * test_stream.c: ss_stream over TCP against a real peer on the loopback:
 * threadedstream's README example, read_until, timeouts, the end of the
 * stream in the middle of a pattern, patterns split across reads, a producer
 * sending one byte at a time, expect with exact and regex patterns, the error
 * payload, bounded buffers and backpressure, transport errors, close.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "stream_test.h"

/* ---- threadedstream's README example ---- */

static void script_peer(int fd, void *arg)
{
    const char *ending = arg;
    char cmd[64] = {0};
    size_t got = 0;
    /* the command, up to its newline */
    while (got < sizeof(cmd) - 1 && !memchr(cmd, '\n', got)) {
        ssize_t n = recv(fd, cmd + got, sizeof(cmd) - 1 - got, 0);
        if (n <= 0)
            return;
        got += (size_t)n;
    }
    if (strcmp(cmd, "bash long_script.sh\n") != 0)
        return;
    send_str(fd, "step 1\nstep 2\n");
    send_str(fd, ending);
    send_str(fd, "trailing noise\n");
}

static void test_readme_example(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, script_peer, "Completed.\n");
    ss_stream *s = connect_stream(&p, NULL, NULL);

    assert_int_equal(ss_stream_write(s, "bash long_script.sh\n", 20, 5000, NULL), 0);
    char *logs = NULL;
    size_t len = 0;
    ss_stream_payload pl = {0};
    assert_int_equal(ss_stream_read_until(s, "Completed.", 10, 10000, &logs, &len, &pl), 0);
    assert_string_equal(logs, "step 1\nstep 2\nCompleted.");
    assert_int_equal(len, strlen(logs));
    free(logs);

    /* the rest: "\ntrailing noise\n", then the end of the stream */
    char *rest = NULL;
    assert_int_equal(ss_stream_read_until(s, "noise\n", 6, 10000, &rest, &len, NULL), 0);
    free(rest);
    assert_int_equal(ss_stream_read_until(s, "x", 1, 10000, &rest, &len, &pl), SS_EEOF);
    assert_int_equal(ss_stream_consume(s), 0);
    ss_stream_payload_clear(&pl);
    ss_stream_free(s);
    peer_stop(&p);
}

/* The script never says "Completed.": the payload holds what had arrived. */
static void test_readme_example_error_payload(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, script_peer, "Failed!\n");
    ss_stream *s = connect_stream(&p, NULL, NULL);
    assert_int_equal(ss_stream_write(s, "bash long_script.sh\n", 20, 5000, NULL), 0);

    ss_stream_payload pl = {0};
    char *logs = NULL;
    size_t len = 0;
    int rc = ss_stream_read_until(s, "Completed.", 10, 10000, &logs, &len, &pl);
    assert_int_equal(rc, SS_EEOF);
    assert_null(logs);
    assert_string_equal(pl.read, "step 1\nstep 2\nFailed!\ntrailing noise\n");
    assert_int_equal(pl.read_len, strlen(pl.read));
    assert_null(pl.unsent);
    /* the payload is a copy: the bytes are still there, and consume drops them */
    assert_int_equal(ss_stream_ready(s), pl.read_len);
    assert_int_equal(ss_stream_consume(s), pl.read_len);
    assert_int_equal(ss_stream_ready(s), 0);
    char buf[8];
    assert_int_equal(ss_stream_read(s, buf, sizeof(buf), 1000, NULL), SS_EEOF);
    ss_stream_payload_clear(&pl);
    ss_stream_free(s);
    peer_stop(&p);
}

/* ---- timeouts ---- */

static void silent_peer(int fd, void *arg)
{
    peer *p = arg;
    send_str(fd, "partial");
    peer_wait(p, 1);
}

static void test_timeouts(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, silent_peer, &p);
    ss_stream *s = connect_stream(&p, NULL, NULL);
    wait_ready(s, 7);

    ss_stream_payload pl = {0};
    char *out = NULL;
    size_t len;
    /* 0: do not wait */
    assert_int_equal(ss_stream_read_until(s, "never", 5, 0, &out, &len, &pl), -ETIMEDOUT);
    assert_string_equal(pl.read, "partial");
    /* a short deadline */
    assert_int_equal(ss_stream_read_until(s, "never", 5, 50, &out, &len, &pl), -ETIMEDOUT);
    assert_string_equal(pl.read, "partial");
    assert_null(out);
    ss_pattern pats[] = {{.text = "nev"}, {.text = "x[0-9]+", .kind = SS_PATTERN_REGEX}};
    ss_stream_match m = {0};
    assert_int_equal(ss_stream_expect(s, pats, 2, 30, &m, &pl), -ETIMEDOUT);
    assert_int_equal(ss_stream_read_line(s, 20, &out, &len, &pl), -ETIMEDOUT);
    ss_read_lines_opts lo = {.on_line = NULL};
    assert_int_equal(ss_stream_read_lines(s, &lo, NULL), -EINVAL);
    assert_int_equal(ss_stream_flush(s, 0, NULL), 0);
    /* nothing was taken by the failures */
    char buf[16];
    assert_int_equal(ss_stream_read(s, buf, sizeof(buf), 0, NULL), 7);
    assert_memory_equal(buf, "partial", 7);
    assert_int_equal(ss_stream_read(s, buf, sizeof(buf), 10, &pl), -ETIMEDOUT);
    assert_null(pl.read);
    ss_stream_payload_clear(&pl);
    peer_go(&p, 1);
    ss_stream_free(s);
    peer_stop(&p);
}

/* One deadline per call: bytes that keep arriving do not extend it. */
static void trickle_peer(int fd, void *arg)
{
    peer *p = arg;
    /* a byte every 10 ms until told to stop (bounded: 10 s) */
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&p->mu);
        int stop = p->go;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        send_str(fd, ".");
        usleep(10000);
    }
}

static void test_one_deadline_per_call(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, trickle_peer, &p);
    ss_stream *s = connect_stream(&p, NULL, NULL);
    char *out = NULL;
    size_t len;
    ss_stream_payload pl = {0};
    assert_int_equal(ss_stream_read_until(s, "!", 1, 300, &out, &len, &pl), -ETIMEDOUT);
    assert_non_null(pl.read);
    ss_stream_payload_clear(&pl);
    peer_go(&p, 1);
    ss_stream_free(s);
    peer_stop(&p);
}

/* ---- the end of the stream ---- */

static void half_pattern_peer(int fd, void *arg)
{
    (void)arg;
    send_str(fd, "log line\nCompl");
}

static void test_eof_mid_pattern(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, half_pattern_peer, NULL);
    ss_stream *s = connect_stream(&p, NULL, NULL);
    char *out = NULL;
    size_t len;
    ss_stream_payload pl = {0};
    assert_int_equal(ss_stream_read_until(s, "Completed.", 10, 10000, &out, &len, &pl), SS_EEOF);
    assert_string_equal(pl.read, "log line\nCompl");
    /* reported again, and the bytes stay readable until taken; then EOF */
    assert_int_equal(ss_stream_read_line(s, 1000, &out, &len, NULL), 0);
    assert_string_equal(out, "log line");
    free(out);
    assert_int_equal(ss_stream_read_line(s, 1000, &out, &len, &pl), SS_EEOF);
    assert_string_equal(pl.read, "Compl");
    char buf[16];
    assert_int_equal(ss_stream_read(s, buf, sizeof(buf), 1000, NULL), 5);
    assert_int_equal(ss_stream_read(s, buf, sizeof(buf), 1000, &pl), SS_EEOF);
    assert_null(pl.read);
    /* a regex that could go on matching takes what is there at the end */
    ss_stream_payload_clear(&pl);
    ss_stream_free(s);
    peer_stop(&p);
}

static void digits_peer(int fd, void *arg)
{
    (void)arg;
    send_str(fd, "count 12345");
}

static void test_regex_at_eof(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, digits_peer, NULL);
    ss_stream *s = connect_stream(&p, NULL, NULL);
    ss_pattern pat = {.text = "[0-9]+", .kind = SS_PATTERN_REGEX};
    ss_stream_match m = {0};
    assert_int_equal(ss_stream_expect(s, &pat, 1, 10000, &m, NULL), 0);
    assert_string_equal(m.data, "count 12345");
    assert_int_equal(m.match_start, 6);
    ss_stream_match_clear(&m);
    ss_stream_free(s);
    peer_stop(&p);
}

/* ---- patterns split across reads ---- */

static void split_peer(int fd, void *arg)
{
    peer *p = arg;
    send_str(fd, "abc Comp");
    if (peer_wait(p, 1) == 0)
        send_str(fd, "leted. tail");
    peer_wait(p, 2);
}

static void test_pattern_split_across_reads(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, split_peer, &p);
    ss_stream *s = connect_stream(&p, NULL, NULL);
    wait_ready(s, 8);
    /* the first half is there and examined; the rest comes while we wait */
    char *out = NULL;
    size_t len;
    assert_int_equal(ss_stream_read_until(s, "Completed.", 10, 0, &out, &len, NULL), -ETIMEDOUT);
    assert_int_equal(ss_stream_contains(s, "Comp", 4), 1);
    assert_int_equal(ss_stream_contains(s, "Completed", 9), 0);
    peer_go(&p, 1);
    assert_int_equal(ss_stream_read_until(s, "Completed.", 10, 10000, &out, &len, NULL), 0);
    assert_string_equal(out, "abc Completed.");
    free(out);
    char buf[8] = {0};
    wait_ready(s, 5);
    assert_int_equal(ss_stream_peek(s, buf, 5), 5);
    assert_memory_equal(buf, " tail", 5);
    assert_int_equal(ss_stream_ready(s), 5);
    peer_go(&p, 2);
    ss_stream_free(s);
    peer_stop(&p);
}

/* ---- a producer writing one byte at a time ---- */

#define TRICKLE_BYTES 20000

static void byte_peer(int fd, void *arg)
{
    (void)arg;
    for (int i = 0; i < TRICKLE_BYTES; i++) {
        char c = (char)('a' + i % 26);
        send_all(fd, &c, 1);
    }
    send_str(fd, "<END 42>");
}

static void test_one_byte_at_a_time(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, byte_peer, NULL);
    ss_stream *s = connect_stream(&p, NULL, NULL);
    ss_pattern pats[] = {
        {.text = "never there"},
        {.text = "<END ([0-9]+)>", .kind = SS_PATTERN_REGEX},
        {.text = "zzz"},
    };
    ss_stream_match m = {0};
    assert_int_equal(ss_stream_expect(s, pats, 3, 30000, &m, NULL), 1);
    assert_int_equal(m.len, TRICKLE_BYTES + 8);
    assert_int_equal(m.match_start, TRICKLE_BYTES);
    assert_memory_equal(m.data + m.match_start, "<END 42>", 8);
    for (int i = 0; i < TRICKLE_BYTES; i++)
        assert_int_equal(m.data[i], 'a' + i % 26);
    ss_stream_match_clear(&m);
    ss_stream_free(s);
    peer_stop(&p);
}

/* ---- expect: which pattern, what came before ---- */

static void prompt_peer(int fd, void *arg)
{
    (void)arg;
    send_str(fd, "Welcome\nlogin: ");
    char buf[64];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0)
        send_str(fd, "Password: ");
    drain(fd);
}

static void test_expect_patterns(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, prompt_peer, NULL);
    ss_stream *s = connect_stream(&p, NULL, NULL);
    ss_pattern pats[] = {
        {.text = "[Pp]assword: ", .kind = SS_PATTERN_REGEX},
        {.text = "LOGIN: ", .kind = SS_PATTERN_REGEX, .pcre2_options = PCRE2_CASELESS},
    };
    ss_stream_match m = {0};
    assert_int_equal(ss_stream_expect(s, pats, 2, 10000, &m, NULL), 1);
    assert_string_equal(m.data, "Welcome\nlogin: ");
    assert_int_equal(m.match_start, 8);
    ss_stream_match_clear(&m);
    assert_int_equal(ss_stream_write(s, "me\n", 3, 1000, NULL), 0);
    assert_int_equal(ss_stream_expect(s, pats, 2, 10000, &m, NULL), 0);
    assert_string_equal(m.data + m.match_start, "Password: ");
    assert_int_equal(m.match_start, 0);
    ss_stream_match_clear(&m);
    /* a bad regex, an empty exact pattern */
    ss_pattern bad = {.text = "(", .kind = SS_PATTERN_REGEX};
    assert_int_equal(ss_stream_expect(s, &bad, 1, 0, &m, NULL), -EINVAL);
    ss_pattern empty = {.text = ""};
    assert_int_equal(ss_stream_expect(s, &empty, 1, 0, &m, NULL), -EINVAL);
    ss_stream_free(s);
    peer_stop(&p);
}

/* ---- lines ---- */

static void lines_peer(int fd, void *arg)
{
    (void)arg;
    send_str(fd, "banner 1\r\nbanner 2\r\nA\r\nB\r\nready C\r\nafter\r\n");
}

typedef struct collected {
    char text[8][32];
    int n;
} collected;

static int collect(void *ctx, const char *text, size_t len)
{
    collected *c = ctx;
    if (c->n < 8)
        snprintf(c->text[c->n++], sizeof(c->text[0]), "%.*s", (int)len, text);
    return 0;
}

static void test_read_lines(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, lines_peer, NULL);
    ss_stream_opts so = {.line_sep = "\r\n", .name = "console"};
    ss_stream *s = connect_stream(&p, &so, NULL);
    assert_string_equal(ss_stream_name(s), "console");
    collected c = {0};
    ss_read_lines_opts lo = {.on_line = collect,
                             .ctx = &c,
                             .skip = 2,
                             .until = "ready",
                             .timeout_ms = 10000,
                             .line_timeout_ms = 5000};
    assert_int_equal(ss_stream_read_lines(s, &lo, NULL), 3);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.text[0], "A");
    assert_string_equal(c.text[2], "ready C");
    char *line;
    size_t len;
    assert_int_equal(ss_stream_read_line(s, 1000, &line, &len, NULL), 0);
    assert_string_equal(line, "after");
    assert_int_equal(len, 5);
    free(line);
    /* at the end: the lines this call took are in its payload */
    ss_stream_payload pl = {0};
    collected d = {0};
    ss_read_lines_opts all = {
        .on_line = collect, .ctx = &d, .timeout_ms = 10000, .line_timeout_ms = -1};
    assert_int_equal(ss_stream_read_lines(s, &all, &pl), SS_EEOF);
    assert_int_equal(d.n, 0);
    ss_stream_payload_clear(&pl);
    ss_stream_free(s);
    peer_stop(&p);
}

static void lines_then_wait_peer(int fd, void *arg)
{
    peer *p = arg;
    send_str(fd, "one\ntwo\nthr");
    peer_wait(p, 1);
}

static void test_read_lines_payload(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, lines_then_wait_peer, &p);
    ss_stream *s = connect_stream(&p, NULL, NULL);
    wait_ready(s, 11);
    collected c = {0};
    ss_stream_payload pl = {0};
    ss_read_lines_opts lo = {
        .on_line = collect, .ctx = &c, .max = 5, .timeout_ms = 5000, .line_timeout_ms = 50};
    assert_int_equal(ss_stream_read_lines(s, &lo, &pl), -ETIMEDOUT);
    assert_int_equal(c.n, 2);
    /* what the call took, then what is still buffered */
    assert_string_equal(pl.read, "one\ntwo\nthr");
    assert_int_equal(ss_stream_ready(s), 3);
    ss_stream_payload_clear(&pl);
    peer_go(&p, 1);
    ss_stream_free(s);
    peer_stop(&p);
}

/* check: a callback over the buffer */
static int has_two_lines(void *ctx, const char *data, size_t len, size_t *ret_consume)
{
    (void)ctx;
    const char *nl = memchr(data, '\n', len);
    if (!nl || !memchr(nl + 1, '\n', len - (size_t)(nl + 1 - data)))
        return 0;
    *ret_consume = (size_t)(nl + 1 - data);
    return 1;
}

static void test_check(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, lines_then_wait_peer, &p);
    ss_stream *s = connect_stream(&p, NULL, NULL);
    assert_int_equal(ss_stream_check(s, has_two_lines, NULL, 10000, NULL), 0);
    char buf[16];
    wait_ready(s, 7);
    assert_int_equal(ss_stream_peek(s, buf, 4), 4);
    assert_memory_equal(buf, "two\n", 4);
    ss_stream_payload pl = {0};
    assert_int_equal(ss_stream_check(s, has_two_lines, NULL, 20, &pl), -ETIMEDOUT);
    assert_string_equal(pl.read, "two\nthr");
    ss_stream_payload_clear(&pl);
    peer_go(&p, 1);
    ss_stream_free(s);
    peer_stop(&p);
}

/* ---- bounded buffers ---- */

#define FLOOD (4u * 1024u * 1024u)

static void flood_peer(int fd, void *arg)
{
    (void)arg;
    char *buf = malloc(FLOOD);
    for (size_t i = 0; i < FLOOD; i++)
        buf[i] = (char)(i * 7 % 251);
    send_all(fd, buf, FLOOD);
    free(buf);
}

static void test_read_backpressure_loses_nothing(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, flood_peer, NULL);
    ss_stream_opts so = {.read_cap = 64 * 1024};
    ss_stream *s = connect_stream(&p, &so, NULL);
    wait_ready(s, 64 * 1024);
    /* full: the I/O thread stopped reading (the rest waits in the kernel) */
    assert_int_equal(ss_stream_ready(s), 64 * 1024);
    char *buf = malloc(100000);
    size_t total = 0;
    int bad = 0;
    for (;;) {
        ssize_t n = ss_stream_read(s, buf, 100000, 10000, NULL);
        if (n < 0) {
            assert_int_equal(n, SS_EEOF);
            break;
        }
        assert_true(ss_stream_ready(s) <= 64 * 1024);
        for (ssize_t i = 0; i < n; i++)
            bad += buf[i] != (char)((total + (size_t)i) * 7 % 251);
        total += (size_t)n;
    }
    assert_int_equal(total, FLOOD);
    assert_int_equal(bad, 0);
    free(buf);
    ss_stream_free(s);
    peer_stop(&p);
}

static void stalled_reader_peer(int fd, void *arg)
{
    peer *p = arg;
    peer_wait(p, 1);
    drain(fd);
}

static void test_write_buffer_cap(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, stalled_reader_peer, &p);
    ss_stream_opts so = {.write_cap = 4096};
    ss_stream *s = connect_stream(&p, &so, NULL);
    char *chunk = malloc(65536);
    memset(chunk, 'w', 65536);
    /* fill the kernel's buffers and ours: the peer does not read yet */
    ss_stream_payload pl = {0};
    int rc = 0;
    for (int i = 0; i < 10000 && rc == 0; i++)
        rc = ss_stream_write(s, chunk, 1000, 0, &pl);
    assert_int_equal(rc, -ENOBUFS);
    /* the payload: the unsent buffer, then the part of this write not queued */
    assert_true(pl.unsent_len >= 1);
    assert_true(pl.unsent_len <= 4096 + 1000);
    assert_true(ss_stream_waiting(s) <= 4096);
    /* a blocking write times out, with its rest in the payload */
    assert_int_equal(ss_stream_write(s, chunk, 65536, 50, &pl), -ETIMEDOUT);
    assert_true(pl.unsent_len >= 65536);
    assert_int_equal(ss_stream_flush(s, 20, NULL), -ETIMEDOUT);
    /* once the peer reads, everything goes */
    peer_go(&p, 1);
    assert_int_equal(ss_stream_write(s, chunk, 65536, 10000, NULL), 0);
    assert_int_equal(ss_stream_flush(s, 10000, NULL), 0);
    assert_int_equal(ss_stream_waiting(s), 0);
    ss_stream_payload_clear(&pl);
    free(chunk);
    ss_stream_free(s);
    peer_stop(&p);
}

/* ---- errors and close ---- */

static void reset_peer(int fd, void *arg)
{
    peer *p = arg;
    send_str(fd, "last words");
    peer_wait(p, 1);
}

static void test_transport_error_reaches_next_call(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, reset_peer, &p);
    p.rst = 1;
    ss_stream *s = connect_stream(&p, NULL, NULL);
    wait_ready(s, 10);
    peer_go(&p, 1);
    peer_stop(&p);
    /* bounded wait for the reset to arrive */
    ss_stream_payload pl = {0};
    int rc = 0;
    for (int i = 0; i < 1000 && rc == 0; i++) {
        rc = ss_stream_write(s, "x", 1, 1000, &pl);
        if (rc == 0)
            usleep(10000);
    }
    assert_true(rc == -ECONNRESET || rc == -EPIPE);
    assert_string_equal(pl.read, "last words");
    /* then reads drain the buffer, and report the error instead of EOF */
    char buf[32];
    assert_int_equal(ss_stream_read(s, buf, sizeof(buf), 1000, NULL), 10);
    rc = (int)ss_stream_read(s, buf, sizeof(buf), 1000, NULL);
    assert_true(rc == -ECONNRESET || rc == -EPIPE);
    ss_stream_payload_clear(&pl);
    ss_stream_free(s);
}

/* The peer reads 1000 bytes, then resets the connection while 4 MiB are
 * being written: the write takes the reset (the socket reports it once), and
 * every read after it must still say so, not that the stream ended. */
static void read_1000_peer(int fd, void *arg)
{
    (void)arg;
    char buf[1000];
    size_t got = 0;
    while (got < sizeof(buf)) {
        ssize_t n = recv(fd, buf + got, sizeof(buf) - got, 0);
        if (n <= 0)
            return;
        got += (size_t)n;
    }
}

static void test_transport_error_is_sticky(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, read_1000_peer, NULL);
    p.rst = 1;
    /* a write buffer smaller than the write, so the write waits and meets
     * the reset itself */
    ss_stream_opts o = {.write_cap = 64 * 1024};
    ss_stream *s = connect_stream(&p, &o, NULL);
    size_t n = 4u * 1024 * 1024;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'w', n);
    ss_stream_payload pl = {0};
    assert_int_equal(ss_stream_write(s, big, n, 5000, &pl), -ECONNRESET);
    assert_true(pl.written < n);
    ss_stream_payload_clear(&pl);
    peer_stop(&p);

    char buf[16], *out = NULL;
    size_t len;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ss_stream_read_until(s, "x", 1, 1000, &out, &len, &pl), -ECONNRESET);
        assert_int_equal(pl.read_len, 0);
        assert_int_equal(ss_stream_read(s, buf, sizeof(buf), 1000, NULL), -ECONNRESET);
        assert_int_equal(ss_stream_read_line(s, 1000, &out, &len, NULL), -ECONNRESET);
        ss_pattern re = {.text = "x", .kind = SS_PATTERN_REGEX};
        ss_stream_match m = {0};
        assert_int_equal(ss_stream_expect(s, &re, 1, 1000, &m, NULL), -ECONNRESET);
    }
    ss_stream_payload_clear(&pl);
    free(big);
    ss_stream_free(s);
}

typedef struct blocked {
    ss_stream *s;
    int rc;
    ss_stream_payload pl;
} blocked;

static void *blocked_reader(void *arg)
{
    blocked *b = arg;
    char *out = NULL;
    size_t len;
    b->rc = ss_stream_read_until(b->s, "never", 5, 10000, &out, &len, &b->pl);
    return NULL;
}

static void test_close_wakes_blocked_calls(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, silent_peer, &p);
    ss_stream *s = connect_stream(&p, NULL, NULL);
    wait_ready(s, 7);
    blocked b = {.s = s};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_reader, &b), 0);
    /* bounded: the reader may not have started waiting yet; close wakes it either way */
    usleep(20000);
    ss_stream_close(s);
    pthread_join(t, NULL);
    assert_int_equal(b.rc, SS_ECLOSED);
    assert_string_equal(b.pl.read, "partial");
    assert_int_equal(ss_stream_write(s, "x", 1, 0, NULL), SS_ECLOSED);
    ss_stream_close(s);
    ss_stream_payload_clear(&b.pl);
    peer_go(&p, 1);
    ss_stream_free(s);
    peer_stop(&p);
}

/* The peer counts what it gets until our end of input, then answers. */
static void counting_peer(int fd, void *arg)
{
    (void)arg;
    size_t n = drain(fd);
    char answer[32];
    snprintf(answer, sizeof(answer), "got %zu\n", n);
    send_str(fd, answer);
}

static void test_shutdown_write_tcp(void **state)
{
    (void)state;
    peer p;
    peer_start(&p, counting_peer, NULL);
    ss_stream *s = connect_stream(&p, NULL, NULL);
    assert_int_equal(ss_stream_write(s, "12345", 5, 1000, NULL), 0);
    assert_int_equal(ss_stream_shutdown_write(s, 10000, NULL), 0);
    char *line;
    size_t len;
    assert_int_equal(ss_stream_read_line(s, 10000, &line, &len, NULL), 0);
    assert_string_equal(line, "got 5");
    free(line);
    assert_int_equal(ss_stream_write(s, "x", 1, 0, NULL), -EPIPE);
    ss_stream_free(s);
    peer_stop(&p);
}

/* The connect timeout: a listener whose accept queue is full drops new SYNs,
 * so a connect to it never completes. Keepalive settings as asked, seen on
 * the transport's own descriptor (ops->fds). */
static void test_connect_timeout_and_keepalive(void **state)
{
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 0), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
    char port[16];
    snprintf(port, sizeof(port), "%d", ntohs(sa.sin_port));
    int fill[4];
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        (void)connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
    }
    ss_transport t;
    ss_tcp_opts to = {.connect_timeout_ms = 200};
    assert_int_equal(ss_transport_tcp_connect(&t, "127.0.0.1", port, &to), -ETIMEDOUT);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);

    peer p;
    peer_start(&p, NULL, NULL); /* queued by the kernel, never accepted */
    ss_tcp_opts ka = {.keepalive_idle_s = 7, .keepalive_interval_s = 2, .keepalive_count = 4};
    assert_int_equal(ss_transport_tcp_connect(&t, "127.0.0.1", p.port, &ka), 0);
    ss_transport_fd fds[SS_TRANSPORT_MAX_FDS];
    assert_int_equal(t.ops->fds(t.impl, fds, SS_TRANSPORT_MAX_FDS), 1);
    int v = 0;
    socklen_t vlen = sizeof(v);
    assert_int_equal(getsockopt(fds[0].fd, SOL_SOCKET, SO_KEEPALIVE, &v, &vlen), 0);
    assert_int_equal(v, 1);
    assert_int_equal(getsockopt(fds[0].fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, &vlen), 0);
    assert_int_equal(v, 7);
    assert_int_equal(getsockopt(fds[0].fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, &vlen), 0);
    assert_int_equal(v, 2);
    assert_int_equal(getsockopt(fds[0].fd, IPPROTO_TCP, TCP_KEEPCNT, &v, &vlen), 0);
    assert_int_equal(v, 4);
    assert_int_equal(getsockopt(fds[0].fd, IPPROTO_TCP, TCP_NODELAY, &v, &vlen), 0);
    assert_int_equal(v, 1);
    t.ops->close(t.impl);
    peer_stop(&p);
}

/* ---- connecting ---- */

static void hello_peer(int fd, void *arg)
{
    (void)arg;
    send_str(fd, "hello\n");
}

static void test_ipv6_and_listener(void **state)
{
    (void)state;
    peer p;
    peer_start_family(&p, AF_INET6, hello_peer, NULL);
    ss_transport t;
    ss_tcp_opts to = {.connect_timeout_ms = 5000, .keepalive_idle_s = 30};
    assert_int_equal(ss_transport_tcp_connect(&t, "::1", p.port, &to), 0);
    ss_stream *s = NULL;
    assert_int_equal(ss_stream_new(&s, NULL, &t, NULL), 0);
    assert_string_equal(ss_stream_name(s), "tcp");
    char *line;
    size_t len;
    assert_int_equal(ss_stream_read_line(s, 10000, &line, &len, NULL), 0);
    assert_string_equal(line, "hello");
    free(line);
    ss_stream_free(s);
    peer_stop(&p);

    /* the listening side: a stream on the one connection it accepts */
    ss_tcp_listener *l = NULL;
    assert_int_equal(ss_tcp_listener_new(&l, "127.0.0.1", "0"), 0);
    char port[16];
    snprintf(port, sizeof(port), "%d", ss_tcp_listener_port(l));
    assert_int_equal(ss_tcp_listener_accept(l, 0, NULL, &t), -ETIMEDOUT);
    ss_transport client;
    assert_int_equal(ss_transport_tcp_connect(&client, "127.0.0.1", port, NULL), 0);
    assert_int_equal(ss_tcp_listener_accept(l, 5000, NULL, &t), 0);
    ss_stream *a = NULL, *b = NULL;
    assert_int_equal(ss_stream_new(&a, NULL, &t, NULL), 0);
    assert_int_equal(ss_stream_new(&b, NULL, &client, NULL), 0);
    assert_int_equal(ss_stream_write(a, "ping\n", 5, 1000, NULL), 0);
    assert_int_equal(ss_stream_read_until(b, "ping\n", 5, 10000, &line, &len, NULL), 0);
    free(line);
    ss_stream_free(a);
    ss_stream_free(b);
    ss_tcp_listener_free(l);

    /* refused, and unresolvable: the resolver's own answer, not a routing
     * error (SS_ERESOLVE where no name server answers) */
    assert_true(ss_transport_tcp_connect(&t, "127.0.0.1", port, NULL) < 0);
    int rc = ss_transport_tcp_connect(&t, "no-such-host.invalid", "1", NULL);
    if (rc != SS_ENOHOST && rc != SS_ERESOLVE)
        fail_msg("no-such-host.invalid: %d (%s)", rc, ss_strerror(rc));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readme_example),
        cmocka_unit_test(test_readme_example_error_payload),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_one_deadline_per_call),
        cmocka_unit_test(test_eof_mid_pattern),
        cmocka_unit_test(test_regex_at_eof),
        cmocka_unit_test(test_pattern_split_across_reads),
        cmocka_unit_test(test_one_byte_at_a_time),
        cmocka_unit_test(test_expect_patterns),
        cmocka_unit_test(test_read_lines),
        cmocka_unit_test(test_read_lines_payload),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_read_backpressure_loses_nothing),
        cmocka_unit_test(test_write_buffer_cap),
        cmocka_unit_test(test_transport_error_reaches_next_call),
        cmocka_unit_test(test_transport_error_is_sticky),
        cmocka_unit_test(test_close_wakes_blocked_calls),
        cmocka_unit_test(test_shutdown_write_tcp),
        cmocka_unit_test(test_ipv6_and_listener),
        cmocka_unit_test(test_connect_timeout_and_keepalive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
