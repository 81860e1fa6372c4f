/*
 * ss__hqueue: a host mirror's bounded FIFO of records waiting to be sent, in
 * memory and, optionally, continued in a spool file once memory is full.
 *
 * Records are kept in one compact encoding (a queue entry: an 8-byte header,
 * then the text), in memory and in the spool file alike, and handed to the
 * sender in that encoding. Order is kept: once a record went to the spool,
 * every later one goes there too until the spool has been read back empty.
 * Not thread-safe: the mirror's lock guards it.
 */
#ifndef SS_HOSTCLIENT_QUEUE_H
#define SS_HOSTCLIENT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include <syncstream/record.h>

#include "util/buf.h"

/* What an entry is. */
enum {
    SS__HQ_RECORD = 0, /* a line, warning or error */
    SS__HQ_CLOSE = 1,  /* the mirror's close: the server flushes its partial line */
};

typedef struct ss__hq_hdr {
    uint32_t len;  /* text bytes after the header */
    uint8_t what;  /* SS__HQ_* */
    uint8_t kind;  /* ss_kind */
    uint8_t flags; /* SS_REC_CONTINUED, SS_REC_STDERR, SS_REC_EXIT */
    uint8_t pad;
} ss__hq_hdr;

#define SS__HQ_HDR sizeof(ss__hq_hdr)

typedef struct ss__hqueue {
    ss__buf mem;      /* entries, the oldest first; mem_cap bounds their bytes */
    size_t mem_count; /* entries in mem */
    int fd;           /* spool file, -1 without one */
    char *path;
    uint64_t spool_rd; /* offset of the oldest spooled entry */
    uint64_t spool_wr; /* where the next one goes */
    size_t spool_count;
    size_t spool_cap; /* bytes the spool may hold */
    uint64_t spooled; /* entries that ever went through the spool */
} ss__hqueue;

/* Returns 0, -ENOMEM, or a negative errno from creating spool_path (NULL: none). */
int ss__hqueue_init(ss__hqueue *q, size_t mem_cap, const char *spool_path, size_t spool_cap);

/* Release everything; the spool file is removed. */
void ss__hqueue_done(ss__hqueue *q);

/* Append one entry. Returns 0, -ENOBUFS (memory and spool full: try again
 * after a take), -EIO (the spool file failed), -ENOMEM. */
int ss__hqueue_push(ss__hqueue *q, uint8_t what, ss_kind kind, uint32_t flags, const char *text,
                    size_t len);

/* The bytes of entries (SS__HQ_HDR each, plus their text) that pushes can
 * take now without -ENOBUFS, at least: for a writer that must not block. May
 * compact the memory part. */
size_t ss__hqueue_room(ss__hqueue *q);

static inline size_t ss__hqueue_count(const ss__hqueue *q)
{
    return q->mem_count + q->spool_count;
}

/* Move the oldest entries to the end of out, at most max_entries of them and
 * max_text bytes of text (but at least one entry when there is one). Returns
 * the number moved, or -EIO / -ENOMEM (nothing moved). */
int ss__hqueue_take(ss__hqueue *q, size_t max_entries, size_t max_text, ss__buf *out);

/* Walk the entries of an encoded run (as take produces): *off is the entry's
 * offset, advanced past it; returns its header, text set to its text. */
ss__hq_hdr ss__hq_next(const ss__buf *run, size_t *off, const char **text);

#endif
