#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/wallclock.h"

#if defined(__x86_64__)
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#ifdef HAVE_TSC
/* Never stepped nor slewed: the counter's rate is measured against it. */
static int64_t raw_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
#endif

static int64_t coarse_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#ifdef HAVE_TSC

/* Whether /proc/cpuinfo's first "flags" line names both flags: an invariant
 * counter ticks at one rate whatever the core's frequency or sleep state. */
static bool cpu_has_invariant_tsc(void)
{
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f)
        return false;
    char *line = NULL;
    size_t cap = 0;
    bool ok = false;
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        ok = strstr(line, " constant_tsc") && strstr(line, " nonstop_tsc");
        break;
    }
    free(line);
    fclose(f);
    return ok;
}

/*
 * The anchor, published under a sequence lock: a reader retries while seq is
 * odd (a renewal is writing) or changed under it. Every field is accessed
 * atomically, acquire loads keeping the second look at seq after the fields,
 * so that no fence is needed (ThreadSanitizer does not model fences).
 */
static struct {
    uint64_t seq;
    uint64_t tsc;  /* the counter at the anchor */
    int64_t ns;    /* CLOCK_REALTIME at the anchor */
    uint64_t mult; /* nanoseconds per tick in 32.32 fixed point; 0: calibrating */
    uint64_t span; /* ticks after tsc that the anchor serves */
} anchor;

/* Taken by the one thread that renews the anchor; the others read on. */
static pthread_mutex_t renew_mu = PTHREAD_MUTEX_INITIALIZER;
/* CLOCK_MONOTONIC_RAW at the anchor, under renew_mu: the rate is measured
 * against it, so a step of CLOCK_REALTIME only moves the next anchor's ns. */
static int64_t anchor_raw;
/* The rate last measured, under renew_mu. A rate is used only once two
 * measurements in a row agree, so that one spoilt by another CPU's counter
 * (where the CPUs' counters differ) is not. */
static uint64_t measured_mult;

/* Reads that find no anchor (or one being calibrated) renew after this many
 * ticks: 1-2 ms at 2-4 GHz, enough to measure the rate to a few ppm. */
#define CALIBRATE_TICKS (1ull << 22)
/* A counter read and a clock read taken further apart than this (the thread
 * was preempted between them) are taken again. */
#define PAIR_MAX_TICKS (1ull << 15)

/* CLOCK_REALTIME (*ret_ns) and CLOCK_MONOTONIC_RAW (*ret_raw) with the
 * counter at the same instant (*ret_tsc). False if every try was preempted
 * between the reads: such a pair is off by up to the preemption, so it must
 * not become an anchor. */
static bool sample_pair(uint64_t *ret_tsc, int64_t *ret_ns, int64_t *ret_raw)
{
    for (int i = 0; i < 4; i++) {
        uint64_t t0 = __rdtsc();
        *ret_ns = realtime_ns();
        *ret_raw = raw_ns();
        uint64_t t1 = __rdtsc();
        *ret_tsc = t0 + (t1 - t0) / 2;
        if (t1 - t0 < PAIR_MAX_TICKS)
            return true;
    }
    return false;
}

static void publish(uint64_t tsc, int64_t ns, uint64_t mult, uint64_t span)
{
    uint64_t seq = __atomic_load_n(&anchor.seq, __ATOMIC_RELAXED);
    __atomic_store_n(&anchor.seq, seq + 1, __ATOMIC_RELAXED);
    /* release: the odd seq is seen before any of the new fields */
    __atomic_store_n(&anchor.tsc, tsc, __ATOMIC_RELEASE);
    __atomic_store_n(&anchor.ns, ns, __ATOMIC_RELEASE);
    __atomic_store_n(&anchor.mult, mult, __ATOMIC_RELEASE);
    __atomic_store_n(&anchor.span, span, __ATOMIC_RELEASE);
    __atomic_store_n(&anchor.seq, seq + 2, __ATOMIC_RELEASE);
}

/* Start measuring the rate afresh from (tsc, ns, raw). */
static void start_calibration(uint64_t tsc, int64_t ns, int64_t raw)
{
    anchor_raw = raw;
    publish(tsc, ns, 0, CALIBRATE_TICKS);
}

/* The rate that makes ticks last ns nanoseconds, or 0 if implausible (below
 * 100 MHz or above 20 GHz, or too long an interval to compute). */
static uint64_t rate_of(uint64_t ticks, int64_t ns)
{
    if (ns <= 0 || ns > 2000000000 || ticks == 0)
        return 0;
    uint64_t mult = ((uint64_t)ns << 32) / ticks;
    return mult > (10ull << 32) || mult < (1ull << 32) / 20 ? 0 : mult;
}

/* A read outside the anchor's span: renew the anchor unless another thread
 * is at it, and return CLOCK_REALTIME. */
static int64_t renew(void)
{
    uint64_t tsc;
    int64_t ns, raw;
    /* A wide pair still gives this read its CLOCK_REALTIME; the anchor is left
     * for a later read to renew. */
    if (!sample_pair(&tsc, &ns, &raw) || pthread_mutex_trylock(&renew_mu) != 0)
        return ns;
    /* Only this thread writes the anchor, so it may read it plainly. */
    uint64_t a_tsc = __atomic_load_n(&anchor.tsc, __ATOMIC_RELAXED);
    int64_t a_ns = __atomic_load_n(&anchor.ns, __ATOMIC_RELAXED);
    uint64_t a_mult = __atomic_load_n(&anchor.mult, __ATOMIC_RELAXED);
    uint64_t a_span = __atomic_load_n(&anchor.span, __ATOMIC_RELAXED);
    uint64_t d = tsc - a_tsc;
    if (a_ns == 0 || (int64_t)d < 0) {
        /* No anchor yet, or this core's counter is behind the anchor's: start
         * over from here. */
        start_calibration(tsc, ns, raw);
    } else if (d < a_span) {
        /* another thread renewed it meanwhile */
    } else {
        uint64_t mult = rate_of(d, raw - anchor_raw);
        uint64_t tol = measured_mult >> 10; /* 1/1024: 10 us in 10 ms */
        bool ok = mult != 0 && mult + tol >= measured_mult && mult <= measured_mult + tol;
        measured_mult = mult;
        if (ok && a_mult) {
            /* The old rate must have predicted the raw clock well, or the
             * counter jumped (the VM paused, another core's counter). */
            int64_t err = anchor_raw + (int64_t)(((unsigned __int128)d * a_mult) >> 32) - raw;
            ok = err < SS__WALLCLOCK_MAX_ERR_NS && err > -SS__WALLCLOCK_MAX_ERR_NS;
        }
        if (ok) {
            anchor_raw = raw;
            publish(tsc, ns, mult, ((uint64_t)SS__WALLCLOCK_RENEW_MS * 1000000 << 32) / mult);
        } else {
            start_calibration(tsc, ns, raw);
        }
    }
    pthread_mutex_unlock(&renew_mu);
    return ns;
}

static int64_t tsc_ns(void)
{
    for (;;) {
        uint64_t seq = __atomic_load_n(&anchor.seq, __ATOMIC_ACQUIRE);
        uint64_t a_tsc = __atomic_load_n(&anchor.tsc, __ATOMIC_ACQUIRE);
        int64_t a_ns = __atomic_load_n(&anchor.ns, __ATOMIC_ACQUIRE);
        uint64_t mult = __atomic_load_n(&anchor.mult, __ATOMIC_ACQUIRE);
        uint64_t span = __atomic_load_n(&anchor.span, __ATOMIC_ACQUIRE);
        uint64_t tsc = __rdtsc();
        if ((seq & 1) || __atomic_load_n(&anchor.seq, __ATOMIC_RELAXED) != seq)
            continue;
        uint64_t d = tsc - a_tsc;
        /* A counter a little behind the anchor: rdtsc ran ahead of the loads
         * above (it is not ordered with them) just as another thread renewed
         * the anchor, or this core's counter lags a few ticks. The anchor's time
         * is then the nearest; far behind is out of span (unsigned) and renews. */
        if ((int64_t)d < 0 && tsc + (span >> 7) >= a_tsc)
            return a_ns;
        if (d >= span)
            return renew(); /* also the first read: span is 0 */
        if (mult == 0)
            return realtime_ns(); /* calibrating */
        /* d < span keeps d * mult below 2^64 (span is RENEW_MS of ticks) */
        return a_ns + (int64_t)((d * mult) >> 32);
    }
}

/*
 * A child forked while another thread was renewing the anchor inherits seq odd
 * (every read would spin) and renew_mu held (never renewed again): it starts
 * from no anchor, with the lock free. Only the forking thread runs here.
 */
static void forget_anchor(void)
{
    __atomic_store_n(&anchor.seq, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&anchor.tsc, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&anchor.ns, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&anchor.mult, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&anchor.span, 0, __ATOMIC_RELAXED);
    anchor_raw = 0;
    measured_mult = 0;
    pthread_mutex_init(&renew_mu, NULL);
}

static bool use_tsc;
static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;

static void decide_tsc(void)
{
    const char *env = getenv("SYNCSTREAM_CLOCK");
    use_tsc = !(env && strcmp(env, "realtime") == 0) && cpu_has_invariant_tsc();
    /* Without the handler the counter is not used: clock_gettime has no state. */
    if (use_tsc && pthread_atfork(NULL, NULL, forget_anchor) != 0)
        use_tsc = false;
}

bool ss__wallclock_tsc(void)
{
    pthread_once(&tsc_once, decide_tsc);
    return use_tsc;
}

#else

bool ss__wallclock_tsc(void)
{
    return false;
}

static int64_t tsc_ns(void)
{
    return realtime_ns();
}

#endif

ss_time_source ss__wallclock_resolve(ss_time_source src)
{
    return src == SS_TIME_PRECISE && !ss__wallclock_tsc() ? SS_TIME_REALTIME : src;
}

int64_t ss__wallclock_ns(ss_time_source src)
{
    switch (src) {
    case SS_TIME_PRECISE:
        return tsc_ns();
    case SS_TIME_COARSE:
        return coarse_ns();
    default:
        return realtime_ns();
    }
}
