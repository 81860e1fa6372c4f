#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <syncstream/common.h>
#include <syncstream/proc.h>

#include "file/format.h"
#include "util/crc32c.h"
#include "util/hex.h"

static const char hex_digits[] = "0123456789abcdef";

int ss__file_hdr_format(ss__buf *out, const ss__file_hdr *hdr)
{
    char line[SS__FILE_HDR_MAX];
    int n = snprintf(line, sizeof(line),
                     SS__FILE_MAGIC "%u maxlen=%" PRIu64 " limit=%" PRIu64 " max-bytes=%" PRIu64
                                    " base=%" PRIu64 "\n",
                     hdr->version, hdr->maxlen, hdr->limit, hdr->max_bytes, hdr->base);
    return ss__buf_append(out, line, (size_t)n);
}

bool ss__file_magic_prefix(const char *data, size_t len)
{
    size_t m = sizeof(SS__FILE_MAGIC) - 1;
    return memcmp(data, SS__FILE_MAGIC, len < m ? len : m) == 0;
}

/* Parse decimal digits at *p (no sign, no leading zero unless "0"), up to end;
 * advances *p. Returns 0 or -1. */
static int parse_u64(const char **p, const char *end, uint64_t *ret)
{
    const char *s = *p;
    uint64_t v = 0;
    if (s == end || *s < '0' || *s > '9' ||
        (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9'))
        return -1;
    while (s < end && *s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *ret = v;
    return 0;
}

/* Expect the literal word at *p; advances past it. */
static int expect(const char **p, const char *end, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(end - *p) < n || memcmp(*p, word, n) != 0)
        return -1;
    *p += n;
    return 0;
}

int ss__file_hdr_parse(const char *line, size_t len, ss__file_hdr *ret)
{
    const char *p = line, *end = line + len;
    uint64_t version;
    ss__file_hdr h;

    if (expect(&p, end, SS__FILE_MAGIC) < 0)
        return SS_EFORMAT;
    if (parse_u64(&p, end, &version) < 0)
        return SS_ECORRUPT;
    if (version != SS__FILE_VERSION && version != SS__FILE_VERSION_1)
        return SS_EFORMAT; /* a newer format: not ours to read or write */
    h.version = (unsigned)version;
    if (expect(&p, end, " maxlen=") < 0 || parse_u64(&p, end, &h.maxlen) < 0 ||
        expect(&p, end, " limit=") < 0 || parse_u64(&p, end, &h.limit) < 0 ||
        expect(&p, end, " max-bytes=") < 0 || parse_u64(&p, end, &h.max_bytes) < 0 ||
        expect(&p, end, " base=") < 0 || parse_u64(&p, end, &h.base) < 0 || p != end)
        return SS_ECORRUPT;
    if (h.maxlen == 0 || h.limit <= h.maxlen)
        return SS_ECORRUPT;
    *ret = h;
    return 0;
}

bool ss__file_is_moved(const char *line, size_t len)
{
    return len == sizeof(SS__FILE_MOVED) - 1 && memcmp(line, SS__FILE_MOVED, len) == 0;
}

/* ---- time: "YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ", UTC ---- */

/* Days since 1970-01-01 of a civil date, and back (Howard Hinnant's algorithms:
 * exact for every date, no time zone, no libc state). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *at, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        at[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Write the 30 bytes of the time at out. A time before 1970 is written as
 * 1970-01-01T00:00:00Z, the earliest the parser accepts. */
static void format_time(char *out, ss__time_cache *tc, int64_t time_ns)
{
    if (time_ns < 0)
        time_ns = 0;
    int64_t sec = time_ns / 1000000000;
    uint64_t nsec = (uint64_t)(time_ns % 1000000000);
    if (sec != tc->sec) {
        int64_t y;
        unsigned m, d;
        int64_t days = sec / 86400, rem = sec % 86400;
        civil_from_days(days, &y, &m, &d);
        char *t = tc->text;
        put_digits(t, (uint64_t)y, 4);
        t[4] = '-';
        put_digits(t + 5, m, 2);
        t[7] = '-';
        put_digits(t + 8, d, 2);
        t[10] = 'T';
        put_digits(t + 11, (uint64_t)rem / 3600, 2);
        t[13] = ':';
        put_digits(t + 14, (uint64_t)rem / 60 % 60, 2);
        t[16] = ':';
        put_digits(t + 17, (uint64_t)rem % 60, 2);
        tc->sec = sec;
    }
    memcpy(out, tc->text, 19);
    out[19] = '.';
    put_digits(out + 20, nsec, 9);
    out[29] = 'Z';
}

#define TIME_LEN 30

static int parse_fixed(const char *p, int width, unsigned *ret)
{
    unsigned v = 0;
    for (int i = 0; i < width; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *ret = v;
    return 0;
}

static int parse_time(const char *p, int64_t *ret)
{
    unsigned y, mo, d, h, mi, s, ns;
    if (parse_fixed(p, 4, &y) < 0 || p[4] != '-' || parse_fixed(p + 5, 2, &mo) < 0 || p[7] != '-' ||
        parse_fixed(p + 8, 2, &d) < 0 || p[10] != 'T' || parse_fixed(p + 11, 2, &h) < 0 ||
        p[13] != ':' || parse_fixed(p + 14, 2, &mi) < 0 || p[16] != ':' ||
        parse_fixed(p + 17, 2, &s) < 0 || p[19] != '.' || parse_fixed(p + 20, 9, &ns) < 0 ||
        p[29] != 'Z')
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
        return -1;
    int64_t days = days_from_civil(y, mo, d);
    int64_t sec = days * 86400 + h * 3600 + mi * 60 + s;
    /* beyond int64 nanoseconds (2262-04-11T23:47:16.854775807Z) */
    if (sec > (INT64_MAX - ns) / 1000000000)
        return -1;
    /* Day 31 of a short month would name another date: refuse it. */
    int64_t cy;
    unsigned cm, cd;
    civil_from_days(days, &cy, &cm, &cd);
    if (cy != (int64_t)y || cm != mo || cd != d)
        return -1;
    *ret = sec * 1000000000 + ns;
    return 0;
}

/* ---- escaping ---- */

/* Whether byte c is written as an escape: backslash, control bytes, DEL, and for
 * a source also the space that separates fields. */
static inline bool needs_escape(unsigned char c, bool is_source)
{
    return c < 0x20 || c == '\\' || c == 0x7f || (is_source && c == ' ');
}

/* Write the escaped form of src at out (room for 4 * len bytes); returns the
 * bytes written. */
static size_t escape(char *out, const char *src, size_t len, bool is_source)
{
    char *o = out;
    const char *p = src, *end = src + len;
    while (p < end) {
        const char *run = p;
        while (p < end && !needs_escape((unsigned char)*p, is_source))
            p++;
        memcpy(o, run, (size_t)(p - run));
        o += p - run;
        if (p == end)
            break;
        unsigned char c = (unsigned char)*p++;
        *o++ = '\\';
        switch (c) {
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            *o++ = 'x';
            *o++ = hex_digits[c >> 4];
            *o++ = hex_digits[c & 15];
        }
    }
    return (size_t)(o - out);
}

/* Undo escape() on [p, end) into out (which may be p itself, or NULL to only
 * check and count); refuses raw bytes that escape() never leaves raw, and
 * unknown or non-canonical escapes, so that every stored field has one
 * spelling. Returns the length or -1. */
static ssize_t unescape(char *out, const char *p, const char *end, bool is_source)
{
    ssize_t n = 0;
    while (p < end) {
        unsigned char c = (unsigned char)*p++;
        if (c == '\\') {
            if (p == end)
                return -1;
            switch (*p++) {
            case '\\':
                c = '\\';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'x': {
                if (end - p < 2)
                    return -1;
                int hi = ss__hex_lower(p[0]), lo = ss__hex_lower(p[1]);
                if (hi < 0 || lo < 0)
                    return -1;
                c = (unsigned char)(hi << 4 | lo);
                /* Only bytes with no shorter spelling: a control byte other than
                 * the three named ones, DEL, a source's space, or the "-" of a
                 * source named "-". */
                bool named = c == '\\' || c == '\n' || c == '\r' || c == '\t';
                if (!(needs_escape(c, is_source) && !named) && !(is_source && c == '-'))
                    return -1;
                p += 2;
                break;
            }
            default:
                return -1;
            }
        } else if (needs_escape(c, is_source)) {
            return -1;
        }
        if (out)
            out[n] = (char)c;
        n++;
    }
    return n;
}

/* ---- kind and flags ---- */

static const struct {
    const char *name;
    uint32_t flag;
} flag_names[] = {
    {",continued", SS_REC_CONTINUED},
    {",stderr", SS_REC_STDERR},
    {",exit", SS_REC_EXIT},
};

#define N_FLAGS (sizeof(flag_names) / sizeof(flag_names[0]))

/* A record's producer id (record.h) follows the flags as ",producer=N" when
 * it is not 0: records without one (all of file mode's own) keep the lines
 * of before, which older readers accept. */
#define PRODUCER_KEY ",producer="

static size_t format_kind(char *out, ss_kind kind, uint32_t flags, uint32_t producer)
{
    const char *name = ss_kind_name(kind);
    size_t n = strlen(name);
    memcpy(out, name, n);
    for (size_t i = 0; i < N_FLAGS; i++) {
        if (flags & flag_names[i].flag) {
            size_t k = strlen(flag_names[i].name);
            memcpy(out + n, flag_names[i].name, k);
            n += k;
        }
    }
    if (producer) {
        memcpy(out + n, PRODUCER_KEY, sizeof(PRODUCER_KEY) - 1);
        n += sizeof(PRODUCER_KEY) - 1;
        char digits[10];
        int nd = 0;
        do {
            digits[nd++] = (char)('0' + producer % 10);
            producer /= 10;
        } while (producer);
        while (nd)
            out[n++] = digits[--nd];
    }
    return n;
}

static int parse_kind(const char *p, const char *end, ss_kind *kind, uint32_t *flags,
                      uint32_t *producer)
{
    static const char *const kinds[] = {"line", "warning", "error"};
    size_t i;
    for (i = 0; i < 3; i++)
        if (expect(&p, end, kinds[i]) == 0)
            break;
    if (i == 3)
        return -1;
    *kind = (ss_kind)i;
    *flags = 0;
    /* Flags in the order format_kind writes them, each at most once. */
    for (size_t f = 0; f < N_FLAGS && p < end; f++)
        if (expect(&p, end, flag_names[f].name) == 0)
            *flags |= flag_names[f].flag;
    *producer = 0;
    if (expect(&p, end, PRODUCER_KEY) == 0) {
        uint64_t id;
        if (parse_u64(&p, end, &id) < 0 || id == 0 || id > UINT32_MAX)
            return -1;
        *producer = (uint32_t)id;
    }
    return p == end ? 0 : -1;
}

/* ---- record lines ---- */

#define CRC_LEN 9 /* the check: "#" (version 1) or " " (version 2) and 8 hex digits */

size_t ss__file_rest_max(size_t src_len, size_t len)
{
    /* time, escaped source and text (4 bytes a byte at worst), kind with
     * flags and producer (",producer=" and 10 digits), separators; src_len
     * is below SS_SOURCE_MAX */
    size_t fixed = 1 + TIME_LEN + 1 + 4 * src_len + 4 + 1 + 32 + 20 + 1 + 1;
    return len > (SIZE_MAX - fixed) / 4 ? SIZE_MAX : fixed + 4 * len;
}

int ss__file_rec_format_rest(ss__buf *out, ss__time_cache *tc, int64_t time_ns, ss_kind kind,
                             uint32_t flags, uint32_t producer, const char *source,
                             const char *text, size_t len)
{
    size_t src_len = strnlen(source, SS_SOURCE_MAX - 1);
    char *start;
    int rc = ss__buf_reserve(out, ss__file_rest_max(src_len, len), &start);
    if (rc < 0)
        return rc;
    char *o = start;
    *o++ = ' ';
    format_time(o, tc, time_ns);
    o += TIME_LEN;
    *o++ = ' ';
    if (src_len == 0) {
        *o++ = '-';
    } else if (src_len == 1 && source[0] == '-') {
        memcpy(o, "\\x2d", 4); /* a source named "-" is not the empty source */
        o += 4;
    } else {
        o += escape(o, source, src_len, true);
    }
    *o++ = ' ';
    o += format_kind(o, kind, flags & SS__FILE_FLAGS, producer);
    *o++ = '\t';
    o += escape(o, text, len, false);
    out->len += (size_t)(o - start);
    return 0;
}

static char *put_crc(char *o, uint32_t crc)
{
    for (int i = 7; i >= 0; i--)
        *o++ = hex_digits[(crc >> (4 * i)) & 15];
    return o;
}

int ss__file_rec_finish(ss__buf *out, unsigned version, uint64_t seq, const char *rest,
                        size_t rest_len)
{
    char *start;
    _Static_assert(20 + CRC_LEN + 2 == SS__FILE_FINISH_MAX,
                   "SEQ digits, CRC, a tab or space and '\\n'");
    if (rest_len > SIZE_MAX - SS__FILE_FINISH_MAX)
        return -ENOMEM;
    int rc = ss__buf_reserve(out, SS__FILE_FINISH_MAX + rest_len, &start);
    if (rc < 0)
        return rc;
    char *o = start;
    char digits[20];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + seq % 10);
        seq /= 10;
    } while (seq);
    while (nd)
        *o++ = digits[--nd];
    /* The rest's first tab ends KIND: no field before TEXT holds a raw one. */
    const char *tab = memchr(rest, '\t', rest_len);
    size_t head = tab ? (size_t)(tab - rest) : rest_len;
    if (version == SS__FILE_VERSION_1) {
        /* SEQ TIME SOURCE KIND TEXT #CRC, the CRC of all before the '#' */
        memcpy(o, rest, rest_len);
        if (tab)
            o[head] = ' ';
        o += rest_len;
        *o++ = ' ';
        uint32_t crc = ss__crc32c(start, (size_t)(o - start));
        *o++ = '#';
        o = put_crc(o, crc);
    } else {
        /* SEQ TIME SOURCE KIND CRC<TAB>TEXT, the CRC of the line without " CRC" */
        memcpy(o, rest, head);
        o += head;
        uint32_t crc = ss__crc32c(start, (size_t)(o - start));
        crc = ss__crc32c_extend(crc, rest + head, rest_len - head);
        *o++ = ' ';
        o = put_crc(o, crc);
        memcpy(o, rest + head, rest_len - head);
        o += rest_len - head;
    }
    *o++ = '\n';
    out->len += (size_t)(o - start);
    return 0;
}

int ss__file_rec_format(ss__buf *out, ss__time_cache *tc, unsigned version, uint64_t seq,
                        int64_t time_ns, ss_kind kind, uint32_t flags, uint32_t producer,
                        const char *source, const char *text, size_t len)
{
    ss__buf rest;
    ss__buf_init(&rest, ss__file_rest_max(strnlen(source, SS_SOURCE_MAX - 1), len));
    int rc = ss__file_rec_format_rest(&rest, tc, time_ns, kind, flags, producer, source, text, len);
    if (rc == 0)
        rc = ss__file_rec_finish(out, version, seq, rest.data, rest.len);
    ss__buf_free(&rest);
    return rc;
}

/* The 8 hex digits at p as a number, or -1. */
static int64_t parse_crc(const char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 8; i++) {
        int d = ss__hex_lower(p[i]);
        if (d < 0)
            return -1;
        v = v << 4 | (uint32_t)d;
    }
    return v;
}

/*
 * Check a line's CRC and find its fields: [line, *ret_meta_end) is
 * "SEQ TIME SOURCE KIND", [*ret_text, *ret_text_end) the escaped TEXT. A torn
 * or damaged line is refused before any field is read.
 */
static int check_line(unsigned version, const char *line, size_t len, const char **ret_meta_end,
                      const char **ret_text, const char **ret_text_end)
{
    const char *end = line + len;
    if (version == SS__FILE_VERSION_1) {
        /* "... TEXT #CRC": TEXT ends at the space before the '#'; KIND ends at
         * the fourth space, found by the caller. */
        if (len < CRC_LEN + 1 || end[-CRC_LEN] != '#' || end[-CRC_LEN - 1] != ' ')
            return SS_ECORRUPT;
        int64_t want = parse_crc(end - 8);
        const char *body_end = end - CRC_LEN; /* at the '#' */
        if (want < 0 || ss__crc32c(line, (size_t)(body_end - line)) != (uint32_t)want)
            return SS_ECORRUPT;
        *ret_meta_end = NULL;
        *ret_text = NULL;
        *ret_text_end = body_end - 1;
        return 0;
    }
    /* "SEQ TIME SOURCE KIND CRC<TAB>TEXT" */
    const char *tab = memchr(line, '\t', len);
    if (!tab || tab - line < CRC_LEN + 1 || tab[-CRC_LEN] != ' ')
        return SS_ECORRUPT;
    int64_t want = parse_crc(tab - 8);
    const char *meta_end = tab - CRC_LEN;
    if (want < 0)
        return SS_ECORRUPT;
    uint32_t crc = ss__crc32c(line, (size_t)(meta_end - line));
    if (ss__crc32c_extend(crc, tab, (size_t)(end - tab)) != (uint32_t)want)
        return SS_ECORRUPT;
    *ret_meta_end = meta_end;
    *ret_text = tab + 1;
    *ret_text_end = end;
    return 0;
}

int ss__file_rec_parse(unsigned version, const char *line, size_t len, ss__file_rec *ret,
                       char *text, size_t *ret_text_len)
{
    const char *p = line, *meta_end, *text_start, *text_end;
    ss__file_rec r = {0};

    if (check_line(version, line, len, &meta_end, &text_start, &text_end) < 0)
        return SS_ECORRUPT;
    /* Version 1 finds KIND's end at a space, version 2 has it before the CRC. */
    const char *fields_end = meta_end ? meta_end : text_end;

    if (parse_u64(&p, fields_end, &r.seq) < 0 || r.seq == 0 || expect(&p, fields_end, " ") < 0)
        return SS_ECORRUPT;
    if (fields_end - p < TIME_LEN + 1 || parse_time(p, &r.time_ns) < 0 || p[TIME_LEN] != ' ')
        return SS_ECORRUPT;
    p += TIME_LEN + 1;

    const char *src_end = memchr(p, ' ', (size_t)(fields_end - p));
    if (!src_end)
        return SS_ECORRUPT;
    char src[4 * SS_SOURCE_MAX];
    if (src_end - p == 1 && *p == '-') {
        memset(r.source, 0, SS_SOURCE_MAX);
    } else {
        if (src_end - p > (ptrdiff_t)sizeof(src))
            return SS_ECORRUPT;
        ssize_t n = unescape(src, p, src_end, true);
        if (n <= 0 || n > SS_SOURCE_MAX - 1 || memchr(src, '\0', (size_t)n))
            return SS_ECORRUPT;
        /* "\x2d" spells only the source named "-" */
        if (n > 1 && memmem(p, (size_t)(src_end - p), "\\x2d", 4))
            return SS_ECORRUPT;
        memcpy(r.source, src, (size_t)n);
        memset(r.source + n, 0, SS_SOURCE_MAX - (size_t)n);
    }
    p = src_end + 1;

    const char *kind_end = meta_end ? meta_end : memchr(p, ' ', (size_t)(fields_end - p));
    if (!kind_end || parse_kind(p, kind_end, &r.kind, &r.flags, &r.producer) < 0)
        return SS_ECORRUPT;
    if (!text_start)
        text_start = kind_end + 1;

    ssize_t n = unescape(text, text_start, text_end, false);
    if (n < 0)
        return SS_ECORRUPT;
    if (text)
        *ret_text_len = (size_t)n;
    *ret = r;
    return 0;
}

int ss__file_rec_seq(unsigned version, const char *line, size_t len, uint64_t *ret_seq)
{
    const char *p = line, *meta_end, *text_start, *text_end;
    if (check_line(version, line, len, &meta_end, &text_start, &text_end) < 0)
        return SS_ECORRUPT;
    const char *fields_end = meta_end ? meta_end : text_end;
    if (parse_u64(&p, fields_end, ret_seq) < 0 || *ret_seq == 0 || expect(&p, fields_end, " ") < 0)
        return SS_ECORRUPT;
    return 0;
}
