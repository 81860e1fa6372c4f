/*
 * ss__buf: the library's one growable byte buffer (after curl's dynbuf, with
 * a consumed head after curl's bufq).
 *
 * Bytes are appended at the tail and taken from the front: data points at the
 * first byte held and len counts them, so a reader uses data[0..len) directly
 * (or ss__buf_peek()). ss__buf_take() moves data forward without copying; the
 * taken bytes before data are reclaimed by a compaction (one memmove of what
 * is held to the front of the memory), done when the taken head passes half
 * the memory, when an append needs the room, or on demand (ss__buf_compact()).
 * So a stream of appends and takes costs amortized O(1) per byte, not a
 * memmove of the rest at every take.
 *
 * Every buffer has a hard cap set at init: an append that would make len pass
 * it fails with -ENOBUFS and leaves the buffer as it was. The cap bounds the
 * memory too (at most cap bytes are allocated); growth never overflows: it
 * stops at the cap, and memory beyond PTRDIFF_MAX is never asked for (-ENOMEM).
 * Pointers into data go stale after any append, take or compaction. Until
 * something is taken data is the start of the memory: an owner that only
 * appended may hand it on, to be released with free().
 * Not thread-safe.
 */
#ifndef SS_UTIL_BUF_H
#define SS_UTIL_BUF_H

#include <stddef.h>

typedef struct ss__buf {
    char *data;   /* the first byte held; NULL until the first append */
    size_t len;   /* bytes held, from data on */
    char *mem;    /* the memory: data - mem bytes at its front were taken */
    size_t alloc; /* bytes of mem */
    size_t cap;   /* hard limit on len (and alloc) */
} ss__buf;

void ss__buf_init(ss__buf *b, size_t cap);

/* Append n bytes. Returns 0, -ENOBUFS (cap reached) or -ENOMEM. */
int ss__buf_append(ss__buf *b, const void *p, size_t n);

/* Make room for n more bytes (len + n <= cap) and set *ret to where they go:
 * the caller writes at most n bytes there, then adds what it wrote to len (a
 * read(2) straight into the buffer). May compact (data moves). Returns 0,
 * -ENOBUFS or -ENOMEM. */
int ss__buf_reserve(ss__buf *b, size_t n, char **ret);

/* The bytes held: *ret_len of them from the pointer returned (NULL when
 * nothing was ever appended). Valid until the next append, take or compact. */
static inline const char *ss__buf_peek(const ss__buf *b, size_t *ret_len)
{
    *ret_len = b->len;
    return b->data;
}

/* Drop the first n bytes (n <= len) without moving the rest (see above). */
void ss__buf_take(ss__buf *b, size_t n);

/* Move the bytes held to the front of the memory: all of it is then room for
 * appends. */
void ss__buf_compact(ss__buf *b);

/* Empty the buffer, keeping its memory. */
void ss__buf_reset(ss__buf *b);

/* Release the memory; the buffer is empty and usable again. */
void ss__buf_free(ss__buf *b);

#endif
