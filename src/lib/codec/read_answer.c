/* The client's decoding of read answers (see read_answer.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "codec/read_answer.h"
#include "codec/record_json.h"
#include "util/buf.h"
#include "util/hex.h"
#include "util/records.h"
#include "util/utf8.h"

/* One decoded record: its text is text.data[off, off + len). */
typedef struct span {
    uint64_t seq;
    int64_t time_ns;
    size_t off, len;
    ss_kind kind;
    uint32_t flags;
    char source[SS_SOURCE_MAX];
} span;

/* What a decode gathers before it builds the set. */
typedef struct gather {
    ss__buf text;    /* every record's text, back to back */
    ss__buf spans;   /* span[] */
    ss__buf scratch; /* a short string being compared (a kind, a source) */
} gather;

static void gather_init(gather *g, size_t len)
{
    /* Decoded text is never longer than the answer holding it. */
    ss__buf_init(&g->text, len + 1);
    /* Each record is an object of at least "{}" and a comma in the answer. */
    size_t most = len / 3 + 1;
    ss__buf_init(&g->spans, most > SIZE_MAX / sizeof(span) ? SIZE_MAX : most * sizeof(span));
    ss__buf_init(&g->scratch, len + 1);
}

static void gather_free(gather *g)
{
    ss__buf_free(&g->text);
    ss__buf_free(&g->spans);
    ss__buf_free(&g->scratch);
}

static int gather_add(gather *g, const span *s)
{
    return ss__buf_append(&g->spans, s, sizeof(*s));
}

/* Build *ret from what g gathered. Returns the count or -ENOMEM. */
static int gather_build(gather *g, ss_records *ret)
{
    const span *s = (const span *)g->spans.data;
    size_t count = g->spans.len / sizeof(span);
    if (count > INT32_MAX)
        return -ENOMEM;
    ss__records_builder b;
    int rc = ss__records_begin(&b, ret, count, g->text.len);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < count; i++)
        ss__records_add(&b, s[i].seq, s[i].time_ns, s[i].kind, s[i].flags, 0, s[i].source,
                        g->text.data ? g->text.data + s[i].off : "", s[i].len);
    return (int)count;
}

/* ---- the scanner: 1 taken, 0 not taken (jansson decides), < 0 an error ---- */

typedef struct scan {
    const char *p, *end;
} scan;

static void ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* Skip white space, then take c if it comes next. */
static bool eat(scan *s, char c)
{
    ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

static bool eat_word(scan *s, const char *w)
{
    size_t n = strlen(w);
    ws(s);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* A JSON string, decoded onto out (NULL: only checked). Surrogate escapes are
 * left to jansson (servers write text as UTF-8, never as escaped pairs). */
static int str(scan *s, ss__buf *out)
{
    if (!eat(s, '"'))
        return 0;
    const unsigned char *p = (const unsigned char *)s->p, *end = (const unsigned char *)s->end;
    for (;;) {
        /* A run of plain bytes and valid UTF-8 sequences, copied at once. */
        const unsigned char *run = p;
        for (;;) {
            while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
                p++;
            if (p >= end || *p < 0x80)
                break;
            size_t n = ss__utf8_seq_len(p, (size_t)(end - p));
            if (n == 0)
                return 0;
            p += n;
        }
        if (out && p > run) {
            int err = ss__buf_append(out, run, (size_t)(p - run));
            if (err < 0)
                return err;
        }
        if (p >= end || *p < 0x20)
            return 0;
        if (*p == '"') {
            s->p = (const char *)p + 1;
            return 1;
        }
        /* An escape. */
        if (end - p < 2)
            return 0;
        char c = 0;
        unsigned char utf8[3];
        size_t n = 1;
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
            c = (char)p[1];
            break;
        case 'b':
            c = '\b';
            break;
        case 'f':
            c = '\f';
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
        case 'u': {
            int cp = end - p >= 6 ? (int)ss__hex4((const char *)p + 2) : -1;
            if (cp < 0 || (cp >= 0xD800 && cp <= 0xDFFF))
                return 0;
            if (cp < 0x80) {
                utf8[0] = (unsigned char)cp;
            } else if (cp < 0x800) {
                utf8[0] = (unsigned char)(0xC0 | (cp >> 6));
                utf8[1] = (unsigned char)(0x80 | (cp & 0x3F));
                n = 2;
            } else {
                utf8[0] = (unsigned char)(0xE0 | (cp >> 12));
                utf8[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                utf8[2] = (unsigned char)(0x80 | (cp & 0x3F));
                n = 3;
            }
            break;
        }
        default:
            return 0;
        }
        if (p[1] == 'u')
            p += 4;
        else
            utf8[0] = (unsigned char)c;
        p += 2;
        if (out) {
            int err = ss__buf_append(out, utf8, n);
            if (err < 0)
                return err;
        }
    }
}

/* A member's name, one of names[] (plain ASCII, unescaped): its index, or -1
 * when it is another. */
static int key(scan *s, const char *const *names, int count)
{
    if (!eat(s, '"'))
        return -1;
    const char *start = s->p;
    while (s->p < s->end && *s->p != '"' && *s->p != '\\' && (unsigned char)*s->p >= 0x20 &&
           (unsigned char)*s->p < 0x80)
        s->p++;
    if (s->p >= s->end || *s->p != '"')
        return -1;
    size_t n = (size_t)(s->p - start);
    s->p++;
    if (!eat(s, ':'))
        return -1;
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == n && memcmp(names[i], start, n) == 0)
            return i;
    return -1;
}

/* A JSON integer that fits in int64_t (jansson's range), not a fraction or an
 * exponent. */
static bool integer(scan *s, int64_t *ret)
{
    ws(s);
    bool neg = s->p < s->end && *s->p == '-';
    const char *d = s->p + neg, *p = d;
    uint64_t v = 0; /* 19 digits never overflow it */
    while (p < s->end && *p >= '0' && *p <= '9' && p - d < 19)
        v = v * 10 + (uint64_t)(*p++ - '0');
    if (p == d || (*d == '0' && p - d > 1) || v > (uint64_t)INT64_MAX + neg ||
        (p < s->end && (*p == '.' || *p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9'))))
        return false;
    s->p = p;
    *ret = !neg ? (int64_t)v : v > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)v;
    return true;
}

static bool boolean(scan *s, bool *ret)
{
    if (eat_word(s, "true"))
        *ret = true;
    else if (eat_word(s, "false"))
        *ret = false;
    else
        return false;
    return true;
}

/* After a member or element: true to go on (a ','), false at close (*more
 * false) or on anything else (*bad). */
static bool next_member(scan *s, char close, bool *bad)
{
    if (eat(s, ','))
        return true;
    *bad = !eat(s, close);
    return false;
}

/* The scratch string just decoded is exactly w. */
static bool scratch_is(const gather *g, const char *w)
{
    return g->scratch.len == strlen(w) && memcmp(g->scratch.data, w, g->scratch.len) == 0;
}

/* A grouped message: its "data" lines joined by '\n' onto out (NULL: only
 * checked) and its kind. */
static int grouped(scan *s, gather *g, ss__buf *out, ss_kind *ret_kind)
{
    static const char *const names[] = {"/is_syncsdata", "/type", "type", "data"};
    unsigned seen = 0;
    bool bad = false;
    if (!eat(s, '{'))
        return 0;
    do {
        int k = key(s, names, 4);
        if (k < 0 || (seen & (1u << k)))
            return 0;
        seen |= 1u << k;
        int rc = 1;
        if (k == 0) {
            rc = eat_word(s, "true");
        } else if (k == 1 || k == 2) {
            ss__buf_reset(&g->scratch);
            rc = str(s, &g->scratch);
            if (rc == 1 && k == 1)
                rc = scratch_is(g, "GroupedMessage");
            else if (rc == 1)
                rc = scratch_is(g, "str")       ? (*ret_kind = SS_KIND_LINE, 1)
                     : scratch_is(g, "warning") ? (*ret_kind = SS_KIND_WARNING, 1)
                     : scratch_is(g, "error")   ? (*ret_kind = SS_KIND_ERROR, 1)
                                                : 0;
        } else {
            if (!eat(s, '['))
                return 0;
            if (!eat(s, ']')) {
                bool first = true, bad_line = false;
                do {
                    if (!first && out && (rc = ss__buf_append(out, "\n", 1)) < 0)
                        return rc;
                    first = false;
                    rc = str(s, out);
                    if (rc != 1)
                        return rc;
                } while (next_member(s, ']', &bad_line));
                if (bad_line)
                    return 0;
            }
        }
        if (rc != 1)
            return rc;
    } while (next_member(s, '}', &bad));
    return !bad && seen == 0xF;
}

/* The "data" array of ITEMs: each a span on g (keep) or only checked. */
static int items(scan *s, gather *g, bool keep)
{
    bool bad = false;
    if (!eat(s, '['))
        return 0;
    if (eat(s, ']'))
        return 1;
    do {
        span sp = {.kind = SS_KIND_LINE, .off = g->text.len};
        ws(s);
        int rc = s->p < s->end && *s->p == '{' ? grouped(s, g, keep ? &g->text : NULL, &sp.kind)
                                               : str(s, keep ? &g->text : NULL);
        if (rc != 1)
            return rc;
        if (keep) {
            sp.len = g->text.len - sp.off;
            if ((rc = gather_add(g, &sp)) < 0)
                return rc;
        }
    } while (next_member(s, ']', &bad));
    return !bad;
}

/* One record object onto g. */
static int record(scan *s, gather *g)
{
    static const char *const names[] = {"seq",  "time_ns",   "source", "kind",
                                        "text", "continued", "stderr", "exit"};
    static const uint32_t flag[] = {0, 0, 0, 0, 0, SS_REC_CONTINUED, SS_REC_STDERR, SS_REC_EXIT};
    span sp = {.off = g->text.len};
    unsigned seen = 0;
    bool bad = false;
    if (!eat(s, '{'))
        return 0;
    do {
        int k = key(s, names, 8);
        if (k < 0 || (seen & (1u << k)))
            return 0;
        seen |= 1u << k;
        int64_t v = 0;
        bool on = false;
        int rc = 1;
        if (k == 0 || k == 1) {
            rc = integer(s, &v) && (k == 1 || v >= 0);
            if (k == 0)
                sp.seq = (uint64_t)v;
            else
                sp.time_ns = v;
        } else if (k == 2 || k == 3) {
            ss__buf_reset(&g->scratch);
            rc = str(s, &g->scratch);
            if (rc == 1 && k == 2) {
                rc = ss__buf_append(&g->scratch, "", 1) < 0 ? -ENOMEM : 1;
                ss__source_copy(sp.source, g->scratch.data);
            } else if (rc == 1) {
                rc = scratch_is(g, "line")      ? (sp.kind = SS_KIND_LINE, 1)
                     : scratch_is(g, "warning") ? (sp.kind = SS_KIND_WARNING, 1)
                     : scratch_is(g, "error")   ? (sp.kind = SS_KIND_ERROR, 1)
                                                : 0;
            }
        } else if (k == 4) {
            rc = str(s, &g->text);
        } else {
            rc = boolean(s, &on);
            if (rc == 1 && on)
                sp.flags |= flag[k];
        }
        if (rc != 1)
            return rc;
    } while (next_member(s, '}', &bad));
    if (bad || (seen & 0x1F) != 0x1F)
        return 0;
    sp.len = g->text.len - sp.off;
    return gather_add(g, &sp) < 0 ? -ENOMEM : 1;
}

static int records(scan *s, gather *g)
{
    bool bad = false;
    if (!eat(s, '['))
        return 0;
    if (eat(s, ']'))
        return 1;
    do {
        int rc = record(s, g);
        if (rc != 1)
            return rc;
    } while (next_member(s, ']', &bad));
    return !bad;
}

/* The whole answer; since: a cursor read's (ans set). */
static int scan_answer(const char *body, size_t len, gather *g, ss__since_answer *ans)
{
    static const char *const names[] = {"message", "data", "records", "next", "missed", "epoch"};
    scan s = {body, body + len};
    unsigned seen = 0;
    bool bad = false;
    if (!eat(&s, '{') || eat(&s, '}'))
        return 0;
    do {
        int k = key(&s, names, ans ? 6 : 2);
        if (k < 0 || (seen & (1u << k)))
            return 0;
        seen |= 1u << k;
        int64_t v = 0;
        int rc = k == 0   ? str(&s, NULL)
                 : k == 1 ? items(&s, g, !ans)
                 : k == 2 ? records(&s, g)
                          : integer(&s, &v) && v >= 0;
        if (rc != 1)
            return rc;
        if (k >= 3)
            *(k == 3 ? &ans->next : k == 4 ? &ans->missed : &ans->epoch) = (uint64_t)v;
    } while (next_member(&s, '}', &bad));
    ws(&s);
    unsigned need = ans ? (1u << 2 | 1u << 3 | 1u << 4) : 1u << 1;
    return !bad && s.p == s.end && (seen & need) == need;
}

/* ---- jansson, for every answer the scanner did not take ---- */

static json_t *load(const char *body, size_t len, char *why, size_t why_size)
{
    json_error_t jerr;
    /* A record's text may hold a NUL, sent as "\u0000". */
    json_t *j = json_loadb(body ? body : "", len, JSON_ALLOW_NUL, &jerr);
    if (!json_is_object(j)) {
        json_decref(j);
        snprintf(why, why_size, "the server's answer is not a JSON object");
        return NULL;
    }
    return j;
}

static int read_jansson(const char *body, size_t len, gather *g, char *why, size_t why_size)
{
    json_t *j = load(body, len, why, why_size);
    if (!j)
        return -EPROTO;
    json_t *data = json_object_get(j, "data");
    int rc = 0;
    if (!json_is_array(data)) {
        snprintf(why, why_size, "the answer has no \"data\" array");
        rc = -EPROTO;
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(data); i++) {
        const char *what = NULL;
        span sp = {.off = g->text.len};
        rc = ss__item_decode(json_array_get(data, i), &sp.kind, &g->text, &what);
        if (rc == -EINVAL) {
            snprintf(why, why_size, "item %zu: %s", i, what);
            rc = -EPROTO;
        }
        sp.len = g->text.len - sp.off;
        if (rc == 0)
            rc = gather_add(g, &sp);
    }
    json_decref(j);
    return rc < 0 ? (rc == -EPROTO ? rc : -ENOMEM) : 0;
}

static int get_u64(const json_t *obj, const char *name, uint64_t *ret)
{
    json_t *v = json_object_get(obj, name);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -EPROTO;
    *ret = (uint64_t)json_integer_value(v);
    return 0;
}

static int since_jansson(const char *body, size_t len, gather *g, ss__since_answer *ans, char *why,
                         size_t why_size)
{
    json_t *j = load(body, len, why, why_size);
    if (!j)
        return -EPROTO;
    json_t *recs = json_object_get(j, "records");
    int rc = 0;
    ans->epoch = 0;
    if (!json_is_array(recs) || get_u64(j, "next", &ans->next) < 0 ||
        get_u64(j, "missed", &ans->missed) < 0 ||
        (json_object_get(j, "epoch") && get_u64(j, "epoch", &ans->epoch) < 0)) {
        snprintf(why, why_size,
                 "the answer has no \"records\", \"next\" or \"missed\", or a bad \"epoch\"");
        rc = -EPROTO;
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(recs); i++) {
        ss_record one;
        const char *what;
        if (ss__record_obj_decode(json_array_get(recs, i), &one, &what) < 0) {
            snprintf(why, why_size, "record %zu: %s", i, what);
            rc = -EPROTO;
            break;
        }
        span sp = {.seq = one.seq,
                   .time_ns = one.time_ns,
                   .off = g->text.len,
                   .len = one.len,
                   .kind = one.kind,
                   .flags = one.flags};
        memcpy(sp.source, one.source, SS_SOURCE_MAX);
        rc = ss__buf_append(&g->text, one.text, one.len);
        if (rc == 0)
            rc = gather_add(g, &sp);
    }
    json_decref(j);
    return rc < 0 ? (rc == -EPROTO ? rc : -ENOMEM) : 0;
}

/* Scan, or decode with jansson what the scanner did not take; then build. */
static int decode(const char *body, size_t len, ss__answer_mode mode, ss_records *ret,
                  ss__since_answer *ans, char *why, size_t why_size)
{
    gather g;
    gather_init(&g, len);
    ss__since_answer a = {0};
    int rc = mode == SS__ANSWER_FAST && body ? scan_answer(body, len, &g, ans ? &a : NULL) : 0;
    if (rc == 0) {
        ss__buf_reset(&g.text);
        ss__buf_reset(&g.spans);
        a = (ss__since_answer){0};
        rc = ans ? since_jansson(body, len, &g, &a, why, why_size)
                 : read_jansson(body, len, &g, why, why_size);
    }
    if (rc >= 0)
        rc = gather_build(&g, ret);
    if (rc >= 0 && ans)
        *ans = a;
    gather_free(&g);
    return rc < 0 && rc != -EPROTO ? -ENOMEM : rc;
}

int ss__read_answer_decode(const char *body, size_t len, ss__answer_mode mode, ss_records *ret,
                           char *why, size_t why_size)
{
    return decode(body, len, mode, ret, NULL, why, why_size);
}

int ss__since_answer_decode(const char *body, size_t len, ss__answer_mode mode, ss_records *ret,
                            ss__since_answer *ans, char *why, size_t why_size)
{
    return decode(body, len, mode, ret, ans, why, why_size);
}
