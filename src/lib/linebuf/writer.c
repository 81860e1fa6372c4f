/*
 * ss_writer: a producer's own partial line. Assembly runs without the buffer's
 * lock; a call that completes records takes it at its first record and keeps
 * it to the end of the call, so a large write of many lines costs one lock,
 * not one per line (a collector reading 64 KiB of a child's output, say).
 */
#include <errno.h>
#include <stdlib.h>

#include <syncstream/common.h>
#include <syncstream/linebuf.h>

#include "linebuf/linebuf_int.h"
#include "util/records.h"
#include "util/wallclock.h"

struct ss_writer {
    ss_linebuf *lb;
    ss__lineasm la;
    char source[SS_SOURCE_MAX];
    uint32_t rec_flags;
    uint32_t producer; /* its id, or its child's (ss__writer_set_producer) */
    int64_t now_ns;    /* timestamp of the records of the current call, read at its first */
    bool locked;       /* the current call holds lb->mu */
};

static int writer_emit(void *ctx, const char *text, size_t len, uint32_t flags)
{
    ss_writer *w = ctx;
    ss_linebuf *lb = w->lb;
    if (!w->locked) {
        /* The time belongs to the records: a write that completes no line
         * (most of print()'s calls) reads no clock. */
        int64_t now = ss__wallclock_ns(lb->clock);
        pthread_mutex_lock(&lb->mu);
        w->locked = true;
        w->now_ns = ss__linebuf_stamp_locked(lb, now);
    }
    if (lb->closed)
        return SS_ECLOSED;
    return ss__linebuf_store_locked(lb, SS_KIND_LINE, flags | w->rec_flags, w->source, w->producer,
                                    w->now_ns, text, len);
}

/* End of a call: release the lock if one of its records took it. */
static int call_done(ss_writer *w, int rc)
{
    if (w->locked) {
        w->locked = false;
        pthread_mutex_unlock(&w->lb->mu);
    }
    return rc;
}

int ss_writer_new(ss_writer **ret, ss_linebuf *lb, const char *source, uint32_t rec_flags)
{
    if (!ret || !lb || (rec_flags & SS_REC_PARTIAL))
        return -EINVAL;
    ss_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    pthread_mutex_lock(&lb->mu);
    bool closed = lb->closed;
    /* 0 means no id: skipped when the count wraps */
    if (++lb->writers == 0)
        lb->writers = 1;
    w->producer = lb->writers;
    size_t max_line = lb->defw.max_line;
    unsigned line_flags = lb->defw.line_flags;
    pthread_mutex_unlock(&lb->mu);
    int rc = closed ? SS_ECLOSED : ss__lineasm_init(&w->la, max_line, line_flags, NULL);
    if (rc < 0) {
        free(w);
        return rc;
    }
    w->lb = lb;
    w->rec_flags = rec_flags;
    ss__source_copy(w->source, source);
    *ret = w;
    return 0;
}

int ss_writer_write(ss_writer *w, const void *data, size_t len)
{
    if (!w || (!data && len))
        return -EINVAL;
    if (ss__linebuf_closed(w->lb))
        return SS_ECLOSED;
    return call_done(w, ss__lineasm_feed(&w->la, data, len, writer_emit, w));
}

int ss_writer_new_line(ss_writer *w)
{
    if (!w)
        return -EINVAL;
    if (ss__linebuf_closed(w->lb))
        return SS_ECLOSED;
    return call_done(w, ss__lineasm_flush(&w->la, writer_emit, w));
}

int ss_writer_append(ss_writer *w, ss_kind kind, const void *text, size_t len)
{
    if (!w || (!text && len) || (unsigned)kind > SS_KIND_ERROR)
        return -EINVAL;
    len = ss__trim_breaks(text, len);
    if (ss__linebuf_too_big(w->lb, len))
        return SS_ETOOBIG;
    int rc = ss_writer_new_line(w);
    if (rc < 0)
        return rc;
    ss_linebuf *lb = w->lb;
    int64_t now = ss__wallclock_ns(lb->clock);
    pthread_mutex_lock(&lb->mu);
    rc = lb->closed ? SS_ECLOSED
                    : ss__linebuf_store_locked(lb, kind, w->rec_flags, w->source, w->producer,
                                               ss__linebuf_stamp_locked(lb, now), text, len);
    pthread_mutex_unlock(&lb->mu);
    return rc;
}

void ss__writer_partial(const ss_writer *w, const char **ret_text, size_t *ret_len)
{
    *ret_text = w->la.part;
    *ret_len = w->la.len;
}

uint32_t ss_writer_id(const ss_writer *w)
{
    return w ? w->producer : 0;
}

void ss__writer_set_producer(ss_writer *w, uint32_t producer)
{
    w->producer = producer;
}

void ss__writer_reset(ss_writer *w)
{
    ss__lineasm_reset(&w->la);
}

int ss_writer_close(ss_writer *w)
{
    if (!w)
        return 0;
    int rc = ss_writer_new_line(w);
    ss__lineasm_done(&w->la);
    free(w);
    return rc;
}
