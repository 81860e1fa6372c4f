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
 * write to a closed pipe fails with EPIPE instead of killing the process). A
 * loop that is never started is driven from outside instead: whoever calls
 * ss__evloop_run_ready() runs one turn that does not sleep (the public
 * ss_loop's external mode, loop/loop.c); turns never overlap.
 * ss__evloop_wake(), ss__evtimer_set(), ss__evtimer_cancel() and the hook and
 * pass calls may be called from any thread. ss__evio_set() may be called from
 * any thread, but calls for one watcher must not overlap (its owner's lock
 * serialises them).
 *
 * Freeing. A turn may still name a watcher, timer or hook that was unwatched,
 * cancelled or removed while it ran (epoll_wait handed out the pointer).
 * Whoever frees one from outside the loop's turns first takes it off the
 * loop, then calls ss__evloop_sync(), which returns once no turn can name it.
 * That is what lets one object leave a loop that goes on serving others.
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
    /* the loop's (under its lock) */
    ss__evhook *next;
    bool linked;
};

/* Run h on every turn from the next one on. Any thread, at any time. */
void ss__evloop_add_hook(ss__evloop *loop, ss__evhook *h);

/* Stop running h and wait until no turn runs it (ss__evloop_sync): h may be
 * freed on return. Not from the loop's own callbacks. Nothing if h is not
 * on the loop. */
void ss__evloop_remove_hook(ss__evloop *loop, ss__evhook *h);

/* Wait until the turn under way, if any, has ended: what was unwatched,
 * cancelled or removed before the call is named by no turn after it. Returns
 * at once when no turn runs, or when called from the loop's own turn. */
void ss__evloop_sync(ss__evloop *loop);

/* Wait until a whole turn that began after the call has ended (its hooks
 * ran after whatever the caller did before). A started loop is woken for
 * it; a loop driven from outside runs that turn on the calling thread (after
 * a turn under way on another has ended). Returns 0, or -EDEADLK from the
 * loop's own turn, or -ESHUTDOWN if the loop's thread has stopped. */
int ss__evloop_pass(ss__evloop *loop);

/* A loop driven from outside: one turn that does not sleep, on the calling
 * thread (after a turn under way on another has ended). Returns 0, or
 * -EDEADLK from a callback of the loop's own turn, or -EINVAL on a started
 * loop. */
int ss__evloop_run_ready(ss__evloop *loop);

/* A loop driven from outside: how long it may sleep before its next turn is
 * due (ms; -1: until its fd is readable). */
int ss__evloop_timeout_ms(ss__evloop *loop);

/* The epoll fd: readable while a watched fd is ready or the loop was woken. */
int ss__evloop_fd(const ss__evloop *loop);

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
