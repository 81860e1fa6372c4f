/*
 * host/body.h: request bodies held in memory, all of them under one budget.
 *
 * A body is read whole before it is decoded, so without a bound on their sum
 * every connection may hold a whole max_body at once (256 connections of
 * 8 MiB: 2 GiB, from authorized clients that send all but the last byte and
 * wait). A body takes its share of the server's budget when its headers
 * arrive: its Content-Length, or, sent in chunks (its length unknown), the
 * route's cap. A request that finds too little of the budget left is refused
 * with 503 (Retry-After), its body read and dropped, never held. Each body is
 * allocated once at that size (pages are touched only as bytes arrive, and
 * never reallocated), so the memory bodies hold stays within the budget.
 *
 * Thread safety: a budget is shared by every connection's thread; a body is
 * used by one thread at a time.
 */
#ifndef SS_HOST_BODY_H
#define SS_HOST_BODY_H

#include <stdatomic.h>
#include <stddef.h>

#include "util/buf.h"

typedef struct ss__host_body_budget {
    _Atomic size_t used;
    size_t limit;
} ss__host_body_budget;

typedef struct ss__host_body {
    ss__buf buf; /* the bytes so far (data NULL until the first) */
    size_t held; /* taken from the budget; 0: none */
    ss__host_body_budget *budget;
} ss__host_body;

void ss__host_body_budget_init(ss__host_body_budget *b, size_t limit);

/*
 * ss__host_body_begin - make body (zeroed, or freed) one of at most size bytes
 * (size > 0), taking size from the budget. Returns 0, or -EAGAIN when the
 * budget has less than size left (nothing taken).
 */
int ss__host_body_begin(ss__host_body *body, ss__host_body_budget *budget, size_t size);

/* ss__host_body_append - add n bytes. Returns 0, -ENOBUFS (past the size
 * begun with; also a body never begun) or -ENOMEM. */
int ss__host_body_append(ss__host_body *body, const void *p, size_t n);

/* ss__host_body_free - release the memory and give back what was taken;
 * the body is then empty. Idempotent; a zeroed body is accepted. */
void ss__host_body_free(ss__host_body *body);

#endif
