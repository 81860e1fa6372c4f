/*
 * The fast path of the request decoder: batches of plain text items.
 *
 * Our mirror sends batches of whole lines, thousands per request; decoding them
 * with jansson costs about ten allocations per item and was nearly all of the
 * server's time (tens of MB/s). This scanner reads exactly that shape straight
 * into the batch, without building a tree:
 *
 *     {"type": "batch", "mirror": "ID", "batch": N, "source": "NAME",
 *      "items": [{"type": "str", "data": {"value": "TEXT"}}, {"type": "close"}, ...]}
 *
 * in any key order, with any JSON whitespace. It never judges a request: on
 * anything else (another member, a warning item, a \u escape, invalid UTF-8, a
 * duplicate key, a bad value...) it gives up and the caller decodes the body
 * with jansson, which yields the same batch or the error message. The fuzz
 * target fuzz_request checks that both paths agree on every body this one
 * accepts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "host/request.h"
#include "util/records.h"
#include "util/utf8.h"

typedef struct scanner {
    const char *p;
    const char *end;
} scanner;

static void skip_ws(scanner *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* Consume c (after whitespace). */
static bool eat(scanner *s, char c)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

/*
 * Scan a JSON string (after whitespace) and append its text to out. Returns 1,
 * 0 when it is not a string this scanner takes (a \u escape, a control byte,
 * invalid UTF-8, no closing quote), or -ENOBUFS / -ENOMEM from out.
 */
static int scan_string(scanner *s, ss__buf *out)
{
    if (!eat(s, '"'))
        return 0;
    const char *run = s->p; /* the start of bytes copied as they are */
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"' || c == '\\') {
            int rc = ss__buf_append(out, run, (size_t)(s->p - run));
            if (rc < 0)
                return rc;
            if (c == '"') {
                s->p++;
                return 1;
            }
            if (s->end - s->p < 2)
                return 0;
            char e;
            switch (s->p[1]) {
            case '"':
                e = '"';
                break;
            case '\\':
                e = '\\';
                break;
            case '/':
                e = '/';
                break;
            case 'b':
                e = '\b';
                break;
            case 'f':
                e = '\f';
                break;
            case 'n':
                e = '\n';
                break;
            case 'r':
                e = '\r';
                break;
            case 't':
                e = '\t';
                break;
            default:
                return 0; /* \u: jansson's job */
            }
            rc = ss__buf_append(out, &e, 1);
            if (rc < 0)
                return rc;
            s->p += 2;
            run = s->p;
        } else if (c < 0x20) {
            return 0;
        } else if (c < 0x80) {
            s->p++;
        } else {
            size_t n = ss__utf8_seq_len((const unsigned char *)s->p, (size_t)(s->end - s->p));
            if (n == 0)
                return 0;
            s->p += n;
        }
    }
    return 0;
}

/* Scan a string of at most cap - 1 bytes into dst (NUL-terminated). 1 or 0. */
static int scan_small_string(scanner *s, char *dst, size_t cap)
{
    ss__buf b;
    ss__buf_init(&b, cap - 1);
    int rc = scan_string(s, &b);
    if (rc == 1 && !memchr(b.data ? b.data : "", '\0', b.len)) {
        memcpy(dst, b.data ? b.data : "", b.len);
        dst[b.len] = '\0';
    } else {
        rc = 0;
    }
    ss__buf_free(&b);
    return rc;
}

/* Scan a key (a string without escapes) and the colon after it. */
static bool scan_key(scanner *s, const char **ret, size_t *ret_len)
{
    if (!eat(s, '"'))
        return false;
    const char *k = s->p;
    while (s->p < s->end && *s->p != '"' && *s->p != '\\' && (unsigned char)*s->p >= 0x20 &&
           (unsigned char)*s->p < 0x80)
        s->p++;
    if (s->p == s->end || *s->p != '"')
        return false;
    *ret = k;
    *ret_len = (size_t)(s->p - k);
    s->p++;
    return eat(s, ':');
}

static bool key_is(const char *k, size_t len, const char *name)
{
    return len == strlen(name) && memcmp(k, name, len) == 0;
}

/* A whole number >= 1 in plain digits, no leading zero, below 2^53 (well inside
 * json_int_t; larger ones go to jansson). */
static bool scan_count(scanner *s, uint64_t *ret)
{
    skip_ws(s);
    if (s->p == s->end || *s->p < '1' || *s->p > '9')
        return false;
    uint64_t v = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        v = v * 10 + (uint64_t)(*s->p++ - '0');
        if (v >= (1ull << 53))
            return false;
    }
    if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
        return false;
    *ret = v;
    return true;
}

/* Scan {"value": STRING} into b->text. 1, 0 or a negative errno. */
static int scan_str_data(scanner *s, ss__buf *text)
{
    const char *k;
    size_t klen;
    if (!eat(s, '{') || !scan_key(s, &k, &klen) || !key_is(k, klen, "value"))
        return 0;
    int rc = scan_string(s, text);
    if (rc != 1)
        return rc;
    return eat(s, '}') ? 1 : 0;
}

/* Scan one item: {"type": "str", "data": {...}} or {"type": "close"}, keys in
 * either order. 1, 0 or a negative errno. */
static int scan_item(scanner *s, ss__host_batch *b)
{
    if (b->count == b->alloc) {
        size_t n = b->alloc ? 2 * b->alloc : 64;
        ss__host_item *items = realloc(b->items, n * sizeof(*items));
        if (!items)
            return -ENOMEM;
        b->items = items;
        b->alloc = n;
    }
    ss__host_item *it = &b->items[b->count];
    it->off = b->text.len;
    it->kind = SS_KIND_LINE;
    it->flags = 0; /* a flagged item has members this scanner leaves to jansson */
    bool has_type = false, has_data = false, is_str = false;
    if (!eat(s, '{'))
        return 0;
    do {
        const char *k;
        size_t klen;
        if (!scan_key(s, &k, &klen))
            return 0;
        if (key_is(k, klen, "type") && !has_type) {
            char type[8];
            if (scan_small_string(s, type, sizeof(type)) != 1)
                return 0;
            if (strcmp(type, "str") == 0)
                is_str = true;
            else if (strcmp(type, "close") != 0)
                return 0;
            has_type = true;
        } else if (key_is(k, klen, "data") && !has_data) {
            int rc = scan_str_data(s, &b->text);
            if (rc != 1)
                return rc;
            has_data = true;
        } else {
            return 0;
        }
    } while (eat(s, ','));
    if (!eat(s, '}') || !has_type || has_data != is_str)
        return 0;
    it->op = is_str ? SS__POST_TEXT : SS__POST_CLOSE;
    it->len = b->text.len - it->off;
    b->count++;
    return 1;
}

static int scan_items(scanner *s, ss__host_batch *b)
{
    if (!eat(s, '['))
        return 0;
    do {
        if (b->count == SS__HOST_BATCH_MAX)
            return 0;
        int rc = scan_item(s, b);
        if (rc != 1)
            return rc;
    } while (eat(s, ','));
    return eat(s, ']') ? 1 : 0;
}

static int scan_batch(scanner *s, ss__host_batch *b)
{
    bool has_type = false, has_mirror = false, has_number = false, has_items = false;
    if (!eat(s, '{'))
        return 0;
    do {
        const char *k;
        size_t klen;
        if (!scan_key(s, &k, &klen))
            return 0;
        int rc = 1;
        if (key_is(k, klen, "type") && !has_type) {
            char type[8];
            rc = scan_small_string(s, type, sizeof(type)) == 1 && strcmp(type, "batch") == 0;
            has_type = true;
        } else if (key_is(k, klen, "mirror") && !has_mirror) {
            rc = scan_small_string(s, b->mirror, sizeof(b->mirror)) == 1 &&
                 ss__host_mirror_id_valid(b->mirror, strlen(b->mirror));
            has_mirror = true;
        } else if (key_is(k, klen, "batch") && !has_number) {
            rc = scan_count(s, &b->number);
            has_number = true;
        } else if (key_is(k, klen, "source") && !b->has_source) {
            char source[SS_SOURCE_MAX];
            rc = scan_small_string(s, source, sizeof(source));
            if (rc == 1)
                ss__source_copy(b->source, source);
            b->has_source = true;
        } else if (key_is(k, klen, "items") && !has_items) {
            rc = scan_items(s, b);
            has_items = true;
        } else {
            rc = 0;
        }
        if (rc != 1)
            return rc;
    } while (eat(s, ','));
    if (!eat(s, '}') || !has_type || !has_mirror || !has_number || !has_items)
        return 0;
    skip_ws(s);
    return s->p == s->end ? 1 : 0;
}

int ss__host_batch_decode_fast(ss__host_batch *b, const char *body, size_t len)
{
    scanner s = {body, body + len};
    return scan_batch(&s, b);
}
