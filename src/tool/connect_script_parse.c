/*
 * connect_script_parse.c: the `connect --script` file format (see
 * docs/connect-scripts.md): one statement a line, `expect` blocks of
 * `PATTERN -> ACTION; ACTION` branches closed by `end`, labels as `NAME:`.
 * Input is a user's file: every mistake is refused with its line, and no
 * input makes the parser read out of bounds (tests/fuzz/).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connect_script.h"

/* ---- building ---- */

cs_script *cs_new(void)
{
    cs_script *sc = calloc(1, sizeof(*sc));
    if (sc)
        sc->max_steps = CS_DEFAULT_MAX_STEPS;
    return sc;
}

static void free_stmts(cs_stmt *st, size_t n);

static void free_branches(cs_branch *br, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(br[i].text);
        free_stmts(br[i].acts, br[i].nacts);
    }
    free(br);
}

static void free_stmts(cs_stmt *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(st[i].where);
        free(st[i].text);
        free_branches(st[i].br, st[i].nbr);
    }
    free(st);
}

void cs_free(cs_script *sc)
{
    if (!sc)
        return;
    free_stmts(sc->st, sc->n);
    free(sc);
}

/* A copy of len bytes and a NUL, or NULL. */
static char *copy(const char *p, size_t len)
{
    char *c = malloc(len + 1);
    if (c) {
        if (len)
            memcpy(c, p, len);
        c[len] = '\0';
    }
    return c;
}

/* Append a zeroed element to *arr (of *n, element size sz); NULL when out of
 * memory (the array unchanged). Grows by doubling at powers of two. */
static void *grow(void **arr, size_t *n, size_t sz)
{
    if ((*n & (*n - 1)) == 0) {
        size_t cap = *n ? 2 * *n : 1;
        void *g = realloc(*arr, cap * sz);
        if (!g)
            return NULL;
        *arr = g;
    }
    char *e = (char *)*arr + *n * sz;
    memset(e, 0, sz);
    (*n)++;
    return e;
}

static cs_stmt *add_stmt(cs_stmt **st, size_t *n, cs_op op, const char *where, const char *text,
                         size_t len)
{
    char *w = copy(where, strlen(where));
    char *t = text ? copy(text, len) : NULL;
    cs_stmt *s = w && (t || !text) ? grow((void **)st, n, sizeof(**st)) : NULL;
    if (!s) {
        free(w);
        free(t);
        return NULL;
    }
    s->op = op;
    s->where = w;
    s->text = t;
    s->len = text ? len : 0;
    return s;
}

cs_stmt *cs_add(cs_script *sc, cs_op op, const char *where, const char *text, size_t len)
{
    return add_stmt(&sc->st, &sc->n, op, where, text, len);
}

cs_branch *cs_add_branch(cs_stmt *ex, cs_pat pat, const char *text, size_t len)
{
    char *t = text ? copy(text, len) : NULL;
    cs_branch *b = t || !text ? grow((void **)&ex->br, &ex->nbr, sizeof(*ex->br)) : NULL;
    if (!b) {
        free(t);
        return NULL;
    }
    b->pat = pat;
    b->text = t;
    b->len = text ? len : 0;
    return b;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cs_unescape(const char *in, size_t n, bool quote_ok, char **ret, size_t *ret_len)
{
    char *out = malloc(n + 1);
    if (!out)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '\\') {
            out[k++] = in[i];
            continue;
        }
        char c = ++i < n ? in[i] : '\0';
        int hi, lo;
        switch (c) {
        case 'n':
            out[k++] = '\n';
            break;
        case 'r':
            out[k++] = '\r';
            break;
        case 't':
            out[k++] = '\t';
            break;
        case 'e':
            out[k++] = '\033';
            break;
        case '\\':
            out[k++] = '\\';
            break;
        case '"':
            if (!quote_ok)
                goto out_bad;
            out[k++] = '"';
            break;
        case 'x':
            hi = i + 1 < n ? hex_digit(in[i + 1]) : -1;
            lo = hi < 0 || i + 2 >= n ? -1 : hex_digit(in[i + 2]);
            if (lo < 0)
                goto out_bad;
            out[k++] = (char)(hi * 16 + lo);
            i += 2;
            break;
        default:
            goto out_bad;
        }
    }
    out[k] = '\0';
    *ret = out;
    *ret_len = k;
    return 0;

out_bad:
    free(out);
    return -EINVAL;
}

/* ---- the lexer: one line's tokens ---- */

typedef enum tok_kind { T_WORD, T_STRING, T_LABEL, T_ARROW, T_SEMI } tok_kind;

typedef struct tok {
    tok_kind kind;
    const char *p; /* a word, a label's name, a string's raw inside */
    size_t len;
} tok;

typedef struct parser {
    const char *name;
    unsigned line;
    char *why;
    size_t whylen;
    cs_script *sc;
    char where[300];
    /* labels: name, statement index, line */
    struct label {
        const char *p;
        size_t len;
        size_t index;
        unsigned line;
    } *labels;
    size_t nlabels;
} parser;

static int bad(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(parser *ps, const char *fmt, ...)
{
    int k = snprintf(ps->why, ps->whylen, "%s:%u: ", ps->name, ps->line);
    if (k >= 0 && (size_t)k < ps->whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->why + k, ps->whylen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* Split line[0..n) into *toks (malloc'ed). Returns the count or -EINVAL
 * (why set) or -ENOMEM. */
static long lex(parser *ps, const char *line, size_t n, tok **toks)
{
    size_t count = 0;
    *toks = NULL;
    size_t i = 0;
    while (i < n) {
        char c = line[i];
        if (c == ' ' || c == '\t' || c == '\r') {
            i++;
            continue;
        }
        if (c == '#')
            break;
        tok t = {0};
        if (c == '"') {
            size_t j = i + 1;
            while (j < n && line[j] != '"')
                j += line[j] == '\\' ? 2 : 1;
            if (j >= n) {
                free(*toks);
                return bad(ps, "unterminated string (a '\"' is missing)");
            }
            t = (tok){T_STRING, line + i + 1, j - i - 1};
            i = j + 1;
        } else if (c == '-' && i + 1 < n && line[i + 1] == '>') {
            t = (tok){T_ARROW, line + i, 2};
            i += 2;
        } else if (c == ';') {
            t = (tok){T_SEMI, line + i, 1};
            i++;
        } else if (word_char(c)) {
            size_t j = i;
            while (j < n && word_char(line[j]))
                j++;
            t = (tok){T_WORD, line + i, j - i};
            i = j;
            if (i < n && line[i] == ':' && count == 0) {
                t.kind = T_LABEL;
                i++;
            }
        } else {
            free(*toks);
            if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
                return bad(ps, "unexpected byte 0x%02x (strings go in double quotes)",
                           (unsigned char)c);
            return bad(ps, "unexpected '%c' (strings go in double quotes)", c);
        }
        tok *g = grow((void **)toks, &count, sizeof(tok));
        if (!g) {
            free(*toks);
            return -ENOMEM;
        }
        *g = t;
    }
    return (long)count;
}

static bool is(const tok *t, const char *word)
{
    return t->kind == T_WORD && t->len == strlen(word) && memcmp(t->p, word, t->len) == 0;
}

/* A whole token as a number in [lo, hi]. */
static int number(parser *ps, const tok *t, const char *what, long lo, long hi, long *ret)
{
    long v = 0;
    bool ok = t->kind == T_WORD && t->len > 0 && t->len <= 10;
    for (size_t i = 0; ok && i < t->len; i++) {
        ok = t->p[i] >= '0' && t->p[i] <= '9';
        v = v * 10 + (t->p[i] - '0');
    }
    if (!ok || v < lo || v > hi)
        return bad(ps, "%s wants a whole number from %ld to %ld, not '%.*s'", what, lo, hi,
                   (int)t->len, t->p);
    *ret = v;
    return 0;
}

/* Seconds (a decimal, at most a day) as milliseconds. */
static int seconds(parser *ps, const tok *t, long *ret)
{
    char buf[32];
    char *end;
    if (t->kind == T_WORD && t->len < sizeof(buf)) {
        memcpy(buf, t->p, t->len);
        buf[t->len] = '\0';
        double v = strtod(buf, &end);
        if (end != buf && !*end && isfinite(v) && v >= 0 && v <= 86400) {
            *ret = (long)(v * 1000 + 0.5);
            return 0;
        }
    }
    return bad(ps, "timeout wants seconds (0 to 86400), not '%.*s'", (int)t->len, t->p);
}

/* The unescaped bytes of a string token (exact: escapes; regex: as written). */
static int string_of(parser *ps, const tok *t, bool raw, char **ret, size_t *ret_len)
{
    if (raw) {
        *ret = copy(t->p, t->len);
        *ret_len = t->len;
        return *ret ? 0 : -ENOMEM;
    }
    int rc = cs_unescape(t->p, t->len, true, ret, ret_len);
    if (rc == -EINVAL)
        return bad(ps, "bad escape in \"%.*s\" (use \\n \\r \\t \\e \\\\ \\\" or \\xHH)",
                   (int)t->len, t->p);
    return rc;
}

static const char *where(parser *ps)
{
    snprintf(ps->where, sizeof(ps->where), "%s:%u", ps->name, ps->line);
    return ps->where;
}

/* Add a statement with text taken from a string token. */
static int add_text(parser *ps, cs_stmt **st, size_t *n, cs_op op, const tok *t, const char *tail)
{
    char *text;
    size_t len;
    int rc = string_of(ps, t, false, &text, &len);
    if (rc < 0)
        return rc;
    size_t tl = tail ? strlen(tail) : 0;
    char *all = realloc(text, len + tl + 1);
    if (!all) {
        free(text);
        return -ENOMEM;
    }
    memcpy(all + len, tail ? tail : "", tl + 1);
    cs_stmt *s = add_stmt(st, n, op, where(ps), all, len + tl);
    free(all);
    return s ? 0 : -ENOMEM;
}

/* A statement that may be a branch's action too: t[0..k) is all of it.
 * in_branch: allows `again`. Returns 0, or 1 when t[0] is none of them
 * (nothing added), or an error. */
static int simple(parser *ps, const tok *t, size_t k, bool in_branch, cs_stmt **st, size_t *n)
{
    const char *kw = NULL;
    if (is(&t[0], "send") || is(&t[0], "sendline") || is(&t[0], "echo")) {
        if (k != 2 || t[1].kind != T_STRING)
            return bad(ps, "%.*s wants one \"string\"", (int)t[0].len, t[0].p);
        bool line = is(&t[0], "sendline");
        return add_text(ps, st, n, is(&t[0], "echo") ? CS_ECHO : CS_SEND, &t[1],
                        line ? "\n" : NULL);
    }
    if (is(&t[0], "goto")) {
        if (k != 2 || t[1].kind != T_WORD)
            return bad(ps, "goto wants a label");
        cs_stmt *s = add_stmt(st, n, CS_GOTO, where(ps), t[1].p, t[1].len);
        return s ? 0 : -ENOMEM;
    }
    if (is(&t[0], "retry")) {
        long times = 0;
        if (k != 3 || t[2].kind != T_WORD)
            return bad(ps, "retry wants a count and a label: retry 3 login");
        int rc = number(ps, &t[1], "retry", 1, 1000000, &times);
        if (rc < 0)
            return rc;
        cs_stmt *s = add_stmt(st, n, CS_RETRY, where(ps), t[2].p, t[2].len);
        if (!s)
            return -ENOMEM;
        s->n = times;
        return 0;
    }
    if (is(&t[0], "exit")) {
        long status = -1;
        if (k > 2)
            return bad(ps, "exit wants at most a status");
        if (k == 2) {
            int rc = number(ps, &t[1], "exit", 0, 255, &status);
            if (rc < 0)
                return rc;
        }
        cs_stmt *s = add_stmt(st, n, CS_EXIT, where(ps), NULL, 0);
        if (!s)
            return -ENOMEM;
        s->n = status;
        return 0;
    }
    if (is(&t[0], "wait"))
        kw = "wait";
    else if (is(&t[0], "again"))
        kw = "again";
    if (!kw)
        return 1;
    if (k != 1)
        return bad(ps, "%s takes nothing after it", kw);
    if (kw[0] == 'a' && !in_branch)
        return bad(ps, "again goes in a branch of an expect block");
    return add_stmt(st, n, kw[0] == 'w' ? CS_WAIT : CS_AGAIN, where(ps), NULL, 0) ? 0 : -ENOMEM;
}

/* A pattern at t[0..): "TEXT", re "RE", eof or (in a block) timeout. Sets
 * *used to the tokens it took; returns 0, 1 when there is none, or an error. */
static int pattern(parser *ps, const tok *t, size_t k, bool block, cs_stmt *ex, size_t *used)
{
    cs_pat pat;
    const tok *s = NULL;
    if (t[0].kind == T_STRING) {
        pat = CS_PAT_EXACT;
        s = &t[0];
        *used = 1;
    } else if (is(&t[0], "re")) {
        if (k < 2 || t[1].kind != T_STRING)
            return bad(ps, "re wants a \"regular expression\"");
        pat = CS_PAT_REGEX;
        s = &t[1];
        *used = 2;
    } else if (is(&t[0], "eof")) {
        pat = CS_PAT_EOF;
        *used = 1;
    } else if (is(&t[0], "timeout") && block) {
        pat = CS_PAT_TIMEOUT;
        *used = 1;
    } else {
        return 1;
    }
    for (size_t i = 0; i < ex->nbr && !s; i++)
        if (ex->br[i].pat == pat)
            return bad(ps, "a second %s branch in one expect",
                       pat == CS_PAT_EOF ? "eof" : "timeout");
    char *text = NULL;
    size_t len = 0;
    if (s) {
        int rc = string_of(ps, s, pat == CS_PAT_REGEX, &text, &len);
        if (rc < 0)
            return rc;
        if (len == 0) {
            free(text);
            return bad(ps, "an empty pattern matches at once; give some text");
        }
    }
    cs_branch *b = cs_add_branch(ex, pat, text ? text : NULL, len);
    free(text);
    return b ? 0 : -ENOMEM;
}

/* A branch line of an expect block: PATTERN [-> ACTION {; ACTION}]. */
static int branch(parser *ps, const tok *t, size_t k, cs_stmt *ex)
{
    size_t used;
    int rc = pattern(ps, t, k, true, ex, &used);
    if (rc == 1)
        return bad(ps,
                   "'%.*s' is no branch: give \"TEXT\", re \"RE\", timeout or eof, then "
                   "-> and actions, or end",
                   (int)t[0].len, t[0].p);
    if (rc < 0)
        return rc;
    if (used == k)
        return 0;
    if (t[used].kind != T_ARROW)
        return bad(ps, "-> goes between a pattern and its actions");
    cs_branch *b = &ex->br[ex->nbr - 1];
    size_t i = used + 1;
    if (i == k)
        return bad(ps, "no action after ->");
    while (i < k) {
        size_t j = i;
        while (j < k && t[j].kind != T_SEMI)
            j++;
        if (j == i)
            return bad(ps, "an empty action (two ';' or one at the end)");
        if (b->nacts) {
            cs_op last = b->acts[b->nacts - 1].op;
            if (last == CS_GOTO || last == CS_RETRY || last == CS_AGAIN || last == CS_EXIT)
                return bad(ps, "nothing runs after goto, retry, again or exit in a branch");
        }
        rc = simple(ps, t + i, j - i, true, &b->acts, &b->nacts);
        if (rc == 1)
            return bad(ps,
                       "'%.*s' is no action (send, sendline, echo, goto, retry, again, "
                       "exit, wait)",
                       (int)t[i].len, t[i].p);
        if (rc < 0)
            return rc;
        if (j < k && j + 1 == k)
            return bad(ps, "an empty action (two ';' or one at the end)");
        i = j + 1;
    }
    return 0;
}

/* A statement line outside a block. *open is set to the expect statement a
 * bare `expect` starts. */
static int statement(parser *ps, const tok *t, size_t k, cs_stmt **open)
{
    cs_script *sc = ps->sc;
    if (t[0].kind != T_WORD)
        return bad(ps, "a line starts with a keyword or a label");
    if (is(&t[0], "expect")) {
        cs_stmt *ex = cs_add(sc, CS_EXPECT, where(ps), NULL, 0);
        if (!ex)
            return -ENOMEM;
        if (k == 1) {
            *open = ex;
            return 0;
        }
        size_t used;
        int rc = pattern(ps, t + 1, k - 1, false, ex, &used);
        if (rc == 1)
            return bad(ps, "expect wants \"TEXT\", re \"RE\" or eof (or nothing, and branches "
                           "on the lines below, then end)");
        if (rc == 0 && 1 + used != k)
            return bad(ps, "one pattern on an expect line; branches go in a block");
        return rc;
    }
    if (is(&t[0], "timeout")) {
        long ms = 0;
        if (k != 2)
            return bad(ps, "timeout wants seconds");
        int rc = seconds(ps, &t[1], &ms);
        if (rc < 0)
            return rc;
        cs_stmt *s = cs_add(sc, CS_TIMEOUT, where(ps), NULL, 0);
        if (!s)
            return -ENOMEM;
        s->n = ms;
        return 0;
    }
    if (is(&t[0], "max-steps")) {
        long v = 0;
        if (k != 2)
            return bad(ps, "max-steps wants a count");
        int rc = number(ps, &t[1], "max-steps", 1, (long)CS_MAX_MAX_STEPS, &v);
        if (rc == 0)
            sc->max_steps = (unsigned long)v;
        return rc;
    }
    if (is(&t[0], "end"))
        return bad(ps, "end without an expect block");
    int rc = simple(ps, t, k, false, &sc->st, &sc->n);
    if (rc == 1)
        return bad(ps,
                   "unknown keyword '%.*s' (known: send, sendline, expect, timeout, goto, "
                   "retry, exit, wait, echo, max-steps)",
                   (int)t[0].len, t[0].p);
    return rc;
}

static int add_label(parser *ps, const tok *t)
{
    for (size_t i = 0; i < ps->nlabels; i++)
        if (ps->labels[i].len == t->len && memcmp(ps->labels[i].p, t->p, t->len) == 0)
            return bad(ps, "label '%.*s' is defined twice (first on line %u)", (int)t->len, t->p,
                       ps->labels[i].line);
    struct label *l = grow((void **)&ps->labels, &ps->nlabels, sizeof(*l));
    if (!l)
        return -ENOMEM;
    *l = (struct label){t->p, t->len, ps->sc->n, ps->line};
    return 0;
}

/* Point a goto or retry at its label's statement. */
static int resolve(parser *ps, cs_stmt *s)
{
    if (s->op != CS_GOTO && s->op != CS_RETRY)
        return 0;
    for (size_t i = 0; i < ps->nlabels; i++)
        if (ps->labels[i].len == s->len && memcmp(ps->labels[i].p, s->text, s->len) == 0) {
            s->target = ps->labels[i].index;
            return 0;
        }
    /* where is "NAME:LINE": the message names the goto's own line */
    snprintf(ps->why, ps->whylen, "%s: unknown label '%s'", s->where, s->text);
    return -EINVAL;
}

int cs_parse(const char *name, const char *text, size_t len, cs_script **ret, char *why,
             size_t whylen)
{
    parser ps = {.name = name, .why = why, .whylen = whylen};
    cs_stmt *open = NULL;
    unsigned open_line = 0;
    int rc = 0;
    if (whylen)
        why[0] = '\0';
    ps.sc = cs_new();
    if (!ps.sc)
        return -ENOMEM;
    size_t pos = 0;
    while (pos < len && rc == 0) {
        ps.line++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        const char *line = text + pos;
        pos += n + 1;
        if (memchr(line, '\0', n)) {
            rc = bad(&ps, "a NUL byte: this is not a text file");
            break;
        }
        tok *t;
        long k = lex(&ps, line, n, &t);
        if (k < 0) {
            rc = (int)k;
            break;
        }
        size_t first = 0;
        if (k > 0 && t[0].kind == T_LABEL) {
            if (open)
                rc = bad(&ps, "a label inside an expect block");
            else
                rc = add_label(&ps, &t[0]);
            first = 1;
        }
        if (rc == 0 && (size_t)k > first) {
            if (!open) {
                rc = statement(&ps, t + first, (size_t)k - first, &open);
                open_line = ps.line;
            } else if (is(&t[first], "end")) {
                if ((size_t)k > first + 1)
                    rc = bad(&ps, "end takes nothing after it");
                else if (open->nbr == 0)
                    rc = bad(&ps, "an expect block without a branch");
                else if (open->nbr == 1 && open->br[0].pat == CS_PAT_TIMEOUT)
                    rc = bad(&ps, "an expect block with only a timeout branch: give a "
                                  "pattern or eof");
                open = NULL;
            } else {
                rc = branch(&ps, t + first, (size_t)k - first, open);
            }
        }
        free(t);
    }
    if (rc == 0 && open) {
        ps.line = open_line;
        rc = bad(&ps, "this expect block has no end");
    }
    for (size_t i = 0; i < ps.sc->n && rc == 0; i++) {
        cs_stmt *s = &ps.sc->st[i];
        rc = resolve(&ps, s);
        for (size_t b = 0; b < s->nbr && rc == 0; b++)
            for (size_t a = 0; a < s->br[b].nacts && rc == 0; a++)
                rc = resolve(&ps, &s->br[b].acts[a]);
    }
    free(ps.labels);
    if (rc < 0) {
        if (rc == -ENOMEM && whylen)
            snprintf(why, whylen, "%s: out of memory", name);
        cs_free(ps.sc);
        return rc;
    }
    *ret = ps.sc;
    return 0;
}
