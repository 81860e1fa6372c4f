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
    late_send l = {dev, big, n + 8, 100};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, late_send_main, &l), 0);
    ss_pattern re = {.text = "[a-z]+> ", .kind = SS_PATTERN_REGEX};
    ss_stream_match m = {0};
    assert_int_equal(ss_stream_expect(s, &re, 1, 5000, &m, NULL), 0);
    assert_int_equal(m.len, 8);
    assert_memory_equal(m.data, "prompt> ", 8);
    ss_stream_match_clear(&m);
    pthread_join(th, NULL);
    free(big);
    close(dev);
    ss_stream_free(s);
}

/* A partial match that grows past the window is given up, but only its own
 * start: a short match after it, never tried while it was partial, is found. */
static void test_regex_long_partial_gives_up_only_its_start(void **state)
{
    (void)state;
    int dev;
    ss_stream *s = pair_stream(NULL, NULL, &dev, NULL);
    size_t n = SS_STREAM_REGEX_WINDOW + 1000;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, '-', n);
    memcpy(big, "a b", 3);
    ss_pattern re = {.text = "a.*z|b", .kind = SS_PATTERN_REGEX};
    ss_stream_match m = {0};
    /* "a b": a partial match of a.*z at 0; b is not tried yet */
    send_all(dev, big, 3);
    assert_int_equal(ss_stream_expect(s, &re, 1, 200, &m, NULL), -ETIMEDOUT);
    late_send l = {dev, big + 3, n - 3, 50};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, late_send_main, &l), 0);
    assert_int_equal(ss_stream_expect(s, &re, 1, 5000, &m, NULL), 0);
    assert_int_equal(m.len, 3);
    assert_int_equal(m.match_start, 2);
    ss_stream_match_clear(&m);
    pthread_join(th, NULL);
    free(big);
    close(dev);
    ss_stream_free(s);
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

    /* "é yZ" and more than a window: the partial match of "é.*X" at the é
     * is given up, and the search goes on one byte on, inside the é */
    size_t n = SS_STREAM_REGEX_WINDOW + 100;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, '-', n);
    memcpy(big, "\xc3\xa9 yZ", 5);
    ss_pattern re2 = {.text = "\xc3\xa9.*X|yZ", .kind = SS_PATTERN_REGEX,
                      .pcre2_options = PCRE2_UTF};
    send_all(dev, big, 5);
    assert_int_equal(ss_stream_expect(s, &re2, 1, 100, &m, NULL), -ETIMEDOUT);
    late_send l = {dev, big + 5, n - 5, 50};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, late_send_main, &l), 0);
    assert_int_equal(ss_stream_expect(s, &re2, 1, 5000, &m, NULL), 0);
    assert_int_equal(m.len, 5);
    assert_int_equal(m.match_start, 3);
    ss_stream_match_clear(&m);
    pthread_join(th, NULL);
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
    late_send l = {dev, "\xa9!", 2, 100};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, late_send_main, &l), 0);
    ss_pattern re = {.text = "\xc3\xa9", .kind = SS_PATTERN_REGEX, .pcre2_options = PCRE2_UTF};
    ss_stream_match m = {0};
    assert_int_equal(ss_stream_expect(s, &re, 1, 5000, &m, NULL), 0);
    assert_int_equal(m.match_start, 3);
    assert_int_equal(m.len, 5);
    ss_stream_match_clear(&m);
    pthread_join(th, NULL);
    close(dev);
    ss_stream_free(s);
}

/* ---- reading at the read buffer's cap ---- */

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

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regex_finds_match_far_behind_end),
        cmocka_unit_test(test_regex_finds_match_in_big_arrival),
        cmocka_unit_test(test_regex_long_partial_gives_up_only_its_start),
        cmocka_unit_test(test_utf_regex_eof_mid_character),
        cmocka_unit_test(test_utf_regex_over_noise),
        cmocka_unit_test(test_utf_regex_character_split_across_arrivals),
        cmocka_unit_test(test_read_resumes_for_bytes_that_fit),
        cmocka_unit_test(test_first_arrival_does_not_pause_reading),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
