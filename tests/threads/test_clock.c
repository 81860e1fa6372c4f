/*
 * Record timestamps: along seq they never go back, with several threads racing
 * for the lock, and each stays close to CLOCK_REALTIME, for every time source.
 * meson runs this program twice, the second time with SYNCSTREAM_CLOCK=realtime,
 * so that SS_TIME_PRECISE is tested both on the CPU's counter (where the CPU
 * has an invariant one) and on its clock_gettime fallback.
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "test.h"
#include "util/wallclock.h"

#define THREADS 4
#define LINES 2000
/* Generous: the coarse clock lags by up to a tick; a correct precise stamp is
 * microseconds off at most. Not a speed assertion. */
#define SLACK_NS 50000000

typedef struct job {
    ss_linebuf *lb;
    int id;
    bool shared; /* the default writer rather than an ss_writer */
    int64_t before[LINES], after[LINES];
} job;

static int64_t realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Each line's write bracketed by CLOCK_REALTIME; a pause of 1 ms every 50 lines
 * makes the run last longer than several of the counter's re-anchorings. */
static void *writer_main(void *arg)
{
    job *j = arg;
    ss_writer *w = NULL;
    if (!j->shared && ss_writer_new(&w, j->lb, "w", 0) < 0)
        return (void *)1;
    for (int i = 0; i < LINES; i++) {
        char line[32];
        int n = snprintf(line, sizeof(line), "%d %d\n", j->id, i);
        j->before[i] = realtime();
        int rc = j->shared ? ss_linebuf_write(j->lb, line, (size_t)n)
                           : ss_writer_write(w, line, (size_t)n);
        j->after[i] = realtime();
        if (rc != 0)
            return (void *)2;
        if (i % 50 == 49)
            nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return ss_writer_close(w) == 0 ? NULL : (void *)3;
}

static void check_stamps(ss_time_source src, bool shared)
{
    static job jobs[THREADS];
    pthread_t tids[THREADS];
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {.maxlen = THREADS * LINES, .time_source = src};
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){.lb = lb, .id = t, .shared = shared};
        assert_int_equal(pthread_create(&tids[t], NULL, writer_main, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        void *res;
        assert_int_equal(pthread_join(tids[t], &res), 0);
        assert_null(res);
    }

    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), THREADS * LINES);
    for (size_t k = 0; k < set.count; k++) {
        const ss_record *it = &set.items[k];
        if (k > 0) {
            assert_true(it->seq == set.items[k - 1].seq + 1);
            assert_true(it->time_ns >= set.items[k - 1].time_ns);
        }
        int id, i;
        assert_int_equal(sscanf(it->text, "%d %d", &id, &i), 2);
        assert_true(id >= 0 && id < THREADS && i >= 0 && i < LINES);
        assert_true(it->time_ns >= jobs[id].before[i] - SLACK_NS);
        assert_true(it->time_ns <= jobs[id].after[i] + SLACK_NS);
    }
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_precise_writers(void **state)
{
    (void)state;
    check_stamps(SS_TIME_PRECISE, false);
}

static void test_precise_shared(void **state)
{
    (void)state;
    check_stamps(SS_TIME_PRECISE, true);
}

static void test_realtime_writers(void **state)
{
    (void)state;
    check_stamps(SS_TIME_REALTIME, false);
}

static void test_coarse_shared(void **state)
{
    (void)state;
    check_stamps(SS_TIME_COARSE, true);
}

/* Whether /proc/cpuinfo lists both flags of an invariant counter. */
static bool cpuinfo_invariant_tsc(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return false;
    char line[8192];
    bool ok = false;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "flags", 5) == 0) {
            ok = strstr(line, " constant_tsc") && strstr(line, " nonstop_tsc");
            break;
        }
    fclose(f);
    return ok;
}

/* The counter is used exactly where it should be, and SYNCSTREAM_CLOCK=realtime
 * turns it off. */
static void test_counter_choice(void **state)
{
    (void)state;
    const char *env = getenv("SYNCSTREAM_CLOCK");
    bool forced_off = env && strcmp(env, "realtime") == 0;
#if defined(__x86_64__)
    bool expect = !forced_off && cpuinfo_invariant_tsc();
#else
    bool expect = false;
#endif
    assert_int_equal(ss__wallclock_tsc(), expect);
    assert_int_equal(ss__wallclock_resolve(SS_TIME_PRECISE),
                     expect ? SS_TIME_PRECISE : SS_TIME_REALTIME);
    assert_int_equal(ss__wallclock_resolve(SS_TIME_COARSE), SS_TIME_COARSE);
}

/* The precise clock itself, read for over 100 ms (calibration and several
 * re-anchorings), stays near CLOCK_REALTIME at every read. */
static void test_precise_clock_near_realtime(void **state)
{
    (void)state;
    ss_time_source src = ss__wallclock_resolve(SS_TIME_PRECISE);
    for (int i = 0; i < 1000; i++) {
        int64_t before = realtime();
        int64_t t = ss__wallclock_ns(src);
        int64_t after = realtime();
        assert_true(t >= before - SLACK_NS && t <= after + SLACK_NS);
        nanosleep(&(struct timespec){0, 100000}, NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_choice),   cmocka_unit_test(test_precise_clock_near_realtime),
        cmocka_unit_test(test_precise_writers),  cmocka_unit_test(test_precise_shared),
        cmocka_unit_test(test_realtime_writers), cmocka_unit_test(test_coarse_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
