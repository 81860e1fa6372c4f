/*
 * How the counter's anchor is chosen, with the clocks under the test's control.
 * White-box: this program compiles util/wallclock.c in with rdtsc and
 * clock_gettime replaced by fakes (the real headers are included first, so the
 * macros below rename only the calls in wallclock.c). The fake counter ticks
 * once per nanosecond of the fake clocks.
 */
#include <time.h>

#if defined(__x86_64__)
#include <x86intrin.h>

#include "test.h"

static uint64_t fake_tsc = 1000000000;             /* the counter; clocks follow it */
static uint64_t tsc_step;                          /* added at every counter read */
static uint64_t tsc_skew;                          /* another CPU's counter is this far ahead */
static int64_t realtime_off = 1700000000000000000; /* CLOCK_REALTIME - counter */

static uint64_t fake_rdtsc(void)
{
    uint64_t t = fake_tsc + tsc_skew;
    fake_tsc += tsc_step;
    return t;
}

static int fake_clock_gettime(clockid_t id, struct timespec *ts)
{
    int64_t ns = (int64_t)fake_tsc + (id == CLOCK_MONOTONIC_RAW ? 0 : realtime_off);
    ts->tv_sec = ns / 1000000000;
    ts->tv_nsec = ns % 1000000000;
    return 0;
}

#define __rdtsc fake_rdtsc
#define clock_gettime fake_clock_gettime
#include "util/wallclock.c"
#undef clock_gettime

static int64_t fake_now(void)
{
    return (int64_t)fake_tsc + realtime_off;
}

/* A thread preempted between the counter and the clock read at every try:
 * the pair is too wide to anchor on, so no anchor is published and the read
 * returns CLOCK_REALTIME. */
static void test_wide_pair_not_anchored(void **state)
{
    (void)state;
    forget_anchor();
    tsc_step = 2 * PAIR_MAX_TICKS;
    int64_t t = ss__wallclock_ns(SS_TIME_PRECISE);
    tsc_step = 0;
    assert_true(t >= fake_now() - (int64_t)(8 * PAIR_MAX_TICKS) && t <= fake_now());
    assert_int_equal(__atomic_load_n(&anchor.seq, __ATOMIC_RELAXED), 0);
    assert_int_equal(__atomic_load_n(&anchor.ns, __ATOMIC_RELAXED), 0);

    /* a tight pair then anchors as usual */
    assert_int_equal(ss__wallclock_ns(SS_TIME_PRECISE), fake_now());
    assert_int_equal(__atomic_load_n(&anchor.ns, __ATOMIC_RELAXED), fake_now());
}

/* CLOCK_REALTIME stepped forward by 1 ms during the calibration: the rate is
 * measured against CLOCK_MONOTONIC_RAW, so it stays one nanosecond a tick and
 * the step only moves the anchor's time. */
static void test_step_during_calibration(void **state)
{
    (void)state;
    forget_anchor();
    tsc_step = 0;
    assert_int_equal(ss__wallclock_ns(SS_TIME_PRECISE), fake_now()); /* calibrates */
    realtime_off += 1000000;
    fake_tsc += CALIBRATE_TICKS;
    assert_int_equal(ss__wallclock_ns(SS_TIME_PRECISE), fake_now()); /* again */
    fake_tsc += CALIBRATE_TICKS;
    assert_int_equal(ss__wallclock_ns(SS_TIME_PRECISE), fake_now()); /* anchors */
    assert_true(__atomic_load_n(&anchor.mult, __ATOMIC_RELAXED) == 1ull << 32);
    fake_tsc += 1000;
    assert_int_equal(ss__wallclock_ns(SS_TIME_PRECISE), fake_now());

    /* a step back once calibrated: the next renewal moves the anchor's time
     * and keeps the rate */
    realtime_off -= 5000000;
    fake_tsc += (uint64_t)SS__WALLCLOCK_RENEW_MS * 1000000;
    assert_int_equal(ss__wallclock_ns(SS_TIME_PRECISE), fake_now());
    assert_true(__atomic_load_n(&anchor.mult, __ATOMIC_RELAXED) == 1ull << 32);
    fake_tsc += 1000;
    assert_int_equal(ss__wallclock_ns(SS_TIME_PRECISE), fake_now());
}

/* The thread moved to a CPU whose counter is 1 ms ahead during the first
 * calibration: that rate disagrees with the next measurement and is never
 * used; stamps come from clock_gettime until two measurements agree. */
static void test_skewed_calibration_not_used(void **state)
{
    (void)state;
    forget_anchor();
    tsc_step = 0;
    assert_int_equal(ss__wallclock_ns(SS_TIME_PRECISE), fake_now());
    tsc_skew = 1000000;
    fake_tsc += CALIBRATE_TICKS;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ss__wallclock_ns(SS_TIME_PRECISE), fake_now());
        assert_true(__atomic_load_n(&anchor.mult, __ATOMIC_RELAXED) == 0);
        fake_tsc += 1000;
        assert_int_equal(ss__wallclock_ns(SS_TIME_PRECISE), fake_now());
        fake_tsc += CALIBRATE_TICKS - 1000;
    }
    assert_int_equal(ss__wallclock_ns(SS_TIME_PRECISE), fake_now());
    assert_true(__atomic_load_n(&anchor.mult, __ATOMIC_RELAXED) == 1ull << 32);
    fake_tsc += 1000;
    assert_int_equal(ss__wallclock_ns(SS_TIME_PRECISE), fake_now());
    tsc_skew = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wide_pair_not_anchored),
        cmocka_unit_test(test_step_during_calibration),
        cmocka_unit_test(test_skewed_calibration_not_used),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void)
{
    return 77; /* meson: skipped, no time-stamp counter on this architecture */
}

#endif
