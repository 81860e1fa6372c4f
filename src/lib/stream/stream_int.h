/* Inside ss_stream: shared by the stream's files (stream.c, loop.c, match.c,
 * lines.c, bridge.c). */
#ifndef SS_STREAM_STREAM_INT_H
#define SS_STREAM_STREAM_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <syncstream/stream.h>

#include "loop/loop_int.h"
#include "util/buf.h"
#include "util/evloop.h"

typedef struct ss__bridge ss__bridge;

struct ss_stream {
    pthread_mutex_t mu;      /* guards everything below but the loop's fields */
    pthread_cond_t readable; /* bytes, an end, an error or a close on the read side */
    pthread_cond_t writable; /* bytes left the write buffer, or the write side ended */
    int read_waiters, write_waiters;

    ss_transport t;
    char name[SS_SOURCE_MAX];
    char *sep; /* read_line's separator */
    size_t sep_len;
    bool fail_writes_while_down;

    /* The buffers hold only what is not taken yet (ss__buf's head offset:
     * taking moves its start, not the bytes). */
    ss__buf rbuf;      /* SS_CHAN_OUT bytes not yet taken */
    uint64_t base;     /* bytes ever taken: the stream offset of rbuf's first byte */
    uint64_t received; /* bytes of SS_CHAN_OUT ever received */
    ss__buf ebuf;      /* SS_CHAN_ERR bytes not yet taken */
    ss__buf wbuf;      /* bytes not yet sent */

    bool eof;              /* the transport said end of stream */
    bool down;             /* between an SS_CHAN_DOWN and an SS_CHAN_UP */
    bool closed;           /* ss_stream_close() was called */
    bool transport_closed; /* ops->close() was called */
    int rerr;              /* a read-side error: no more reading */
    int werr;              /* a write-side error: no more writing */
    int pending_err;       /* the first error, until a call has reported it */
    int status_rc;         /* ops->exit_status()'s answer cached at close: 0 or an error */
    int exit_status;       /* the status, when status_rc is 0 */

    ss_stream_event events[SS_STREAM_MAX_EVENTS];
    size_t ev_head, ev_count;
    uint64_t ev_dropped; /* since the last event taken */

    ss__bridge *bridge;

    /* What the loop watches now (read and written under mu by the loop and
     * by callers deciding whether the loop must look again). */
    bool watch_read, watch_write;
    /* The read buffer was full and reading has not resumed since (resuming
     * waits for RESUME_ROOM, or a caller waiting for bytes). */
    bool paused;

    /* Loop's side. */
    ss_loop *loop;       /* a reference (loop/loop_int.h) */
    ss__stream_svc *svc; /* the loop's stream service */
    /* The transport's fds on the loop, in slots that stay put while an fd is
     * watched (mask != 0); only the loop thread touches these. */
    ss__evio regs[SS_TRANSPORT_MAX_FDS];
    bool has_timer;                     /* ops->timeout_ms exists */
    ss_stream *timer_next, *timer_prev; /* the loop's list of timed streams */
    /* guarded by the loop's mutex */
    bool dirty;    /* queued for the loop to look at again */
    bool attached; /* the loop knows the stream */
    bool detached; /* the loop has let go of it for good */
    ss_stream *dirty_next;
    ss_stream *work_next; /* the loop thread's walk of the touched streams */
};

/* ---- loop.c ---- */

/* The stream service of loop, made on first use (loop->mu). Returns 0 or
 * -ENOMEM. */
int ss__stream_svc_get(ss_loop *loop, ss__stream_svc **ret);

/* Queue s for the loop to look at again (its interest changed, it is new, or
 * it is closed). Takes the loop's mutex; callable with s->mu held. */
void ss__loop_touch(ss_stream *s);

/* Wait until the loop has let go of s (after ss_stream_close() touched it).
 * Must not hold s->mu. */
void ss__loop_wait_detached(ss_stream *s);

/* ---- stream.c ---- */

/* The unconsumed bytes of the read buffer. */
static inline const char *ss__rdata(const ss_stream *s)
{
    /* never NULL, even before the first byte: memmem and PCRE2 want a pointer */
    size_t len;
    const char *p = ss__buf_peek(&s->rbuf, &len);
    return p ? p : "";
}

static inline size_t ss__rlen(const ss_stream *s)
{
    return s->rbuf.len;
}

/* Take n unconsumed bytes (n <= ss__rlen); wakes the loop if reading resumes. */
void ss__take(ss_stream *s, size_t n);

/* Called with mu held by every call: a pending error not yet reported, once. */
int ss__pending_error(ss_stream *s);

/* Why the read side cannot give more: SS_ECLOSED, the read error, at the end
 * of the stream the write error (-EPIPE aside) or else SS_EEOF; or 0 while
 * bytes may still come. */
int ss__read_end(const ss_stream *s);

/* Wait for the read side to change, until deadline (NULL: none); a paused
 * stream with room reads again meanwhile. Returns 0, -ETIMEDOUT, or a write
 * error that became pending, which it reports. mu held. */
int ss__wait_readable(ss_stream *s, const struct timespec *deadline);

/* The deadline of a call: NULL for none (timeout_ms < 0), else *ts set. */
const struct timespec *ss__deadline(int timeout_ms, struct timespec *ts);

/* Fill the payload (when p is not NULL): prefix, then the read buffer; the
 * unsent bytes, then extra (a write's rest). Returns rc. mu held. */
int ss__fail(ss_stream *s, int rc, ss_stream_payload *p, const char *prefix, size_t prefix_len,
             const char *extra, size_t extra_len);

/* The bytes of the read buffer from offset off, up to and including end,
 * taken into a new NUL-terminated string. Returns 0 or -ENOMEM. mu held. */
int ss__take_string(ss_stream *s, size_t len, char **ret);

/* The read buffer is full: no byte can come until some are taken, so a call
 * that the bytes there cannot satisfy fails (-ENOBUFS) rather than wait for
 * nothing. */
static inline bool ss__read_full(const ss_stream *s)
{
    return ss__rlen(s) >= s->rbuf.cap;
}

/* Free room for one more read: the smaller of the two receive buffers'. */
size_t ss__read_room(const ss_stream *s);

/* Whether the loop should watch the transport for reading: go on while there is
 * room; once paused (full), resume when a good part of the buffer is free or
 * a caller waits for bytes. */
bool ss__want_read(const ss_stream *s);

/* ---- bridge.c ---- */

/* Feed bytes of a channel (SS_CHAN_OUT / SS_CHAN_ERR) to the bridge. */
void ss__bridge_feed(ss__bridge *b, int chan, const char *data, size_t len);
void ss__bridge_event(ss__bridge *b, const char *text, size_t len);
/* End of stream, a read error or a close: flush unterminated lines (once). */
void ss__bridge_end(ss__bridge *b);
bool ss__bridge_only(const ss__bridge *b);
void ss__bridge_free(ss__bridge *b);

#endif
