#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

void ss__buf_init(ss__buf *b, size_t cap)
{
    b->data = NULL;
    b->len = b->alloc = 0;
    b->cap = cap;
}

int ss__buf_reserve(ss__buf *b, size_t n, char **ret)
{
    if (n > b->cap - b->len)
        return -ENOBUFS;
    if (b->len + n > b->alloc) {
        size_t want = b->alloc ? b->alloc : 256;
        while (want < b->len + n)
            want *= 2;
        if (want > b->cap)
            want = b->cap;
        char *data = realloc(b->data, want);
        if (!data)
            return -ENOMEM;
        b->data = data;
        b->alloc = want;
    }
    *ret = b->data + b->len;
    return 0;
}

int ss__buf_append(ss__buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0; /* data may still be NULL: memcpy to it is undefined even for 0 */
    char *dst;
    int rc = ss__buf_reserve(b, n, &dst);
    if (rc < 0)
        return rc;
    memcpy(dst, p, n);
    b->len += n;
    return 0;
}

void ss__buf_consume(ss__buf *b, size_t n)
{
    if (n == 0)
        return; /* data may still be NULL */
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void ss__buf_reset(ss__buf *b)
{
    b->len = 0;
}

void ss__buf_free(ss__buf *b)
{
    free(b->data);
    ss__buf_init(b, b->cap);
}
