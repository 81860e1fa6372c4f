/* Decoding POST ROUTE bodies (see request.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/request.h"
#include "util/records.h"

void ss__host_batch_init(ss__host_batch *b, size_t max_text)
{
    memset(b, 0, sizeof(*b));
    ss__buf_init(&b->text, max_text);
}

void ss__host_batch_free(ss__host_batch *b)
{
    size_t cap = b->text.cap;
    free(b->items);
    ss__buf_free(&b->text);
    ss__host_batch_init(b, cap);
}

static void batch_empty(ss__host_batch *b)
{
    b->mirror[0] = '\0';
    b->number = 0;
    b->has_source = false;
    b->source[0] = '\0';
    b->count = 0;
    ss__buf_reset(&b->text);
}

static int why_set(char *why, size_t why_size, const char *msg)
{
    snprintf(why, why_size, "%s", msg);
    return -EINVAL;
}

static int items_reserve(ss__host_batch *b, size_t n)
{
    if (n <= b->alloc)
        return 0;
    ss__host_item *items = realloc(b->items, n * sizeof(*items));
    if (!items)
        return -ENOMEM;
    b->items = items;
    b->alloc = n;
    return 0;
}

/* Decode one POST item and add it to b. prefix names it in a message. */
static int add_item(ss__host_batch *b, const json_t *body, const char *prefix, char *why,
                    size_t why_size)
{
    ss__host_item *it = &b->items[b->count];
    const char *reason = NULL;
    it->off = b->text.len;
    int err = ss__post_decode(body, &it->op, &it->kind, &b->text, &reason);
    if (err == 0 && (err = ss__post_flags_decode(body, &it->flags, &reason)) != 0)
        b->text.len = it->off;
    if (err == -EINVAL)
        snprintf(why, why_size, "%s%s", prefix, reason);
    if (err != 0)
        return err;
    it->len = b->text.len - it->off;
    b->count++;
    return 0;
}

bool ss__host_mirror_id_valid(const char *id, size_t len)
{
    if (len == 0 || len > SS__HOST_MIRROR_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static int decode_batch(ss__host_batch *b, const json_t *body, char *why, size_t why_size)
{
    const json_t *mirror = json_object_get(body, "mirror");
    const json_t *number = json_object_get(body, "batch");
    const json_t *source = json_object_get(body, "source");
    const json_t *items = json_object_get(body, "items");
    if (!json_is_string(mirror) ||
        !ss__host_mirror_id_valid(json_string_value(mirror), json_string_length(mirror)))
        return why_set(why, why_size,
                       "a batch's \"mirror\" must be 1 to 64 characters of [A-Za-z0-9._-]");
    if (!json_is_integer(number) || json_integer_value(number) < 1)
        return why_set(why, why_size, "a batch's \"batch\" must be an integer >= 1");
    if (source && (!json_is_string(source) || json_string_length(source) >= SS_SOURCE_MAX ||
                   memchr(json_string_value(source), '\0', json_string_length(source))))
        return why_set(why, why_size,
                       "a batch's \"source\" must be a string of at most 31 "
                       "bytes without NUL");
    if (!json_is_array(items) || json_array_size(items) < 1 ||
        json_array_size(items) > SS__HOST_BATCH_MAX)
        return why_set(why, why_size, "a batch's \"items\" must be an array of 1 to 10000 items");

    memcpy(b->mirror, json_string_value(mirror), json_string_length(mirror) + 1);
    b->number = (uint64_t)json_integer_value(number);
    if (source) {
        b->has_source = true;
        ss__source_copy(b->source, json_string_value(source));
    }
    int err = items_reserve(b, json_array_size(items));
    if (err != 0)
        return err;
    size_t i;
    const json_t *item;
    json_array_foreach(items, i, item)
    {
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "items[%zu]: ", i);
        err = add_item(b, item, prefix, why, why_size);
        if (err != 0)
            return err;
    }
    return 0;
}

static bool out_of_memory(const json_error_t *e)
{
    return json_error_code(e) == json_error_out_of_memory || e->text[0] == '\0';
}

/*
 * Parse the body. jansson reports some allocation failures as syntax errors (a
 * string it could not copy becomes an invalid token), others with no message
 * at all. So a body it refuses is parsed once more: a syntax error comes back
 * the same, a failed allocation does not. Returns the tree, or NULL with
 * -ENOMEM or -EINVAL (and why) in *ret_err.
 */
static json_t *load(const char *body, size_t len, char *why, size_t why_size, int *ret_err)
{
    json_error_t first, again;
    for (int attempt = 0; attempt < 2; attempt++) {
        json_error_t *e = attempt ? &again : &first;
        memset(e, 0, sizeof(*e));
        /* JSON_ALLOW_NUL: Python's json.dumps writes a NUL in text as \u0000. */
        json_t *root = json_loadb(body, len, JSON_ALLOW_NUL, e);
        if (root)
            return root;
        if (out_of_memory(e)) {
            *ret_err = -ENOMEM;
            return NULL;
        }
    }
    if (first.position != again.position || strcmp(first.text, again.text) != 0) {
        *ret_err = -ENOMEM;
        return NULL;
    }
    snprintf(why, why_size, "invalid JSON at line %d, column %d: %s", first.line, first.column,
             first.text);
    *ret_err = -EINVAL;
    return NULL;
}

int ss__host_batch_decode_json(ss__host_batch *b, const char *body, size_t len, char *why,
                               size_t why_size)
{
    batch_empty(b);
    int err;
    json_t *root = load(body, len, why, why_size, &err);
    if (!root)
        return err;
    const json_t *type = json_object_get(root, "type");
    if (ss__json_str_is(type, "batch")) {
        err = decode_batch(b, root, why, why_size);
    } else {
        err = items_reserve(b, 1);
        if (err == 0)
            err = add_item(b, root, "", why, why_size);
    }
    json_decref(root);
    if (err != 0)
        batch_empty(b);
    return err;
}

int ss__host_batch_decode(ss__host_batch *b, const char *body, size_t len, char *why,
                          size_t why_size)
{
    batch_empty(b);
    int rc = ss__host_batch_decode_fast(b, body, len);
    if (rc == 1)
        return 0;
    if (rc == -ENOMEM) {
        batch_empty(b);
        return rc;
    }
    /* Not the fast path's shape, or over the cap: jansson decides (a bad field
     * found after the cap was reached is a 400, not a 413). */
    return ss__host_batch_decode_json(b, body, len, why, why_size);
}
