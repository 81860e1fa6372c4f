/*
 * run_joblog.h: GNU parallel's --joblog for `syncstream run`, with --resume and
 * --resume-failed.
 *
 * The file is parallel's: a header line, then one line per finished job, in
 * the order they finish, its fields separated by tabs:
 *
 *   Seq Host Starttime JobRuntime Send Receive Exitval Signal Command
 *
 * Host is ":" (this machine); Starttime the epoch in seconds with 3 decimals;
 * JobRuntime seconds with 3 decimals, right-aligned in 10 columns; Send 0;
 * Receive the bytes of output; Exitval the exit status (-1 when killed, by a
 * signal or a timeout); Signal the signal's number, else 0; Command the
 * command line. Each line is written and flushed as its job ends.
 *
 * Thread safety: none needed (used from the tool's main thread).
 */
#ifndef SS_TOOL_RUN_JOBLOG_H
#define SS_TOOL_RUN_JOBLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum run_resume { RUN_RESUME_NONE, RUN_RESUME, RUN_RESUME_FAILED } run_resume;

typedef struct run_joblog {
    FILE *f;
} run_joblog;

/*
 * run_joblog_open - open path for the log of total jobs. Without resume the
 * file is made anew. With RUN_RESUME, the jobs it lists are marked in skip
 * (total bools, all false on entry); with RUN_RESUME_FAILED only those that
 * succeeded (Exitval and Signal 0) are: the others run again. Either way new
 * lines are appended. Errors are reported (tool_fail) and TOOL_EXIT_FAILURE
 * returned; 0 on success.
 */
int run_joblog_open(run_joblog *jl, const char *path, run_resume resume, bool *skip, size_t total);

/* One finished job's line; exitval -1 and signo > 0 when it was killed. */
void run_joblog_write(run_joblog *jl, size_t seq, int64_t start_ns, int64_t runtime_ns,
                      uint64_t received, int exitval, int signo, const char *command);

/* Close the file. Returns 0, or TOOL_EXIT_FAILURE after reporting a write error. */
int run_joblog_close(run_joblog *jl, const char *path);

#endif
