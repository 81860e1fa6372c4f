/* Cursor waits: a follower sees every record exactly once, in order, with no
 * polling; timeouts and close wake it. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "test.h"

#define LINES 100000

typedef struct follower {
    ss_linebuf *lb;
    uint64_t seen; /* records received */
    uint64_t missed;
    int bad_order; /* records whose index was not the one expected */
    int rc;        /* how the follow loop ended */
} follower;

static void *follow_main(void *arg)
{
    follower *f = arg;
    ss_records set = SS_RECORDS_INIT;
    uint64_t cursor = 0;
    for (;;) {
        /* bounded: a writer that stalls for 10 s fails the test */
        int rc = ss_linebuf_follow(f->lb, cursor, 0, 10000, &set);
        if (rc < 0) {
            f->rc = rc;
            break;
        }
        f->missed += set.missed;
        for (size_t i = 0; i < set.count; i++) {
            unsigned idx;
            if (sscanf(set.items[i].text, "line %u", &idx) != 1 || idx != f->seen + f->missed)
                f->bad_order++;
            f->seen++;
        }
        cursor = set.cursor;
        if (f->seen + f->missed == LINES)
            break;
    }
    ss_records_clear(&set);
    return NULL;
}

static void write_lines(ss_linebuf *lb)
{
    ss_writer *w = NULL;
    char line[64];
    assert_int_equal(ss_writer_new(&w, lb, "producer", 0), 0);
    for (int i = 0; i < LINES; i++) {
        int n = snprintf(line, sizeof(line), "line %u\n", (unsigned)i);
        assert_int_equal(ss_writer_write(w, line, (size_t)n), 0);
    }
    assert_int_equal(ss_writer_close(w), 0);
}

static void test_follower_sees_everything_once(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {.maxlen = LINES};
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    follower f = {.lb = lb};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, follow_main, &f), 0);
    write_lines(lb);
    pthread_join(th, NULL);
    assert_int_equal(f.rc, 0);
    assert_int_equal(f.seen, LINES);
    assert_int_equal(f.missed, 0);
    assert_int_equal(f.bad_order, 0);
    ss_linebuf_free(lb);
}

static void test_slow_follower_counts_missed(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {.maxlen = 64};
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    follower f = {.lb = lb};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, follow_main, &f), 0);
    write_lines(lb);
    pthread_join(th, NULL);
    assert_int_equal(f.rc, 0);
    /* whatever the scheduling, nothing vanishes unaccounted */
    assert_int_equal(f.seen + f.missed, LINES);
    assert_int_equal(f.bad_order, 0);
    ss_linebuf_free(lb);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_timeout_returns_without_record(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    assert_int_equal(ss_linebuf_new(&lb, NULL), 0);
    ss_records set = SS_RECORDS_INIT;
    double t0 = now_ms();
    assert_int_equal(ss_linebuf_follow(lb, 0, 0, 100, &set), -ETIMEDOUT);
    /* the deadline is honoured: it did not give up early */
    assert_true(now_ms() - t0 >= 99.0);
    assert_int_equal(set.count, 0);
    assert_int_equal(ss_linebuf_wait(lb, 0, 0), -ETIMEDOUT);
    /* a partial line is not a record */
    assert_int_equal(ss_linebuf_write(lb, "partial", 7), 0);
    assert_int_equal(ss_linebuf_wait(lb, 0, 20), -ETIMEDOUT);
    ss_linebuf_free(lb);
}

static void *wait_forever(void *arg)
{
    return (void *)(intptr_t)ss_linebuf_wait(arg, 0, -1);
}

static void test_close_wakes_waiters(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    assert_int_equal(ss_linebuf_new(&lb, NULL), 0);
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, wait_forever, lb), 0);
    ss_linebuf_close(lb);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_follow(lb, 0, 0, -1, &set), SS_ECLOSED);
    assert_int_equal(set.count, 0);
    for (int i = 0; i < 3; i++) {
        void *res;
        pthread_join(th[i], &res);
        assert_int_equal((intptr_t)res, SS_ECLOSED);
    }
    ss_linebuf_free(lb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follower_sees_everything_once),
        cmocka_unit_test(test_slow_follower_counts_missed),
        cmocka_unit_test(test_timeout_returns_without_record),
        cmocka_unit_test(test_close_wakes_waiters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
