/*
 * host/request.h: the server's decoder of POST ROUTE bodies into a batch.
 *
 * A base-protocol body (one POST item, see codec/record_json.h) and an extension batch
 * ({"type": "batch", "mirror", "batch", "source", "items"}) both become an
 * ss__host_batch: the items' operations in order, their text one after another in
 * one buffer. Decoding does no I/O and checks everything before the store sees
 * anything, so a bad body changes nothing. Not thread-safe for one batch.
 */
#ifndef SS_HOST_REQUEST_H
#define SS_HOST_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <syncstream/record.h>

#include "codec/record_json.h"
#include "util/buf.h"

#define SS__HOST_MIRROR_MAX 64   /* bytes in a mirror id */
#define SS__HOST_BATCH_MAX 10000 /* items in one batch */

typedef struct ss__host_item {
    ss__post_op op;
    ss_kind kind;   /* for SS__POST_MESSAGE */
    uint32_t flags; /* SS__POST_FLAGS bits the item carries */
    size_t off;     /* the text: batch->text.data + off, len bytes */
    size_t len;
} ss__host_item;

typedef struct ss__host_batch {
    char mirror[SS__HOST_MIRROR_MAX + 1]; /* "" for a base-protocol POST */
    uint64_t number;                      /* the batch number; 0 for a base POST */
    bool has_source;
    char source[SS_SOURCE_MAX]; /* when has_source */
    ss__host_item *items;
    size_t count;
    size_t alloc;
    ss__buf text; /* every item's text, in order */
} ss__host_batch;

/* An empty batch whose text may hold at most max_text bytes. */
void ss__host_batch_init(ss__host_batch *b, size_t max_text);

/* Release the batch's memory; it is empty and usable again. */
void ss__host_batch_free(ss__host_batch *b);

/*
 * ss__host_batch_decode - decode a POST ROUTE body of len bytes (need not be
 * NUL-terminated) into b, which is emptied first.
 *
 * Returns 0; -EINVAL with a sentence in why (why_size bytes, always terminated)
 * saying what is wrong, b then empty; -ENOBUFS when the text exceeds max_text
 * (the caller answers 413); -ENOMEM.
 */
int ss__host_batch_decode(ss__host_batch *b, const char *body, size_t len, char *why,
                          size_t why_size);

/*
 * ss__host_batch_decode_json - the same with jansson only (the reference the
 * fast path is checked against).
 */
int ss__host_batch_decode_json(ss__host_batch *b, const char *body, size_t len, char *why,
                               size_t why_size);

/*
 * ss__host_batch_decode_fast - the fast path (request_fast.c) for batches of
 * "str" and "close" items. b must be empty. Returns 1 with b decoded exactly as
 * ss__host_batch_decode_json() would; 0 when the body is not of that shape (b
 * then holds junk: empty it); -ENOBUFS or -ENOMEM.
 */
int ss__host_batch_decode_fast(ss__host_batch *b, const char *body, size_t len);

/* Whether len bytes at id make a valid mirror id: 1 to 64 of [A-Za-z0-9._-]. */
bool ss__host_mirror_id_valid(const char *id, size_t len);

#endif
