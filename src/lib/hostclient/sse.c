#include <errno.h>
#include <string.h>

#include <syncstream/linebuf.h>
#include <syncstream/record.h>

#include "hostclient/sse.h"

int ss__sse_init(ss__sse *p, size_t max_event, ss__sse_event_fn fn, void *ctx)
{
    memset(p, 0, sizeof(*p));
    p->fn = fn;
    p->ctx = ctx;
    ss__buf_init(&p->line, max_event);
    ss__buf_init(&p->data, max_event);
    /* Pieces of max_event bytes at most; a longer line arrives in several. */
    return ss__lineasm_init(&p->la, max_event, SS_LINE_CR_IS_BREAK, NULL);
}

void ss__sse_done(ss__sse *p)
{
    ss__lineasm_done(&p->la);
    ss__buf_free(&p->line);
    ss__buf_free(&p->data);
}

void ss__sse_reset(ss__sse *p)
{
    ss__lineasm_reset(&p->la);
    ss__buf_reset(&p->line);
    ss__buf_reset(&p->data);
    p->event[0] = p->id[0] = '\0';
}

/* Copy a field's value into a fixed buffer, cut when too long. */
static void set_field(char *dst, size_t size, const char *v, size_t n)
{
    if (n >= size)
        n = size - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static int dispatch(ss__sse *p)
{
    int rc = 0;
    /* An event without data is no event (the standard's rule). */
    if (p->data.len > 0) {
        /* Data lines were each followed by "\n"; the last one is not data. */
        size_t n = p->data.len - 1;
        p->data.data[n] = '\0';
        rc = p->fn(p->ctx, p->event[0] ? p->event : "message", p->id, p->data.data, n);
    }
    ss__buf_reset(&p->data);
    p->event[0] = '\0';
    return rc;
}

static int on_line(ss__sse *p, const char *s, size_t len)
{
    if (len == 0)
        return dispatch(p);
    if (s[0] == ':')
        return 0; /* a comment: ": keepalive" */
    const char *colon = memchr(s, ':', len);
    size_t name_len = colon ? (size_t)(colon - s) : len;
    const char *v = colon ? colon + 1 : s + len;
    size_t vlen = (size_t)(s + len - v);
    if (vlen > 0 && v[0] == ' ') {
        v++;
        vlen--;
    }
    if (name_len == 5 && memcmp(s, "event", 5) == 0) {
        set_field(p->event, sizeof(p->event), v, vlen);
    } else if (name_len == 4 && memcmp(s, "data", 4) == 0) {
        /* Room for the "\n" and the NUL dispatch writes over it. */
        if (ss__buf_append(&p->data, v, vlen) < 0 || ss__buf_append(&p->data, "\n", 1) < 0)
            return -EMSGSIZE;
    } else if (name_len == 2 && memcmp(s, "id", 2) == 0) {
        if (!memchr(v, '\0', vlen))
            set_field(p->id, sizeof(p->id), v, vlen);
    }
    return 0;
}

static int on_piece(void *ctx, const char *text, size_t len, uint32_t flags)
{
    ss__sse *p = ctx;
    if (!(flags & SS_REC_CONTINUED) && p->line.len == 0)
        return on_line(p, text, len); /* the common case: a whole line, no copy */
    if (ss__buf_append(&p->line, text, len) < 0)
        return -EMSGSIZE;
    if (flags & SS_REC_CONTINUED)
        return 0;
    int rc = on_line(p, p->line.data, p->line.len);
    ss__buf_reset(&p->line);
    return rc;
}

int ss__sse_feed(ss__sse *p, const char *data, size_t len)
{
    return ss__lineasm_feed(&p->la, data, len, on_piece, p);
}

/* Digits s[0..n) as a number: 0, or -EINVAL when empty, not digits or too big. */
static int parse_u64(const char *s, size_t n, uint64_t *ret)
{
    uint64_t v = 0;
    if (n == 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    *ret = v;
    return 0;
}

int ss__sse_parse_id(const char *id, uint64_t *epoch, uint64_t *seq)
{
    const char *dash = strchr(id, '-');
    *epoch = 0;
    if (!dash)
        return parse_u64(id, strlen(id), seq);
    if (parse_u64(id, (size_t)(dash - id), epoch) < 0)
        return -EINVAL;
    return parse_u64(dash + 1, strlen(dash + 1), seq);
}
