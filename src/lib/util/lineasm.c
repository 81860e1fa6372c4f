#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream/linebuf.h>
#include <syncstream/record.h>

#include "util/lineasm.h"

int ss__lineasm_init(ss__lineasm *la, size_t max_line, unsigned line_flags, char *storage)
{
    memset(la, 0, sizeof(*la));
    la->max_line = max_line;
    la->line_flags = line_flags;
    if (storage) {
        la->part = storage;
        return 0;
    }
    la->part = malloc(max_line);
    if (!la->part)
        return -ENOMEM;
    la->owns_part = true;
    return 0;
}

void ss__lineasm_done(ss__lineasm *la)
{
    if (la->owns_part)
        free(la->part);
    la->part = NULL;
    la->owns_part = false;
}

size_t ss__trim_breaks(const char *text, size_t len)
{
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    return len;
}

void ss__lineasm_reset(ss__lineasm *la)
{
    la->len = la->col = 0;
    la->cr_pending = false;
}

/* The first "\n" or "\r" in [p, end), or end. */
static const char *find_break(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *limit = nl ? nl : end;
    const char *cr = memchr(p, '\r', (size_t)(limit - p));
    return cr ? cr : limit;
}

/*
 * Add k plain bytes (no break among them) at the cursor; when terminated, a line
 * break follows them and the line is emitted. A line whose partial part is empty
 * is emitted straight from the caller's bytes, without a copy.
 */
static int put_plain(ss__lineasm *la, const char *p, size_t k, bool terminated,
                     ss__emit_fn emit, void *ctx)
{
    int rc;

    if (la->col < la->len) {
        size_t n = k < la->len - la->col ? k : la->len - la->col;
        memcpy(la->part + la->col, p, n);
        la->col += n;
        p += n;
        k -= n;
    }
    while (la->len + k > la->max_line) {
        if (la->len == 0) {
            rc = emit(ctx, p, la->max_line, SS_REC_CONTINUED);
            p += la->max_line;
            k -= la->max_line;
        } else {
            size_t take = la->max_line - la->len;
            memcpy(la->part + la->len, p, take);
            p += take;
            k -= take;
            la->len = la->col = 0;
            rc = emit(ctx, la->part, la->max_line, SS_REC_CONTINUED);
        }
        if (rc < 0)
            return rc;
    }
    if (!terminated) {
        if (k == 0)
            return 0; /* all overwritten: the cursor stays where it is */
        memcpy(la->part + la->len, p, k);
        la->len += k;
        la->col = la->len;
        return 0;
    }
    if (la->len == 0)
        return emit(ctx, p, k, 0);
    memcpy(la->part + la->len, p, k);
    size_t total = la->len + k;
    la->len = la->col = 0;
    return emit(ctx, la->part, total, 0);
}

int ss__lineasm_feed(ss__lineasm *la, const char *data, size_t len, ss__emit_fn emit, void *ctx)
{
    const bool cr_breaks = la->line_flags & SS_LINE_CR_IS_BREAK;
    if (len == 0)
        return 0; /* data may be NULL then */
    const char *p = data, *end = data + len;
    int rc = 0;

    while (p < end && rc >= 0) {
        const char *q = find_break(p, end);
        size_t plain = (size_t)(q - p);

        if (plain > 0)
            la->cr_pending = false;
        if (q == end) {
            rc = put_plain(la, p, plain, false, emit, ctx);
            break;
        }
        if (*q == '\n') {
            /* The "\n" of a "\r\n" whose "\r" already ended the line. */
            if (la->cr_pending && plain == 0)
                la->cr_pending = false;
            else
                rc = put_plain(la, p, plain, true, emit, ctx);
        } else if (cr_breaks) {
            rc = put_plain(la, p, plain, true, emit, ctx);
            la->cr_pending = true;
        } else {
            rc = put_plain(la, p, plain, false, emit, ctx);
            la->col = 0;
        }
        p = q + 1;
    }
    return rc;
}

int ss__lineasm_flush(ss__lineasm *la, ss__emit_fn emit, void *ctx)
{
    la->cr_pending = false;
    if (la->len == 0)
        return 0;
    size_t n = la->len;
    la->len = la->col = 0;
    return emit(ctx, la->part, n, 0);
}
