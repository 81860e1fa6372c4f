/*
 * run_progress.h: the live status line of `syncstream run --bar / --eta`.
 *
 * On a terminal (standard error) one line is drawn and redrawn in place: a
 * bar (--bar), the jobs done of the total, running, failed and the time left,
 * estimated from the finished jobs. It is erased before anything else is
 * printed on the terminal and drawn again after, at most every DRAW_MS, so
 * it never mixes with the jobs' lines. Elsewhere nothing is drawn live (a
 * file must not fill with redraws); the end prints the final state once.
 *
 * Thread safety: none; the tool's printing thread only.
 */
#ifndef SS_TOOL_RUN_PROGRESS_H
#define SS_TOOL_RUN_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* How often the line may be drawn again, and so how often the waiting
 * printer wakes up to update the time left. */
#define RUN_PROGRESS_DRAW_MS 200

typedef struct run_progress {
    bool on;    /* --bar or --eta */
    bool bar;   /* --bar: draw the bar and the percentage */
    bool live;  /* standard error is a terminal: draw in place */
    bool shown; /* the line is on the terminal now */
    int64_t start_ns, last_ns;
} run_progress;

/* The counts the line shows. */
typedef struct run_counts {
    size_t total, done, running, failed;
} run_counts;

/* Start the clock; live when out (standard error) is a terminal. */
void run_progress_init(run_progress *p, bool bar, bool eta, FILE *out);

/* Erase the line, if shown, before something else is printed. */
void run_progress_clear(run_progress *p, FILE *out);

/* Draw the line (live only), unless drawn less than RUN_PROGRESS_DRAW_MS ago
 * and not forced. */
void run_progress_draw(run_progress *p, FILE *out, const run_counts *n, bool force);

/* The end: erase the line; when not live, print the final state once. */
void run_progress_end(run_progress *p, FILE *out, const run_counts *n);

#endif
