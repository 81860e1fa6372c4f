#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

void ss__buf_init(ss__buf *b, size_t cap)
{
    b->data = b->mem = NULL;
    b->len = b->alloc = 0;
    b->cap = cap;
}

void ss__buf_compact(ss__buf *b)
{
    if (b->data == b->mem)
        return;
    if (b->len)
        memmove(b->mem, b->data, b->len);
    b->data = b->mem;
}

/* The size to grow to for need bytes (alloc < need <= cap): doubling, clamped
 * to the cap before the doubling could wrap around. 0 when need is more than
 * any allocation can be (PTRDIFF_MAX: malloc refuses past it anyway). */
static size_t grown(const ss__buf *b, size_t need)
{
    if (need > PTRDIFF_MAX)
        return 0;
    size_t want = b->alloc ? b->alloc : 256;
    while (want < need)
        want = want > b->cap / 2 ? b->cap : want * 2;
    if (want > b->cap)
        want = b->cap;
    return want > PTRDIFF_MAX ? (size_t)PTRDIFF_MAX : want;
}

int ss__buf_reserve(ss__buf *b, size_t n, char **ret)
{
    if (n > b->cap - b->len)
        return -ENOBUFS;
    size_t head = (size_t)(b->data - b->mem);
    if (n > b->alloc - head - b->len) {
        if (n <= b->alloc - b->len) {
            ss__buf_compact(b); /* the taken head is room enough */
        } else {
            size_t want = grown(b, b->len + n);
            if (!want)
                return -ENOMEM;
            ss__buf_compact(b);
            char *mem = realloc(b->mem, want);
            if (!mem)
                return -ENOMEM;
            b->data = b->mem = mem;
            b->alloc = want;
        }
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

void ss__buf_take(ss__buf *b, size_t n)
{
    if (n == 0)
        return; /* data may still be NULL */
    b->len -= n;
    if (b->len == 0)
        b->data = b->mem; /* empty: the whole memory is room again, for free */
    else if ((b->data += n) - b->mem > (ptrdiff_t)(b->alloc / 2))
        ss__buf_compact(b);
}

void ss__buf_reset(ss__buf *b)
{
    b->data = b->mem;
    b->len = 0;
}

void ss__buf_free(ss__buf *b)
{
    free(b->mem);
    ss__buf_init(b, b->cap);
}
