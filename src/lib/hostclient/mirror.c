/*
 * ss_host_mirror's writer side and lifecycle: lines are assembled here (the
 * project's one line assembler) and queued; hostclient/sender.c sends them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <syncstream/common.h>
#include <syncstream/hostclient.h>
#include <syncstream/linebuf.h>
#include <syncstream/proc.h>

#include "hostclient/mirror_int.h"
#include "util/clock.h"
#include "util/records.h"

#define DEFAULT_SPOOL_BYTES (1ull << 30)
/* A batch's JSON before its items: id, number and source (encode_batch in
 * sender.c: a head of at most 160 bytes, a source of 31 bytes escaped). */
#define BODY_HEAD_MAX 1024

static int pick(int v, int def)
{
    return v ? v : def;
}

static size_t pick_size(size_t v, size_t def)
{
    return v ? v : def;
}

/* A random id, unique per mirror instance (HOST-EXT: [A-Za-z0-9._-], <= 64). */
/* a + b, or SIZE_MAX when that does not fit (caps derived from options). */
static size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* What the memory queue and the spool can hold together. */
static size_t queued_max(const ss_host_mirror *m)
{
    return add_sat(m->opts.queue_bytes, m->opts.spool_bytes);
}

static void make_id(char id[SS__MIRROR_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[SS__MIRROR_ID_LEN / 2];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        /* Without the kernel's randomness, time and address still differ between
         * instances. */
        int64_t t = ss__now_realtime_ns();
        uintptr_t a = (uintptr_t)id;
        memcpy(raw, &t, sizeof(t));
        memcpy(raw + sizeof(t), &a,
               sizeof(raw) - sizeof(t) < sizeof(a) ? sizeof(raw) - sizeof(t) : sizeof(a));
    }
    for (size_t i = 0; i < sizeof(raw); i++) {
        id[2 * i] = hex[raw[i] >> 4];
        id[2 * i + 1] = hex[raw[i] & 15];
    }
    id[SS__MIRROR_ID_LEN] = '\0';
}

static int check_opts(const ss_host_mirror_opts *o)
{
    if (o->max_line > SS_HOST_MAX_RECORD || o->batch_records > 10000 || o->backoff_min_ms < 0 ||
        o->backoff_max_ms < 0 || o->connect_timeout_ms < 0 || o->request_timeout_ms < 0 ||
        (o->flags & ~(unsigned)(SS_HOST_FORCE_BASE | SS_HOST_CR_IS_BREAK)))
        return -EINVAL;
    if (o->queue_bytes && o->queue_bytes < SS__HQ_HDR + o->max_line)
        return -EINVAL; /* one whole line must fit */
    return 0;
}

static void mirror_release(ss_host_mirror *m)
{
    ss__lineasm_done(&m->la);
    ss__lineasm_done(&m->la_err);
    ss__hqueue_done(&m->q);
    ss__http_done(&m->http);
    ss__buf_free(&m->inflight);
    ss__buf_free(&m->body);
    ss__buf_free(&m->scratch);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->work);
    pthread_cond_destroy(&m->progress);
    free(m->url);
    free(m->state_url);
    free(m->health_url);
    free(m);
}

int ss_host_mirror_new(ss_host_mirror **ret, const char *url, const ss_host_mirror_opts *opts)
{
    static const ss_host_mirror_opts zero;
    const ss_host_mirror_opts *o = opts ? opts : &zero;
    if (!ret || !ss__http_url_ok(url) || check_opts(o) < 0)
        return -EINVAL;

    ss_host_mirror *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->opts = *o;
    m->opts.source = m->opts.token = m->opts.spool_path = m->opts.ca_file = NULL;
    m->opts.max_line = pick_size(o->max_line, SS_LINEBUF_DEFAULT_MAX_LINE);
    m->opts.queue_bytes = pick_size(o->queue_bytes, SS_HOST_DEFAULT_QUEUE_BYTES);
    m->opts.spool_bytes = pick_size(o->spool_bytes, DEFAULT_SPOOL_BYTES);
    m->opts.batch_bytes = pick_size(o->batch_bytes, SS_HOST_DEFAULT_BATCH_BYTES);
    m->opts.batch_records = pick_size(o->batch_records, SS_HOST_DEFAULT_BATCH_RECORDS);
    m->opts.backoff_min_ms = pick(o->backoff_min_ms, 50);
    m->opts.backoff_max_ms = pick(o->backoff_max_ms, 5000);
    m->opts.connect_timeout_ms = pick(o->connect_timeout_ms, 3000);
    m->opts.request_timeout_ms = pick(o->request_timeout_ms, 30000);
    m->opts.stop_poll_ms = pick(o->stop_poll_ms, 1000);
    m->opts.close_timeout_ms = pick(o->close_timeout_ms, 30000);
    ss__source_copy(m->source, o->source);
    make_id(m->id);
    pthread_mutex_init(&m->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->work, &ca);
    pthread_cond_init(&m->progress, &ca);
    pthread_condattr_destroy(&ca);
    /* The queue's bound counts whole entries; a batch in flight is on top.
     * The caps follow from the options, so that none is ever hit:
     *  - inflight holds a batch taken from the queue and, in
     *    ss_host_mirror_unsent(), all that was queued after it: at most twice
     *    what the memory queue and the spool hold;
     *  - scratch holds a run of inflight's line records, each with at most one
     *    '\n' for its 8-byte entry header: no more than inflight;
     *  - body is a batch as JSON: at most 6 bytes per text byte ("\u001b",
     *    "\ufffd" for a byte of invalid UTF-8) and 128 per item's frame for an
     *    entry's 8-byte header, so 16 per byte of inflight, and the head. */
    size_t inflight_cap = add_sat(queued_max(m), queued_max(m));
    ss__buf_init(&m->inflight, inflight_cap);
    ss__buf_init(&m->scratch, inflight_cap);
    ss__buf_init(&m->body, add_sat(inflight_cap > SIZE_MAX / 16 ? SIZE_MAX : 16 * inflight_cap,
                                   BODY_HEAD_MAX));
    m->q.fd = -1;

    int rc = -ENOMEM;
    m->url = strdup(url);
    m->state_url = ss__http_url(url, "-state?state=closed");
    m->health_url = ss__http_url(url, "-health");
    if (!m->url || !m->state_url || !m->health_url)
        goto out_release;
    unsigned lflags = (o->flags & SS_HOST_CR_IS_BREAK) ? SS_LINE_CR_IS_BREAK : 0;
    if ((rc = ss__lineasm_init(&m->la, m->opts.max_line, lflags, NULL)) < 0 ||
        (rc = ss__lineasm_init(&m->la_err, m->opts.max_line, lflags, NULL)) < 0)
        goto out_release;
    if ((rc = ss__hqueue_init(&m->q, m->opts.queue_bytes, o->spool_path, m->opts.spool_bytes)) < 0)
        goto out_release;
    if ((rc = ss__http_init(&m->http, o->token, o->ca_file, m->opts.connect_timeout_ms,
                            m->opts.request_timeout_ms, 1u << 20)) < 0)
        goto out_release;
    rc = -pthread_create(&m->thread, NULL, ss__mirror_thread, m);
    if (rc < 0)
        goto out_release;
    m->thread_started = true;
    *ret = m;
    return 0;

out_release:
    mirror_release(m);
    return rc;
}

/* Why a writer may not queue now (mu held), or 0. */
static int refusal(const ss_host_mirror *m)
{
    if (m->closed)
        return SS_ECLOSED;
    if (m->st.error)
        return m->st.error;
    if (m->st.stopped)
        return SS_ESTOPPED;
    return 0;
}

/* Queue one entry (mu held), waiting while the queue is full. */
static int push(ss_host_mirror *m, uint8_t what, ss_kind kind, uint32_t flags, const char *text,
                size_t len)
{
    for (;;) {
        int rc = ss__hqueue_push(&m->q, what, kind, flags, text, len);
        if (rc == 0)
            break;
        if (rc != -ENOBUFS)
            return rc;
        /* Full: wait for the thread to take a batch. A failed thread takes no
         * more, and close's deadline ends the wait through quit. */
        if (m->st.error || m->quit)
            return m->st.error ? m->st.error : -ECANCELED;
        pthread_cond_wait(&m->progress, &m->mu);
    }
    m->queued++;
    m->st.spooled = m->q.spooled;
    m->st.records_queued++;
    m->st.pending++;
    if (m->thread_idle) {
        m->thread_idle = false;
        pthread_cond_signal(&m->work);
    }
    return 0;
}

static int queue_line(void *ctx, const char *text, size_t len, uint32_t flags)
{
    return push(ctx, SS__HQ_RECORD, SS_KIND_LINE, flags, text, len);
}

static int queue_err_line(void *ctx, const char *text, size_t len, uint32_t flags)
{
    return push(ctx, SS__HQ_RECORD, SS_KIND_LINE, flags | SS_REC_STDERR, text, len);
}

/* End both partial lines (mu held). */
static int flush_lines(ss_host_mirror *m)
{
    int rc = ss__lineasm_flush(&m->la, queue_line, m);
    if (rc == 0)
        rc = ss__lineasm_flush(&m->la_err, queue_err_line, m);
    return rc;
}

int ss_host_mirror_write_stderr(ss_host_mirror *m, const void *data, size_t len)
{
    if (!m || (!data && len))
        return -EINVAL;
    pthread_mutex_lock(&m->mu);
    int rc = refusal(m);
    if (rc == 0)
        rc = ss__lineasm_feed(&m->la_err, data, len, queue_err_line, m);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int ss_host_mirror_write(ss_host_mirror *m, const void *data, size_t len)
{
    if (!m || (!data && len))
        return -EINVAL;
    pthread_mutex_lock(&m->mu);
    int rc = refusal(m);
    if (rc == 0)
        rc = ss__lineasm_feed(&m->la, data, len, queue_line, m);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* Whether a write of len bytes cannot block (mu held): the queue has room for
 * the most it may take (each byte may end a record, a long line is cut every
 * max_line bytes), or is empty. */
static bool has_room(ss_host_mirror *m, size_t len)
{
    size_t text = m->la.len + m->la.held + len;
    size_t records = len + 2 + text / m->la.max_line;
    return ss__hqueue_room(&m->q) >= records * SS__HQ_HDR + text || ss__hqueue_count(&m->q) == 0;
}

int ss__host_mirror_wait_room(ss_host_mirror *m, size_t len, int timeout_ms)
{
    struct timespec deadline = ss__deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&m->mu);
    int rc;
    while ((rc = refusal(m)) == 0 && !has_room(m, len)) {
        if (m->quit) {
            rc = -ECANCELED;
        } else if (pthread_cond_timedwait(&m->progress, &m->mu, &deadline) == ETIMEDOUT) {
            rc = -ETIMEDOUT;
        }
        if (rc != 0)
            break;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int ss_host_mirror_new_line(ss_host_mirror *m)
{
    if (!m)
        return -EINVAL;
    pthread_mutex_lock(&m->mu);
    int rc = refusal(m);
    if (rc == 0)
        rc = flush_lines(m);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* End the partial line and queue a grouped record (mu held). */
static int queue_group(ss_host_mirror *m, ss_kind kind, uint32_t flags, const char *text,
                       size_t len)
{
    len = ss__trim_breaks(text, len);
    if (len > SS_HOST_MAX_RECORD)
        return SS_ETOOBIG;
    int rc = ss__lineasm_flush(&m->la, queue_line, m);
    if (rc == 0 && flags)
        rc = ss__lineasm_flush(&m->la_err, queue_err_line, m);
    if (rc == 0)
        rc = push(m, SS__HQ_RECORD, kind, flags, text, len);
    return rc;
}

int ss_host_mirror_append(ss_host_mirror *m, ss_kind kind, const void *text, size_t len)
{
    return ss_host_mirror_append_flags(m, kind, 0, text, len);
}

int ss_host_mirror_append_flags(ss_host_mirror *m, ss_kind kind, uint32_t flags, const void *text,
                                size_t len)
{
    if (!m || (!text && len) || (unsigned)kind > SS_KIND_ERROR ||
        (flags & ~(uint32_t)(SS_REC_STDERR | SS_REC_EXIT)))
        return -EINVAL;
    pthread_mutex_lock(&m->mu);
    int rc = refusal(m);
    if (rc == 0)
        rc = queue_group(m, kind, flags, text, len);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* Wait until every entry queued so far is delivered, sending fails, or the
 * thread ends (mu held). deadline NULL: no limit. */
static int wait_delivered(ss_host_mirror *m, const struct timespec *deadline)
{
    uint64_t target = m->queued;
    while (m->done < target && !m->st.error && !m->quit) {
        if (!deadline)
            pthread_cond_wait(&m->progress, &m->mu);
        else if (pthread_cond_timedwait(&m->progress, &m->mu, deadline) == ETIMEDOUT)
            return m->done < target ? -ETIMEDOUT : 0;
    }
    if (m->done >= target)
        return 0;
    return m->st.error ? m->st.error : -ECANCELED;
}

int ss_host_mirror_flush(ss_host_mirror *m, int timeout_ms)
{
    if (!m)
        return -EINVAL;
    struct timespec deadline;
    if (timeout_ms >= 0)
        deadline = ss__deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&m->mu);
    int rc = wait_delivered(m, timeout_ms >= 0 ? &deadline : NULL);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static int close_mirror(ss_host_mirror *m, const char *err_text, size_t err_len)
{
    if (m->closed)
        return m->st.error;
    int to = m->opts.close_timeout_ms;
    struct timespec deadline;
    if (to >= 0)
        deadline = ss__deadline_after_ms(to);

    pthread_mutex_lock(&m->mu);
    /* A stop request does not keep a mirror from saying it is done. */
    int rc = m->st.error;
    if (rc == 0)
        rc = flush_lines(m);
    if (rc == 0 && err_text)
        rc = queue_group(m, SS_KIND_ERROR, 0, err_text, err_len);
    if (rc == 0)
        rc = push(m, SS__HQ_CLOSE, SS_KIND_LINE, 0, NULL, 0);
    m->closed = true;
    if (rc == 0)
        rc = wait_delivered(m, to >= 0 ? &deadline : NULL);
    /* Delivered, failed or out of time: the thread ends now. */
    m->quit = true;
    pthread_cond_signal(&m->work);
    pthread_mutex_unlock(&m->mu);
    ss__http_cancel(&m->http);
    if (m->thread_started) {
        pthread_join(m->thread, NULL);
        m->thread_started = false;
    }
    return rc;
}

int ss_host_mirror_close(ss_host_mirror *m)
{
    if (!m)
        return -EINVAL;
    return close_mirror(m, NULL, 0);
}

int ss_host_mirror_close_error(ss_host_mirror *m, const void *text, size_t len)
{
    if (!m || (!text && len))
        return -EINVAL;
    return close_mirror(m, text ? text : "", len);
}

/* Add the records of an encoded run to a builder; the close entry is not a
 * record. */
static void add_run(ss__records_builder *b, const ss__buf *run, const char *source)
{
    size_t off = 0;
    while (off < run->len) {
        const char *text;
        ss__hq_hdr h = ss__hq_next(run, &off, &text);
        if (h.what == SS__HQ_RECORD)
            ss__records_add(b, 0, 0, (ss_kind)h.kind, h.flags, 0, source, text, h.len);
    }
}

static void count_run(const ss__buf *run, size_t *count, size_t *bytes)
{
    size_t off = 0;
    while (off < run->len) {
        const char *text;
        ss__hq_hdr h = ss__hq_next(run, &off, &text);
        if (h.what == SS__HQ_RECORD) {
            (*count)++;
            *bytes += h.len;
        }
    }
}

int ss_host_mirror_unsent(ss_host_mirror *m, ss_records *ret)
{
    if (!m || !ret)
        return -EINVAL;
    if (!m->closed || m->thread_started)
        return -EBUSY;
    /* The thread is gone: what it had in flight comes first, then the queue. */
    ss__buf rest;
    ss__buf_init(&rest, queued_max(m));
    int rc = 0;
    while (ss__hqueue_count(&m->q) > 0) {
        rc = ss__hqueue_take(&m->q, SIZE_MAX, SIZE_MAX, &rest);
        if (rc < 0)
            goto out;
    }
    rc = ss__buf_append(&m->inflight, rest.data, rest.len);
    if (rc < 0)
        goto out;
    size_t count = 0, bytes = 0;
    count_run(&m->inflight, &count, &bytes);
    ss__records_builder b;
    rc = ss__records_begin(&b, ret, count, bytes);
    if (rc < 0)
        goto out;
    add_run(&b, &m->inflight, m->source);
    rc = (int)count;
    /* Handed over: they are no longer the mirror's. */
    ss__buf_reset(&m->inflight);
    m->inflight_count = 0;
out:
    ss__buf_free(&rest);
    return rc;
}

void ss_host_mirror_get_stats(ss_host_mirror *m, ss_host_mirror_stats *ret)
{
    if (!m || !ret)
        return;
    pthread_mutex_lock(&m->mu);
    *ret = m->st;
    pthread_mutex_unlock(&m->mu);
}

void ss_host_mirror_free(ss_host_mirror *m)
{
    if (!m)
        return;
    close_mirror(m, NULL, 0);
    mirror_release(m);
}
