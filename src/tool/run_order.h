/*
 * run_order.h: GNU parallel's -k (--keep-order) for `syncstream run`: the
 * output of each job comes after all the output of the jobs before it.
 *
 * The jobs still run at once. The job whose turn it is (every earlier job has
 * finished and been printed) prints live; every later job's lines, already
 * formatted, are held until its turn comes, each with the stream it goes to,
 * so that a job's stdout and stderr lines keep their order. Held output is
 * kept in memory up to a bound shared by all the jobs (mem_max); beyond it,
 * the job that holds it spills into a file of its own, made in $TMPDIR (else
 * /tmp) and deleted at once, so that nothing is lost however much a job
 * prints and memory stays bounded. If such a file cannot be made or written,
 * that job's output stays in memory (and it is said once on stderr).
 *
 * Lines are formatted into run_order_scratch() and then taken by
 * run_order_keep(), so that held lines look exactly as live ones.
 *
 * Thread safety: none needed (used from the tool's main thread).
 */
#ifndef SS_TOOL_RUN_ORDER_H
#define SS_TOOL_RUN_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct run_hold run_hold;

typedef struct run_order {
    size_t total;        /* jobs, numbered 0 to total - 1 */
    size_t next;         /* the job whose turn it is; every earlier one is printed */
    run_hold **holds;    /* total of them: a job's held output, NULL when none */
    unsigned char *done; /* total flags: the job has finished for good */
    size_t mem, mem_max; /* bytes held in memory, and the bound */
    FILE *scratch;       /* a memory stream lines are formatted into */
    char *scratch_mem;
    size_t scratch_len;
    bool spill_failed; /* said once */
} run_order;

/* Set up for total jobs. Returns 0 or -ENOMEM. */
int run_order_init(run_order *o, size_t total, size_t mem_max);

void run_order_free(run_order *o);

/* Whether it is job i's turn: its output may go out live. */
bool run_order_live(const run_order *o, size_t i);

/* The stream to format a held line into; run_order_keep() takes what it got. */
FILE *run_order_scratch(run_order *o);

/* Hold for job i what was written into the scratch stream since the last
 * call, to go to stderr when to_stderr, else to stdout. */
void run_order_keep(run_order *o, size_t i, bool to_stderr);

/* Forget what job i holds (its try failed and it runs again). */
void run_order_discard(run_order *o, size_t i);

/*
 * run_order_done - job i has finished for good (or will never run): when its
 * turn comes, print what it holds and go on to the next. Prints on stdout and
 * stderr what becomes printable, stdout flushed before each stderr part.
 */
void run_order_done(run_order *o, size_t i);

/* When it is job i's turn, print what it holds: it goes on live (the caller
 * knows that this try of it is its last). */
void run_order_release(run_order *o, size_t i);

/* The run ends (all done, or stopped before some jobs ran): print what every
 * job still holds, in order. */
void run_order_finish(run_order *o);

#endif
