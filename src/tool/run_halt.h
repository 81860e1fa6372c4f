/*
 * run_halt.h: GNU parallel's --halt for `syncstream run`: when to stop starting
 * jobs (soon) or to stop the running ones too (now), and the exit status then.
 *
 *   --halt WHEN,WHY=N   WHEN: now or soon; WHY: fail, success or done; N a count
 *                       of jobs, or P% a percentage of all the jobs
 *   --halt 0|1|2|-1|-2  parallel's old forms: never, soon,fail=1, now,fail=1,
 *                       soon,success=1, now,success=1
 *
 * Thread safety: pure functions.
 */
#ifndef SS_TOOL_RUN_HALT_H
#define SS_TOOL_RUN_HALT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum run_halt_when { RUN_HALT_NEVER, RUN_HALT_SOON, RUN_HALT_NOW } run_halt_when;
typedef enum run_halt_why { RUN_HALT_FAIL, RUN_HALT_SUCCESS, RUN_HALT_DONE } run_halt_why;

typedef struct run_halt {
    run_halt_when when;
    run_halt_why why;
    double value; /* the count, or the percentage when percent */
    bool percent;
} run_halt;

/* Parse s into *ret. Returns 0, or -EINVAL (nothing changed). */
int run_halt_parse(const char *s, run_halt *ret);

/* Whether the condition holds once so many of total jobs failed and succeeded. */
bool run_halt_reached(const run_halt *h, size_t failed, size_t succeeded, size_t total);

/*
 * run_halt_status - parallel's exit status when --halt is given: 0 when no job
 * failed or a success condition halted the run; with fail=1, the failing job's
 * status (trigger_status); with a percentage, the percentage of the jobs that
 * failed (rounded up); else the number of failed jobs, 101 for more than 100.
 */
int run_halt_status(const run_halt *h, bool halted, int trigger_status, size_t failed,
                    size_t total);

#endif
