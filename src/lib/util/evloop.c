/* The library's one event loop (see evloop.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/evloop.h"

#define MAX_EVENTS 256

struct ss__evloop {
    int epfd;
    int wakefd;
    atomic_bool wake_pending; /* the eventfd was written and not yet read */
    atomic_bool quit;
    pthread_mutex_t mu;    /* guards the timers, the hooks and the turn state */
    pthread_cond_t turned; /* a turn ended, or the thread stopped */
    ss__evtimer *timers;
    ss__evhook *hooks;
    uint64_t turns;   /* turns ended */
    bool running;     /* the thread runs, or a caller runs a turn (external) */
    pthread_t runner; /* which thread, while running */
    int64_t hooks_at; /* external: when the hooks asked for a turn (-1: never) */
    bool started;
    pthread_t thread;
};

static uint32_t epoll_mask(unsigned mask)
{
    return (mask & SS__EV_READ ? EPOLLIN : 0) | (mask & SS__EV_WRITE ? EPOLLOUT : 0);
}

static int ctl(ss__evloop *loop, int op, int fd, ss__evio *io, unsigned mask)
{
    struct epoll_event ev = {.events = epoll_mask(mask), .data.ptr = io};
    if (epoll_ctl(loop->epfd, op, fd, &ev) == 0)
        return 0;
    /* An fd closed and another opened under the same number has silently
     * left epoll, or never left it: retry the other way. */
    if (op == EPOLL_CTL_MOD && errno == ENOENT)
        return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
    if (op == EPOLL_CTL_ADD && errno == EEXIST)
        return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -errno;
    return -errno;
}

int ss__evio_set(ss__evloop *loop, ss__evio *io, int fd, unsigned mask)
{
    if (fd < 0)
        mask = 0;
    /* Under the loop's lock, which a turn takes once its fds are ready: a
     * callback then sees the watcher as it was set, from whatever thread. */
    pthread_mutex_lock(&loop->mu);
    if (io->fd == fd && io->mask == mask) {
        pthread_mutex_unlock(&loop->mu);
        return 0;
    }
    if (io->mask && io->fd != fd) {
        /* the old fd may be closed already: nothing to undo then */
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
        io->mask = 0;
    }
    io->fd = fd;
    int rc = 0;
    if (mask == 0) {
        if (io->mask)
            epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    } else {
        rc = ctl(loop, io->mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, io, mask);
    }
    io->mask = rc < 0 ? 0 : mask;
    pthread_mutex_unlock(&loop->mu);
    return rc;
}

static void timer_unlink(ss__evloop *loop, ss__evtimer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        loop->timers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->next = t->prev = NULL;
    t->armed = false;
}

void ss__evtimer_set(ss__evloop *loop, ss__evtimer *t, int64_t when_ms)
{
    pthread_mutex_lock(&loop->mu);
    bool earliest = true;
    for (ss__evtimer *o = loop->timers; o && earliest; o = o->next)
        earliest = o == t || o->when_ms > when_ms;
    if (!t->armed) {
        t->prev = NULL;
        t->next = loop->timers;
        if (loop->timers)
            loop->timers->prev = t;
        loop->timers = t;
        t->armed = true;
    }
    t->when_ms = when_ms;
    pthread_mutex_unlock(&loop->mu);
    /* the loop may sleep past the new instant */
    if (earliest)
        ss__evloop_wake(loop);
}

void ss__evtimer_cancel(ss__evloop *loop, ss__evtimer *t)
{
    pthread_mutex_lock(&loop->mu);
    if (t->armed)
        timer_unlink(loop, t);
    pthread_mutex_unlock(&loop->mu);
}

/* Run the due timers; returns the ms until the next one (-1: none). */
static int run_timers(ss__evloop *loop)
{
    for (;;) {
        int64_t now = 0, next = -1;
        ss__evtimer *due = NULL;
        pthread_mutex_lock(&loop->mu);
        /* most loops have no timer: no clock read on their turns */
        if (loop->timers)
            now = ss__mono_ms();
        for (ss__evtimer *t = loop->timers; t; t = t->next) {
            if (t->when_ms <= now) {
                due = t;
                break;
            }
            if (next < 0 || t->when_ms - now < next)
                next = t->when_ms - now;
        }
        if (due)
            timer_unlink(loop, due);
        pthread_mutex_unlock(&loop->mu);
        if (!due)
            return next > INT32_MAX ? INT32_MAX : (int)next;
        /* one at a time, the lock released: the callback may arm timers */
        due->fn(due);
    }
}

void ss__evloop_add_hook(ss__evloop *loop, ss__evhook *h)
{
    pthread_mutex_lock(&loop->mu);
    h->next = loop->hooks;
    loop->hooks = h;
    h->linked = true;
    pthread_mutex_unlock(&loop->mu);
    ss__evloop_wake(loop);
}

void ss__evloop_remove_hook(ss__evloop *loop, ss__evhook *h)
{
    pthread_mutex_lock(&loop->mu);
    for (ss__evhook **p = &loop->hooks; *p; p = &(*p)->next) {
        if (*p == h) {
            /* h->next stays: a turn standing on h goes on from there */
            *p = h->next;
            h->linked = false;
            break;
        }
    }
    pthread_mutex_unlock(&loop->mu);
    ss__evloop_sync(loop);
}

/* Whether the calling thread runs the loop's turn now (loop->mu held). */
static bool in_turn(const ss__evloop *loop)
{
    return loop->running && pthread_equal(loop->runner, pthread_self());
}

void ss__evloop_sync(ss__evloop *loop)
{
    pthread_mutex_lock(&loop->mu);
    if (loop->running && !in_turn(loop)) {
        uint64_t seen = loop->turns;
        /* a thread asleep in epoll_wait names nothing, but it counts as in
         * its turn: the wake ends that turn at once */
        if (loop->started) {
            pthread_mutex_unlock(&loop->mu);
            ss__evloop_wake(loop);
            pthread_mutex_lock(&loop->mu);
        }
        while (loop->running && loop->turns == seen)
            pthread_cond_wait(&loop->turned, &loop->mu);
    }
    pthread_mutex_unlock(&loop->mu);
}

int ss__evloop_pass(ss__evloop *loop)
{
    if (!loop->started)
        return ss__evloop_run_ready(loop);
    pthread_mutex_lock(&loop->mu);
    int rc = in_turn(loop) ? -EDEADLK : 0;
    /* the turn under way may have run its hooks already: the next one is
     * the first wholly after the call */
    uint64_t target = loop->turns + 2;
    while (rc == 0 && loop->running && loop->turns < target) {
        uint64_t at = loop->turns;
        /* woken on each turn: the wake of the last may have been taken by it */
        pthread_mutex_unlock(&loop->mu);
        ss__evloop_wake(loop);
        pthread_mutex_lock(&loop->mu);
        while (loop->running && loop->turns == at)
            pthread_cond_wait(&loop->turned, &loop->mu);
    }
    if (rc == 0 && loop->turns < target)
        rc = -ESHUTDOWN;
    pthread_mutex_unlock(&loop->mu);
    return rc;
}

void ss__evloop_wake(ss__evloop *loop)
{
    if (atomic_exchange(&loop->wake_pending, true))
        return;
    uint64_t one = 1;
    /* cannot fail short of a counter overflow, which wake_pending prevents */
    (void)!write(loop->wakefd, &one, sizeof(one));
}

static int min_timeout(int a, int b)
{
    return a < 0 ? b : b < 0 ? a : a < b ? a : b;
}

/* Run the hooks; returns the least of their sleep bounds (-1: none). The list
 * is walked without the lock (a hook takes its owner's lock, and the owner
 * may arm a timer under it): a hook removed meanwhile is skipped, and stays
 * valid memory until this turn ends (ss__evloop_remove_hook syncs). */
static int run_hooks(ss__evloop *loop)
{
    int timeout = -1;
    pthread_mutex_lock(&loop->mu);
    ss__evhook *h = loop->hooks;
    while (h) {
        bool linked = h->linked;
        pthread_mutex_unlock(&loop->mu);
        if (linked)
            timeout = min_timeout(timeout, h->fn(h));
        pthread_mutex_lock(&loop->mu);
        h = h->next;
    }
    pthread_mutex_unlock(&loop->mu);
    return timeout;
}

/* One turn: wait up to timeout ms for fds, run theirs, the due timers and
 * the hooks. Returns the least sleep bound of the hooks in *hooks_ms and of
 * the timers in *timers_ms (-1: none), and whether a stop was asked before
 * the hooks ran. */
static bool turn(ss__evloop *loop, int timeout, int *timers_ms, int *hooks_ms)
{
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(loop->epfd, evs, MAX_EVENTS, timeout);
    if (n > 0) {
        /* what ss__evio_set wrote before the fds were reported happens
         * before their callbacks (see there) */
        pthread_mutex_lock(&loop->mu);
        pthread_mutex_unlock(&loop->mu);
    }
    for (int i = 0; i < n; i++) {
        ss__evio *io = evs[i].data.ptr;
        if (!io) {
            uint64_t v;
            (void)!read(loop->wakefd, &v, sizeof(v));
            atomic_store(&loop->wake_pending, false);
            continue;
        }
        uint32_t e = evs[i].events;
        unsigned events = (e & EPOLLIN ? SS__EV_READ : 0) | (e & EPOLLOUT ? SS__EV_WRITE : 0);
        if (e & (EPOLLERR | EPOLLHUP))
            events = SS__EV_READ | SS__EV_WRITE;
        io->fn(io, events);
    }
    *timers_ms = run_timers(loop);
    bool quit = atomic_load(&loop->quit);
    *hooks_ms = run_hooks(loop);
    return quit;
}

/* A turn has ended (loop->mu held). */
static void turn_ended(ss__evloop *loop)
{
    loop->turns++;
    pthread_cond_broadcast(&loop->turned);
}

static void *loop_main(void *arg)
{
    ss__evloop *loop = arg;
    int timeout = -1;
    for (;;) {
        int timers_ms, hooks_ms;
        bool quit = turn(loop, timeout, &timers_ms, &hooks_ms);
        timeout = min_timeout(timers_ms, hooks_ms);
        pthread_mutex_lock(&loop->mu);
        turn_ended(loop);
        if (quit)
            loop->running = false;
        pthread_mutex_unlock(&loop->mu);
        if (quit)
            break;
    }
    return NULL;
}

int ss__evloop_run_ready(ss__evloop *loop)
{
    pthread_mutex_lock(&loop->mu);
    if (loop->started || in_turn(loop)) {
        int rc = loop->started ? -EINVAL : -EDEADLK;
        pthread_mutex_unlock(&loop->mu);
        return rc;
    }
    /* turns never overlap: another thread's (an object being freed) ends first */
    while (loop->running)
        pthread_cond_wait(&loop->turned, &loop->mu);
    loop->running = true;
    loop->runner = pthread_self();
    pthread_mutex_unlock(&loop->mu);

    int timers_ms, hooks_ms;
    turn(loop, 0, &timers_ms, &hooks_ms);

    pthread_mutex_lock(&loop->mu);
    loop->hooks_at = hooks_ms < 0 ? -1 : ss__mono_ms() + hooks_ms;
    loop->running = false;
    turn_ended(loop);
    pthread_mutex_unlock(&loop->mu);
    return 0;
}

int ss__evloop_timeout_ms(ss__evloop *loop)
{
    pthread_mutex_lock(&loop->mu);
    int64_t at = loop->hooks_at;
    for (ss__evtimer *t = loop->timers; t; t = t->next)
        if (at < 0 || t->when_ms < at)
            at = t->when_ms;
    pthread_mutex_unlock(&loop->mu);
    if (at < 0)
        return -1;
    int64_t left = at - ss__mono_ms();
    return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

int ss__evloop_fd(const ss__evloop *loop)
{
    return loop->epfd;
}

int ss__evloop_new(ss__evloop **ret)
{
    ss__evloop *loop = calloc(1, sizeof(*loop));
    if (!loop)
        return -ENOMEM;
    int rc = 0;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (loop->epfd < 0 || loop->wakefd < 0 ||
        epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev) < 0) {
        rc = -errno;
        goto out_close;
    }
    pthread_mutex_init(&loop->mu, NULL);
    pthread_cond_init(&loop->turned, NULL);
    loop->hooks_at = -1;
    *ret = loop;
    return 0;

out_close:
    if (loop->epfd >= 0)
        close(loop->epfd);
    if (loop->wakefd >= 0)
        close(loop->wakefd);
    free(loop);
    return rc;
}

int ss__evloop_start(ss__evloop *loop)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    /* under the lock: the thread's first turn ends only once it knows it runs */
    pthread_mutex_lock(&loop->mu);
    int rc = -pthread_create(&loop->thread, NULL, loop_main, loop);
    if (rc == 0) {
        loop->started = loop->running = true;
        loop->runner = loop->thread;
    }
    pthread_mutex_unlock(&loop->mu);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

void ss__evloop_stop(ss__evloop *loop)
{
    if (!loop->started || atomic_exchange(&loop->quit, true))
        return;
    ss__evloop_wake(loop);
    pthread_join(loop->thread, NULL);
}

void ss__evloop_free(ss__evloop *loop)
{
    if (!loop)
        return;
    close(loop->epfd);
    close(loop->wakefd);
    pthread_cond_destroy(&loop->turned);
    pthread_mutex_destroy(&loop->mu);
    free(loop);
}
