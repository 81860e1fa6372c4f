/*
 * ss__evloop: the library's one I/O core (after redis's ae). One epoll set,
 * level-triggered, with three kinds of work on it:
 *
 *   - fd watchers (ss__evio): a callback when an fd is readable or writable,
 *     for the mask asked; a mask of 0 takes the fd out of epoll altogether;
 *   - timers (ss__evtimer): a callback once a CLOCK_MONOTONIC instant in
 *     milliseconds (ss__mono_ms) has passed;
 *   - hooks (ss__evhook): a callback on every turn, after the fd and timer
 *     callbacks, which may bound how long the next turn sleeps.
 *
 * An eventfd wakes a sleeping loop (ss__evloop_wake); wakes coalesce.
 *
 * A turn: wait in epoll_wait (bounded by the earliest timer and the hooks'
 * answers), run the callback of every fd reported ready, once each, then the
 * timers that are due, then the hooks. The fairness rule, the same for every
 * service: in one callback a service reads an fd at most SS__EV_BUDGET times,
 * and leaves the rest to the next turn (level-triggered epoll reports it
 * again), so that one busy fd cannot starve the others on the loop.
 *
 * Threads. ss__evloop_start() runs turns on a thread of the loop's own, with
 * every signal blocked (the application's handlers never run on it, and a
 * write to a closed pipe fails with EPIPE instead of killing the process).
 * ss__evloop_wake(), ss__evtimer_set() and ss__evtimer_cancel() may be called
 * from any thread. ss__evio_set() may be called from any thread, but calls for
 * one watcher must not overlap (its owner's lock serialises them). Hooks are
 * added before the loop starts. A callback may free its watcher or timer only
 * if no other fd of the same turn may still name it (in practice: each object
 * frees its own watchers from its own callbacks).
 */
#ifndef SS_UTIL_EVLOOP_H
#define SS_UTIL_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ss__evloop ss__evloop;

/* Reads per fd per callback: the one fairness rule (see above). */
#define SS__EV_BUDGET 4

enum { SS__EV_READ = 1u << 0, SS__EV_WRITE = 1u << 1 };

typedef struct ss__evio ss__evio;
/* events: SS__EV_READ and/or SS__EV_WRITE (an error or a hang-up reports
 * both, whatever was asked: the read or write that follows says which). */
typedef void ss__evio_fn(ss__evio *io, unsigned events);

struct ss__evio {
    ss__evio_fn *fn;
    void *arg;     /* the owner's, untouched by the loop */
    int fd;        /* -1: none */
    unsigned mask; /* what epoll watches now; 0: the fd is out of epoll */
};

static inline void ss__evio_init(ss__evio *io, ss__evio_fn *fn, void *arg)
{
    *io = (ss__evio){.fn = fn, .arg = arg, .fd = -1};
}

/*
 * Watch fd for mask (0: stop watching it, and take it out of epoll, so that a
 * hang-up on an fd nobody reads cannot wake the loop again and again). A new
 * fd replaces the one watched before. Nothing is done when fd and mask are
 * unchanged. Call it with mask 0 before closing the fd. Returns 0 or a
 * negative errno from epoll_ctl (the watcher is then left unwatched).
 */
int ss__evio_set(ss__evloop *loop, ss__evio *io, int fd, unsigned mask);

typedef struct ss__evtimer ss__evtimer;
typedef void ss__evtimer_fn(ss__evtimer *t);

struct ss__evtimer {
    ss__evtimer_fn *fn;
    void *arg;
    /* the loop's (under its lock) */
    int64_t when_ms;
    bool armed;
    ss__evtimer *next, *prev;
};

static inline void ss__evtimer_init(ss__evtimer *t, ss__evtimer_fn *fn, void *arg)
{
    *t = (ss__evtimer){.fn = fn, .arg = arg};
}

/* Run t once ss__mono_ms() reaches when_ms (at once if it has), replacing an
 * earlier arming. A timer is disarmed just before its callback runs, so the
 * callback may arm it again. Any thread. */
void ss__evtimer_set(ss__evloop *loop, ss__evtimer *t, int64_t when_ms);

/* Disarm t (nothing if it is not armed). A callback already under way on the
 * loop thread still runs: the owner checks its own state in it. Any thread. */
void ss__evtimer_cancel(ss__evloop *loop, ss__evtimer *t);

typedef struct ss__evhook ss__evhook;
/* Returns the most the next turn may sleep in ms, or -1 for no limit. */
typedef int ss__evhook_fn(ss__evhook *h);

struct ss__evhook {
    ss__evhook_fn *fn;
    void *arg;
    ss__evhook *next; /* the loop's */
};

/* Run h on every turn. Before ss__evloop_start(). */
void ss__evloop_add_hook(ss__evloop *loop, ss__evhook *h);

/* A loop with no thread yet. Returns 0, -ENOMEM, or a negative errno of
 * epoll_create1 or eventfd. */
int ss__evloop_new(ss__evloop **ret);

/* Start the loop's thread. Returns 0 or a negative errno of pthread_create. */
int ss__evloop_start(ss__evloop *loop);

/* Make the loop's thread end: the turn under way finishes, one more turn
 * runs its hooks (so that work queued before the stop is done), and the
 * thread is joined. Not from the loop's thread. Nothing if not started. */
void ss__evloop_stop(ss__evloop *loop);

/* Free a loop that is not running. NULL is ignored. */
void ss__evloop_free(ss__evloop *loop);

/* Wake the loop for a turn (its hooks run); wakes coalesce. Any thread. */
void ss__evloop_wake(ss__evloop *loop);

#endif
