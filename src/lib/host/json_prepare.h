/*
 * host/json_prepare.h: one cheap linear pass over a POST body before jansson
 * builds a tree of it.
 *
 * jansson spends about 20 times a body's size on a body of many small values
 * ({"x":[0,0,0,...]}), and only then could the type checks refuse it. The pass
 * refuses a body with more values or deeper nesting than any legal request has,
 * which bounds the tree at a small multiple of the body. It also rewrites, in
 * place, every escaped lone UTF-16 surrogate (\udcff, as Python's json.dumps
 * writes surrogateescape text) to \ufffd: jansson refuses them, the Python
 * server accepts them, and U+FFFD is the library's replacement for bad text.
 * Not thread-safe for one body.
 */
#ifndef SS_HOST_JSON_PREPARE_H
#define SS_HOST_JSON_PREPARE_H

#include <stddef.h>

/* A batch of 10 000 items needs about 80 000 values; the rest leaves room for
 * grouped messages of many lines. */
#define SS__HOST_JSON_MAX_VALUES 200000
/* A batch's grouped message is 5 deep: {items:[{data:{data:[...]}}]}. */
#define SS__HOST_JSON_MAX_DEPTH 8

/*
 * ss__host_json_prepare - check and fix the len bytes at body (need not be
 * NUL-terminated; NULL when len is 0) in place.
 *
 * Returns 0, or -EINVAL with a sentence in why (why_size bytes, always
 * terminated) when the body has more than SS__HOST_JSON_MAX_VALUES values or
 * nests deeper than SS__HOST_JSON_MAX_DEPTH. Other errors in the JSON are left
 * for jansson to describe.
 */
int ss__host_json_prepare(char *body, size_t len, char *why, size_t why_size);

#endif
