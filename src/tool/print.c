/*
 * print.c: the record printer (see print.h for the formats).
 *
 * Record bytes come from arbitrary programs: they may hold NUL, terminal control
 * sequences and bytes that are not UTF-8. Both formats therefore walk the text
 * with one strict UTF-8 decoder and decide byte by byte what is safe to copy.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <syncstream/proc.h>
#include <syncstream/record.h>

#include "print.h"

/* How many continuation lines of a multi-line record are indented by. */
#define TEXT_INDENT "    "

/*
 * The length of the well-formed UTF-8 sequence at p (at most n bytes available),
 * or 0 when p does not start one. Follows the Unicode standard's table of
 * well-formed byte sequences: no overlong forms, no surrogates (U+D800..DFFF),
 * nothing above U+10FFFF, no truncated sequence.
 */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong below U+0800 */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        return 0; /* a continuation byte, C0, C1 or F5..FF */
    }
    if (n < len)
        return 0;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* The ASCII bytes each output escapes (all of them also escape invalid UTF-8). */
typedef enum escapes {
    ESCAPE_TEXT,  /* a record's text: control bytes but tab, DEL */
    ESCAPE_FIELD, /* a text field that must stay one word: also tab and space */
    ESCAPE_JSON,  /* a JSON string: control bytes, DEL, '"' and '\\' */
} escapes;

static bool ascii_escaped(unsigned char c, escapes e)
{
    switch (e) {
    case ESCAPE_TEXT:
        return (c < 0x20 && c != '\t') || c == 0x7f;
    case ESCAPE_FIELD:
        return c < 0x20 || c == 0x7f || c == ' ';
    case ESCAPE_JSON:
        return c < 0x20 || c == 0x7f || c == '"' || c == '\\';
    }
    return true;
}

/*
 * Copy to out, in one call, the longest run of bytes from p[i] that need no
 * escape under e: well-formed UTF-8 sequences and ASCII bytes e leaves alone.
 * Returns where the run ends (len, or the byte to escape).
 */
static size_t copy_plain_run(FILE *out, const unsigned char *p, size_t i, size_t len, escapes e)
{
    size_t run = i;
    while (run < len) {
        if (p[run] < 0x80) {
            if (ascii_escaped(p[run], e))
                break;
            run++;
        } else {
            size_t l = utf8_len(p + run, len - run);
            if (l == 0)
                break;
            run += l;
        }
    }
    if (run > i)
        fwrite(p + i, 1, run - i, out);
    return run;
}

char *tool_format_time(char buf[TOOL_TIME_MAX], int64_t time_ns)
{
    /* Floor division, so that a time before 1970 still gets a microsecond part
     * between 0 and 999999. */
    int64_t sec = time_ns / 1000000000;
    int64_t ns = time_ns % 1000000000;
    if (ns < 0) {
        ns += 1000000000;
        sec -= 1;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    char date[32];
    if (!gmtime_r(&t, &tm) || strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        /* Only for a time_ns far outside any real clock; still print something
         * unambiguous rather than nothing. */
        snprintf(buf, TOOL_TIME_MAX, "@%" PRId64 "ns", time_ns);
        return buf;
    }
    snprintf(buf, TOOL_TIME_MAX, "%s.%06dZ", date, (int)(ns / 1000));
    return buf;
}

/* ---- text ---- */

/*
 * Write bytes for a person to read: valid UTF-8 and tab as they are, other
 * control bytes and invalid bytes as \xHH. With in_text, a line break starts an
 * indented continuation line; otherwise (a source name, which must stay one
 * field) spaces and line breaks are escaped too.
 */
static void text_bytes(FILE *out, const char *s, size_t len, bool in_text)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        i = copy_plain_run(out, p, i, len, in_text ? ESCAPE_TEXT : ESCAPE_FIELD);
        if (i == len)
            break;
        if (in_text && p[i] == '\n')
            fputs("\n" TEXT_INDENT, out);
        else
            fprintf(out, "\\x%02x", p[i]);
        i++;
    }
}

int tool_color_parse(const char *when)
{
    if (!when || strcmp(when, "always") == 0)
        return 1;
    if (strcmp(when, "never") == 0)
        return 0;
    if (strcmp(when, "auto") == 0)
        return -1;
    return -2;
}

bool tool_color_on(int mode, int fd)
{
    if (mode >= 0)
        return mode == 1;
    const char *term = getenv("TERM");
    const char *no_color = getenv("NO_COLOR");
    return isatty(fd) && !(no_color && *no_color) && !(term && strcmp(term, "dumb") == 0);
}

/* The SGR parameters a record is shown in on a terminal, or NULL. */
static const char *record_sgr(const ss_record *rec)
{
    if ((rec->flags & SS_REC_EXIT) && rec->kind == SS_KIND_ERROR)
        return "1;31"; /* bold red: the command failed */
    if (rec->flags & SS_REC_STDERR)
        return "33"; /* yellow */
    return NULL;
}

static void print_text(FILE *out, const ss_record *rec, bool color)
{
    char tbuf[TOOL_TIME_MAX];
    bool partial = rec->flags & SS_REC_PARTIAL;
    const char *sgr = color ? record_sgr(rec) : NULL;

    if (sgr)
        fprintf(out, "\033[%sm", sgr);

    /* A record read from a base-protocol server has neither (seq and time 0). */
    bool unknown = rec->seq == 0 && rec->time_ns == 0;
    if (partial || unknown)
        fputc('-', out);
    else
        fprintf(out, "%" PRIu64, rec->seq);
    if (unknown)
        fputs(" - ", out);
    else
        fprintf(out, " %s ", tool_format_time(tbuf, rec->time_ns));
    size_t slen = strnlen(rec->source, SS_SOURCE_MAX);
    if (slen == 0)
        fputc('-', out);
    else
        text_bytes(out, rec->source, slen, false);
    fprintf(out, " %s", ss_kind_name(rec->kind));
    if (rec->flags & SS_REC_CONTINUED)
        fputs(",continued", out);
    if (partial)
        fputs(",partial", out);
    if (rec->flags & SS_REC_STDERR)
        fputs(",stderr", out);
    if (rec->flags & SS_REC_EXIT)
        fputs(",exit", out);
    fputc(' ', out);
    text_bytes(out, rec->text, rec->len, true);
    if (sgr)
        fputs("\033[m", out);
    fputc('\n', out);
}

/* ---- JSON ---- */

void tool_json_string(FILE *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    fputc('"', out);
    while (i < len) {
        i = copy_plain_run(out, p, i, len, ESCAPE_JSON);
        if (i == len)
            break;
        unsigned char c = p[i];
        switch (c) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        case '\b':
            fputs("\\b", out);
            break;
        case '\f':
            fputs("\\f", out);
            break;
        default:
            if (c < 0x80)
                fprintf(out, "\\u%04x", c); /* other control bytes, NUL and DEL */
            else
                fputs("\\ufffd", out); /* one byte of an invalid sequence */
            break;
        }
        i++;
    }
    fputc('"', out);
}

static const char *json_bool(bool b)
{
    return b ? "true" : "false";
}

void tool_json_fields(FILE *out, const ss_record *rec)
{
    char tbuf[TOOL_TIME_MAX];

    fprintf(out, "{\"seq\":%" PRIu64 ",\"time\":", rec->seq);
    tool_format_time(tbuf, rec->time_ns);
    tool_json_string(out, tbuf, strlen(tbuf));
    fprintf(out, ",\"time_ns\":%" PRId64 ",\"source\":", rec->time_ns);
    tool_json_string(out, rec->source, strnlen(rec->source, SS_SOURCE_MAX));
    fprintf(out, ",\"kind\":\"%s\",\"text\":", ss_kind_name(rec->kind));
    tool_json_string(out, rec->text, rec->len);
    fprintf(out, ",\"continued\":%s,\"partial\":%s,\"stderr\":%s,\"exit\":%s",
            json_bool(rec->flags & SS_REC_CONTINUED), json_bool(rec->flags & SS_REC_PARTIAL),
            json_bool(rec->flags & SS_REC_STDERR), json_bool(rec->flags & SS_REC_EXIT));
}

int tool_print_record(FILE *out, tool_format fmt, const ss_record *rec)
{
    if (fmt == TOOL_FORMAT_JSON) {
        tool_json_fields(out, rec);
        fputs("}\n", out);
    } else {
        print_text(out, rec, fmt == TOOL_FORMAT_COLOR);
    }
    return ferror(out) ? -1 : 0;
}

int tool_print_records(FILE *out, tool_format fmt, const ss_records *set)
{
    for (size_t i = 0; i < set->count; i++)
        if (tool_print_record(out, fmt, &set->items[i]) < 0)
            return -1;
    return 0;
}
