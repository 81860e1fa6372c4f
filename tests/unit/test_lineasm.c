/* Table-driven tests of the line assembler: every rule of util/lineasm.h. */
#include "test.h"

#include "util/lineasm.h"

typedef struct bytes {
    const char *p;
    size_t n;
} bytes;

#define B(lit) {lit, sizeof(lit) - 1}
#define MAX_PIECES 6
#define SPL SS_LINE_SPLITLINES
#define RDR SS_LINE_CR_REDRAW

typedef struct lineasm_case {
    const char *name;
    size_t max_line;
    unsigned flags;
    bytes feeds[MAX_PIECES];   /* fed one after another; ends at a NULL p */
    bytes records[MAX_PIECES]; /* expected records, in order */
    uint32_t rec_flags[MAX_PIECES];
    bytes partial; /* expected partial line afterwards */
} lineasm_case;

static const lineasm_case cases[] = {
    {"one line", 64, 0, {B("Hello!\n")}, {B("Hello!")}, {0}, B("")},
    {"two lines", 64, 0, {B("a\nb\n")}, {B("a"), B("b")}, {0}, B("")},
    {"a lone break records an empty line", 64, 0, {B("\n")}, {B("")}, {0}, B("")},
    {"no break stays partial", 64, 0, {B("abc")}, {{0}}, {0}, B("abc")},
    {"a line built by several writes", 64, 0, {B("ab"), B("c\n")}, {B("abc")}, {0}, B("")},
    {"crlf ends a line once", 64, 0, {B("a\r\nb\r\n")}, {B("a"), B("b")}, {0}, B("")},
    {"crlf split across writes", 64, 0, {B("a\r"), B("\nb\n")}, {B("a"), B("b")}, {0}, B("")},
    {"crlf on an empty line", 64, 0, {B("\r\n")}, {B("")}, {0}, B("")},
    {"cr redraws a progress bar", 64, 0, {B("50%\r100%\n")}, {B("100%")}, {0}, B("")},
    {"cr overwrites like a terminal", 64, 0, {B("abcdef\rXY\n")}, {B("XYcdef")}, {0}, B("")},
    {"cr keeps the latest redraw partial", 64, 0, {B("step 1\rstep 2\r")}, {{0}}, {0}, B("step 2")},
    {"cr overwrite then longer text", 64, 0, {B("ab\rXYZ"), B("W\n")}, {B("XYZW")}, {0}, B("")},
    {"cr as break",
     64,
     SS_LINE_CR_IS_BREAK,
     {B("a\rb\r\nc\n")},
     {B("a"), B("b"), B("c")},
     {0},
     B("")},
    {"cr as break, crlf split", 64, SS_LINE_CR_IS_BREAK, {B("a\r"), B("\n")}, {B("a")}, {0}, B("")},
    {"cr as break, two crs", 64, SS_LINE_CR_IS_BREAK, {B("\r\r")}, {B(""), B("")}, {0}, B("")},
    {"cr as break, cr then text then lf",
     64,
     SS_LINE_CR_IS_BREAK,
     {B("a\rb\n")},
     {B("a"), B("b")},
     {0},
     B("")},
    {"redraw: each state a record",
     64,
     RDR,
     {B("10%\r20%\r30%\n")},
     {B("10%"), B("20%"), B("30%")},
     {SS_REC_REDRAW, SS_REC_REDRAW, 0},
     B("")},
    {"redraw: a cr first, as progress bars write",
     64,
     RDR,
     {B("\r1/3"), B("\r2/3"), B("\r3/3\n")},
     {B("1/3"), B("2/3"), B("3/3")},
     {SS_REC_REDRAW, SS_REC_REDRAW, 0},
     B("")},
    {"redraw: crlf is a plain break", 64, RDR, {B("a\r\nb\r\n")}, {B("a"), B("b")}, {0}, B("")},
    {"redraw: crlf split across writes",
     64,
     RDR,
     {B("a\r"), B("\nb\n")},
     {B("a"), B("b")},
     {0},
     B("")},
    {"redraw: a cr at the end waits", 64, RDR, {B("50%\r")}, {{0}}, {0}, B("50%")},
    {"redraw: empty states are no records", 64, RDR, {B("\r\r\rx\n")}, {B("x")}, {0}, B("")},
    {"over-long line is cut",
     4,
     0,
     {B("abcdefghij\n")},
     {B("abcd"), B("efgh"), B("ij")},
     {SS_REC_CONTINUED, SS_REC_CONTINUED, 0},
     B("")},
    {"a line of exactly max_line is whole", 4, 0, {B("abcd\n")}, {B("abcd")}, {0}, B("")},
    {"cut across writes",
     4,
     0,
     {B("ab"), B("cdef"), B("gh\n")},
     {B("abcd"), B("efgh")},
     {SS_REC_CONTINUED, 0},
     B("")},
    {"cut without a break keeps the rest partial",
     4,
     0,
     {B("abcdefgh")},
     {B("abcd")},
     {SS_REC_CONTINUED},
     B("efgh")},
    {"NUL bytes are data", 64, 0, {B("a\0b\n")}, {B("a\0b")}, {0}, B("")},
    {"invalid UTF-8 is data", 64, 0, {B("\xff\xfe\xc3\n")}, {B("\xff\xfe\xc3")}, {0}, B("")},
    {"empty write", 64, 0, {B("")}, {{0}}, {0}, B("")},
    {"splitlines: the one-byte breaks",
     64,
     SPL,
     {B("a\vb\fc\x1c"
        "d\x1d"
        "e\x1e"
        "f\n")},
     {B("a"), B("b"), B("c"), B("d"), B("e"), B("f")},
     {0},
     B("")},
    {"splitlines: U+0085, U+2028, U+2029",
     64,
     SPL,
     {B("a\xc2\x85"
        "b\xe2\x80\xa8"
        "c\xe2\x80\xa9"
        "d")},
     {B("a"), B("b"), B("c")},
     {0},
     B("d")},
    {"splitlines: cr breaks, crlf once",
     64,
     SPL,
     {B("a\r\nb\rc\n")},
     {B("a"), B("b"), B("c")},
     {0},
     B("")},
    {"splitlines: near misses are data",
     64,
     SPL,
     {B("\xc2\x86\xe2\x80\xa7\xe2\x81\xa8\xc2\n")},
     {B("\xc2\x86\xe2\x80\xa7\xe2\x81\xa8\xc2")},
     {0},
     B("")},
    {"splitlines: a break split across writes",
     64,
     SPL,
     {B("a\xe2"), B("\x80"),
      B("\xa8"
        "b\n")},
     {B("a"), B("b")},
     {0},
     B("")},
    {"splitlines: a held start that is no break",
     64,
     SPL,
     {B("a\xe2\x80"), B("X\n")},
     {B("a\xe2\x80X")},
     {0},
     B("")},
    {"splitlines: a held start before a break",
     64,
     SPL,
     {B("a\xc2"), B("\n")},
     {B("a\xc2")},
     {0},
     B("")},
    {"splitlines: a held start then another",
     64,
     SPL,
     {B("a\xe2"), B("\xc2\x85")},
     {B("a\xe2")},
     {0},
     B("")},
    {"splitlines: held bytes are cut like others",
     3,
     SPL,
     {B("ab\xe2"), B("\x80X\n")},
     {B("ab\xe2"), B("\x80X")},
     {SS_REC_CONTINUED, 0},
     B("")},
    {"splitlines: a held start waits outside the partial line",
     64,
     SPL,
     {B("ab\xe2\x80")},
     {{0}},
     {0},
     B("ab")},
};

typedef struct collected {
    char text[MAX_PIECES][128];
    size_t len[MAX_PIECES];
    uint32_t flags[MAX_PIECES];
    size_t count;
} collected;

static int collect(void *ctx, const char *text, size_t len, uint32_t flags)
{
    collected *c = ctx;
    assert_true(c->count < MAX_PIECES);
    assert_true(len <= sizeof(c->text[0]));
    memcpy(c->text[c->count], text, len);
    c->len[c->count] = len;
    c->flags[c->count] = flags;
    c->count++;
    return 0;
}

static void run_case(const lineasm_case *tc)
{
    ss__lineasm la;
    collected got = {0};

    assert_int_equal(ss__lineasm_init(&la, tc->max_line, tc->flags, NULL), 0);
    for (size_t i = 0; i < MAX_PIECES && tc->feeds[i].p; i++)
        assert_int_equal(ss__lineasm_feed(&la, tc->feeds[i].p, tc->feeds[i].n, collect, &got), 0);

    size_t want = 0;
    while (want < MAX_PIECES && tc->records[want].p)
        want++;
    if (got.count != want)
        fail_msg("%s: %zu records, expected %zu", tc->name, got.count, want);
    for (size_t i = 0; i < want; i++) {
        if (got.len[i] != tc->records[i].n ||
            memcmp(got.text[i], tc->records[i].p, got.len[i]) != 0)
            fail_msg("%s: record %zu is \"%.*s\"", tc->name, i, (int)got.len[i], got.text[i]);
        if (got.flags[i] != tc->rec_flags[i])
            fail_msg("%s: record %zu has flags %u", tc->name, i, got.flags[i]);
    }
    if (la.len != tc->partial.n || memcmp(la.part, tc->partial.p, la.len) != 0)
        fail_msg("%s: partial line is \"%.*s\"", tc->name, (int)la.len, la.part);
    ss__lineasm_done(&la);
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
}

/* Every case again, fed one byte at a time: splitting the input never changes
 * the result. */
static void test_table_bytewise(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lineasm_case tc = cases[i];
        char joined[256];
        size_t n = 0;
        for (size_t k = 0; k < MAX_PIECES && tc.feeds[k].p; k++) {
            memcpy(joined + n, tc.feeds[k].p, tc.feeds[k].n);
            n += tc.feeds[k].n;
        }
        ss__lineasm la;
        collected got = {0};
        assert_int_equal(ss__lineasm_init(&la, tc.max_line, tc.flags, NULL), 0);
        for (size_t k = 0; k < n; k++)
            assert_int_equal(ss__lineasm_feed(&la, joined + k, 1, collect, &got), 0);
        size_t want = 0;
        while (want < MAX_PIECES && tc.records[want].p)
            want++;
        if (got.count != want)
            fail_msg("%s (bytewise): %zu records, expected %zu", tc.name, got.count, want);
        for (size_t k = 0; k < got.count; k++) {
            if (got.len[k] != tc.records[k].n || memcmp(got.text[k], tc.records[k].p, got.len[k]))
                fail_msg("%s (bytewise): record %zu differs", tc.name, k);
        }
        if (la.len != tc.partial.n || memcmp(la.part, tc.partial.p, la.len) != 0)
            fail_msg("%s (bytewise): partial differs", tc.name);
        ss__lineasm_done(&la);
    }
}

static void test_flush_ends_partial_once(void **state)
{
    (void)state;
    ss__lineasm la;
    collected got = {0};
    assert_int_equal(ss__lineasm_init(&la, 64, 0, NULL), 0);
    assert_int_equal(ss__lineasm_flush(&la, collect, &got), 0);
    assert_int_equal(got.count, 0); /* nothing partial: new_line does nothing */
    assert_int_equal(ss__lineasm_feed(&la, "tail", 4, collect, &got), 0);
    assert_int_equal(ss__lineasm_flush(&la, collect, &got), 0);
    assert_int_equal(ss__lineasm_flush(&la, collect, &got), 0);
    assert_int_equal(got.count, 1);
    assert_memory_equal(got.text[0], "tail", 4);
    ss__lineasm_done(&la);
}

/* A redraw's "\r" that ends the output is no redraw: the flush ends the line. */
static void test_flush_ends_held_cr_as_line(void **state)
{
    (void)state;
    ss__lineasm la;
    collected got = {0};
    assert_int_equal(ss__lineasm_init(&la, 64, SS_LINE_CR_REDRAW, NULL), 0);
    assert_int_equal(ss__lineasm_feed(&la, "100%\r", 5, collect, &got), 0);
    assert_int_equal(got.count, 0);
    assert_int_equal(ss__lineasm_flush(&la, collect, &got), 0);
    assert_int_equal(got.count, 1);
    assert_int_equal(got.flags[0], 0);
    assert_int_equal(got.len[0], 4);
    assert_memory_equal(got.text[0], "100%", 4);
    /* and the next output starts afresh: its first byte decides nothing */
    assert_int_equal(ss__lineasm_feed(&la, "x\n", 2, collect, &got), 0);
    assert_int_equal(got.count, 2);
    assert_int_equal(got.flags[1], 0);
    ss__lineasm_done(&la);
}

static void test_flush_ends_held_bytes_too(void **state)
{
    (void)state;
    ss__lineasm la;
    collected got = {0};
    assert_int_equal(ss__lineasm_init(&la, 64, SS_LINE_SPLITLINES, NULL), 0);
    assert_int_equal(ss__lineasm_feed(&la, "ab\xe2\x80", 4, collect, &got), 0);
    assert_int_equal(got.count, 0);
    assert_int_equal(ss__lineasm_flush(&la, collect, &got), 0);
    assert_int_equal(got.count, 1);
    assert_int_equal(got.len[0], 4);
    assert_memory_equal(got.text[0], "ab\xe2\x80", 4);
    /* a reset forgets held bytes: the next byte cannot complete a break */
    assert_int_equal(ss__lineasm_feed(&la, "c\xe2\x80", 3, collect, &got), 0);
    ss__lineasm_reset(&la);
    assert_int_equal(ss__lineasm_feed(&la, "\xa8\n", 2, collect, &got), 0);
    assert_int_equal(got.count, 2);
    assert_int_equal(got.len[1], 1);
    assert_memory_equal(got.text[1], "\xa8", 1);
    ss__lineasm_done(&la);
}

static int fail_second(void *ctx, const char *text, size_t len, uint32_t flags)
{
    int *calls = ctx;
    (void)text, (void)len, (void)flags;
    return ++*calls == 2 ? -EPIPE : 0;
}

static void test_emit_error_stops_feed(void **state)
{
    (void)state;
    ss__lineasm la;
    int calls = 0;
    assert_int_equal(ss__lineasm_init(&la, 64, 0, NULL), 0);
    assert_int_equal(ss__lineasm_feed(&la, "a\nb\nc\n", 6, fail_second, &calls), -EPIPE);
    assert_int_equal(calls, 2);
    ss__lineasm_done(&la);
}

static void test_external_storage(void **state)
{
    (void)state;
    char storage[16];
    ss__lineasm la;
    collected got = {0};
    assert_int_equal(ss__lineasm_init(&la, sizeof(storage), 0, storage), 0);
    assert_int_equal(ss__lineasm_feed(&la, "kept here", 9, collect, &got), 0);
    assert_int_equal(got.count, 0);
    assert_memory_equal(storage, "kept here", 9);
    assert_int_equal(la.len, 9);
    ss__lineasm_done(&la); /* leaves caller-owned storage alone */
    assert_memory_equal(storage, "kept here", 9);
}

/* ss__lineasm_plain: a feed it calls plain emits nothing, for every feed of
 * the table, whole or byte by byte; and it calls plain what it should. */
static void check_plain_feeds(const lineasm_case *tc, size_t step)
{
    ss__lineasm la;
    collected got = {0};
    assert_int_equal(ss__lineasm_init(&la, tc->max_line, tc->flags, NULL), 0);
    for (size_t i = 0; i < MAX_PIECES && tc->feeds[i].p; i++) {
        for (size_t at = 0; at < tc->feeds[i].n; at += step) {
            const char *p = tc->feeds[i].p + at;
            size_t n = step < tc->feeds[i].n - at ? step : tc->feeds[i].n - at;
            bool plain = ss__lineasm_plain(&la, p, n);
            size_t before = got.count;
            assert_int_equal(ss__lineasm_feed(&la, p, n, collect, &got), 0);
            if (plain && got.count != before)
                fail_msg("%s: a feed called plain emitted a record", tc->name);
        }
    }
    ss__lineasm_done(&la);
}

static void test_plain(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_plain_feeds(&cases[i], SIZE_MAX);
        check_plain_feeds(&cases[i], 1);
    }
    ss__lineasm la;
    collected got = {0};
    assert_int_equal(ss__lineasm_init(&la, 8, SPL, NULL), 0);
    assert_true(ss__lineasm_plain(&la, "worker", 6));
    assert_true(ss__lineasm_plain(&la, "", 0));
    assert_true(ss__lineasm_plain(&la, "caf\xc3\xa9", 5)); /* other UTF-8 is plain */
    assert_false(ss__lineasm_plain(&la, "a\n", 2));
    assert_false(ss__lineasm_plain(&la, "a\r", 2));
    assert_false(ss__lineasm_plain(&la, "\f", 1));
    assert_false(ss__lineasm_plain(&la, "\xe2\x80\xa6", 3)); /* may start a break */
    assert_false(ss__lineasm_plain(&la, "123456789", 9));    /* would be cut */
    assert_int_equal(ss__lineasm_feed(&la, "1234\xe2", 5, collect, &got), 0);
    assert_false(ss__lineasm_plain(&la, "x", 1)); /* a byte is held */
    ss__lineasm_done(&la);
    assert_int_equal(ss__lineasm_init(&la, 64, 0, NULL), 0);
    assert_true(ss__lineasm_plain(&la, "\f\xe2", 2)); /* only \n and \r break */
    assert_false(ss__lineasm_plain(&la, "a\rb", 3));
    ss__lineasm_done(&la);
    assert_int_equal(got.count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_bytewise),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_flush_ends_partial_once),
        cmocka_unit_test(test_flush_ends_held_bytes_too),
        cmocka_unit_test(test_flush_ends_held_cr_as_line),
        cmocka_unit_test(test_emit_error_stops_feed),
        cmocka_unit_test(test_external_storage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
