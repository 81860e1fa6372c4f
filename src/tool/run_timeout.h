/*
 * run_timeout.h: GNU parallel's --timeout for `syncstream run`: a job that runs
 * longer is killed (SIGTERM, then SIGKILL after the grace period).
 *
 *   --timeout SECS   seconds, with a decimal part if wanted and an optional
 *                    suffix s, m, h or d (as parallel's)
 *   --timeout P%     P percent of the median run time of the jobs that
 *                    succeeded so far; no limit until one has
 *
 * Thread safety: none needed (used from the tool's main thread).
 */
#ifndef SS_TOOL_RUN_TIMEOUT_H
#define SS_TOOL_RUN_TIMEOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct run_timeout {
    int64_t limit_ns; /* a fixed limit; 0: none */
    double percent;   /* > 0: P% of the median */
    /* The successful jobs' run times (for P%), in two heaps whose tops are the
     * middle: lo a max-heap of the lower half, hi a min-heap of the upper half,
     * lo holding as many or one more. */
    int64_t *lo, *hi;
    size_t n_lo, n_hi, cap_lo, cap_hi;
} run_timeout;

/* Parse s into *t (zeroed first). Returns 0, or -EINVAL. */
int run_timeout_parse(const char *s, run_timeout *t);

/* The limit now, in nanoseconds; 0 when there is none (yet). */
int64_t run_timeout_limit(const run_timeout *t);

/* A job succeeded after runtime_ns: counted in the median of P%. */
void run_timeout_note(run_timeout *t, int64_t runtime_ns);

void run_timeout_free(run_timeout *t);

#endif
