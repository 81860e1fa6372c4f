/*
 * The stream's buffers under allocation failures, over a socketpair
 * transport: a write queued whole in the write buffer (the transport refuses
 * the first try), lines arriving through the read buffer as it grows, line
 * reads, an expect of an exact pattern and a regular expression. A call that succeeds must have
 * done all its work: a write's bytes all reach the peer, an expect finds its pattern. A failed call
 * says -ENOMEM; what it leaves must still come out in order (a failed write: exactly the bytes its
 * payload counts as written; reads: the next lines, or -ENOMEM again when the I/O thread lost bytes
 * it could not store). The counter is shared with the I/O thread, whose allocations are numbered as
 * they come.
 */
#include <poll.h>
#include <stdio.h>

#include "fault.h"
#include "pair_transport.h"

#define WRITE_BYTES (64 * 1024)
#define LINES 150

typedef struct stream_case {
    char *out;  /* what the stream writes */
    char *back; /* what the device reads */
} stream_case;

/* Read exactly n bytes from the device, each wait bounded. */
static void dev_read(int dev, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd pfd = {dev, POLLIN, 0};
        assert_int_equal(poll(&pfd, 1, 10000), 1);
        ssize_t r = read(dev, buf + got, n - got);
        assert_true(r > 0);
        got += (size_t)r;
    }
}

/* Write: all of it reaches the device, or -ENOMEM and exactly the bytes the
 * payload counts (after a flush with allocations working). false: stop. */
static bool write_step(stream_case *sc, ss_stream *s, int dev)
{
    ss_stream_payload p = {0};
    int rc = ss_stream_write(s, sc->out, WRITE_BYTES, 5000, &p);
    size_t written = rc == 0 ? WRITE_BYTES : p.written;
    bool stop = FAULT_STOP(rc);
    /* the payload's copy may fail too (persistent failures): then it is NULL,
     * and written still counts */
    if (stop && p.unsent)
        assert_true(p.unsent_len >= WRITE_BYTES - written);
    ss_stream_payload_clear(&p);
    fault_pause();
    assert_int_equal(ss_stream_flush(s, 10000, NULL), 0);
    fault_resume();
    dev_read(dev, sc->back, written);
    assert_memory_equal(sc->back, sc->out, written);
    struct pollfd pfd = {dev, POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 0), 0); /* and nothing more */
    return !stop;
}

/* Lines come out in order; after a -ENOMEM (allocations working again) the
 * rest still does, unless the read side itself ended with -ENOMEM. false:
 * stop. */
static bool read_step(ss_stream *s, int dev)
{
    char line[32];
    for (int i = 0; i < LINES; i++) {
        int n = snprintf(line, sizeof(line), "r%04d\n", i);
        assert_int_equal(write(dev, line, (size_t)n), n);
    }
    for (int i = 0; i < LINES; i++) {
        char *got = NULL;
        size_t len;
        int rc = ss_stream_read_line(s, 10000, &got, &len, NULL);
        if (FAULT_STOP(rc)) {
            fault_pause();
            rc = ss_stream_read_line(s, 10000, &got, &len, NULL);
            fault_resume();
            if (rc == -ENOMEM)
                return false; /* the I/O thread could not store bytes: the read side ended */
            assert_int_equal(rc, 0);
        }
        snprintf(line, sizeof(line), "r%04d", i);
        assert_int_equal(len, 5);
        assert_string_equal(got, line);
        free(got);
    }
    return true;
}

/* expect: the matching pattern and what came before it, or -ENOMEM with
 * nothing taken (the same expect then finds the same). */
static void expect_step(ss_stream *s, int dev)
{
    const char *sent = "noise 12 prompt> tail";
    assert_int_equal(write(dev, sent, strlen(sent)), (ssize_t)strlen(sent));
    ss_pattern pats[] = {{.text = "login:"}, {.text = "pro[m]pt> ", .kind = SS_PATTERN_REGEX}};
    ss_stream_match m = {0};
    int rc = ss_stream_expect(s, pats, 2, 10000, &m, NULL);
    if (FAULT_STOP(rc)) {
        fault_pause();
        rc = ss_stream_expect(s, pats, 2, 10000, &m, NULL);
        fault_resume();
    }
    assert_int_equal(rc, 1);
    assert_int_equal(m.len, 17);
    assert_memory_equal(m.data, sent, 17);
    assert_int_equal(m.match_start, 9);
    ss_stream_match_clear(&m);
}

static void scenario(void *ctx)
{
    stream_case *sc = ctx;
    ss_stream *s = NULL;
    ss_transport t;
    int dev;
    fault_pause();
    pair_transport(&t, &dev, &(pair_knobs){.eagain_writes = 1});
    fault_resume();
    ss_stream_opts o = {.read_cap = 1 << 20, .write_cap = 1 << 20};
    if (FAULT_STOP(ss_stream_new(&s, NULL, &t, &o)))
        goto out;
    if (write_step(sc, s, dev) && read_step(s, dev))
        expect_step(s, dev);
    ss_stream_free(s);
out:
    close(dev);
}

static void test_stream(void **state)
{
    (void)state;
    stream_case sc = {malloc(WRITE_BYTES), malloc(WRITE_BYTES)};
    assert_non_null(sc.out);
    assert_non_null(sc.back);
    for (size_t i = 0; i < WRITE_BYTES; i++)
        sc.out[i] = (char)('a' + i % 26);
    fault_run("stream", scenario, &sc);
    free(sc.out);
    free(sc.back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
