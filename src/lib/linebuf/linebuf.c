#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream/common.h>
#include <syncstream/linebuf.h>

#include "linebuf/linebuf_int.h"
#include "util/clock.h"
#include "util/records.h"
#include "util/wallclock.h"

#define MAXLEN_LIMIT (1u << 28)
#define MAX_LINE_LIMIT (256u << 20)
#define MAX_BYTES_LIMIT (1u << 30)

/* Resolve zeros to defaults and reject what cannot be honoured. */
static int resolve_geometry(const ss_linebuf_opts *opts, ss__ring_geometry *geo)
{
    geo->maxlen = opts->maxlen ? opts->maxlen : SS_LINEBUF_DEFAULT_MAXLEN;
    geo->max_line = opts->max_line ? opts->max_line : SS_LINEBUF_DEFAULT_MAX_LINE;
    if (geo->maxlen > MAXLEN_LIMIT || geo->max_line > MAX_LINE_LIMIT)
        return -EINVAL;
    if (opts->max_bytes)
        geo->max_bytes = opts->max_bytes;
    else if (opts->path)
        geo->max_bytes = 2 * geo->max_line + 256 * geo->maxlen < MAX_BYTES_LIMIT
                             ? 2 * geo->max_line + 256 * geo->maxlen
                             : MAX_BYTES_LIMIT;
    else
        geo->max_bytes = SS_LINEBUF_DEFAULT_MAX_BYTES;
    if (geo->max_bytes < 2 * geo->max_line)
        geo->max_bytes = 2 * geo->max_line;
    if (geo->max_bytes > MAX_BYTES_LIMIT)
        return -EINVAL;
    /* Whole chunks of 8 bytes, as the ring's arena allocates them. */
    geo->max_bytes = (geo->max_bytes + 7) & ~(size_t)7;
    return 0;
}

int ss_linebuf_new(ss_linebuf **ret, const ss_linebuf_opts *opts)
{
    static const ss_linebuf_opts defaults;
    ss__ring_geometry geo;
    pthread_condattr_t attr;
    int rc;

    if (!ret)
        return -EINVAL;
    if (!opts)
        opts = &defaults;
    if ((opts->full != SS_FULL_DROP_OLDEST && opts->full != SS_FULL_DROP_NEWEST) ||
        (unsigned)opts->time_source > SS_TIME_REALTIME ||
        (opts->line_flags &
         ~(unsigned)(SS_LINE_CR_IS_BREAK | SS_LINE_SPLITLINES | SS_LINE_CR_REDRAW)) ||
        ((opts->line_flags & SS_LINE_CR_REDRAW) &&
         (opts->line_flags & (SS_LINE_CR_IS_BREAK | SS_LINE_SPLITLINES))))
        return -EINVAL;
    rc = resolve_geometry(opts, &geo);
    if (rc < 0)
        return rc;

    ss_linebuf *lb = calloc(1, sizeof(*lb));
    if (!lb)
        return -ENOMEM;
    if (opts->path)
        rc = ss__ring_open_file(&lb->ring, opts->path, &geo, opts->full);
    else
        rc = ss__ring_init_heap(&lb->ring, &geo, opts->full);
    if (rc < 0)
        goto out_free;

    ss__source_copy(lb->source, opts->source);
    lb->clock = ss__wallclock_resolve(opts->time_source);
    ss__ring_hdr *hdr = lb->ring.hdr;
    /* A partial line left in a file ring by its previous owner is stored as a
     * record of its own: continuing it would mix two writers' bytes in one line. */
    if (hdr->partial_len > 0) {
        ss__ring_append(&lb->ring, SS_KIND_LINE, hdr->partial_flags, hdr->partial_source,
                        hdr->partial_producer, hdr->partial_time_ns, lb->ring.partial,
                        (size_t)hdr->partial_len);
        hdr->partial_len = 0;
    }
    /* A file ring keeps the default writer's partial line in the mapping, so that
     * it survives a crash. */
    rc = ss__lineasm_init(&lb->defw, geo.max_line, opts->line_flags, lb->ring.partial);
    if (rc < 0)
        goto out_ring;
    memcpy(hdr->partial_source, lb->source, SS_SOURCE_MAX);
    hdr->partial_flags = 0;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&lb->grown, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&lb->mu, NULL);
    *ret = lb;
    return 0;

out_ring:
    ss__ring_done(&lb->ring);
out_free:
    free(lb);
    return rc;
}

void ss_linebuf_close(ss_linebuf *lb)
{
    if (!lb)
        return;
    pthread_mutex_lock(&lb->mu);
    /* atomic: writers look at it without the lock (ss__linebuf_closed) */
    __atomic_store_n(&lb->closed, true, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&lb->grown);
    pthread_mutex_unlock(&lb->mu);
}

void ss_linebuf_free(ss_linebuf *lb)
{
    if (!lb)
        return;
    ss_linebuf_close(lb);
    ss__lineasm_done(&lb->defw);
    ss__ring_done(&lb->ring);
    pthread_cond_destroy(&lb->grown);
    pthread_mutex_destroy(&lb->mu);
    free(lb);
}

int ss__linebuf_store_locked(ss_linebuf *lb, ss_kind kind, uint32_t flags, const char *source,
                             uint32_t producer, int64_t time_ns, const char *text, size_t len)
{
    int rc = ss__ring_append(&lb->ring, kind, flags, source, producer, time_ns, text, len);
    if (rc > 0 && lb->waiters)
        pthread_cond_broadcast(&lb->grown);
    return rc < 0 ? rc : 0;
}

int ss__linebuf_store(ss_linebuf *lb, ss_kind kind, uint32_t flags, const char *source,
                      uint32_t producer, int64_t time_ns, const char *text, size_t len)
{
    pthread_mutex_lock(&lb->mu);
    int rc = lb->closed
                 ? SS_ECLOSED
                 : ss__linebuf_store_locked(lb, kind, flags, source, producer, time_ns, text, len);
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

static int default_emit(void *ctx, const char *text, size_t len, uint32_t flags)
{
    ss_linebuf *lb = ctx;
    int rc =
        ss__linebuf_store_locked(lb, SS_KIND_LINE, flags, lb->source, 0, lb->now_ns, text, len);
    /* The completed line no longer counts as partial in a ring file: a crash
     * from here on must not bring its first part back as a record of its own. */
    lb->ring.hdr->partial_len = lb->defw.len;
    return rc;
}

/* Mirror the default writer's partial line into the ring header (the file's copy
 * of the bytes is already in place: the assembler writes into the mapping). */
static void note_partial(ss_linebuf *lb)
{
    lb->ring.hdr->partial_len = lb->defw.len;
    lb->ring.hdr->partial_time_ns = lb->now_ns;
}

int ss_linebuf_write(ss_linebuf *lb, const void *data, size_t len)
{
    if (!lb || (!data && len))
        return -EINVAL;
    /* the clock is read before taking the lock, to keep the lock short */
    int64_t now = ss__wallclock_ns(lb->clock);
    pthread_mutex_lock(&lb->mu);
    int rc = SS_ECLOSED;
    if (!lb->closed) {
        lb->now_ns = ss__linebuf_stamp_locked(lb, now);
        rc = ss__lineasm_feed(&lb->defw, data, len, default_emit, lb);
        note_partial(lb);
    }
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

int ss_linebuf_new_line(ss_linebuf *lb)
{
    if (!lb)
        return -EINVAL;
    pthread_mutex_lock(&lb->mu);
    int rc = SS_ECLOSED;
    if (!lb->closed) {
        lb->now_ns = ss__linebuf_stamp_locked(lb, ss__wallclock_ns(lb->clock));
        rc = ss__lineasm_flush(&lb->defw, default_emit, lb);
        note_partial(lb);
    }
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

int ss_linebuf_append(ss_linebuf *lb, ss_kind kind, const void *text, size_t len)
{
    if (!lb || (!text && len) || (unsigned)kind > SS_KIND_ERROR)
        return -EINVAL;
    len = ss__trim_breaks(text, len);
    if (ss__linebuf_too_big(lb, len))
        return SS_ETOOBIG; /* refused before the partial line is touched */
    pthread_mutex_lock(&lb->mu);
    int rc = SS_ECLOSED;
    if (!lb->closed) {
        lb->now_ns = ss__linebuf_stamp_locked(lb, ss__wallclock_ns(lb->clock));
        rc = ss__lineasm_flush(&lb->defw, default_emit, lb);
        note_partial(lb);
        if (rc == 0)
            rc = ss__linebuf_store_locked(lb, kind, 0, lb->source, 0, lb->now_ns, text, len);
    }
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

/* Copy records first .. first + count - 1, then the partial line if asked. */
static int copy_out_locked(ss_linebuf *lb, uint64_t first, size_t count, bool partial,
                           ss_records *ret)
{
    const ss__ring *ring = &lb->ring;
    size_t text_bytes = partial ? lb->defw.len : 0;
    for (size_t i = 0; i < count; i++)
        text_bytes += ss__ring_slot(ring, first + i)->len;

    ss__records_builder b;
    int rc = ss__records_begin(&b, ret, count + partial, text_bytes);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < count; i++) {
        const ss__slot *s = ss__ring_slot(ring, first + i);
        ss__records_add(&b, first + i, s->time_ns, (ss_kind)s->kind, s->flags,
                        ss__ring_origin(ring, s)->producer, ss__ring_origin(ring, s)->source,
                        ring->data + s->off, s->len);
    }
    if (partial)
        ss__records_add(&b, 0, ring->hdr->partial_time_ns, SS_KIND_LINE, SS_REC_PARTIAL, 0,
                        lb->source, lb->defw.part, lb->defw.len);
    return (int)(count + partial);
}

/* The view of PROTOCOL.md: records plus the partial line, at most maxlen items. */
static size_t view_records_locked(const ss_linebuf *lb, bool *partial)
{
    size_t count = ss__ring_count(&lb->ring);
    size_t maxlen = (size_t)lb->ring.hdr->maxlen;
    *partial = lb->defw.len > 0;
    if (*partial && count > maxlen - 1)
        count = maxlen - 1;
    return count;
}

int ss_linebuf_read(ss_linebuf *lb, size_t n, ss_records *ret)
{
    if (!lb || !ret)
        return -EINVAL;
    pthread_mutex_lock(&lb->mu);
    int rc = SS_ECLOSED;
    if (lb->closed) {
        ss_records_clear(ret);
    } else {
        bool partial;
        size_t records = view_records_locked(lb, &partial);
        records -= ss__newest_items(records, &partial, n);
        uint64_t first = lb->ring.hdr->next_seq - records;
        rc = copy_out_locked(lb, first, records, partial, ret);
    }
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

static int read_since_locked(ss_linebuf *lb, uint64_t cursor, size_t max, ss_records *ret)
{
    const ss__ring_hdr *hdr = lb->ring.hdr;
    /* Saturate: cursor + 1 would wrap to 0 at the top of the range and report
     * every stored record as new and the first ones as missed. */
    uint64_t after = cursor == UINT64_MAX ? UINT64_MAX : cursor + 1;
    uint64_t start = after > hdr->first_seq ? after : hdr->first_seq;
    uint64_t missed = start - after;
    size_t count = start < hdr->next_seq ? (size_t)(hdr->next_seq - start) : 0;
    if (max && count > max)
        count = max;
    int rc = copy_out_locked(lb, start, count, false, ret);
    if (rc >= 0) {
        ret->missed = missed;
        ret->cursor = count ? start + count - 1 : (start - 1 > cursor ? start - 1 : cursor);
    }
    return rc;
}

int ss_linebuf_read_since(ss_linebuf *lb, uint64_t cursor, size_t max, ss_records *ret)
{
    if (!lb || !ret)
        return -EINVAL;
    pthread_mutex_lock(&lb->mu);
    int rc = SS_ECLOSED;
    if (lb->closed)
        ss_records_clear(ret);
    else
        rc = read_since_locked(lb, cursor, max, ret);
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

/* Sleep until a record newer than cursor exists; lb->mu held. */
static int wait_locked(ss_linebuf *lb, uint64_t cursor, int timeout_ms)
{
    struct timespec deadline;
    if (timeout_ms > 0)
        deadline = ss__deadline_after_ms(timeout_ms);
    for (;;) {
        if (lb->closed)
            return SS_ECLOSED;
        /* a stored record newer than the cursor: after a clear, the newest seq
         * may be beyond the cursor with nothing left to read */
        if (ss__ring_count(&lb->ring) > 0 && lb->ring.hdr->next_seq - 1 > cursor)
            return 0;
        if (timeout_ms == 0)
            return -ETIMEDOUT;
        lb->waiters++;
        int rc = timeout_ms < 0 ? pthread_cond_wait(&lb->grown, &lb->mu)
                                : pthread_cond_timedwait(&lb->grown, &lb->mu, &deadline);
        lb->waiters--;
        if (rc == ETIMEDOUT)
            timeout_ms = 0; /* look once more, then give up */
    }
}

int ss_linebuf_wait(ss_linebuf *lb, uint64_t cursor, int timeout_ms)
{
    if (!lb)
        return -EINVAL;
    pthread_mutex_lock(&lb->mu);
    int rc = wait_locked(lb, cursor, timeout_ms);
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

int ss_linebuf_follow(ss_linebuf *lb, uint64_t cursor, size_t max, int timeout_ms, ss_records *ret)
{
    if (!lb || !ret)
        return -EINVAL;
    pthread_mutex_lock(&lb->mu);
    int rc = wait_locked(lb, cursor, timeout_ms);
    if (rc == 0)
        rc = read_since_locked(lb, cursor, max, ret);
    else
        ss_records_clear(ret);
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

int ss_linebuf_len(ss_linebuf *lb, size_t *ret)
{
    if (!lb || !ret)
        return -EINVAL;
    pthread_mutex_lock(&lb->mu);
    int rc = SS_ECLOSED;
    if (!lb->closed) {
        bool partial;
        *ret = view_records_locked(lb, &partial) + partial;
        rc = 0;
    }
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

size_t ss_linebuf_maxlen(const ss_linebuf *lb)
{
    /* Fixed at creation, so no lock is needed. */
    return lb ? (size_t)lb->ring.hdr->maxlen : 0;
}

int ss_linebuf_clear(ss_linebuf *lb)
{
    if (!lb)
        return -EINVAL;
    pthread_mutex_lock(&lb->mu);
    int rc = SS_ECLOSED;
    if (!lb->closed) {
        ss__ring_clear(&lb->ring);
        ss__lineasm_reset(&lb->defw);
        note_partial(lb);
        rc = 0;
    }
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

void ss__linebuf_room(ss_linebuf *lb, uint64_t cursor, uint64_t *ret_records, uint64_t *ret_bytes)
{
    pthread_mutex_lock(&lb->mu);
    const ss__ring_hdr *hdr = lb->ring.hdr;
    uint64_t last = hdr->next_seq - 1;
    uint64_t pending = last > cursor ? last - cursor : 0;
    uint64_t taken = ss__ring_bytes_after(&lb->ring, cursor);
    *ret_records = pending < hdr->maxlen ? hdr->maxlen - pending : 0;
    *ret_bytes = taken < hdr->max_bytes ? hdr->max_bytes - taken : 0;
    pthread_mutex_unlock(&lb->mu);
}

static ss_linebuf_stats stats_of(const ss__ring_hdr *hdr, size_t count)
{
    return (ss_linebuf_stats){
        .written = hdr->written,
        .stored = hdr->stored,
        .shed = hdr->shed,
        .cleared = hdr->cleared,
        .cut = hdr->cut,
        .last_seq = hdr->next_seq - 1,
        .count = count,
        .maxlen = (size_t)hdr->maxlen,
    };
}

int ss_linebuf_get_stats(ss_linebuf *lb, ss_linebuf_stats *ret)
{
    if (!lb || !ret)
        return -EINVAL;
    pthread_mutex_lock(&lb->mu);
    int rc = SS_ECLOSED;
    if (!lb->closed) {
        *ret = stats_of(lb->ring.hdr, ss__ring_count(&lb->ring));
        rc = 0;
    }
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

int ss_linebuf_inspect_file(const char *path, size_t n, ss_records *ret,
                            ss_linebuf_stats *ret_stats)
{
    ss__ring_hdr hdr;
    int rc = ss__ring_inspect_file(path, n, ret, &hdr);
    if (rc >= 0 && ret_stats)
        *ret_stats = stats_of(&hdr, (size_t)(hdr.next_seq - hdr.first_seq));
    return rc;
}
