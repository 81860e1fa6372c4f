/*
 * run_progress.c: the status line of `syncstream run --bar / --eta` (see
 * run_progress.h).
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "run_progress.h"
#include "tool.h"

#define BAR_WIDTH 20

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void run_progress_init(run_progress *p, bool bar, bool eta, FILE *out)
{
    *p = (run_progress){.on = bar || eta, .bar = bar};
    p->live = p->on && isatty(fileno(out));
    p->start_ns = now_ns();
}

void run_progress_clear(run_progress *p, FILE *out)
{
    if (!p->shown)
        return;
    fputs("\r\033[K", out);
    fflush(out); /* before the lines that follow, on another stream perhaps */
    p->shown = false;
}

/* "1:05" or "1:02:05" */
static void put_duration(FILE *out, int64_t s)
{
    if (s >= 3600)
        fprintf(out, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                (long long)(s % 60));
    else
        fprintf(out, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

static void put_line(const run_progress *p, FILE *out, const run_counts *n, int64_t t)
{
    size_t pct = n->total ? n->done * 100 / n->total : 100;
    if (p->bar) {
        size_t fill = n->total ? n->done * BAR_WIDTH / n->total : BAR_WIDTH;
        fputc('[', out);
        for (size_t i = 0; i < BAR_WIDTH; i++)
            fputc(i < fill ? '#' : '.', out);
        fprintf(out, "] %3zu%% ", pct);
    }
    fprintf(out, "%zu/%zu done, %zu running, %zu failed, ", n->done, n->total, n->running,
            n->failed);
    int64_t elapsed_s = (t - p->start_ns) / 1000000000;
    if (n->done == n->total) {
        fputs("took ", out);
        put_duration(out, elapsed_s);
    } else if (n->done == 0) {
        fputs("time left unknown", out); /* known when a job has finished */
    } else {
        /* parallel's estimate: the finished jobs' average, for the rest */
        double left =
            (double)(t - p->start_ns) / 1e9 / (double)n->done * (double)(n->total - n->done);
        put_duration(out, (int64_t)(left + 0.5));
        fputs(" left", out);
    }
}

void run_progress_draw(run_progress *p, FILE *out, const run_counts *n, bool force)
{
    if (!p->live)
        return;
    int64_t t = now_ns();
    if (p->shown && !force && t - p->last_ns < (int64_t)RUN_PROGRESS_DRAW_MS * 1000000)
        return;
    /* one write: the line's text never reaches the terminal in pieces */
    char buf[256];
    FILE *mem = fmemopen(buf, sizeof(buf), "w");
    if (!mem)
        return;
    fputs("\r", mem);
    put_line(p, mem, n, t);
    fputs("\033[K", mem);
    long len = ftell(mem);
    fclose(mem);
    if (len > 0 && (size_t)len < sizeof(buf)) {
        fwrite(buf, 1, (size_t)len, out);
        fflush(out);
    }
    p->shown = true;
    p->last_ns = t;
}

void run_progress_end(run_progress *p, FILE *out, const run_counts *n)
{
    if (!p->on)
        return;
    run_progress_clear(p, out);
    if (p->live)
        return;
    fputs(TOOL_NAME ": ", out);
    put_line(p, out, n, now_ns());
    fputc('\n', out);
}
