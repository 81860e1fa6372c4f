/*
 * ss_stream: life, the write side, plain reads, state and the error payload.
 * Matching reads are in match.c, line reads in lines.c, the I/O in loop.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream/common.h>
#include <syncstream/stream.h>

#include "stream/stream_int.h"
#include "util/clock.h"

#define MAX_CAP (1024u * 1024u * 1024u)

/* ---- helpers shared by the stream's files ---- */

const struct timespec *ss__deadline(int timeout_ms, struct timespec *ts)
{
    if (timeout_ms < 0)
        return NULL;
    *ts = ss__deadline_after_ms(timeout_ms);
    return ts;
}

static int wait_on(pthread_cond_t *cond, pthread_mutex_t *mu, int *waiters,
                   const struct timespec *deadline)
{
    int rc = 0;
    (*waiters)++;
    if (deadline)
        rc = pthread_cond_timedwait(cond, mu, deadline);
    else
        pthread_cond_wait(cond, mu);
    (*waiters)--;
    return rc == ETIMEDOUT ? -ETIMEDOUT : 0;
}

/* Reading was paused (a full buffer) and may resume now. */
static bool reading_paused(const ss_stream *s)
{
    return !s->watch_read && !s->closed && ss__want_read(s);
}

int ss__wait_readable(ss_stream *s, const struct timespec *deadline)
{
    /* The bytes waited for may fit in the room a paused buffer has: the loop
     * reads again while a caller waits (want_read counts read_waiters). */
    s->read_waiters++;
    bool resume = reading_paused(s);
    s->read_waiters--;
    if (resume)
        ss__loop_touch(s);
    int rc = wait_on(&s->readable, &s->mu, &s->read_waiters, deadline);
    /* A write error that came meanwhile is this call's to report. A read
     * error is not taken here: the call first looks at the bytes that came
     * before it, then ends with it (ss__read_end). */
    if (s->pending_err && !s->rerr)
        return ss__pending_error(s);
    return rc;
}

int ss__pending_error(ss_stream *s)
{
    int rc = s->pending_err;
    s->pending_err = 0;
    return rc;
}

int ss__read_end(const ss_stream *s)
{
    if (s->closed)
        return SS_ECLOSED;
    if (s->rerr)
        return s->rerr;
    if (!s->eof)
        return 0;
    /* A reset is reported once, to whichever side meets it first: when the
     * write side took it (werr), the read side sees only the end that follows.
     * The end is then that error, as the caller must learn that the stream
     * broke. -EPIPE only says the peer reads no more (a program that closed
     * its input, or shutdown_write's own mark): its output ends as it ends. */
    return s->werr && s->werr != -EPIPE ? s->werr : SS_EEOF;
}

/* Why a write cannot go on now, or 0. */
static int write_end(const ss_stream *s)
{
    if (s->closed)
        return SS_ECLOSED;
    if (s->werr)
        return s->werr;
    if (s->rerr)
        return s->rerr;
    if (s->down && s->fail_writes_while_down)
        return -ENOTCONN;
    return 0;
}

void ss__take(ss_stream *s, size_t n)
{
    ss__buf_take(&s->rbuf, n);
    s->base += n;
    if (n > 0 && reading_paused(s))
        ss__loop_touch(s);
}

static char *dup_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    char *p = malloc(alen + blen + 1);
    if (!p)
        return NULL;
    if (alen)
        memcpy(p, a, alen);
    if (blen)
        memcpy(p + alen, b, blen);
    p[alen + blen] = '\0';
    return p;
}

int ss__take_string(ss_stream *s, size_t len, char **ret)
{
    char *p = dup_bytes(ss__rdata(s), len, NULL, 0);
    if (!p)
        return -ENOMEM;
    ss__take(s, len);
    *ret = p;
    return 0;
}

int ss__fail(ss_stream *s, int rc, ss_stream_payload *p, const char *prefix, size_t prefix_len,
             const char *extra, size_t extra_len)
{
    if (!p)
        return rc;
    ss_stream_payload_clear(p);
    size_t rlen = ss__rlen(s);
    size_t wlen;
    const char *unsent = ss__buf_peek(&s->wbuf, &wlen);
    /* An allocation failure here leaves that part NULL: the bytes are still in
     * the stream (the call took nothing), or the caller's (a write's rest). */
    if (prefix_len + rlen) {
        p->read = dup_bytes(prefix, prefix_len, ss__rdata(s), rlen);
        p->read_len = p->read ? prefix_len + rlen : 0;
    }
    if (wlen + extra_len) {
        p->unsent = dup_bytes(unsent, wlen, extra, extra_len);
        p->unsent_len = p->unsent ? wlen + extra_len : 0;
    }
    return rc;
}

void ss_stream_payload_clear(ss_stream_payload *p)
{
    if (!p)
        return;
    free(p->read);
    free(p->unsent);
    memset(p, 0, sizeof(*p));
}

/* ---- life ---- */

int ss_stream_new(ss_stream **ret, ss_loop *loop, ss_transport *t, const ss_stream_opts *opts)
{
    static const ss_stream_opts defaults = {0};
    const ss_stream_opts *o = opts ? opts : &defaults;
    if (!t || !t->ops)
        return -EINVAL;
    ss_transport tr = *t;
    int rc = -EINVAL;
    if (!ret || !tr.ops->fds || !tr.ops->read || !tr.ops->write || !tr.ops->close ||
        o->read_cap > MAX_CAP || o->write_cap > MAX_CAP || (o->line_sep && !o->line_sep[0]))
        goto out_transport;
    rc = -ENOMEM;
    ss_stream *s = calloc(1, sizeof(*s));
    if (!s)
        goto out_transport;
    const char *sep = o->line_sep ? o->line_sep : "\n";
    s->sep_len = strlen(sep);
    s->sep = dup_bytes(sep, s->sep_len, NULL, 0);
    if (!s->sep)
        goto out_free;
    const char *name = o->name ? o->name : tr.ops->kind ? tr.ops->kind : "";
    size_t nlen = strnlen(name, SS_SOURCE_MAX - 1);
    memcpy(s->name, name, nlen);
    s->t = tr;
    s->fail_writes_while_down = o->fail_writes_while_down;
    size_t rcap = o->read_cap ? o->read_cap : SS_STREAM_DEFAULT_CAP;
    ss__buf_init(&s->rbuf, rcap);
    ss__buf_init(&s->ebuf, rcap);
    ss__buf_init(&s->wbuf, o->write_cap ? o->write_cap : SS_STREAM_DEFAULT_CAP);
    s->has_timer = tr.ops->timeout_ms != NULL;
    rc = ss__loop_take(loop, &s->loop);
    if (rc < 0)
        goto out_free;
    rc = ss__stream_svc_get(s->loop, &s->svc);
    if (rc < 0)
        goto out_loop;

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->readable, &ca);
    pthread_cond_init(&s->writable, &ca);
    pthread_condattr_destroy(&ca);

    ss__loop_touch(s);
    *ret = s;
    return 0;

out_loop:
    ss__loop_unref(s->loop);
out_free:
    free(s->sep);
    free(s);
out_transport:
    tr.ops->close(tr.impl);
    return rc;
}

void ss_stream_close(ss_stream *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->closed = true;
    pthread_cond_broadcast(&s->readable);
    pthread_cond_broadcast(&s->writable);
    pthread_mutex_unlock(&s->mu);

    /* The loop must drop the transport's fds from epoll before they are
     * closed: a reused fd number would otherwise be unregistered by mistake. */
    ss__loop_touch(s);
    ss__loop_wait_detached(s);

    pthread_mutex_lock(&s->mu);
    if (!s->transport_closed) {
        /* a program killed now still has a status worth keeping */
        if (s->t.ops->stop)
            s->t.ops->stop(s->t.impl);
        s->status_rc =
            s->t.ops->exit_status ? s->t.ops->exit_status(s->t.impl, &s->exit_status) : -ENOTSUP;
        s->t.ops->close(s->t.impl);
        s->transport_closed = true;
    }
    pthread_mutex_unlock(&s->mu);
}

void ss_stream_free(ss_stream *s)
{
    if (!s)
        return;
    ss_stream_close(s);
    ss__loop_unref(s->loop);
    ss__bridge_free(s->bridge);
    ss__buf_free(&s->rbuf);
    ss__buf_free(&s->ebuf);
    ss__buf_free(&s->wbuf);
    pthread_cond_destroy(&s->readable);
    pthread_cond_destroy(&s->writable);
    pthread_mutex_destroy(&s->mu);
    free(s->sep);
    free(s);
}

const char *ss_stream_name(const ss_stream *s)
{
    return s->name;
}

/* ---- writing ---- */

/* Send at once (when nothing waits) or queue n bytes, which fit. Returns how
 * many of them the stream took: all, or after a write error (s->werr set) or
 * when the write buffer could not grow (-ENOMEM) those sent before it. */
static size_t queue_bytes(ss_stream *s, const char *data, size_t n)
{
    size_t sent = 0;
    if (s->wbuf.len == 0 && !s->down) {
        /* The transport is idle: send straight away from this thread, which
         * saves the I/O thread a wake-up on every small write (a round trip). */
        while (sent < n) {
            ssize_t w = s->t.ops->write(s->t.impl, data + sent, n - sent);
            if (w == -EAGAIN)
                break;
            if (w < 0) {
                s->werr = (int)w;
                return sent;
            }
            sent += (size_t)w;
        }
    }
    if (sent == n) {
        /* A transport with bytes of its own (flush) may hold some now, or have
         * taken in input while writing: the I/O thread must look again. */
        if (s->t.ops->flush)
            ss__loop_touch(s);
        return n;
    }
    /* fits (the caller checked the room), but the memory may not be there */
    if (ss__buf_append(&s->wbuf, data + sent, n - sent) < 0)
        return sent;
    if (!s->watch_write)
        ss__loop_touch(s);
    return n;
}

int ss_stream_write(ss_stream *s, const void *data, size_t len, int timeout_ms,
                    ss_stream_payload *ret_payload)
{
    if (!s || (!data && len))
        return -EINVAL;
    const char *p = data;
    size_t done = 0;
    struct timespec ts;
    const struct timespec *deadline = ss__deadline(timeout_ms, &ts);
    pthread_mutex_lock(&s->mu);
    int rc = ss__pending_error(s);
    while (rc == 0 && done < len) {
        rc = write_end(s);
        if (rc < 0)
            break;
        size_t room = s->wbuf.cap - s->wbuf.len;
        /* A write that fits in the buffer goes in whole or not at all, so that
         * a failed one left nothing of it behind; a bigger one goes in pieces
         * (the payload's written says how far it got). */
        size_t want = len <= s->wbuf.cap ? len : 1;
        if (room < want) {
            if (timeout_ms == 0) {
                rc = -ENOBUFS;
                break;
            }
            rc = wait_on(&s->writable, &s->mu, &s->write_waiters, deadline);
            continue;
        }
        size_t n = len - done < room ? len - done : room;
        size_t took = queue_bytes(s, p + done, n);
        done += took;
        if (s->werr)
            rc = s->werr;
        else if (took < n)
            rc = -ENOMEM;
    }
    if (rc < 0) {
        rc = ss__fail(s, rc, ret_payload, NULL, 0, p + done, len - done);
        if (ret_payload)
            ret_payload->written = done;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ss_stream_flush(ss_stream *s, int timeout_ms, ss_stream_payload *ret_payload)
{
    if (!s)
        return -EINVAL;
    struct timespec ts;
    const struct timespec *deadline = ss__deadline(timeout_ms, &ts);
    pthread_mutex_lock(&s->mu);
    int rc = ss__pending_error(s);
    while (rc == 0 && s->wbuf.len > 0) {
        rc = write_end(s);
        if (rc == 0)
            rc = wait_on(&s->writable, &s->mu, &s->write_waiters, deadline);
    }
    if (rc < 0)
        rc = ss__fail(s, rc, ret_payload, NULL, 0, NULL, 0);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ss_stream_shutdown_write(ss_stream *s, int timeout_ms, ss_stream_payload *ret_payload)
{
    if (!s)
        return -EINVAL;
    if (!s->t.ops->shutdown_write)
        return -ENOTSUP;
    int rc = ss_stream_flush(s, timeout_ms, ret_payload);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&s->mu);
    rc = write_end(s);
    if (rc == 0) {
        rc = s->t.ops->shutdown_write(s->t.impl);
        /* from now on a write is refused, as on a closed pipe */
        if (!s->werr)
            s->werr = -EPIPE;
        /* the end may wait among the transport's own bytes (see queue_bytes) */
        if (s->t.ops->flush)
            ss__loop_touch(s);
    }
    if (rc < 0)
        rc = ss__fail(s, rc, ret_payload, NULL, 0, NULL, 0);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ss_stream_set_line(ss_stream *s, int line, bool on)
{
    if (!s || line < SS_LINE_BREAK || line > SS_LINE_RTS)
        return -EINVAL;
    pthread_mutex_lock(&s->mu);
    int rc = s->closed            ? SS_ECLOSED
             : s->t.ops->set_line ? s->t.ops->set_line(s->t.impl, line, on)
                                  : -ENOTSUP;
    /* a command a transport queued of its own (rfc2217://) waits for the loop */
    if (rc == 0 && s->t.ops->flush)
        ss__loop_touch(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

size_t ss_stream_waiting(ss_stream *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->wbuf.len;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* ---- plain reads ---- */

ssize_t ss_stream_read(ss_stream *s, void *buf, size_t n, int timeout_ms,
                       ss_stream_payload *ret_payload)
{
    if (!s || (!buf && n))
        return -EINVAL;
    struct timespec ts;
    const struct timespec *deadline = ss__deadline(timeout_ms, &ts);
    pthread_mutex_lock(&s->mu);
    ssize_t rc = ss__pending_error(s);
    while (rc == 0 && n > 0) {
        /* closed: the bytes are the payload's, as for every other call */
        if (s->closed) {
            rc = SS_ECLOSED;
            break;
        }
        size_t have = ss__rlen(s);
        if (have > 0) {
            size_t k = have < n ? have : n;
            memcpy(buf, ss__rdata(s), k);
            ss__take(s, k);
            rc = (ssize_t)k;
            break;
        }
        rc = ss__read_end(s);
        if (rc == 0)
            rc = ss__wait_readable(s, deadline);
    }
    if (rc < 0)
        rc = ss__fail(s, (int)rc, ret_payload, NULL, 0, NULL, 0);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

ssize_t ss_stream_peek(ss_stream *s, void *buf, size_t n)
{
    if (!s || (!buf && n))
        return -EINVAL;
    pthread_mutex_lock(&s->mu);
    ssize_t rc = ss__pending_error(s);
    if (rc == 0 && s->closed)
        rc = SS_ECLOSED;
    if (rc == 0) {
        size_t have = ss__rlen(s);
        size_t k = have < n ? have : n;
        if (k)
            memcpy(buf, ss__rdata(s), k);
        rc = (ssize_t)k;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

size_t ss_stream_ready(ss_stream *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = ss__rlen(s);
    pthread_mutex_unlock(&s->mu);
    return n;
}

int ss_stream_contains(ss_stream *s, const void *pattern, size_t plen)
{
    if (!s || !pattern || plen == 0)
        return -EINVAL;
    pthread_mutex_lock(&s->mu);
    int found = memmem(ss__rdata(s), ss__rlen(s), pattern, plen) != NULL;
    pthread_mutex_unlock(&s->mu);
    return found;
}

size_t ss_stream_consume(ss_stream *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = ss__rlen(s);
    ss__take(s, n);
    pthread_mutex_unlock(&s->mu);
    return n;
}

int ss_stream_take_stderr(ss_stream *s, char **ret, size_t *ret_len)
{
    if (!s || !ret || !ret_len)
        return -EINVAL;
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    char *p = NULL;
    size_t n = s->ebuf.len;
    if (n) {
        p = dup_bytes(s->ebuf.data, n, NULL, 0);
        if (!p)
            rc = -ENOMEM;
        else
            ss__buf_reset(&s->ebuf);
    }
    if (rc == 0) {
        if (reading_paused(s))
            ss__loop_touch(s);
        *ret = p;
        *ret_len = n;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- state and events ---- */

int ss_stream_exit_status(ss_stream *s, int *ret)
{
    if (!s || !ret)
        return -EINVAL;
    pthread_mutex_lock(&s->mu);
    int rc;
    if (s->transport_closed)
        rc = s->status_rc;
    else if (!s->t.ops->exit_status)
        rc = -ENOTSUP;
    else
        rc = s->t.ops->exit_status(s->t.impl, &s->exit_status);
    if (rc == 0)
        *ret = s->exit_status;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ss_stream_next_event(ss_stream *s, ss_stream_event *ret)
{
    if (!s || !ret)
        return -EINVAL;
    pthread_mutex_lock(&s->mu);
    int got = s->ev_count > 0;
    if (got) {
        *ret = s->events[s->ev_head];
        ret->dropped = s->ev_dropped;
        s->ev_dropped = 0;
        s->ev_head = (s->ev_head + 1) % SS_STREAM_MAX_EVENTS;
        s->ev_count--;
    }
    pthread_mutex_unlock(&s->mu);
    return got;
}
