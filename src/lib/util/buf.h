/*
 * ss__buf: the library's one growable byte buffer (after curl's dynbuf).
 *
 * Every buffer has a hard cap set at init: an append past it fails with
 * -ENOBUFS and leaves the buffer as it was. Pointers into data go stale after
 * any append or consume. Not thread-safe.
 */
#ifndef SS_UTIL_BUF_H
#define SS_UTIL_BUF_H

#include <stddef.h>

typedef struct ss__buf {
    char *data;   /* NULL until the first append */
    size_t len;   /* bytes held */
    size_t alloc; /* bytes allocated */
    size_t cap;   /* hard limit on len */
} ss__buf;

void ss__buf_init(ss__buf *b, size_t cap);

/* Append n bytes. Returns 0, -ENOBUFS (cap reached) or -ENOMEM. */
int ss__buf_append(ss__buf *b, const void *p, size_t n);

/* Make room for n more bytes (len + n <= cap) and set *ret to where they go:
 * the caller writes at most n bytes there, then adds what it wrote to len (a
 * read(2) straight into the buffer). Returns 0, -ENOBUFS or -ENOMEM. */
int ss__buf_reserve(ss__buf *b, size_t n, char **ret);

/* Drop the first n bytes (n <= len). */
void ss__buf_consume(ss__buf *b, size_t n);

/* Empty the buffer, keeping its memory. */
void ss__buf_reset(ss__buf *b);

/* Release the memory; the buffer is empty and usable again. */
void ss__buf_free(ss__buf *b);

#endif
