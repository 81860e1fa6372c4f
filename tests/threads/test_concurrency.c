/* Many threads writing at once: every line whole, none mixed, per-writer order
 * kept, and every line either stored or counted as shed. */
#include <pthread.h>
#include <stdio.h>

#include "test.h"

#define WRITERS 8
#define LINES 100000

typedef struct job {
    ss_linebuf *lb;
    int id;
    bool use_default_writer;
} job;

static uint32_t checksum(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

/* "w3 i0001234 ......... x89abcdef": the padding varies in length per line. */
static size_t format_line(int id, int idx, char *out)
{
    int n = sprintf(out, "w%d i%07d %.*s", id, idx, idx % 40,
                    "........................................");
    n += sprintf(out + n, " x%08x\n", checksum(out, (size_t)n));
    return (size_t)n;
}

static void *writer_main(void *arg)
{
    job *j = arg;
    ss_writer *w = NULL;
    char line[128];
    if (!j->use_default_writer && ss_writer_new(&w, j->lb, "writer", 0) < 0)
        return (void *)1;
    for (int i = 0; i < LINES; i++) {
        size_t n = format_line(j->id, i, line);
        int rc;
        if (j->use_default_writer) {
            rc = ss_linebuf_write(j->lb, line, n);
        } else if (i % 3 == 0) {
            /* the same line in three partial pieces */
            rc = ss_writer_write(w, line, 5);
            if (rc == 0)
                rc = ss_writer_write(w, line + 5, 7);
            if (rc == 0)
                rc = ss_writer_write(w, line + 12, n - 12);
        } else {
            rc = ss_writer_write(w, line, n);
        }
        if (rc != 0)
            return (void *)2;
    }
    return ss_writer_close(w) == 0 ? NULL : (void *)3;
}

/* Parse and verify one record; returns the writer id and stores its index. */
static int check_record(const ss_record *r, int *idx)
{
    int id, n = 0;
    if (sscanf(r->text, "w%d i%d %n", &id, idx, &n) != 2)
        fail_msg("unparsable record: %s", r->text);
    char want[128];
    size_t len = format_line(id, *idx, want);
    if (r->len != len - 1 || memcmp(r->text, want, len - 1) != 0)
        fail_msg("mixed or torn record: %s", r->text);
    return id;
}

static void run_writers(ss_linebuf *lb, int default_writers)
{
    pthread_t th[WRITERS];
    job jobs[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        jobs[i] = (job){lb, i, i < default_writers};
        assert_int_equal(pthread_create(&th[i], NULL, writer_main, &jobs[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        void *res;
        pthread_join(th[i], &res);
        assert_null(res);
    }
}

static void test_no_loss_no_mixing(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {.maxlen = WRITERS * LINES};
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    run_writers(lb, 2);

    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), WRITERS * LINES);
    int next[WRITERS] = {0};
    for (size_t i = 0; i < set.count; i++) {
        int idx;
        int id = check_record(&set.items[i], &idx);
        assert_true(id >= 0 && id < WRITERS);
        assert_int_equal(idx, next[id]); /* per-writer order, none missing */
        next[id]++;
        assert_int_equal(set.items[i].seq, i + 1);
    }
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(next[i], LINES);
    ss_linebuf_stats st;
    assert_int_equal(ss_linebuf_get_stats(lb, &st), 0);
    assert_int_equal(st.written, WRITERS * LINES);
    assert_int_equal(st.shed, 0);
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_rotation_counts_every_line(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {.maxlen = 1000};
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    run_writers(lb, 4);

    ss_linebuf_stats st;
    assert_int_equal(ss_linebuf_get_stats(lb, &st), 0);
    assert_int_equal(st.written, WRITERS * LINES);
    assert_int_equal(st.count, 1000);
    assert_int_equal(st.count + st.shed, st.written);

    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 1000);
    int last[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        last[i] = -1;
    for (size_t i = 0; i < set.count; i++) {
        int idx;
        int id = check_record(&set.items[i], &idx);
        assert_true(idx > last[id]);
        last[id] = idx;
    }
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_loss_no_mixing),
        cmocka_unit_test(test_rotation_counts_every_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
