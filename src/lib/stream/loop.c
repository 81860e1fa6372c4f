/*
 * The stream service on the library's event loop (util/evloop.h): one per
 * ss_loop (loop/loop_int.h), for every stream on that loop. A stream's
 * descriptors are watched only for what it can use now: for reading while
 * its read buffer has room, for writing while bytes wait. A stream with
 * nothing to watch leaves epoll altogether, so a hang-up on a paused stream
 * cannot spin the loop. Callers that change what a stream can use queue it
 * with ss__loop_touch(), which wakes the loop; the loop's hook looks at the
 * queued streams on its next turn. Transports with timed work
 * (ops->timeout_ms) are asked on every turn, and bound the loop's sleep.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream/common.h>
#include <syncstream/stream.h>

#include "stream/stream_int.h"
#include "util/clock.h"
#include "util/evloop.h"

#define SCRATCH_LEN (64 * 1024)
/* Bulk reads go straight into the read buffer, up to READ_CHUNK at a time,
 * once it has grown to DIRECT_MIN. */
#define READ_CHUNK (256 * 1024)
#define DIRECT_MIN (64 * 1024)
/* A full read buffer is read again once this much of it is free (or half of
 * it, if smaller): a reader taking small pieces of a full buffer must not make
 * the loop stop and start watching again for each piece. A caller that waits
 * for bytes resumes it at once, whatever the room. */
#define RESUME_ROOM (1024 * 1024)

struct ss__stream_svc {
    ss__evloop *ev;
    bool external;           /* no thread: a close runs the turns it needs */
    ss__evhook hook;         /* each turn: the touched streams, the timed work */
    pthread_mutex_t mu;      /* guards the dirty queue and streams' loop flags */
    pthread_cond_t detached; /* a stream was let go */
    ss_stream *dirty_head;
    ss_stream *timers; /* streams with timed work; loop thread only */
    char scratch[SCRATCH_LEN];
};

void ss__loop_touch(ss_stream *s)
{
    ss__stream_svc *loop = s->svc;
    pthread_mutex_lock(&loop->mu);
    bool wake = !s->dirty && !s->detached;
    if (wake) {
        s->dirty = true;
        s->dirty_next = loop->dirty_head;
        loop->dirty_head = s;
    }
    pthread_mutex_unlock(&loop->mu);
    if (wake)
        ss__evloop_wake(loop->ev);
}

void ss__loop_wait_detached(ss_stream *s)
{
    ss__stream_svc *loop = s->svc;
    pthread_mutex_lock(&loop->mu);
    while (!s->detached) {
        if (loop->external) {
            /* nobody may be driving the loop now: run its turns here */
            pthread_mutex_unlock(&loop->mu);
            ss__evloop_pass(loop->ev);
            pthread_mutex_lock(&loop->mu);
        } else {
            pthread_cond_wait(&loop->detached, &loop->mu);
        }
    }
    pthread_mutex_unlock(&loop->mu);
}

/* ---- one stream's I/O (s->mu held) ---- */

static void set_error(ss_stream *s, int *which, int err)
{
    if (!*which)
        *which = err;
    if (!s->pending_err)
        s->pending_err = err;
    /* no more bytes will come: the bridge's unterminated lines are complete */
    if (which == &s->rerr && s->bridge)
        ss__bridge_end(s->bridge);
}

static void push_event(ss_stream *s, ss_stream_event_kind kind, const char *text, size_t len)
{
    if (s->ev_count == SS_STREAM_MAX_EVENTS) {
        /* the oldest unread event makes room: the stream must not stall on it */
        s->ev_head = (s->ev_head + 1) % SS_STREAM_MAX_EVENTS;
        s->ev_count--;
        s->ev_dropped++;
    }
    ss_stream_event *ev = &s->events[(s->ev_head + s->ev_count) % SS_STREAM_MAX_EVENTS];
    s->ev_count++;
    ev->kind = kind;
    ev->time_ns = ss__now_realtime_ns();
    ev->offset = s->received;
    if (len >= sizeof(ev->text))
        len = sizeof(ev->text) - 1;
    memcpy(ev->text, text, len);
    ev->text[len] = '\0';
    if (s->bridge)
        ss__bridge_event(s->bridge, ev->text, len);
}

size_t ss__read_room(const ss_stream *s)
{
    /* only: the bridge takes every channel's bytes and nothing is kept */
    if (s->bridge && ss__bridge_only(s->bridge))
        return SIZE_MAX;
    size_t out = s->rbuf.cap - ss__rlen(s);
    size_t err = s->ebuf.cap - s->ebuf.len;
    return out < err ? out : err;
}

bool ss__want_read(const ss_stream *s)
{
    if (s->eof || s->rerr)
        return false;
    size_t room = ss__read_room(s);
    if (room == 0)
        return false;
    /* a caller waiting for bytes may need only the room there is */
    if (!s->paused || s->read_waiters > 0)
        return true;
    size_t resume = s->rbuf.cap / 2 < RESUME_ROOM ? s->rbuf.cap / 2 : RESUME_ROOM;
    return room >= resume;
}

static void append_read(ss_stream *s, const char *data, size_t n)
{
    if (ss__buf_append(&s->rbuf, data, n) < 0)
        set_error(s, &s->rerr, -ENOMEM);
}

static void deliver(ss_stream *s, int chan, const char *data, size_t n)
{
    switch (chan) {
    case SS_CHAN_OUT:
        if (s->bridge)
            ss__bridge_feed(s->bridge, chan, data, n);
        if (!s->bridge || !ss__bridge_only(s->bridge))
            append_read(s, data, n);
        s->received += n;
        break;
    case SS_CHAN_ERR:
        if (s->bridge)
            ss__bridge_feed(s->bridge, chan, data, n);
        if ((!s->bridge || !ss__bridge_only(s->bridge)) && ss__buf_append(&s->ebuf, data, n) < 0)
            set_error(s, &s->rerr, -ENOMEM);
        break;
    case SS_CHAN_DOWN:
        s->down = true;
        push_event(s, SS_STREAM_EVENT_DOWN, data, n);
        break;
    case SS_CHAN_UP:
        s->down = false;
        push_event(s, SS_STREAM_EVENT_UP, data, n);
        break;
    default:
        set_error(s, &s->rerr, -EPROTO);
        break;
    }
}

static bool do_writes(ss_stream *s)
{
    bool progress = false;
    while (!s->werr && !s->down && s->wbuf.len > 0) {
        size_t len;
        const char *p = ss__buf_peek(&s->wbuf, &len);
        ssize_t n = s->t.ops->write(s->t.impl, p, len);
        if (n == -EAGAIN)
            break;
        if (n < 0) {
            set_error(s, &s->werr, (int)n);
            break;
        }
        ss__buf_take(&s->wbuf, (size_t)n);
        progress = true;
    }
    return progress || s->werr;
}

/* Where the next read goes, at most *len bytes: straight into the free end
 * of the read buffer (no copy) once it has grown for bulk traffic, else the
 * loop's scratch buffer (a stream that gets a line now and then keeps a small
 * buffer). Sets *direct for the first. */
static char *read_target(ss_stream *s, char *scratch, size_t scratch_len, size_t *len, bool *direct)
{
    *direct = false;
    if (s->rbuf.alloc >= DIRECT_MIN && !(s->bridge && ss__bridge_only(s->bridge))) {
        size_t n = *len < READ_CHUNK ? *len : READ_CHUNK;
        char *dst;
        if (ss__buf_reserve(&s->rbuf, n, &dst) == 0) {
            *len = n;
            *direct = true;
            return dst;
        }
    }
    if (*len > scratch_len)
        *len = scratch_len;
    return scratch;
}

static bool do_reads(ss_stream *s, char *scratch, size_t scratch_len)
{
    bool changed = false;
    for (int i = 0; i < SS__EV_BUDGET && !s->eof && !s->rerr; i++) {
        size_t len = ss__read_room(s);
        if (len == 0)
            break;
        bool direct;
        char *dst = read_target(s, scratch, scratch_len, &len, &direct);
        int chan = SS_CHAN_OUT;
        ssize_t n = s->t.ops->read(s->t.impl, dst, len, &chan);
        if (n == -EAGAIN)
            break;
        changed = true;
        if (n < 0) {
            set_error(s, &s->rerr, (int)n);
        } else if (n == 0) {
            s->eof = true;
            if (s->bridge)
                ss__bridge_end(s->bridge);
        } else if (direct && chan == SS_CHAN_OUT) {
            if (s->bridge)
                ss__bridge_feed(s->bridge, chan, dst, (size_t)n);
            s->rbuf.len += (size_t)n;
            s->received += (size_t)n;
        } else {
            /* from the scratch buffer, or other channels' bytes read into the
             * read buffer's free end, which they leave as it was */
            deliver(s, chan, dst, (size_t)n);
        }
    }
    return changed;
}

/* Events a transport holds apart from its bytes (ops->next_event): taken
 * whatever room the read buffer has, so that none waits behind a full one. */
static bool do_events(ss_stream *s)
{
    if (!s->t.ops->next_event)
        return false;
    bool changed = false;
    char text[sizeof(((ss_stream_event *)NULL)->text)];
    int chan;
    while ((chan = s->t.ops->next_event(s->t.impl, text, sizeof(text))) > 0) {
        text[sizeof(text) - 1] = '\0';
        if (chan == SS_CHAN_DOWN || chan == SS_CHAN_UP)
            deliver(s, chan, text, strlen(text));
        changed = true;
    }
    return changed;
}

enum { WAKE_READERS = 1u << 0, WAKE_WRITERS = 1u << 1 };

/* Move bytes both ways as far as possible (s->mu held). Returns which
 * waiters to wake, which the caller does once it has released the lock, so
 * that a woken reader does not at once block on it. */
static unsigned service(ss_stream *s, char *scratch, size_t scratch_len)
{
    if (s->closed)
        return 0;
    if (s->t.ops->flush && !s->rerr) {
        int rc = s->t.ops->flush(s->t.impl);
        if (rc < 0)
            set_error(s, &s->rerr, rc);
    }
    bool wrote = do_writes(s);
    bool read = do_reads(s, scratch, scratch_len);
    read |= do_events(s);
    /* an event (UP) may have made writing possible again */
    if (read && s->wbuf.len > 0)
        wrote |= do_writes(s);
    unsigned wake = 0;
    if (read && s->read_waiters)
        wake |= WAKE_READERS;
    if ((wrote || s->rerr) && s->write_waiters)
        wake |= WAKE_WRITERS;
    /* a write error is the next call's to report, a blocked read included */
    if (s->werr && s->pending_err && s->read_waiters)
        wake |= WAKE_READERS;
    return wake;
}

/* Signalling without the lock is safe: a stream is freed only after the loop
 * thread, this one, has let go of it. */
static void wake_waiters(ss_stream *s, unsigned wake)
{
    if (wake & WAKE_READERS)
        pthread_cond_broadcast(&s->readable);
    if (wake & WAKE_WRITERS)
        pthread_cond_broadcast(&s->writable);
}

/* ---- registration (loop thread, s->mu held) ---- */

static void stream_io(ss__evio *io, unsigned events);

static void unregister_all(ss__stream_svc *loop, ss_stream *s)
{
    for (int i = 0; i < SS_TRANSPORT_MAX_FDS; i++)
        ss__evio_set(loop->ev, &s->regs[i], -1, 0);
}

/* Watch what the stream can use now, and nothing else. */
static void update_interest(ss__stream_svc *loop, ss_stream *s)
{
    bool want_read = ss__want_read(s);
    bool want_write = !s->werr && s->wbuf.len > 0;
    s->watch_read = want_read;
    if (ss__read_room(s) == 0)
        s->paused = true;
    else if (want_read)
        s->paused = false;
    s->watch_write = want_write;

    /* A transport holding bytes of its own wants writable whatever is queued. */
    bool want_flush = s->t.ops->flush && !s->rerr;
    ss_transport_fd fds[SS_TRANSPORT_MAX_FDS];
    int n = 0;
    if (want_read || want_write || want_flush) {
        n = s->t.ops->fds(s->t.impl, fds, SS_TRANSPORT_MAX_FDS);
        if (n < 0) {
            set_error(s, &s->rerr, n);
            n = 0;
        }
        if (n > SS_TRANSPORT_MAX_FDS)
            n = SS_TRANSPORT_MAX_FDS;
    }
    struct {
        int fd;
        unsigned mask;
    } next[SS_TRANSPORT_MAX_FDS];
    int nnext = 0;
    for (int i = 0; i < n; i++) {
        unsigned mask = 0;
        if (want_read && (fds[i].events & SS_TRANSPORT_READ))
            mask |= SS__EV_READ;
        if (want_write && (fds[i].events & SS_TRANSPORT_WRITE))
            mask |= SS__EV_WRITE;
        if (want_flush && (fds[i].events & SS_TRANSPORT_FLUSH))
            mask |= SS__EV_WRITE;
        if (mask && fds[i].fd >= 0) {
            next[nnext].fd = fds[i].fd;
            next[nnext++].mask = mask;
        }
    }
    /* A watcher keeps its slot while its fd is watched: epoll points at it. */
    for (int i = 0; i < SS_TRANSPORT_MAX_FDS; i++) {
        bool kept = false;
        for (int j = 0; j < nnext; j++)
            kept |= next[j].fd == s->regs[i].fd;
        if (s->regs[i].mask && !kept)
            ss__evio_set(loop->ev, &s->regs[i], -1, 0);
    }
    for (int j = 0; j < nnext; j++) {
        ss__evio *io = NULL;
        for (int i = 0; i < SS_TRANSPORT_MAX_FDS && !io; i++)
            if (s->regs[i].mask && s->regs[i].fd == next[j].fd)
                io = &s->regs[i];
        for (int i = 0; i < SS_TRANSPORT_MAX_FDS && !io; i++)
            if (!s->regs[i].mask) {
                io = &s->regs[i];
                ss__evio_init(io, stream_io, s);
            }
        int rc = ss__evio_set(loop->ev, io, next[j].fd, next[j].mask);
        if (rc < 0)
            set_error(s, &s->rerr, rc);
    }
    if (s->rerr) {
        /* an error found here must wake the callers too */
        pthread_cond_broadcast(&s->readable);
        pthread_cond_broadcast(&s->writable);
    }
}

static void timer_link(ss__stream_svc *loop, ss_stream *s)
{
    s->timer_prev = NULL;
    s->timer_next = loop->timers;
    if (loop->timers)
        loop->timers->timer_prev = s;
    loop->timers = s;
}

static void timer_unlink(ss__stream_svc *loop, ss_stream *s)
{
    if (s->timer_prev)
        s->timer_prev->timer_next = s->timer_next;
    else if (loop->timers == s)
        loop->timers = s->timer_next;
    if (s->timer_next)
        s->timer_next->timer_prev = s->timer_prev;
    s->timer_next = s->timer_prev = NULL;
}

/* Look at a stream again: new, changed by a caller, or closed. */
static void handle_touched(ss__stream_svc *loop, ss_stream *s)
{
    unsigned wake = 0;
    pthread_mutex_lock(&s->mu);
    bool closed = s->closed;
    if (closed) {
        unregister_all(loop, s);
        /* the last unterminated line, on the I/O thread as every other */
        if (s->bridge)
            ss__bridge_end(s->bridge);
    } else {
        wake = service(s, loop->scratch, sizeof(loop->scratch));
        update_interest(loop, s);
    }
    pthread_mutex_unlock(&s->mu);
    wake_waiters(s, wake);

    pthread_mutex_lock(&loop->mu);
    if (closed && s->dirty) {
        /* The close queued it again while this batch was walked: it is on the
         * dirty list, so it is let go on that visit, not now (the caller may
         * free it as soon as it is detached). */
    } else if (closed) {
        if (s->attached && s->has_timer)
            timer_unlink(loop, s);
        s->detached = true;
        pthread_cond_broadcast(&loop->detached);
    } else if (!s->attached) {
        s->attached = true;
        if (s->has_timer)
            timer_link(loop, s);
    }
    pthread_mutex_unlock(&loop->mu);
}

/* Run due timed work; returns the epoll timeout until the next (-1: none). */
static int run_timers(ss__stream_svc *loop)
{
    int next = -1;
    for (ss_stream *s = loop->timers; s; s = s->timer_next) {
        unsigned wake = 0;
        pthread_mutex_lock(&s->mu);
        if (!s->closed && !s->rerr) {
            int ms = s->t.ops->timeout_ms(s->t.impl);
            if (ms == 0) {
                int rc = s->t.ops->tick ? s->t.ops->tick(s->t.impl) : 0;
                if (rc < 0)
                    set_error(s, &s->rerr, rc);
                wake = service(s, loop->scratch, sizeof(loop->scratch));
                update_interest(loop, s);
                ms = s->rerr ? -1 : s->t.ops->timeout_ms(s->t.impl);
            }
            if (ms >= 0 && (next < 0 || ms < next))
                next = ms;
        }
        pthread_mutex_unlock(&s->mu);
        wake_waiters(s, wake);
    }
    return next;
}

/* An fd of s is ready: serve the stream (its fds share one service). */
static void stream_io(ss__evio *io, unsigned events)
{
    (void)events;
    ss_stream *s = io->arg;
    ss__stream_svc *loop = s->svc;
    unsigned wake = 0;
    pthread_mutex_lock(&s->mu);
    /* a closed stream leaves epoll when its touch is handled */
    if (!s->closed) {
        wake = service(s, loop->scratch, sizeof(loop->scratch));
        update_interest(loop, s);
    }
    pthread_mutex_unlock(&s->mu);
    wake_waiters(s, wake);
}

/* Each turn, after the fds: the streams callers touched, then timed work. */
static int loop_turn(ss__evhook *h)
{
    ss__stream_svc *loop = h->arg;
    pthread_mutex_lock(&loop->mu);
    ss_stream *touched = loop->dirty_head;
    loop->dirty_head = NULL;
    /* The touched streams are walked without the lock, through a link of
     * the loop's own: a caller may queue a stream again meanwhile. */
    for (ss_stream *s = touched; s; s = s->dirty_next) {
        s->dirty = false;
        s->work_next = s->dirty_next;
    }
    pthread_mutex_unlock(&loop->mu);

    /* A stream is detached (and may then be freed) inside handle_touched,
     * so the next pointer is read first. */
    for (ss_stream *s = touched, *next; s; s = next) {
        next = s->work_next;
        handle_touched(loop, s);
    }
    return run_timers(loop);
}

static void svc_free(ss__stream_svc *loop)
{
    ss__evloop_remove_hook(loop->ev, &loop->hook);
    pthread_cond_destroy(&loop->detached);
    pthread_mutex_destroy(&loop->mu);
    free(loop);
}

int ss__stream_svc_get(ss_loop *owner, ss__stream_svc **ret)
{
    pthread_mutex_lock(&owner->mu);
    ss__stream_svc *loop = owner->streams;
    if (!loop && (loop = calloc(1, sizeof(*loop)))) {
        loop->ev = owner->ev;
        loop->external = owner->external;
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_mutex_init(&loop->mu, NULL);
        pthread_cond_init(&loop->detached, &ca);
        pthread_condattr_destroy(&ca);
        loop->hook = (ss__evhook){.fn = loop_turn, .arg = loop};
        ss__evloop_add_hook(loop->ev, &loop->hook);
        owner->streams = loop;
        owner->streams_free = svc_free;
    }
    pthread_mutex_unlock(&owner->mu);
    *ret = loop;
    return loop ? 0 : -ENOMEM;
}

int ss_stream_loop_new(ss_stream_loop **ret)
{
    return ss_loop_new(ret, 0);
}

void ss_stream_loop_free(ss_stream_loop *loop)
{
    ss_loop_free(loop);
}
