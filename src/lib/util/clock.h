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

#endif
