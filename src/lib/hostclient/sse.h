/*
 * ss__sse: a Server-Sent Events parser (the WHATWG EventSource stream format),
 * for the reader's live tail. Bytes are fed in as they arrive; each complete
 * event (a blank line ends it) goes to a callback. Lines end at "\r\n", "\r"
 * or "\n" (the line assembler in its "\r is a break" mode); ":" lines are
 * comments; the fields used are event, data (several are joined by "\n") and
 * id; others are ignored. Does no I/O; not thread-safe.
 */
#ifndef SS_HOSTCLIENT_SSE_H
#define SS_HOSTCLIENT_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/lineasm.h"

/* One event: its type ("message" when none was given), its last id ("" when
 * none) and its data (NUL-terminated). Valid during the call only. A negative
 * return ends the feed and is returned by it. */
typedef int (*ss__sse_event_fn)(void *ctx, const char *event, const char *id, const char *data,
                                size_t len);

typedef struct ss__sse {
    ss__lineasm la;
    ss__buf line; /* the line being put together from cut pieces */
    ss__buf data; /* the event's data so far */
    char event[64];
    char id[64];
    ss__sse_event_fn fn;
    void *ctx;
} ss__sse;

/* max_event bounds one line and one event's data. Returns 0 or -ENOMEM. */
int ss__sse_init(ss__sse *p, size_t max_event, ss__sse_event_fn fn, void *ctx);
void ss__sse_done(ss__sse *p);

/* Forget a half-received event (a new connection starts afresh). */
void ss__sse_reset(ss__sse *p);

/* Parse len bytes. Returns 0, -EMSGSIZE (a line or an event over max_event:
 * the stream is not one to follow), or the callback's negative value. */
int ss__sse_feed(ss__sse *p, const char *data, size_t len);

/* An event id as our server writes it: "EPOCH-SEQ" (the server's life, then
 * the record's seq), or a bare "SEQ" (an older server; *epoch is then 0).
 * Decimal digits only, each number below 2^64. Returns 0 or -EINVAL. */
int ss__sse_parse_id(const char *id, uint64_t *epoch, uint64_t *seq);

#endif
