/* Clock helpers shared by the library's modules. */
#ifndef SS_UTIL_CLOCK_H
#define SS_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Wall-clock time in nanoseconds since the epoch, for record timestamps. */
int64_t ss__now_realtime_ns(void);

/* The absolute CLOCK_MONOTONIC instant timeout_ms from now, for timed waits on a
 * condition variable created with CLOCK_MONOTONIC. timeout_ms must be >= 0. */
struct timespec ss__deadline_after_ms(int timeout_ms);

#endif
