/* What ss_linebuf and ss_writer share inside the library. */
#ifndef SS_LINEBUF_INT_H
#define SS_LINEBUF_INT_H

#include <pthread.h>
#include <stdbool.h>

#include <syncstream/linebuf.h>

#include "ring/ring.h"
#include "util/lineasm.h"

struct ss_linebuf {
    pthread_mutex_t mu;   /* guards everything below */
    pthread_cond_t grown; /* broadcast when a record is stored or on close */
    ss__ring ring;
    ss__lineasm defw; /* the default writer's assembler */
    char source[SS_SOURCE_MAX];
    int64_t now_ns;       /* timestamp of the default writer's current write */
    int64_t last_ns;      /* the newest stamp given (ss__linebuf_stamp_locked) */
    ss_time_source clock; /* fixed at creation, resolved (ss__wallclock_resolve) */
    uint32_t writers;     /* ss_writer ids handed out (ss_writer_id) */
    unsigned waiters;
    bool closed;
};

/*
 * The stamp for a record completed at now (read before taking lb->mu, to keep
 * the lock short): never older than the last one given, so that time follows
 * seq although another thread may have read a later time and taken the lock
 * first. A stamp more than a second older is the system clock stepped back,
 * and is kept rather than holding every stamp until the clock catches up.
 * lb->mu must be held.
 */
static inline int64_t ss__linebuf_stamp_locked(ss_linebuf *lb, int64_t now)
{
    if (now < lb->last_ns && now > lb->last_ns - 1000000000)
        return lb->last_ns;
    lb->last_ns = now;
    return now;
}

/* Store one record and wake waiters; lb->mu must be held and lb not closed.
 * producer is the record's producer id (record.h). Returns 0 (stored or shed
 * by the full policy) or SS_ETOOBIG. */
int ss__linebuf_store_locked(ss_linebuf *lb, ss_kind kind, uint32_t flags, const char *source,
                             uint32_t producer, int64_t time_ns, const char *text, size_t len);

/* Store one whole record, taking lb->mu: for producers that assemble lines
 * elsewhere (writers, mirror children). source points to SS_SOURCE_MAX bytes.
 * Returns 0, SS_ECLOSED or SS_ETOOBIG. */
int ss__linebuf_store(ss_linebuf *lb, ss_kind kind, uint32_t flags, const char *source,
                      uint32_t producer, int64_t time_ns, const char *text, size_t len);

/* Whether a writer may still write: a lock-free look at lb->closed. */
static inline bool ss__linebuf_closed(const ss_linebuf *lb)
{
    return __atomic_load_n(&lb->closed, __ATOMIC_ACQUIRE);
}

/* Whether a grouped record of len bytes can never fit (max_bytes is fixed at
 * creation, so no lock is needed). */
static inline bool ss__linebuf_too_big(const ss_linebuf *lb, size_t len)
{
    return len > lb->ring.hdr->max_bytes - 8;
}

/*
 * How much more may be stored without rotating out a record newer than
 * cursor: *ret_records records, and *ret_bytes bytes of arena. For flow
 * control (process mode). Takes lb->mu.
 */
void ss__linebuf_room(ss_linebuf *lb, uint64_t cursor, uint64_t *ret_records, uint64_t *ret_bytes);

/*
 * The writer's partial line as a view shows it (the bytes held back as a
 * possible start of a multi-byte break are not part of it, as for the default
 * writer): *ret_text, *ret_len, valid until the writer's next call. For the
 * Python binding, whose LineBuffer shows each thread its own partial line.
 * Only the thread using the writer may call it.
 */
void ss__writer_partial(const ss_writer *w, const char **ret_text, size_t *ret_len);

/* Give the writer's records this producer id instead of its own: a process
 * buffer's child's (proc.h). Before the writer's first record. */
void ss__writer_set_producer(ss_writer *w, uint32_t producer);

/* Forget the writer's partial line (the Python binding's clear()). Only the
 * thread using the writer may call it. */
void ss__writer_reset(ss_writer *w);

#endif
