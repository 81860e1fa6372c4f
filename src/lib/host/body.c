/* Request bodies under a budget (see body.h). */
#include <errno.h>

#include "host/body.h"

void ss__host_body_budget_init(ss__host_body_budget *b, size_t limit)
{
    atomic_init(&b->used, 0);
    b->limit = limit;
}

int ss__host_body_begin(ss__host_body *body, ss__host_body_budget *budget, size_t size)
{
    size_t used = atomic_load(&budget->used);
    do {
        if (size > budget->limit - used)
            return -EAGAIN;
    } while (!atomic_compare_exchange_weak(&budget->used, &used, used + size));
    ss__buf_init(&body->buf, size);
    body->held = size;
    body->budget = budget;
    return 0;
}

int ss__host_body_append(ss__host_body *body, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (!body->buf.data) {
        /* The whole size at once: one allocation of exactly what was taken
         * (ss__buf grows by doubling, capped at its cap, the size). */
        char *ignored;
        int rc = ss__buf_reserve(&body->buf, body->buf.cap, &ignored);
        if (rc < 0)
            return rc;
    }
    return ss__buf_append(&body->buf, p, n);
}

void ss__host_body_free(ss__host_body *body)
{
    ss__buf_free(&body->buf);
    if (body->held)
        atomic_fetch_sub(&body->budget->used, body->held);
    body->held = 0;
}
