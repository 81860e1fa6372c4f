/*
 * The file buffer's writers under allocation failures: opening the file, a
 * writer of its own and the default writer each writing calls of many lines
 * (the held records, the view's index growing, a compaction), reads. After a
 * failure, everything a call that succeeded wrote must be in the file, whole,
 * in order, once; the buffer must go on taking records and free without a leak.
 */
#include <stdio.h>
#include <unistd.h>

#include "fault.h"

static char dir[] = "/tmp/ss-fault-file-XXXXXX";
static char path[64];

#define CALLS 6
#define PER_CALL 50 /* lines per write call */

/* a compaction every 50 records or so */
static const ss_filebuf_opts opts = {.maxlen = 100, .limit = 150, .max_line = 100};

/* Lines of writers 'a' and 'd' whose calls succeeded: 0 .. done - 1. */
typedef struct progress {
    int done[2];
} progress;

#define LINES_CAP (8 * PER_CALL)

/* out holds LINES_CAP bytes */
static size_t make_lines(char *out, char tag, int from, int n)
{
    size_t len = 0;
    for (int i = from; i < from + n; i++) {
        int k = snprintf(out + len, LINES_CAP - len, "%c%05d\n", tag, i);
        assert_true(k == 7 && (size_t)k < LINES_CAP - len);
        len += (size_t)k;
    }
    return len;
}

/* With allocations working again: the file, read through a second handle,
 * holds each writer's lines whole, in increasing order, once, and the lines of
 * its calls that succeeded up to the last, none missing in between. */
static void check_file(const progress *pr)
{
    fault_pause();
    ss_filebuf *fb = NULL;
    ss_records set = SS_RECORDS_INIT;
    int rc = ss_filebuf_open(&fb, path, &opts);
    if (rc == -ENOENT) {
        assert_int_equal(pr->done[0] + pr->done[1], 0);
        fault_resume();
        return;
    }
    assert_int_equal(rc, 0);
    assert_true(ss_filebuf_read(fb, SS_READ_ALL, &set) >= 0);
    int next[2] = {-1, -1};
    for (size_t i = 0; i < set.count; i++) {
        const ss_record *r = &set.items[i];
        assert_int_equal(r->len, 6);
        assert_true(r->text[0] == 'a' || r->text[0] == 'd');
        int w = r->text[0] == 'd';
        int n = atoi(r->text + 1);
        if (n < pr->done[w] && next[w] >= 0)
            assert_int_equal(n, next[w]); /* none of these missing */
        assert_true(n >= next[w]);
        next[w] = n + 1;
    }
    for (int w = 0; w < 2; w++)
        assert_true(pr->done[w] == 0 || next[w] >= pr->done[w]);
    ss_records_clear(&set);
    ss_filebuf_free(fb);
    fault_resume();
}

static void scenario(void *ctx)
{
    char *lines = ctx;
    progress pr = {{0, 0}};
    ss_filebuf *fb = NULL;
    ss_filewriter *w = NULL;
    ss_records set = SS_RECORDS_INIT;

    unlink(path);
    if (FAULT_STOP(ss_filebuf_open(&fb, path, &opts)))
        goto out_check;
    if (FAULT_STOP(ss_filewriter_new(&w, fb, "a", 0)))
        goto out_free;
    for (int c = 0; c < CALLS; c++) {
        size_t len = make_lines(lines, 'a', c * PER_CALL, PER_CALL);
        if (FAULT_STOP(ss_filewriter_write(w, lines, len)))
            goto out_free;
        pr.done[0] = (c + 1) * PER_CALL;
        len = make_lines(lines, 'd', c * PER_CALL, PER_CALL);
        if (FAULT_STOP(ss_filebuf_write(fb, lines, len)))
            goto out_free;
        pr.done[1] = (c + 1) * PER_CALL;
    }
    if (FAULT_STOP(ss_filebuf_read(fb, SS_READ_ALL, &set)))
        goto out_free;
    assert_int_equal(set.count, 100);
    if (FAULT_STOP(ss_filebuf_read_since(fb, 100, 10, &set)))
        goto out_free;
    assert_int_equal(set.count, 10);
    if (FAULT_STOP(ss_filebuf_append(fb, SS_KIND_WARNING, "d99999", 6)))
        goto out_free;
    if (FAULT_STOP(ss_filewriter_close(w))) {
        w = NULL;
        goto out_free;
    }
    w = NULL;

out_free:
    ss_records_clear(&set);
    fault_pause();
    /* what the writers hold (a failed append) is appended now */
    if (w)
        assert_int_equal(ss_filewriter_close(w), 0);
    if (fb)
        assert_int_equal(ss_filebuf_flush(fb), 0);
    fault_resume();
    ss_filebuf_free(fb);
out_check:
    check_file(&pr);
}

static void test_file_writer(void **state)
{
    (void)state;
    char *lines = malloc(LINES_CAP);
    assert_non_null(lines);
    fault_run("file_writer", scenario, lines);
    free(lines);
}

static int setup(void **state)
{
    (void)state;
    if (ss_test_tmpdir_make(dir) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/log", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return ss_test_tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_writer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
