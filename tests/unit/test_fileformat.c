/* The text format of a syncstream log file: record lines and the header, their
 * escapes and their CRC, with no file involved. */
#include "test.h"

#include "file/format.h"
#include "util/crc32c.h"

/* Both versions of the record line. */
static const unsigned versions[] = {SS__FILE_VERSION_1, SS__FILE_VERSION};

/* Format one record of version v into a fresh buffer (without its '\n' in
 * *ret_len). */
static char *format_one(unsigned v, uint64_t seq, int64_t t, ss_kind kind, uint32_t flags,
                        const char *src, const char *text, size_t len, size_t *ret_len)
{
    ss__buf b;
    ss__time_cache tc = SS__TIME_CACHE_INIT;
    ss__buf_init(&b, SIZE_MAX);
    assert_int_equal(ss__file_rec_format(&b, &tc, v, seq, t, kind, flags, 0, src, text, len), 0);
    assert_true(b.len > 0 && b.data[b.len - 1] == '\n');
    assert_null(memchr(b.data, '\n', b.len - 1));
    *ret_len = b.len - 1;
    return b.data;
}

static void check_hello(unsigned v, const char *line, size_t n, int64_t t)
{
    ss__file_rec r;
    char text[64];
    size_t tlen;
    assert_int_equal(ss__file_rec_parse(v, line, n, &r, text, &tlen), 0);
    assert_int_equal(r.seq, 42);
    assert_int_equal(r.time_ns, t);
    assert_int_equal(r.kind, SS_KIND_LINE);
    assert_int_equal(r.flags, 0);
    assert_string_equal(r.source, "worker-1");
    assert_int_equal(tlen, 11);
    assert_memory_equal(text, "hello world", 11);
    /* a line of the other version is not one of this file's */
    unsigned other = v == SS__FILE_VERSION ? SS__FILE_VERSION_1 : SS__FILE_VERSION;
    assert_int_equal(ss__file_rec_parse(other, line, n, &r, NULL, NULL), SS_ECORRUPT);
}

static void test_readable_line(void **state)
{
    (void)state;
    size_t n;
    /* 2026-11-22T00:43:19.123456789Z */
    int64_t t = 1795308199LL * 1000000000LL + 123456789;
    const char *head = "42 2026-11-22T00:43:19.123456789Z worker-1 line ";

    /* version 1: the check ends the line */
    char *line =
        format_one(SS__FILE_VERSION_1, 42, t, SS_KIND_LINE, 0, "worker-1", "hello world", 11, &n);
    const char *want = "42 2026-11-22T00:43:19.123456789Z worker-1 line hello world #";
    assert_true(n == strlen(want) + 8);
    assert_memory_equal(line, want, strlen(want));
    check_hello(SS__FILE_VERSION_1, line, n, t);
    free(line);

    /* version 2: the check before a tab, the text at the end of the line (what
     * grep 'world$' needs), and its CRC that of the line without " CRC" */
    line = format_one(SS__FILE_VERSION, 42, t, SS_KIND_LINE, 0, "worker-1", "hello world", 11, &n);
    assert_true(n == strlen(head) + 8 + 1 + 11);
    assert_memory_equal(line, head, strlen(head));
    assert_memory_equal(line + strlen(head) + 8, "\thello world", 12);
    char body[128];
    snprintf(body, sizeof(body), "%.*s\thello world", (int)strlen(head) - 1, line);
    char hex[9];
    snprintf(hex, sizeof(hex), "%08x", ss__crc32c(body, strlen(body)));
    assert_memory_equal(line + strlen(head), hex, 8);
    check_hello(SS__FILE_VERSION, line, n, t);
    free(line);
}

static void test_escapes_round_trip(void **state)
{
    (void)state;
    /* every byte value, line breaks, backslashes, a NUL and invalid UTF-8 */
    char text[300];
    for (int i = 0; i < 256; i++)
        text[i] = (char)i;
    memcpy(text + 256, "a\\nb\r\n\t\\x41 \xff\xfe", 14);
    const char *sources[] = {"", "-", "a b", "back\\slash", "tab\there", "x-y", "\x7f"};
    for (size_t k = 0; k < 2 * sizeof(sources) / sizeof(sources[0]); k++) {
        size_t n, s = k / 2;
        unsigned v = versions[k % 2];
        char *line = format_one(v, 7, 5, SS_KIND_ERROR, SS_REC_STDERR | SS_REC_CONTINUED,
                                sources[s], text, 270, &n);
        /* Readable as a text line: no raw control byte at all, but version 2's
         * one tab before the text. */
        size_t tabs = 0;
        for (size_t i = 0; i < n; i++) {
            tabs += line[i] == '\t';
            assert_true(line[i] == '\t' || ((unsigned char)line[i] >= 0x20 && line[i] != 0x7f));
        }
        assert_int_equal(tabs, v == SS__FILE_VERSION);
        ss__file_rec r;
        char *out = malloc(n);
        size_t tlen;
        assert_int_equal(ss__file_rec_parse(v, line, n, &r, out, &tlen), 0);
        assert_int_equal(tlen, 270);
        assert_memory_equal(out, text, 270);
        assert_string_equal(r.source, sources[s]);
        assert_int_equal(r.kind, SS_KIND_ERROR);
        assert_int_equal(r.flags, SS_REC_STDERR | SS_REC_CONTINUED);
        /* in place, as the reader does it */
        assert_int_equal(ss__file_rec_parse(v, line, n, &r, line, &tlen), 0);
        assert_memory_equal(line, text, 270);
        free(out);
        free(line);
    }
}

static void test_empty_text_and_kinds(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        unsigned v = versions[k];
        size_t n;
        char *line = format_one(v, 1, 0, SS_KIND_WARNING, SS_REC_EXIT, "", "", 0, &n);
        const char *want = "1 1970-01-01T00:00:00.000000000Z - warning,exit ";
        assert_memory_equal(line, want, strlen(want));
        if (v == SS__FILE_VERSION_1)
            assert_int_equal(line[strlen(want)], ' '); /* an empty TEXT, then " #CRC" */
        else
            assert_int_equal(line[n - 1], '\t'); /* the line ends with the empty TEXT */
        ss__file_rec r;
        size_t tlen = 99;
        char text[8];
        assert_int_equal(ss__file_rec_parse(v, line, n, &r, text, &tlen), 0);
        assert_int_equal(tlen, 0);
        assert_string_equal(r.source, "");
        assert_int_equal(r.kind, SS_KIND_WARNING);
        assert_int_equal(r.flags, SS_REC_EXIT);
        free(line);
    }
}

/* Every single-byte change, and every cut, of a line is detected. */
static void test_damage_detected(void **state)
{
    (void)state;
    for (size_t k = 0; k < 2; k++) {
        unsigned v = versions[k];
        size_t n;
        char *line =
            format_one(v, 123, 1700000000000000000LL, SS_KIND_LINE, 0, "src", "some text", 9, &n);
        ss__file_rec r;
        uint64_t seq = 0; /* scanning's check, the CRC and seq only, too */
        for (size_t i = 0; i < n; i++) {
            char saved = line[i];
            for (int d = 1; d < 256; d += 37) {
                line[i] = (char)(saved + d);
                assert_int_equal(ss__file_rec_parse(v, line, n, &r, NULL, NULL), SS_ECORRUPT);
                assert_int_equal(ss__file_rec_seq(v, line, n, &seq), SS_ECORRUPT);
            }
            line[i] = saved;
        }
        for (size_t cut = 0; cut < n; cut++) {
            assert_int_equal(ss__file_rec_parse(v, line, cut, &r, NULL, NULL), SS_ECORRUPT);
            assert_int_equal(ss__file_rec_seq(v, line, cut, &seq), SS_ECORRUPT);
        }
        assert_int_equal(ss__file_rec_parse(v, line, n, &r, NULL, NULL), 0);
        assert_int_equal(ss__file_rec_seq(v, line, n, &seq), 0);
        assert_int_equal(seq, 123);
        free(line);
    }
}

static void test_header(void **state)
{
    (void)state;
    ss__buf b;
    ss__buf_init(&b, SIZE_MAX);
    ss__file_hdr h = {.version = SS__FILE_VERSION,
                      .maxlen = 1000,
                      .limit = 2000,
                      .max_bytes = 0,
                      .base = 17},
                 got;
    assert_int_equal(ss__file_hdr_format(&b, &h), 0);
    const char *want = "#syncstream-file 2 maxlen=1000 limit=2000 max-bytes=0 base=17\n";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    assert_int_equal(ss__file_hdr_parse(b.data, b.len - 1, &got), 0);
    assert_int_equal(got.version, 2);
    ss__buf_reset(&b);
    h.version = SS__FILE_VERSION_1;
    assert_int_equal(ss__file_hdr_format(&b, &h), 0);
    assert_memory_equal(b.data, "#syncstream-file 1 maxlen=1000 ", 31);
    assert_int_equal(ss__file_hdr_parse(b.data, b.len - 1, &got), 0);
    assert_int_equal(got.version, 1);
    assert_int_equal(got.maxlen, 1000);
    assert_int_equal(got.limit, 2000);
    assert_int_equal(got.base, 17);
    ss__buf_free(&b);

    const char *not_ours = "hello, I am a config file";
    assert_int_equal(ss__file_hdr_parse(not_ours, strlen(not_ours), &got), SS_EFORMAT);
    const char *newer = "#syncstream-file 3 whatever";
    assert_int_equal(ss__file_hdr_parse(newer, strlen(newer), &got), SS_EFORMAT);
    const char *damaged = "#syncstream-file 1 maxlen=10 limit=5 max-bytes=0 base=0";
    assert_int_equal(ss__file_hdr_parse(damaged, strlen(damaged), &got), SS_ECORRUPT);
    const char *cut = "#syncstream-file 1 maxlen=10 li";
    assert_int_equal(ss__file_hdr_parse(cut, strlen(cut), &got), SS_ECORRUPT);
    assert_true(ss__file_magic_prefix("#syncs", 6));
    assert_false(ss__file_magic_prefix("#!/bin/sh", 9));
}

/* Rewrite the CRC of a version-1 line after an edit. */
static void fix_crc(char *line, size_t n)
{
    char hex[9];
    snprintf(hex, sizeof(hex), "%08x", ss__crc32c(line, n - 9));
    memcpy(line + n - 8, hex, 8);
}

static void test_times(void **state)
{
    (void)state;
    /* leap days, the end of a year, far dates */
    const int64_t secs[] = {0,
                            951782400 /* 2000-02-29 */,
                            1709164800 /* 2024-02-29 */,
                            1735689599 /* 2024-12-31T23:59:59 */,
                            4102444800 /* 2100-01-01 */,
                            9223372035 /* 2262-04-11T23:47:15, near the end of int64 ns */};
    ss__buf b;
    ss__buf_init(&b, SIZE_MAX);
    ss__time_cache tc = SS__TIME_CACHE_INIT;
    for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
        int64_t t = secs[i] * 1000000000 + 999999999;
        ss__buf_reset(&b);
        unsigned v = versions[i % 2];
        assert_int_equal(ss__file_rec_format(&b, &tc, v, 1, t, SS_KIND_LINE, 0, 0, "s", "x", 1), 0);
        ss__file_rec r;
        assert_int_equal(ss__file_rec_parse(v, b.data, b.len - 1, &r, NULL, NULL), 0);
        assert_int_equal(r.time_ns, t);
    }
    /* the last instant int64 nanoseconds can hold */
    ss__buf_reset(&b);
    assert_int_equal(ss__file_rec_format(&b, &tc, SS__FILE_VERSION_1, 1, INT64_MAX, SS_KIND_LINE, 0,
                                         0, "s", "x", 1),
                     0);
    ss__file_rec r;
    assert_int_equal(ss__file_rec_parse(SS__FILE_VERSION_1, b.data, b.len - 1, &r, NULL, NULL), 0);
    assert_int_equal(r.time_ns, INT64_MAX);
    assert_memory_equal(b.data, "1 2262-04-11T23:47:16.854775807Z", 32);
    /* one nanosecond more cannot be parsed, even with a right CRC */
    b.data[30] = '8';
    fix_crc(b.data, b.len - 1);
    assert_int_equal(ss__file_rec_parse(SS__FILE_VERSION_1, b.data, b.len - 1, &r, NULL, NULL),
                     SS_ECORRUPT);
    ss__buf_reset(&b);
    assert_int_equal(ss__file_rec_format(&b, &tc, SS__FILE_VERSION, 1, 951782400LL * 1000000000,
                                         SS_KIND_LINE, 0, 0, "s", "x", 1),
                     0);
    assert_memory_equal(b.data, "1 2000-02-29T00:00:00.000000000Z", 32);
    ss__buf_free(&b);
}

/* CRC-32C: the check value, and the processor's instruction (where there is
 * one) against the table, on every length and alignment up to 64. */
static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(ss__crc32c("123456789", 9), 0xe3069283u);
    assert_int_equal(ss__crc32c_portable("123456789", 9), 0xe3069283u);
    assert_int_equal(ss__crc32c("", 0), 0);
    char buf[80];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (char)(i * 37 + 11);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= 72; len++) {
            assert_int_equal(ss__crc32c(buf + off, len), ss__crc32c_portable(buf + off, len));
            /* in two pieces, as a version-2 line is checked */
            uint32_t a = ss__crc32c(buf + off, len / 3);
            assert_int_equal(ss__crc32c_extend(a, buf + off + len / 3, len - len / 3),
                             ss__crc32c(buf + off, len));
        }
}

/* A text too long for its escaped size to fit in a size_t: the size no longer
 * wraps around to a small reservation that escaping then overruns. */
static void test_rest_size_never_wraps(void **state)
{
    (void)state;
    ss__buf b;
    ss__time_cache tc = SS__TIME_CACHE_INIT;
    ss__buf_init(&b, SIZE_MAX);
    assert_int_equal(ss__file_rest_max(5, SIZE_MAX / 4), SIZE_MAX);
    assert_int_equal(
        ss__file_rec_format_rest(&b, &tc, 0, SS_KIND_LINE, 0, 0, "s", "x", SIZE_MAX / 4), -ENOMEM);
    assert_int_equal(b.len, 0);
    assert_int_equal(ss__file_rec_finish(&b, SS__FILE_VERSION, 1, "x", SIZE_MAX - 8), -ENOMEM);
    assert_int_equal(b.len, 0);
    ss__buf_free(&b);
}

/* A producer id rides in KIND after the flags, in both versions; none (0) is
 * written as before, and only a canonical nonzero 32-bit number parses. */
static void test_producer_field(void **state)
{
    (void)state;
    ss__buf b;
    ss__time_cache tc = SS__TIME_CACHE_INIT;
    ss__file_rec r;
    ss__buf_init(&b, SIZE_MAX);
    for (size_t i = 0; i < 2; i++) {
        unsigned v = i ? SS__FILE_VERSION : SS__FILE_VERSION_1;
        ss__buf_reset(&b);
        assert_int_equal(ss__file_rec_format(&b, &tc, v, 5, 0, SS_KIND_LINE, SS_REC_STDERR,
                                             4294967295u, "w", "hi", 2),
                         0);
        assert_non_null(memmem(b.data, b.len, " line,stderr,producer=4294967295", 32));
        assert_int_equal(ss__file_rec_parse(v, b.data, b.len - 1, &r, NULL, NULL), 0);
        assert_int_equal(r.producer, 4294967295u);
        assert_int_equal(r.flags, SS_REC_STDERR);
        ss__buf_reset(&b);
        assert_int_equal(ss__file_rec_format(&b, &tc, v, 5, 0, SS_KIND_LINE, 0, 0, "w", "hi", 2),
                         0);
        assert_null(memmem(b.data, b.len, "producer", 8));
        assert_int_equal(ss__file_rec_parse(v, b.data, b.len - 1, &r, NULL, NULL), 0);
        assert_int_equal(r.producer, 0);
    }
    /* the lines below differ from a good one only in the number */
    static const char *const bad[] = {"12", "0", "007", "4294967296", "", "1x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char line[200];
        int n =
            snprintf(line, sizeof(line),
                     "1 2026-11-22T00:43:19.123456789Z w line,producer=%s hi #00000000", bad[i]);
        fix_crc(line, (size_t)n);
        assert_int_equal(ss__file_rec_parse(SS__FILE_VERSION_1, line, (size_t)n, &r, NULL, NULL),
                         i == 0 ? 0 : SS_ECORRUPT);
    }
    ss__buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_producer_field),
        cmocka_unit_test(test_readable_line),
        cmocka_unit_test(test_escapes_round_trip),
        cmocka_unit_test(test_empty_text_and_kinds),
        cmocka_unit_test(test_damage_detected),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_rest_size_never_wraps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
