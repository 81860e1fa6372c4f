#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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
    la->len = la->col = la->held = 0;
    la->cr_pending = la->cr_held = false;
}

/*
 * The first "\n" or "\r" in [p, end), or end. One pass looking for both: two
 * memchr calls (one for each byte) read a typical line twice, a third of the
 * time of a one-line ss_writer_write.
 */
static const char *find_break(const char *p, const char *end)
{
#ifdef __SSE2__
    const __m128i nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    for (; end - p >= 16; p += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        int hits = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, nl), _mm_cmpeq_epi8(v, cr)));
        if (hits)
            return p + __builtin_ctz((unsigned)hits);
    }
    for (; p < end; p++)
        if (*p == '\n' || *p == '\r')
            return p;
    return end;
#else
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *limit = nl ? nl : end;
    const char *cr = memchr(p, '\r', (size_t)(limit - p));
    return cr ? cr : limit;
#endif
}

/* The UTF-8 forms of U+0085, U+2028 and U+2029, the multi-byte breaks of
 * Python's str.splitlines. */
static const char *const multibyte_breaks[] = {"\xc2\x85", "\xe2\x80\xa8", "\xe2\x80\xa9"};

/* Whether the n bytes at p begin with a multi-byte break (then *ret_whole is its
 * length) or are the start of one (then *ret_whole is 0). */
static bool begins_multibyte_break(const char *p, size_t n, size_t *ret_whole)
{
    for (size_t i = 0; i < sizeof(multibyte_breaks) / sizeof(multibyte_breaks[0]); i++) {
        size_t blen = strlen(multibyte_breaks[i]);
        if (memcmp(p, multibyte_breaks[i], n < blen ? n : blen) == 0) {
            *ret_whole = n >= blen ? blen : 0;
            return true;
        }
    }
    return false;
}

/* Bytes that may start a break of str.splitlines. */
static const bool splitlines_lead[256] = {
    ['\n'] = true, ['\r'] = true, ['\v'] = true, ['\f'] = true, [0x1c] = true,
    [0x1d] = true, [0x1e] = true, [0xc2] = true, [0xe2] = true,
};

/*
 * SS_LINE_SPLITLINES: the first break in [p, end), its length in *ret_blen; or
 * end. When the data ends inside what may still become a multi-byte break, end
 * is returned too and *ret_held is the length of that tail (0 otherwise).
 */
static const char *find_splitlines_break(const char *p, const char *end, size_t *ret_blen,
                                         size_t *ret_held)
{
    *ret_held = 0;
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (!splitlines_lead[c])
            continue;
        if (c < 0x80) {
            *ret_blen = 1;
            return p;
        }
        size_t avail = (size_t)(end - p) < 3 ? (size_t)(end - p) : 3, whole;
        if (!begins_multibyte_break(p, avail, &whole))
            continue;
        if (whole) {
            *ret_blen = whole;
            return p;
        }
        *ret_held = avail; /* the data ends inside what may become a break */
        return end;
    }
    return end;
}

/*
 * Add k plain bytes (no break among them) at the cursor; when terminated, a line
 * break follows them and the line is emitted. A line whose partial part is empty
 * is emitted straight from the caller's bytes, without a copy.
 */
static int put_plain(ss__lineasm *la, const char *p, size_t k, bool terminated, ss__emit_fn emit,
                     void *ctx)
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
            size_t take = la->max_line - la->len, had = la->len;
            memcpy(la->part + la->len, p, take);
            p += take;
            k -= take;
            la->len = la->col = 0;
            rc = emit(ctx, la->part, la->max_line, SS_REC_CONTINUED);
            if (rc < 0)
                la->len = la->col = had; /* see the end of the function */
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
    size_t total = la->len + k, had = la->len;
    la->len = la->col = 0;
    rc = emit(ctx, la->part, total, 0);
    /* A line that could not be stored (no memory, say) leaves the partial line
     * as earlier calls made it: bytes a call took before must not be lost to a
     * later call's failure. */
    if (rc < 0)
        la->len = la->col = had;
    return rc;
}

/* SS_LINE_CR_REDRAW: a lone "\r" ends the partial line, flagged as drawn
 * over by the next; an empty one is no record. */
static int end_redraw(ss__lineasm *la, ss__emit_fn emit, void *ctx)
{
    size_t n = la->len;

    if (n == 0)
        return 0;
    la->len = la->col = 0;
    int rc = emit(ctx, la->part, n, SS_REC_REDRAW);
    if (rc < 0)
        la->len = la->col = n; /* as put_plain keeps it */
    return rc;
}

/*
 * SS_LINE_SPLITLINES: the bytes held back by the last feed (the start of what may
 * be a multi-byte break) meet the next ones. Either they complete a break, which
 * ends the line; or they still may, and wait longer; or they cannot, and become
 * plain text. Returns how many bytes of data were used, or a negative emit result.
 */
static ssize_t settle_held(ss__lineasm *la, const char *data, size_t len, ss__emit_fn emit,
                           void *ctx)
{
    char joint[sizeof(la->hold) + 1];
    size_t take = len < sizeof(joint) - la->held ? len : sizeof(joint) - la->held;
    size_t held = la->held, whole;
    memcpy(joint, la->hold, held);
    memcpy(joint + held, data, take);

    la->held = 0;
    if (!begins_multibyte_break(joint, held + take, &whole))
        return put_plain(la, la->hold, held, false, emit, ctx);
    if (whole) {
        int rc = put_plain(la, data, 0, true, emit, ctx);
        return rc < 0 ? rc : (ssize_t)(whole - held);
    }
    memcpy(la->hold, joint, held + take); /* all of data, and still undecided */
    la->held = held + take;
    return (ssize_t)take;
}

int ss__lineasm_feed(ss__lineasm *la, const char *data, size_t len, ss__emit_fn emit, void *ctx)
{
    const bool splitlines = la->line_flags & SS_LINE_SPLITLINES;
    const bool cr_breaks = splitlines || (la->line_flags & SS_LINE_CR_IS_BREAK);
    const bool redraw = la->line_flags & SS_LINE_CR_REDRAW;
    if (len == 0)
        return 0; /* data may be NULL then */
    const char *p = data, *end = data + len;
    int rc = 0;

    if (la->cr_held) {
        la->cr_held = false;
        if (*p == '\n') {
            rc = put_plain(la, p++, 0, true, emit, ctx);
        } else {
            rc = end_redraw(la, emit, ctx);
        }
        if (rc < 0)
            return rc;
    }

    if (la->held) {
        ssize_t used = settle_held(la, data, len, emit, ctx);
        if (used < 0)
            return (int)used;
        p += used;
        if (used > 0)
            la->cr_pending = false;
    }
    while (p < end && rc >= 0) {
        size_t blen = 1, held = 0;
        const char *q =
            splitlines ? find_splitlines_break(p, end, &blen, &held) : find_break(p, end);
        size_t plain = (size_t)(q - p);

        if (plain > 0)
            la->cr_pending = false;
        if (q == end) {
            rc = put_plain(la, p, plain - held, false, emit, ctx);
            memcpy(la->hold, end - held, held);
            la->held = held;
            break;
        }
        if (*q == '\n') {
            /* The "\n" of a "\r\n" whose "\r" already ended the line. */
            if (la->cr_pending && plain == 0)
                la->cr_pending = false;
            else
                rc = put_plain(la, p, plain, true, emit, ctx);
        } else if (*q != '\r') {
            rc = put_plain(la, p, plain, true, emit, ctx);
            la->cr_pending = false;
        } else if (cr_breaks) {
            rc = put_plain(la, p, plain, true, emit, ctx);
            la->cr_pending = true;
        } else if (redraw) {
            if (q + 1 < end && q[1] == '\n') {
                rc = put_plain(la, p, plain, true, emit, ctx);
                blen = 2;
            } else {
                rc = put_plain(la, p, plain, false, emit, ctx);
                if (q + 1 == end)
                    la->cr_held = true;
                else if (rc >= 0)
                    rc = end_redraw(la, emit, ctx);
            }
        } else {
            rc = put_plain(la, p, plain, false, emit, ctx);
            la->col = 0;
        }
        p = q + blen;
    }
    return rc;
}

bool ss__lineasm_plain(const ss__lineasm *la, const char *data, size_t len)
{
    /* A "\r" waiting for the next byte ends or redraws the line on any byte. */
    if (la->held || la->cr_pending || la->cr_held || len > la->max_line - la->len)
        return false;
    if (!(la->line_flags & SS_LINE_SPLITLINES))
        return !memchr(data, '\n', len) && !memchr(data, '\r', len);
    for (size_t i = 0; i < len; i++)
        if (splitlines_lead[(unsigned char)data[i]])
            return false;
    return true;
}

int ss__lineasm_flush(ss__lineasm *la, ss__emit_fn emit, void *ctx)
{
    la->cr_pending = la->cr_held = false;
    if (la->held) {
        size_t held = la->held;
        la->held = 0;
        int rc = put_plain(la, la->hold, held, false, emit, ctx);
        if (rc < 0)
            return rc;
    }
    if (la->len == 0)
        return 0;
    size_t n = la->len;
    la->len = la->col = 0;
    return emit(ctx, la->part, n, 0);
}
