/*
 * replace.c: GNU parallel's replacement strings (see replace.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replace.h"

enum op { OP_ALL, OP_NOEXT, OP_BASE, OP_DIR, OP_BASE_NOEXT, OP_SEQ, OP_SLOT };

/* One replacement string at s: its length (0: none), which argument (0: all)
 * and what to do with it. */
static size_t repl_at(const char *s, size_t limit, size_t *which, enum op *op)
{
    static const struct {
        const char *text;
        enum op op;
    } ops[] = {
        /* longest first: "//" before "/" */
        {"}", OP_ALL}, {".}", OP_NOEXT}, {"//}", OP_DIR}, {"/.}", OP_BASE_NOEXT}, {"/}", OP_BASE},
    };
    if (s[0] != '{')
        return 0;
    if ((s[1] == '#' || s[1] == '%') && s[2] == '}') {
        *which = 0;
        *op = s[1] == '#' ? OP_SEQ : OP_SLOT;
        return 3;
    }
    size_t v = 0, i = 1;
    while (s[i] >= '0' && s[i] <= '9' && i < 10) {
        v = v * 10 + (size_t)(s[i] - '0');
        i++;
    }
    if (i > 1 && (v == 0 || v > limit))
        return 0;
    for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        size_t l = strlen(ops[k].text);
        if (strncmp(s + i, ops[k].text, l) == 0) {
            *which = v;
            *op = ops[k].op;
            return i + l;
        }
    }
    return 0;
}

bool run_repl_has(const char *s, size_t limit)
{
    size_t which;
    enum op op;

    for (; *s; s++)
        if (repl_at(s, limit, &which, &op))
            return true;
    return false;
}

/* Whether the n bytes at s hold {} {.} ...: limit 0 refuses every {N}. A
 * replacement string holds no blank, so none reaches past a word's end. */
static bool has_all(const char *s, size_t n)
{
    size_t which;
    enum op op;

    for (size_t i = 0; i < n; i++)
        if (repl_at(s + i, 0, &which, &op) && op != OP_SEQ && op != OP_SLOT)
            return true;
    return false;
}

bool run_repl_has_all(const char *s)
{
    return has_all(s, strlen(s));
}

/* Append n bytes at *o (when o is not NULL: the first pass only counts). */
static void put(char **o, size_t *len, const char *p, size_t n)
{
    if (*o) {
        memcpy(*o, p, n);
        *o += n;
    }
    *len += n;
}

/* A word needs no quotes for a POSIX shell when it is made of these only. */
static bool shell_safe(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "_-+=.,/:@%^",
                             s[i]))
            return false;
    return true;
}

size_t run_shell_quote(const char *s, size_t n, char *out)
{
    size_t len = 0;

    if (shell_safe(s, n)) {
        if (out)
            memcpy(out, s, n);
        return n;
    }
    char *o = out;
    put(&o, &len, "'", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'')
            put(&o, &len, "'\\''", 4);
        else
            put(&o, &len, s + i, 1);
    }
    put(&o, &len, "'", 1);
    return len;
}

/* Put n bytes of an argument, quoted when r asks. */
static void put_value(char **o, size_t *len, const char *p, size_t n, bool quote)
{
    if (!quote) {
        put(o, len, p, n);
        return;
    }
    size_t l = run_shell_quote(p, n, *o);
    if (*o)
        *o += l;
    *len += l;
}

/* The length of a's part after the last '/' starts at the returned offset. */
static size_t base_start(const char *a, size_t n)
{
    size_t b = 0;

    for (size_t i = 0; i < n; i++)
        if (a[i] == '/')
            b = i + 1;
    return b;
}

/* n without a last ".EXT", EXT any bytes other than '/' and '.' (parallel's
 * s:\.[^/.]*$::, so "a." loses its dot too). */
static size_t strip_ext(const char *a, size_t n)
{
    size_t i = n;

    while (i > 0 && a[i - 1] != '/' && a[i - 1] != '.')
        i--;
    return i > 0 && a[i - 1] == '.' ? i - 1 : n;
}

/* dirname(1) of a: into *o via put(). */
static void put_dir(char **o, size_t *len, const char *a, bool q)
{
    size_t n = strlen(a);

    while (n > 1 && a[n - 1] == '/') /* trailing slashes */
        n--;
    while (n > 0 && a[n - 1] != '/') /* the last part */
        n--;
    while (n > 1 && a[n - 1] == '/') /* the slashes before it */
        n--;
    if (n == 0)
        put(o, len, ".", 1);
    else
        put_value(o, len, a, n, q);
}

static void put_arg(char **o, size_t *len, const char *a, enum op op, bool q)
{
    size_t n = strlen(a), b;

    switch (op) {
    case OP_NOEXT:
        put_value(o, len, a, strip_ext(a, n), q);
        break;
    case OP_BASE:
        b = base_start(a, n);
        put_value(o, len, a + b, n - b, q);
        break;
    case OP_BASE_NOEXT:
        b = base_start(a, n);
        put_value(o, len, a + b, strip_ext(a + b, n - b), q);
        break;
    case OP_DIR:
        put_dir(o, len, a, q);
        break;
    default:
        put_value(o, len, a, n, q);
        break;
    }
}

/* The n bytes at s expanded, at *o via put(). */
static void expand_span(const char *s, size_t n, const run_repl *r, char **o, size_t *len)
{
    const char *end = s + n;
    size_t which;
    enum op op;

    while (s < end) {
        size_t pl = repl_at(s, r->limit ? r->limit : r->nargs, &which, &op);
        if (!pl) {
            put(o, len, s, 1);
            s++;
            continue;
        }
        s += pl;
        if (op == OP_SEQ || op == OP_SLOT) {
            char num[24];
            int l = snprintf(num, sizeof(num), "%zu", op == OP_SEQ ? r->seq : r->slot);
            put(o, len, num, (size_t)l);
        } else if (which) {
            if (which <= r->nargs)
                put_arg(o, len, r->args[which - 1], op, r->quote);
        } else if (r->one) {
            put_arg(o, len, r->args[r->one - 1], op, r->quote);
        } else {
            for (size_t i = 0; i < r->nargs; i++) {
                if (i > 0)
                    put(o, len, " ", 1);
                put_arg(o, len, r->args[i], op, r->quote);
            }
        }
    }
}

/* r->words: each word between blanks on its own, one holding {} {.} ...
 * repeated for each argument (none: the word goes). */
static void expand_words(const char *s, const run_repl *r, char **o, size_t *len)
{
    while (*s) {
        size_t blank = strspn(s, " \t\n");
        put(o, len, s, blank);
        s += blank;
        size_t w = strcspn(s, " \t\n");
        if (!has_all(s, w)) {
            expand_span(s, w, r, o, len);
        } else {
            run_repl each = *r;
            for (size_t k = 1; k <= r->nargs; k++) {
                if (k > 1)
                    put(o, len, " ", 1);
                each.one = k;
                expand_span(s, w, &each, o, len);
            }
        }
        s += w;
    }
}

/* One pass: count when out is NULL, else write. */
static size_t expand(const char *s, const run_repl *r, char *out)
{
    char *o = out;
    size_t len = 0;

    if (r->words)
        expand_words(s, r, &o, &len);
    else
        expand_span(s, strlen(s), r, &o, &len);
    if (o)
        *o = '\0';
    return len;
}

char *run_repl_expand(const char *s, const run_repl *r)
{
    char *out = malloc(expand(s, r, NULL) + 1);

    if (out)
        expand(s, r, out);
    return out;
}
