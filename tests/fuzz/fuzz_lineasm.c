/*
 * Fuzz target for the line assembler and the ring behind ss_linebuf.
 *
 * The first byte chooses max_line (1..64) and the line options, the second how
 * the rest is split into writes. Checked on every input: no record exceeds
 * max_line; splitting the input differently changes nothing; for input without
 * "\r", the records joined by "\n" plus the partial line give back the input
 * exactly (nothing lost, nothing invented); and with SS_LINE_SPLITLINES, lines
 * that fit agree with a plain reference of str.splitlines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream.h>

#include "util/lineasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct sink {
    char *out;
    size_t len;
    size_t max_line;
    uint32_t last_flags;
} sink;

static int collect(void *ctx, const char *text, size_t len, uint32_t flags)
{
    sink *s = ctx;
    if (len > s->max_line)
        abort();
    memcpy(s->out + s->len, text, len);
    s->len += len;
    /* a cut piece is followed by nothing (it continues); a whole line by "\n" */
    if (!(flags & SS_REC_CONTINUED))
        s->out[s->len++] = '\n';
    s->last_flags = flags;
    return 0;
}

/* Feed data in chunks of the given stride (0: all at once) into a fresh
 * assembler; returns the records as text, the partial line appended. */
static char *assemble(const uint8_t *data, size_t size, size_t max_line, unsigned flags,
                      size_t stride, size_t *ret_len)
{
    ss__lineasm la;
    sink s = {.out = malloc(2 * size + 2), .max_line = max_line};
    if (!s.out || ss__lineasm_init(&la, max_line, flags, NULL) < 0)
        abort();
    for (size_t off = 0; off < size;) {
        size_t n = stride && size - off > stride ? stride : size - off;
        if (ss__lineasm_feed(&la, (const char *)data + off, n, collect, &s) < 0)
            abort();
        off += n;
    }
    memcpy(s.out + s.len, la.part, la.len);
    s.len += la.len;
    memcpy(s.out + s.len, la.hold, la.held);
    s.len += la.held;
    ss__lineasm_done(&la);
    *ret_len = s.len;
    return s.out;
}

/* The length of the str.splitlines break at data[i], or 0. */
static size_t splitlines_break_at(const uint8_t *data, size_t size, size_t i)
{
    static const char *const breaks[] = {"\r\n",     "\n",           "\r",          "\v",
                                         "\f",       "\x1c",         "\x1d",        "\x1e",
                                         "\xc2\x85", "\xe2\x80\xa8", "\xe2\x80\xa9"};
    for (size_t k = 0; k < sizeof(breaks) / sizeof(breaks[0]); k++) {
        size_t n = strlen(breaks[k]);
        if (size - i >= n && memcmp(data + i, breaks[k], n) == 0)
            return n;
    }
    return 0;
}

/* str.splitlines of the whole input, each line followed by "\n", then the rest. */
static char *splitlines_reference(const uint8_t *data, size_t size, size_t *ret_len)
{
    char *out = malloc(size + 1);
    size_t len = 0;
    if (!out)
        abort();
    for (size_t i = 0; i < size;) {
        size_t brk = splitlines_break_at(data, size, i);
        out[len++] = brk ? '\n' : (char)data[i];
        i += brk ? brk : 1;
    }
    *ret_len = len;
    return out;
}

static void check_linebuf(const uint8_t *data, size_t size, size_t max_line, unsigned flags)
{
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {
        .maxlen = 7, .max_line = max_line, .max_bytes = 256, .line_flags = flags};
    if (ss_linebuf_new(&lb, &opts) < 0)
        abort();
    if (ss_linebuf_write(lb, data, size) < 0)
        abort();
    ss_records set = SS_RECORDS_INIT;
    size_t view = 0;
    int n = ss_linebuf_read(lb, SS_READ_ALL, &set);
    if (n < 0 || n > 7 || ss_linebuf_len(lb, &view) < 0 || view != (size_t)n)
        abort();
    ss_linebuf_stats st;
    if (ss_linebuf_get_stats(lb, &st) < 0 || st.count + st.shed != st.written)
        abort();
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max_line = (size_t)(data[0] & 63) + 1;
    unsigned flags =
        ((data[0] & 64) ? SS_LINE_CR_IS_BREAK : 0) | ((data[0] & 128) ? SS_LINE_SPLITLINES : 0);
    size_t stride = data[1] % 9;
    data += 2;
    size -= 2;

    size_t whole_len, split_len;
    char *whole = assemble(data, size, max_line, flags, 0, &whole_len);
    char *split = assemble(data, size, max_line, flags, stride, &split_len);
    if (whole_len != split_len || memcmp(whole, split, whole_len) != 0)
        abort();
    if (!(flags & SS_LINE_SPLITLINES) && !memchr(data, '\r', size) &&
        (whole_len != size || memcmp(whole, data, size) != 0))
        abort();
    if ((flags & SS_LINE_SPLITLINES) && max_line >= size) {
        size_t ref_len;
        char *ref = splitlines_reference(data, size, &ref_len);
        if (ref_len != whole_len || memcmp(ref, whole, ref_len) != 0)
            abort();
        free(ref);
    }
    free(whole);
    free(split);
    check_linebuf(data, size, max_line, flags);
    return 0;
}
