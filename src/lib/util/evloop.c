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
    pthread_mutex_t mu; /* guards the timers */
    ss__evtimer *timers;
    ss__evhook *hooks; /* set before the thread starts */
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
    if (io->fd == fd && io->mask == mask)
        return 0;
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
    h->next = loop->hooks;
    loop->hooks = h;
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

static void *loop_main(void *arg)
{
    ss__evloop *loop = arg;
    struct epoll_event evs[MAX_EVENTS];
    int timeout = -1;
    for (;;) {
        int n = epoll_wait(loop->epfd, evs, MAX_EVENTS, timeout);
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
        timeout = run_timers(loop);
        bool quit = atomic_load(&loop->quit);
        for (ss__evhook *h = loop->hooks; h; h = h->next)
            timeout = min_timeout(timeout, h->fn(h));
        if (quit)
            break;
    }
    return NULL;
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
    int rc = -pthread_create(&loop->thread, NULL, loop_main, loop);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    loop->started = rc == 0;
    return rc;
}

void ss__evloop_stop(ss__evloop *loop)
{
    if (!loop->started)
        return;
    atomic_store(&loop->quit, true);
    ss__evloop_wake(loop);
    pthread_join(loop->thread, NULL);
    loop->started = false;
}

void ss__evloop_free(ss__evloop *loop)
{
    if (!loop)
        return;
    close(loop->epfd);
    close(loop->wakefd);
    pthread_mutex_destroy(&loop->mu);
    free(loop);
}
