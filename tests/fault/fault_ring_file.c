/*
 * The ring file under allocation failures: a file-backed line buffer made,
 * written, freed, opened again (continued) and read back, and
 * ss_linebuf_inspect_file() reading it from outside. After a failure, what the
 * file holds must still be read back whole and in order.
 */
#include <stdio.h>
#include <unistd.h>

#include "fault.h"

static char dir[] = "/tmp/ss-fault-ring-XXXXXX";
static char path[64];

#define LINES 200

static const ss_linebuf_opts opts = {.maxlen = 100, .max_line = 64, .path = path};

/* Records "l<n>" with n increasing, each once; the partial line (if any) last. */
static void check_records(const ss_records *set)
{
    long last = -1;
    for (size_t i = 0; i < set->count; i++) {
        const ss_record *r = &set->items[i];
        assert_true(r->len > 1 && r->text[0] == 'l');
        long n = strtol(r->text + 1, NULL, 10);
        assert_true(n > last);
        last = n;
        if (r->flags & SS_REC_PARTIAL)
            assert_int_equal(i, set->count - 1);
    }
}

/* With allocations working again, the file is read back in order and a new
 * owner continues it. */
static void check_file(void)
{
    fault_pause();
    ss_records set = SS_RECORDS_INIT;
    ss_linebuf *lb = NULL;
    if (ss_linebuf_inspect_file(path, SS_READ_ALL, &set, NULL) >= 0)
        check_records(&set);
    if (access(path, F_OK) == 0) {
        assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
        assert_true(ss_linebuf_read(lb, SS_READ_ALL, &set) >= 0);
        check_records(&set);
        ss_linebuf_free(lb);
    }
    ss_records_clear(&set);
    fault_resume();
}

static void scenario(void *ctx)
{
    (void)ctx;
    ss_linebuf *lb = NULL;
    ss_records set = SS_RECORDS_INIT;
    char line[32];

    unlink(path);
    if (FAULT_STOP(ss_linebuf_new(&lb, &opts)))
        goto out_check;
    for (int i = 0; i < LINES; i++) {
        int n = snprintf(line, sizeof(line), "l%d\n", i);
        if (FAULT_STOP(ss_linebuf_write(lb, line, (size_t)n)))
            goto out_free;
    }
    if (FAULT_STOP(ss_linebuf_write(lb, "l999", 4)))
        goto out_free;
    ss_linebuf_free(lb);
    lb = NULL;

    /* a new owner: the partial line left in the file becomes a record */
    if (FAULT_STOP(ss_linebuf_new(&lb, &opts)))
        goto out_check;
    if (FAULT_STOP(ss_linebuf_read(lb, SS_READ_ALL, &set)))
        goto out_free;
    assert_int_equal(set.count, 100);
    assert_memory_equal(set.items[99].text, "l999", 4);
    check_records(&set);
    if (FAULT_STOP(ss_linebuf_inspect_file(path, 10, &set, NULL)))
        goto out_free;
    assert_int_equal(set.count, 10);
    check_records(&set);

out_free:
    ss_records_clear(&set);
    ss_linebuf_free(lb);
out_check:
    check_file();
}

static void test_ring_file(void **state)
{
    (void)state;
    fault_run("ring_file", scenario, NULL);
}

static int setup(void **state)
{
    (void)state;
    if (ss_test_tmpdir_make(dir) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/ring", dir);
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
        cmocka_unit_test(test_ring_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
