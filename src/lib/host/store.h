/*
 * host/store.h: where a host-mode server keeps its records and state.
 *
 * The HTTP layer (server.c) speaks to a store only through this table of
 * operations, so the record storage can be swapped: in memory (store_mem.c, an
 * ss_linebuf, the default) or in a Redis stream shared by several servers
 * (store_redis.c).
 * What a store must provide:
 *
 *  - batches applied atomically and exactly once per (mirror id, batch number),
 *    with a partial line kept per mirror id (and one anonymous partial line for
 *    base-protocol posts);
 *  - reads of the view (records plus the anonymous partial line, as
 *    ss_linebuf_read) and of stored records by sequence number (as
 *    ss_linebuf_read_since, with the missed count);
 *  - a wait for records newer than a sequence number that sleeps (no polling)
 *    and wakes on a new record or on shutdown;
 *  - the stop flag ("closed" of PROTOCOL.md), the count and capacity.
 *
 * Every operation is thread-safe (the server calls them from one thread per
 * connection). Errors: SS_ECLOSED after shutdown; -ENOMEM; SS_ESTOREDOWN when
 * the Redis store cannot be reached, -EIO when it answers with an error,
 * -EAGAIN when other servers kept changing a partial line (the server answers
 * 503, a mirror retries); SS_ETOOBIG from apply when one message can never fit
 * (nothing of the batch is stored).
 */
#ifndef SS_HOST_STORE_H
#define SS_HOST_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <syncstream/linebuf.h>
#include <syncstream/record.h>

#include "host/request.h"

typedef struct ss__host_store ss__host_store;

typedef struct ss__host_store_stats {
    size_t count;      /* records held, the partial line not included */
    size_t maxlen;     /* capacity in records */
    uint64_t last_seq; /* seq of the newest record ever stored, 0 if none */
    /* This life of the record numbering (1 to 2^53 - 1): drawn when the
     * numbers start, so that a cursor or event id of another life starts again
     * from the oldest record. The same for every server sharing a Redis
     * buffer, and across their restarts, as long as Redis keeps the buffer. */
    uint64_t epoch;
} ss__host_store_stats;

typedef struct ss__host_store_ops {
    /* Store batch b: every item in order, or nothing. A batch of a mirror whose
     * number is not above the last one stored for that mirror is not stored
     * again and sets *ret_duplicate. */
    int (*apply)(ss__host_store *st, const ss__host_batch *b, bool *ret_duplicate);
    /* The newest n items of the view (SS_READ_ALL for all), as ss_linebuf_read. */
    int (*read)(ss__host_store *st, size_t n, ss_records *ret);
    /* Stored records with seq > cursor, at most max, as ss_linebuf_read_since. */
    int (*read_since)(ss__host_store *st, uint64_t cursor, size_t max, ss_records *ret);
    /* Sleep until a record with seq > cursor exists (0), timeout_ms passes
     * (-ETIMEDOUT) or the store shuts down (SS_ECLOSED). */
    int (*wait)(ss__host_store *st, uint64_t cursor, int timeout_ms);
    /* Items in the view (records plus a non-empty anonymous partial line). */
    int (*len)(ss__host_store *st, size_t *ret);
    int (*stats)(ss__host_store *st, ss__host_store_stats *ret);
    /* Remove every record and the anonymous partial line; seq numbers go on. */
    int (*clear)(ss__host_store *st);
    int (*get_stop)(ss__host_store *st, bool *ret);
    int (*set_stop)(ss__host_store *st, bool stop);
    /* Wake every waiter with SS_ECLOSED; later calls fail with SS_ECLOSED. */
    void (*shutdown)(ss__host_store *st);
    /* Release the store (after shutdown, with no call in progress). */
    void (*free)(ss__host_store *st);
} ss__host_store_ops;

/* How every store breaks lines: where sync-stream's server breaks them
 * (Python's str.splitlines). */
#define SS__HOST_LINE_FLAGS SS_LINE_SPLITLINES

/* A new epoch (ss__host_store_stats): random, 1 to 2^53 - 1 (a JavaScript
 * number). Thread-safe. */
uint64_t ss__host_new_epoch(void);

/* Every store starts with this header. */
struct ss__host_store {
    const ss__host_store_ops *ops;
};

typedef struct ss__host_mem_opts {
    size_t maxlen;   /* records kept; 0 means SS_LINEBUF_DEFAULT_MAXLEN */
    size_t max_line; /* longest record before it is cut; 0 means the default */
    size_t mirrors;  /* mirror ids remembered (least recently used forgotten
                        first); 0 means 4096 */
} ss__host_mem_opts;

/* The in-memory store: an ss_linebuf. Returns 0, -ENOMEM or -EINVAL. */
int ss__host_mem_store_new(ss__host_store **ret, const ss__host_mem_opts *opts);

typedef struct ss__host_redis_opts {
    const char *uri; /* redis://HOST[:PORT]/KEY (host/redis_uri.h) */
    size_t maxlen;   /* records kept; 0 means SS_LINEBUF_DEFAULT_MAXLEN */
    size_t max_line; /* longest record before it is cut; 0 means the default */
    size_t mirrors;  /* mirror ids remembered; 0 means 4096 */
} ss__host_redis_opts;

#define SS__HOST_REDIS_MAXLEN_MAX (1u << 28)

/* The Redis store (store_redis.c): records in a Redis stream shared by every
 * server on the same key. Does not connect yet: it connects on first use and
 * again after every failure. Returns 0, -EINVAL (a bad uri or option) or
 * -ENOMEM. */
int ss__host_redis_store_new(ss__host_store **ret, const ss__host_redis_opts *opts);

#endif
