/*
 * The line buffer (heap ring) under allocation failures: creating it and a
 * writer, writes that complete many lines and grow the ring's arena, reads,
 * cursor reads. After a failure the buffer must still take and give back
 * records, in order, and free without a leak.
 */
#include <stdio.h>

#include "fault.h"

#define LINES 1500 /* 1500 lines of 60 bytes: past the arena's first 64 KiB */

#define LINES_CAP (70 * LINES)

/* "<tag><number>" padded to 60 bytes, then "\n"; out holds LINES_CAP bytes. */
static size_t make_lines(char *out, char tag, int from, int n)
{
    size_t len = 0;
    for (int i = from; i < from + n; i++) {
        int k = snprintf(out + len, LINES_CAP - len, "%c%05d-%053d\n", tag, i, 0);
        assert_true(k == 61 && (size_t)k < LINES_CAP - len);
        len += (size_t)k;
    }
    return len;
}

/* Every record holds a line of one of the writers whole, and each writer's
 * lines come in increasing order, none twice: what a failure drops is a
 * call's rest, never a line's bytes or the order. */
static void check_records(const ss_records *set)
{
    int last_a = -1, last_d = -1;
    for (size_t i = 0; i < set->count; i++) {
        const ss_record *r = &set->items[i];
        if (r->len == 5 && memcmp(r->text, "check", 5) == 0)
            continue;
        /* the default writer's partial line, in the view or ended by
         * check_usable() */
        bool ended = i + 1 < set->count && set->items[i + 1].len == 5 && r->text[0] == 'd';
        if (!ended && !(r->flags & SS_REC_PARTIAL))
            assert_int_equal(r->len, 60);
        int n = atoi(r->text + 1);
        int *last = r->text[0] == 'a' ? &last_a : &last_d;
        assert_true(r->text[0] == 'a' || r->text[0] == 'd');
        assert_true(n > *last);
        *last = n;
        if (i > 0)
            assert_true(r->seq > set->items[i - 1].seq || (r->flags & SS_REC_PARTIAL));
    }
}

/* With allocations working again, the buffer still stores and reads back. */
static void check_usable(ss_linebuf *lb)
{
    fault_pause();
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_append(lb, SS_KIND_LINE, "check", 5), 0);
    int n = ss_linebuf_read(lb, SS_READ_ALL, &set);
    assert_true(n >= 1);
    assert_memory_equal(set.items[n - 1].text, "check", 5);
    check_records(&set);
    ss_records_clear(&set);
    fault_resume();
}

static void scenario(void *ctx)
{
    char *lines = ctx;
    ss_linebuf *lb = NULL;
    ss_writer *w = NULL;
    ss_records set = SS_RECORDS_INIT;
    ss_linebuf_opts opts = {.maxlen = 4 * LINES, .max_line = 100, .max_bytes = 1 << 20};

    if (FAULT_STOP(ss_linebuf_new(&lb, &opts)))
        return;
    if (FAULT_STOP(ss_writer_new(&w, lb, "a", 0)))
        goto out_check;

    size_t len = make_lines(lines, 'a', 0, LINES);
    /* a partial line first, completed by the big write */
    if (FAULT_STOP(ss_writer_write(w, lines, 30)) ||
        FAULT_STOP(ss_writer_write(w, lines + 30, len - 30)))
        goto out_check;
    len = make_lines(lines, 'd', 0, LINES);
    if (FAULT_STOP(ss_linebuf_write(lb, lines, len - 20)))
        goto out_check;
    if (FAULT_STOP(ss_linebuf_read(lb, SS_READ_ALL, &set)))
        goto out_check;
    /* the whole view: both writers' lines and the default writer's partial */
    assert_int_equal(set.count, 2 * LINES);
    check_records(&set);
    if (FAULT_STOP(ss_linebuf_read_since(lb, LINES, 100, &set)))
        goto out_check;
    assert_int_equal(set.count, 100);
    if (FAULT_STOP(ss_linebuf_follow(lb, 2 * LINES - 2, 0, 1000, &set)))
        goto out_check;
    assert_int_equal(set.count, 1);
    if (FAULT_STOP(ss_writer_write(w, "a99999", 6)))
        goto out_check;
    if (FAULT_STOP(ss_writer_close(w))) {
        w = NULL; /* closed even when its last line could not be stored */
        goto out_check;
    }
    w = NULL;
    ss_records_clear(&set);
    ss_linebuf_free(lb);
    return;

out_check:
    check_usable(lb);
    ss_records_clear(&set);
    fault_pause();
    if (w)
        assert_int_equal(ss_writer_close(w), 0);
    fault_resume();
    ss_linebuf_free(lb);
}

/* A partial line that a failed call was to complete stays whole: the ring
 * needs to grow (its first 64 KiB are full) just when the line completes. */
static void scenario_partial(void *ctx)
{
    char *lines = ctx;
    ss_linebuf *lb = NULL;
    ss_records set = SS_RECORDS_INIT;
    ss_linebuf_opts opts = {.maxlen = 4 * LINES, .max_line = 100, .max_bytes = 1 << 20};

    if (FAULT_STOP(ss_linebuf_new(&lb, &opts)))
        return;
    /* 1024 records of 60 bytes fill the arena's first 64 KiB exactly */
    size_t len = make_lines(lines, 'd', 0, 1025);
    if (FAULT_STOP(ss_linebuf_write(lb, lines, 1024 * 61 + 30)))
        goto out;
    int rc = ss_linebuf_write(lb, lines + 1024 * 61 + 30, len - 1024 * 61 - 30);
    if (FAULT_STOP(rc)) {
        fault_pause();
        assert_int_equal(ss_linebuf_read(lb, 1, &set), 1);
        assert_true(set.items[0].flags & SS_REC_PARTIAL);
        assert_int_equal(set.items[0].len, 30);
        assert_memory_equal(set.items[0].text, lines + 1024 * 61, 30);
        /* the same call again completes it */
        assert_int_equal(ss_linebuf_write(lb, lines + 1024 * 61 + 30, len - 1024 * 61 - 30), 0);
        fault_resume();
    }
    fault_pause();
    assert_int_equal(ss_linebuf_read(lb, 1, &set), 1);
    assert_int_equal(set.items[0].len, 60);
    assert_memory_equal(set.items[0].text, lines + 1024 * 61, 60);
    fault_resume();
out:
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

/* A full ring (maxlen records, its first 64 KiB full) takes a record larger
 * than its oldest: the oldest must go only if the new one is stored. */
static void scenario_full(void *ctx)
{
    char *lines = ctx;
    ss_linebuf *lb = NULL;
    ss_records set = SS_RECORDS_INIT;
    ss_linebuf_opts opts = {.maxlen = 1024, .max_line = 100, .max_bytes = 1 << 20};
    char big[101];
    memset(big, 'b', 99);
    big[99] = '\n';

    if (FAULT_STOP(ss_linebuf_new(&lb, &opts)))
        return;
    size_t len = make_lines(lines, 'd', 0, 1024);
    if (FAULT_STOP(ss_linebuf_write(lb, lines, len)))
        goto out;
    int rc = ss_linebuf_write(lb, big, 100);
    fault_pause();
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 1024);
    if (rc == 0) {
        assert_memory_equal(set.items[0].text, lines + 61, 60);
        assert_int_equal(set.items[1023].len, 99);
    } else {
        assert_int_equal(rc, -ENOMEM);
        assert_memory_equal(set.items[0].text, lines, 60); /* still there */
        assert_memory_equal(set.items[1023].text, lines + 1023 * 61, 60);
    }
    fault_resume();
out:
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_full_ring(void **state)
{
    (void)state;
    char *lines = malloc(LINES_CAP);
    assert_non_null(lines);
    fault_run("linebuf_full", scenario_full, lines);
    free(lines);
}

static void test_partial_kept(void **state)
{
    (void)state;
    char *lines = malloc(LINES_CAP);
    assert_non_null(lines);
    fault_run("linebuf_partial", scenario_partial, lines);
    free(lines);
}

static void test_linebuf(void **state)
{
    (void)state;
    char *lines = malloc(LINES_CAP);
    assert_non_null(lines);
    fault_run("linebuf", scenario, lines);
    free(lines);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linebuf),
        cmocka_unit_test(test_partial_kept),
        cmocka_unit_test(test_full_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
