/*
 * syncstream/hostclient.h: host mode's client side. ss_host_mirror sends a
 * program's lines to a syncstream (or sync-stream) server over HTTP;
 * ss_host_reader reads, follows and controls that server's buffer.
 *
 * The wire protocol is sync-stream 1.2's (docs/host-protocol.md) with our
 * extensions: batched POSTs carrying a mirror id and a batch number (the server
 * stores each batch exactly once), the stop request in every POST response,
 * cursor reads with long-poll, Server-Sent Events and a health route. Against
 * a base-protocol server (Python's sync-stream, whose ROUTE-health is a 404) the
 * mirror falls back to the base protocol and the reader offers what that
 * protocol has (no follow).
 *
 * URL is always the full URL of the buffer's route, for example
 * "http://127.0.0.1:5000/sync-stream"; the other routes are derived from it
 * ("-state", "-health", "-events" appended), as sync-stream does.
 *
 * Mirror. Bytes written are assembled into lines exactly as ss_linebuf does
 * (the same line assembler): "\n" and "\r\n" end a line, a lone "\r" returns to
 * the start of the partial line, a line longer than max_line is cut into
 * records flagged SS_REC_CONTINUED. Completed records go to a bounded queue and
 * a background thread sends them in batches over one kept-alive connection, in
 * order. When the server is down, restarting or answers 5xx, or its name does
 * not resolve (SS_ENOHOST, SS_ERESOLVE), the thread retries the same batch
 * with exponential backoff; the writer goes on queueing until the queue is
 * full, then (optionally) spills to a spool file, then blocks until there is
 * room. Nothing is lost or sent twice: each batch carries the mirror's
 * random id and a batch number, and the server ignores a batch it already
 * stored. (The base protocol has no such numbers: against a base server a batch
 * whose response was lost is sent again and may be stored twice.)
 *
 * Stop. Every POST response says whether a stop was requested for all mirrors
 * (an idle mirror also asks every stop_poll_ms); once it was, the next write
 * returns SS_ESTOPPED and queues nothing. What was queued before is still
 * delivered.
 *
 * Errors. A server whose certificate does not verify (-EKEYREJECTED) and a
 * 4xx answer to a batch are not retried (except 413, which splits
 * the batch until one record is refused): the mirror fails, every later write
 * returns the error, and the records not delivered stay in the mirror and are
 * handed over by ss_host_mirror_unsent().
 *
 * Thread safety: an ss_host_mirror is used by one thread at a time (its
 * background thread is internal); ss_host_mirror_get_stats() may be called
 * from any thread. An ss_host_reader is used by one thread at a time, except
 * ss_host_reader_cancel(), which any thread may call.
 */
#ifndef SYNCSTREAM_HOSTCLIENT_H
#define SYNCSTREAM_HOSTCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <syncstream/record.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ss_host_mirror ss_host_mirror;
typedef struct ss_host_reader ss_host_reader;

/* Which protocol a client found the server to speak. */
typedef enum ss_host_protocol {
    SS_HOST_PROTO_UNKNOWN = 0, /* not probed yet (the server was never reached) */
    SS_HOST_PROTO_EXT = 1,     /* ours: batches, cursors, events, health */
    SS_HOST_PROTO_BASE = 2,    /* sync-stream 1.2 only (ROUTE-health is a 404) */
} ss_host_protocol;

/* ss_host_mirror_opts.flags */
enum {
    /* Never probe: speak the base protocol (as the Python mirror does). */
    SS_HOST_FORCE_BASE = 1u << 0,
    /* A lone "\r" ends the line (sync-stream's way), as SS_LINE_CR_IS_BREAK. */
    SS_HOST_CR_IS_BREAK = 1u << 1,
};

#define SS_HOST_DEFAULT_QUEUE_BYTES (16u << 20)
#define SS_HOST_DEFAULT_BATCH_BYTES (1u << 20)
#define SS_HOST_DEFAULT_BATCH_RECORDS 5000u
/* A grouped warning or error longer than this is refused with SS_ETOOBIG. */
#define SS_HOST_MAX_RECORD (1u << 20)

/* Options; all-zero (or a NULL pointer) means every default. */
typedef struct ss_host_mirror_opts {
    const char *source; /* the records' source name (<= 31 bytes); NULL: none */
    const char *token;  /* bearer token (Authorization header); NULL: none */
    /* https: a PEM file of the certificate authorities to trust (for a
     * self-signed server, its own certificate); NULL: the system's. */
    const char *ca_file;
    size_t max_line;    /* longest record before it is cut; 0: 64 KiB, max 1 MiB */
    size_t queue_bytes; /* bound on records queued in memory; 0: 16 MiB */
    /* Non-NULL: when the memory queue is full, records go on to this file (made
     * or truncated, mode 0600, removed when the mirror is freed) up to
     * spool_bytes, then the writer blocks. Records stay in order. */
    const char *spool_path;
    size_t spool_bytes;     /* 0: 1 GiB */
    size_t batch_bytes;     /* most record text per batch; 0: 1 MiB */
    size_t batch_records;   /* most records per batch; 0: 5000, max 10000 */
    int backoff_min_ms;     /* first retry delay; 0: 50 */
    int backoff_max_ms;     /* the delay doubles up to this; 0: 5000 */
    int connect_timeout_ms; /* 0: 3000 */
    int request_timeout_ms; /* one request, connection included; 0: 30000 */
    int stop_poll_ms;       /* an idle mirror asks for the stop request; 0: 1000,
                               negative: never */
    /* How long ss_host_mirror_close() waits for the queue to be delivered;
     * 0: 30000, negative: forever. */
    int close_timeout_ms;
    unsigned flags; /* SS_HOST_* */
} ss_host_mirror_opts;

typedef struct ss_host_mirror_stats {
    uint64_t records_queued; /* records accepted from the writer (close included) */
    uint64_t records_sent;   /* records the server acknowledged */
    uint64_t batches_sent;   /* requests acknowledged (base protocol: POSTs) */
    uint64_t duplicates;     /* batches the server had already stored */
    uint64_t retries;        /* failed attempts that were retried */
    uint64_t spooled;        /* records that went through the spool file */
    size_t pending;          /* records not yet acknowledged */
    ss_host_protocol protocol;
    bool stopped;    /* the last answer said a stop was requested */
    int error;       /* the failure that ended sending (0: none) */
    int last_status; /* the last HTTP status (0: no answer yet) */
    /* The last error: the server's JSON message or the transport's error. */
    char message[256];
} ss_host_mirror_stats;

/*
 * ss_host_mirror_new - make a mirror sending to url and start its thread.
 *
 * Returns at once: the server is probed (and, when down, retried) by the
 * background thread. On success *ret owns a mirror, ended by
 * ss_host_mirror_close() and released by ss_host_mirror_free().
 * Errors: -EINVAL (url NULL or not http(s)://, an option out of range),
 * -ENOMEM, a negative errno from opening the spool file or starting the thread.
 */
int ss_host_mirror_new(ss_host_mirror **ret, const char *url, const ss_host_mirror_opts *opts);

/*
 * ss_host_mirror_write - as ss_linebuf_write(): completed lines are queued for
 * sending, the rest stays as the mirror's partial line. Blocks only while the
 * queue (and spool) is full. Returns 0, SS_ESTOPPED (a stop was requested;
 * nothing of data was queued), SS_ECLOSED (after close), the error that ended
 * sending (see ss_host_mirror_stats.error), -EIO (the spool file failed) or
 * -EINVAL.
 */
int ss_host_mirror_write(ss_host_mirror *m, const void *data, size_t len);

/*
 * ss_host_mirror_write_stderr - as ss_host_mirror_write(), for a command's
 * standard error: its lines are assembled apart from write()'s (a partial line
 * of each never mixes with the other's) and flagged SS_REC_STDERR. The flag
 * reaches a syncstream server (HOST-EXT); the base protocol and servers that
 * do not know it store plain lines.
 */
int ss_host_mirror_write_stderr(ss_host_mirror *m, const void *data, size_t len);

/* ss_host_mirror_new_line - end the partial lines (write's and write_stderr's)
 * that are not empty. Returns as ss_host_mirror_write(). */
int ss_host_mirror_new_line(ss_host_mirror *m);

/*
 * ss_host_mirror_append - end the partial line, then queue text (its trailing
 * line breaks removed) as one record of the given kind: a grouped warning or
 * error whose lines stay together. Returns as ss_host_mirror_write(), plus
 * SS_ETOOBIG above SS_HOST_MAX_RECORD bytes.
 */
int ss_host_mirror_append(ss_host_mirror *m, ss_kind kind, const void *text, size_t len);

/*
 * ss_host_mirror_append_flags - as ss_host_mirror_append(), the record flagged
 * with flags: SS_REC_STDERR and SS_REC_EXIT (the report that a command ended,
 * as `syncstream send` sends it), -EINVAL for others. With flags, the
 * write_stderr partial line ends first too. The flags travel as
 * ss_host_mirror_write_stderr()'s do.
 */
int ss_host_mirror_append_flags(ss_host_mirror *m, ss_kind kind, uint32_t flags, const void *text,
                                size_t len);

/*
 * ss_host_mirror_flush - wait until every record queued so far is delivered,
 * at most timeout_ms (negative: forever). Returns 0, -ETIMEDOUT, or the error
 * that ended sending.
 */
int ss_host_mirror_flush(ss_host_mirror *m, int timeout_ms);

/*
 * ss_host_mirror_close - send the partial line (with a line break) and a close
 * record, wait for them to be delivered (opts.close_timeout_ms), then stop the
 * thread. ss_host_mirror_close_error() sends text as an error record before the
 * close record (a program ending on a failure). A stop request does not prevent
 * the close. Idempotent. Returns 0 when everything was delivered; else -ETIMEDOUT
 * or the error that ended sending, and ss_host_mirror_unsent() gives what was
 * not delivered.
 */
int ss_host_mirror_close(ss_host_mirror *m);
int ss_host_mirror_close_error(ss_host_mirror *m, const void *text, size_t len);

/*
 * ss_host_mirror_unsent - after ss_host_mirror_close(), the records that were
 * not delivered, oldest first (the close record not included), with seq 0.
 * *ret is cleared first and owns its memory (ss_records_clear()). Returns the
 * number of records, -EBUSY when the mirror is not closed, -ENOMEM, or -EIO
 * (the spool file could not be read back).
 */
int ss_host_mirror_unsent(ss_host_mirror *m, ss_records *ret);

/* ss_host_mirror_get_stats - counters and the last error. Thread-safe. */
void ss_host_mirror_get_stats(ss_host_mirror *m, ss_host_mirror_stats *ret);

/* ss_host_mirror_free - close (when not closed yet) and release the mirror;
 * removes its spool file. Accepts NULL. */
void ss_host_mirror_free(ss_host_mirror *m);

/* Options of a reader; all-zero (or NULL) means every default. */
typedef struct ss_host_reader_opts {
    const char *token;      /* bearer token; NULL: none */
    const char *ca_file;    /* https: certificate authorities to trust; NULL: the system's */
    int connect_timeout_ms; /* 0: 3000 */
    int request_timeout_ms; /* one request, without a long-poll's wait; 0: 30000 */
    size_t max_response;    /* largest response body accepted; 0: 256 MiB */
} ss_host_reader_opts;

/*
 * ss_host_reader_new - a reader of the buffer at url. Makes no request.
 * Errors: -EINVAL (url not http(s)://), -ENOMEM.
 */
int ss_host_reader_new(ss_host_reader **ret, const char *url, const ss_host_reader_opts *opts);

/* ss_host_reader_free - release the reader. Accepts NULL. */
void ss_host_reader_free(ss_host_reader *r);

/*
 * Requests. Each returns 0 (or a count) on success, and on failure:
 * -ECONNREFUSED, -ETIMEDOUT, -ECONNRESET or -EIO (transport), SS_ENOHOST or
 * SS_ERESOLVE (the host name does not resolve: not known, or the name service
 * failed; the message names the host and gives the resolver's error),
 * -EKEYREJECTED (https: the server's certificate does not verify),
 * -EACCES (401: missing or wrong token), -ENOENT (404), -EMSGSIZE (413),
 * SS_EREJECTED (another 4xx), SS_ESERVER (5xx), -EPROTO (an answer that is not
 * the protocol's), -ECANCELED (ss_host_reader_cancel), -ENOMEM. After a failure
 * ss_host_reader_message() says what the server or transport said.
 */

/*
 * ss_host_reader_read - the newest n items of the buffer's view (SS_READ_ALL:
 * all of it), oldest first, the partial line included, as GET ROUTE[?n=N]
 * gives them. The base protocol has no sequence numbers, times or sources:
 * seq and time_ns are 0, source is empty; a grouped message is one record of
 * its kind, its lines joined by "\n". *ret is cleared first. Returns the count.
 */
int ss_host_reader_read(ss_host_reader *r, size_t n, ss_records *ret);

/* ss_host_reader_len / _maxlen - ROUTE-state curlen and maxlen. */
int ss_host_reader_len(ss_host_reader *r, size_t *ret);
int ss_host_reader_maxlen(ss_host_reader *r, size_t *ret);

/* ss_host_reader_closed - is a stop requested for all mirrors. */
int ss_host_reader_closed(ss_host_reader *r, bool *ret);

/* ss_host_reader_clear - delete every record and the partial line. */
int ss_host_reader_clear(ss_host_reader *r);

/* ss_host_reader_stop - request a stop of every mirror; _reset withdraws it. */
int ss_host_reader_stop(ss_host_reader *r);
int ss_host_reader_reset(ss_host_reader *r);

/* ss_host_reader_protocol - probe ROUTE-health once (the answer is kept).
 * Returns SS_HOST_PROTO_EXT or SS_HOST_PROTO_BASE, or an error. */
int ss_host_reader_protocol(ss_host_reader *r);

/* What an extension server's ROUTE-health says. */
typedef struct ss_host_health {
    size_t records; /* records held */
    size_t maxlen;
    bool closed;       /* a stop is requested */
    uint64_t next_seq; /* the seq the next record will get */
    char version[32];  /* the server's version */
    uint64_t epoch;    /* this life of the server (0: an older server sends none) */
} ss_host_health;

/* ss_host_reader_health - GET ROUTE-health. -EOPNOTSUPP against a base
 * server (a 404). The reader takes the cursors passed to it next to be of the
 * epoch this answer gives (a caller computes them from next_seq). */
int ss_host_reader_health(ss_host_reader *r, ss_host_health *ret);

/*
 * Sequence numbers begin again at 1 when a server restarts (a new "epoch", a
 * random number it gives in its health, cursor answers and event ids). A
 * reader remembers the epoch of the last health answer, cursor read or event
 * it got, and takes a cursor passed to it to be of that epoch. When the server
 * has restarted since, reading starts again from the oldest record of its new
 * life (none of those is skipped), and the missed count is
 * SS_HOST_MISSED_RESTART: the records of the earlier life after the cursor,
 * if any, are lost, and how many is not known. An older server that sends no
 * epoch is found restarted only when its newest record is below the cursor.
 */
#define SS_HOST_MISSED_RESTART UINT64_MAX

/*
 * ss_host_reader_follow - the records with seq > cursor, at most limit of them
 * (0: the server's default), with seq, time, source and kind; when there are
 * none, wait up to wait_ms (0: do not wait, at most 60000) for one. Fills
 * ret->cursor (pass it next time) and ret->missed (records rotated out before
 * they were read; SS_HOST_MISSED_RESTART when the server restarted, see
 * above). A read from cursor 0 starts from nothing and misses nothing.
 * Extension servers only: -EOPNOTSUPP against a base server. Returns the count
 * (0 when the wait ended with nothing).
 */
int ss_host_reader_follow(ss_host_reader *r, uint64_t cursor, size_t limit, int wait_ms,
                          ss_records *ret);

/*
 * A live tail's callback: one record, or, with rec NULL, the count of missed
 * records that rotated out before they could be sent (SS_HOST_MISSED_RESTART:
 * the server restarted, see above). Return 0 to go on, anything else to end
 * the tail with that value.
 */
typedef int (*ss_host_tail_fn)(void *ctx, const ss_record *rec, uint64_t missed);

/*
 * ss_host_reader_tail - follow the buffer live through Server-Sent Events from
 * cursor on (0: from the oldest record kept, none reported missed), calling
 * fn for each record as it arrives. A dropped connection is resumed with
 * Last-Event-ID (the last event's id in the server's form, EPOCH-SEQ or SEQ)
 * after a backoff, so no record is seen twice and none is skipped while the
 * server keeps it; a server found restarted is reported to fn
 * (SS_HOST_MISSED_RESTART) and followed from the oldest record of its new
 * life. Runs until fn returns non-zero (that value is returned),
 * ss_host_reader_cancel() (-ECANCELED), or an error that retrying cannot cure
 * (401, 404: -EOPNOTSUPP against a base server). *ret_cursor, when not NULL,
 * gets the last seq delivered in every case (of the epoch the reader then
 * remembers).
 */
int ss_host_reader_tail(ss_host_reader *r, uint64_t cursor, ss_host_tail_fn fn, void *ctx,
                        uint64_t *ret_cursor);

/* ss_host_reader_cancel - make the reader's current and next request end with
 * -ECANCELED. Thread-safe and async-signal-safe. */
void ss_host_reader_cancel(ss_host_reader *r);

/* ss_host_reader_message - what the server (its JSON message) or the transport
 * said about the last failure; "" when none. Valid until the reader's next call. */
const char *ss_host_reader_message(const ss_host_reader *r);

#ifdef __cplusplus
}
#endif

#endif
