/* Clock helpers shared by the library's modules. */
#ifndef SS_UTIL_CLOCK_H
#define SS_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

#include <stdbool.h>

/* Wall-clock time in nanoseconds since the epoch, for record timestamps;
 * coarse: the cheap tick-resolution clock. */
int64_t ss__now_ns(bool coarse);

static inline int64_t ss__now_realtime_ns(void)
{
    return ss__now_ns(false);
}

/* The absolute CLOCK_MONOTONIC instant timeout_ms from now, for timed waits on a
 * condition variable created with CLOCK_MONOTONIC. timeout_ms must be >= 0. */
struct timespec ss__deadline_after_ms(int timeout_ms);

/* CLOCK_MONOTONIC in milliseconds, for timers measured against each other. */
int64_t ss__mono_ms(void);

/* A poll(2) deadline: the CLOCK_MONOTONIC instant in nanoseconds timeout_ms
 * from now, or -1 for a negative timeout_ms (no limit). */
int64_t ss__poll_deadline_ns(int timeout_ms);

/* Milliseconds left until such a deadline, rounded up, for poll()'s timeout:
 * 0 once it has passed, -1 for none. */
int ss__poll_left_ms(int64_t deadline_ns);

#endif
