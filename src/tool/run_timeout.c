/*
 * run_timeout.c: GNU parallel's --timeout (see run_timeout.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "run_timeout.h"

/* The longest limit: a year fits int64 nanoseconds with room to add to a clock. */
#define LIMIT_MAX_S (366.0 * 86400.0)

int run_timeout_parse(const char *s, run_timeout *t)
{
    memset(t, 0, sizeof(*t));
    if ((*s < '0' || *s > '9') && *s != '.')
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v > 0))
        return -EINVAL;
    if (strcmp(end, "%") == 0) {
        t->percent = v;
        return 0;
    }
    static const struct {
        char suffix;
        double mult;
    } units[] = {{'\0', 1}, {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (end[0] == units[i].suffix && (end[0] == '\0' || end[1] == '\0')) {
            v *= units[i].mult;
            if (v > LIMIT_MAX_S)
                return -EINVAL;
            t->limit_ns = (int64_t)(v * 1e9 + 0.5);
            return t->limit_ns > 0 ? 0 : -EINVAL;
        }
    }
    return -EINVAL;
}

/* Push v on heap h of n items; max-heap when max, else min-heap. */
static int heap_push(int64_t **h, size_t *n, size_t *cap, int64_t v, bool max)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        int64_t *m = realloc(*h, ncap * sizeof(*m));
        if (!m)
            return -ENOMEM;
        *h = m;
        *cap = ncap;
    }
    size_t i = (*n)++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (max ? (*h)[up] >= v : (*h)[up] <= v)
            break;
        (*h)[i] = (*h)[up];
        i = up;
    }
    (*h)[i] = v;
    return 0;
}

/* Pop the top of heap h of n > 0 items. */
static int64_t heap_pop(int64_t *h, size_t *n, bool max)
{
    int64_t top = h[0], v = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= *n)
            break;
        if (k + 1 < *n && (max ? h[k + 1] > h[k] : h[k + 1] < h[k]))
            k++;
        if (max ? v >= h[k] : v <= h[k])
            break;
        h[i] = h[k];
        i = k;
    }
    if (*n > 0)
        h[i] = v;
    return top;
}

int64_t run_timeout_limit(const run_timeout *t)
{
    if (t->percent <= 0)
        return t->limit_ns;
    if (t->n_lo == 0)
        return 0;
    int64_t median = t->n_lo > t->n_hi ? t->lo[0] : (t->lo[0] + t->hi[0]) / 2;
    double limit = (double)median * t->percent / 100.0;
    if (limit > LIMIT_MAX_S * 1e9)
        limit = LIMIT_MAX_S * 1e9;
    /* a limit of 0 would mean none: a median of 0 ns still gets 1 ns */
    return limit < 1 ? 1 : (int64_t)limit;
}

void run_timeout_note(run_timeout *t, int64_t runtime_ns)
{
    if (t->percent <= 0)
        return;
    /* On out of memory the median goes on from the jobs noted so far. */
    if (t->n_lo == 0 || runtime_ns <= t->lo[0]) {
        if (heap_push(&t->lo, &t->n_lo, &t->cap_lo, runtime_ns, true) < 0)
            return;
    } else if (heap_push(&t->hi, &t->n_hi, &t->cap_hi, runtime_ns, false) < 0) {
        return;
    }
    /* rebalance: each move pushes onto a heap that just had an item taken */
    if (t->n_lo > t->n_hi + 1) {
        int64_t v = heap_pop(t->lo, &t->n_lo, true);
        if (heap_push(&t->hi, &t->n_hi, &t->cap_hi, v, false) < 0)
            heap_push(&t->lo, &t->n_lo, &t->cap_lo, v, true);
    } else if (t->n_hi > t->n_lo) {
        int64_t v = heap_pop(t->hi, &t->n_hi, false);
        if (heap_push(&t->lo, &t->n_lo, &t->cap_lo, v, true) < 0)
            heap_push(&t->hi, &t->n_hi, &t->cap_hi, v, false);
    }
}

void run_timeout_free(run_timeout *t)
{
    free(t->lo);
    free(t->hi);
    memset(t, 0, sizeof(*t));
}
