/*
 * Line reads (read_line, read_lines) and check: built on the incremental
 * search of match.c with the stream's separator as an exact pattern.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream/common.h>
#include <syncstream/stream.h>

#include "stream/match.h"
#include "stream/stream_int.h"
#include "util/clock.h"

static int sep_matcher(ss_stream *s, ss__matcher *m)
{
    ss_pattern p = {.text = s->sep, .len = s->sep_len, .kind = SS_PATTERN_EXACT};
    return ss__matcher_init(m, &p);
}

int ss_stream_read_line(ss_stream *s, int timeout_ms, char **ret, size_t *ret_len,
                        ss_stream_payload *ret_payload)
{
    if (!s || !ret || !ret_len)
        return -EINVAL;
    ss__matcher m;
    int rc = sep_matcher(s, &m);
    size_t len;
    if (rc == 0)
        rc = ss__read_match(s, &m, timeout_ms, ret, &len, ret_payload);
    if (rc == 0) {
        *ret_len = len - s->sep_len;
        (*ret)[*ret_len] = '\0';
    }
    return rc;
}

/* The earlier of two deadlines; NULL is "none". */
static const struct timespec *earlier(const struct timespec *a, const struct timespec *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (a->tv_sec != b->tv_sec)
        return a->tv_sec < b->tv_sec ? a : b;
    return a->tv_nsec <= b->tv_nsec ? a : b;
}

/* Remember the bytes a read_lines call consumed, for its payload: the newest
 * read_cap bytes of them, as the read buffer itself is bounded. */
static void keep_taken(ss__buf *taken, const char *data, size_t len)
{
    if (len > taken->cap) {
        data += len - taken->cap;
        len = taken->cap;
    }
    if (len > taken->cap - taken->len)
        ss__buf_take(taken, len - (taken->cap - taken->len));
    /* an allocation failure only shortens the payload; the line is delivered */
    (void)ss__buf_append(taken, data, len);
}

ssize_t ss_stream_read_lines(ss_stream *s, const ss_read_lines_opts *o,
                             ss_stream_payload *ret_payload)
{
    if (!s || !o || !o->on_line)
        return -EINVAL;
    ss__matcher m;
    int rc = sep_matcher(s, &m);
    if (rc < 0)
        return rc;
    struct timespec total_ts, line_ts;
    const struct timespec *total = ss__deadline(o->timeout_ms, &total_ts);
    size_t until_len = o->until ? strlen(o->until) : 0;
    ss__buf taken, line;
    ss__buf_init(&taken, s->rbuf.cap);
    ss__buf_init(&line, s->rbuf.cap + 1);
    size_t seen = 0, handed = 0;
    bool done = false;

    pthread_mutex_lock(&s->mu);
    rc = ss__pending_error(s);
    while (rc == 0 && !done && (o->max == 0 || handed < o->max)) {
        const struct timespec *dl = earlier(total, ss__deadline(o->line_timeout_ms, &line_ts));
        int index;
        rc = ss__search(s, &m, 1, dl, &index);
        if (rc < 0)
            break;
        size_t len = (size_t)(m.end - s->base);
        keep_taken(&taken, ss__rdata(s), len);
        bool skipped = seen++ < o->skip;
        if (!skipped) {
            ss__buf_reset(&line);
            rc = ss__buf_append(&line, ss__rdata(s), len - s->sep_len);
            if (rc == 0)
                rc = ss__buf_append(&line, "", 1);
            if (rc < 0)
                break;
        }
        ss__take(s, len);
        if (skipped)
            continue;
        handed++;
        size_t tlen = line.len - 1;
        if (until_len && memmem(line.data, tlen, o->until, until_len))
            done = true;
        /* the callback may take its time, and may even use the stream */
        pthread_mutex_unlock(&s->mu);
        rc = o->on_line(o->ctx, line.data, tlen);
        pthread_mutex_lock(&s->mu);
        if (rc > 0)
            rc = 0;
    }
    if (rc < 0)
        rc = ss__fail(s, rc, ret_payload, taken.data, taken.len, NULL, 0);
    pthread_mutex_unlock(&s->mu);
    ss__buf_free(&taken);
    ss__buf_free(&line);
    ss__matcher_done(&m);
    return rc < 0 ? rc : (ssize_t)handed;
}

int ss_stream_check(ss_stream *s, ss_stream_check_fn fn, void *ctx, int timeout_ms,
                    ss_stream_payload *ret_payload)
{
    if (!s || !fn)
        return -EINVAL;
    struct timespec ts;
    const struct timespec *deadline = ss__deadline(timeout_ms, &ts);
    pthread_mutex_lock(&s->mu);
    int rc = ss__pending_error(s);
    uint64_t checked_end = 0;
    bool checked = false;
    while (rc == 0) {
        if (s->closed) {
            rc = SS_ECLOSED;
            break;
        }
        uint64_t end = s->base + ss__rlen(s);
        if (!checked || end != checked_end) {
            size_t consume = 0;
            rc = fn(ctx, ss__rdata(s), ss__rlen(s), &consume);
            if (rc > 0) {
                ss__take(s, consume < ss__rlen(s) ? consume : ss__rlen(s));
                rc = 0;
                break;
            }
            if (rc < 0)
                break;
            checked = true;
            checked_end = end;
        }
        rc = ss__read_end(s);
        if (rc == 0 && ss__read_full(s))
            rc = -ENOBUFS;
        if (rc == 0)
            rc = ss__wait_readable(s, deadline);
    }
    if (rc < 0)
        rc = ss__fail(s, rc, ret_payload, NULL, 0, NULL, 0);
    pthread_mutex_unlock(&s->mu);
    return rc;
}
