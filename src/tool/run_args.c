/*
 * run_args.c: the input sources of `syncstream run` (see run_args.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <syncstream.h>

#include "run_args.h"
#include "tool.h"

/* ---- options ---- */

int run_input_option(run_input_opts *opts, int ch, const char *arg)
{
    if (ch == 'a') {
        const char **n = realloc(opts->arg_files, (opts->n_arg_files + 1) * sizeof(*n));
        if (!n)
            return tool_fail("run: out of memory");
        opts->arg_files = n;
        opts->arg_files[opts->n_arg_files++] = arg;
        return 0;
    }
    if (ch == RUN_OPT_COLSEP) {
        if (!*arg)
            return tool_usage("run", "run: --colsep wants a regular expression, not ''");
        opts->colsep = arg;
        return 0;
    }
    /* 'n' or 'N' */
    if (opts->max_mode && opts->max_mode != ch)
        return tool_usage("run", "run: -n and -N exclude each other");
    if (tool_parse_count(arg, &opts->max_args) < 0)
        return tool_usage("run", "run: -%c wants an integer from 0 up, not '%s'", ch, arg);
    opts->max_mode = ch;
    return 0;
}

void run_input_opts_free(run_input_opts *opts)
{
    free(opts->arg_files);
    memset(opts, 0, sizeof(*opts));
}

/* ---- sources ---- */

bool run_input_is_sep(const char *s)
{
    return strcmp(s, ":::") == 0 || strcmp(s, ":::+") == 0 || strcmp(s, "::::") == 0 ||
           strcmp(s, "::::+") == 0;
}

static run_source *add_source(run_input *in)
{
    run_source *n = realloc(in->src, (in->n_src + 1) * sizeof(*n));
    if (!n)
        return NULL;
    in->src = n;
    run_source *s = &in->src[in->n_src++];
    memset(s, 0, sizeof(*s));
    return s;
}

/* Read all of fd into *ret_mem (NUL-terminated). A TOOL_EXIT_* status. */
static int read_all(int fd, const char *what, char **ret_mem, size_t *ret_len)
{
    size_t cap = 4096, len = 0;
    char *mem = malloc(cap);

    if (!mem)
        return tool_fail("run: out of memory reading %s", what);
    for (;;) {
        if (len + 1 >= cap) { /* room for the terminator */
            if (cap >= RUN_INPUT_MAX) {
                free(mem);
                return tool_fail("run: %s holds more than %u MiB of arguments", what,
                                 RUN_INPUT_MAX / (1024u * 1024u));
            }
            size_t ncap = cap * 2 > RUN_INPUT_MAX ? RUN_INPUT_MAX : cap * 2;
            char *n = realloc(mem, ncap);
            if (!n) {
                free(mem);
                return tool_fail("run: out of memory reading %s", what);
            }
            mem = n;
            cap = ncap;
        }
        ssize_t r = read(fd, mem + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            free(mem);
            return tool_fail("run: reading arguments from %s: %s", what, ss_strerror(-err));
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    mem[len] = '\0';
    *ret_mem = mem;
    *ret_len = len;
    return 0;
}

/* A source of the lines of a file ("-": standard input), one argument each; a
 * last line without "\n" counts too. */
static int add_file(run_input *in, const char *path, bool linked)
{
    bool is_stdin = strcmp(path, "-") == 0;
    char what[64];
    int fd = STDIN_FILENO;

    if (is_stdin) {
        if (in->stdin_used)
            return tool_usage("run", "run: standard input ('-') can be read only once");
        in->stdin_used = true;
        snprintf(what, sizeof(what), "standard input");
        if (isatty(STDIN_FILENO))
            fputs(TOOL_NAME ": run: reading arguments from the terminal, one per line; "
                            "end with Ctrl-D\n",
                  stderr);
    } else {
        snprintf(what, sizeof(what), "'%.50s'", path);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return tool_fail("run: cannot open the argument file '%s': %s", path,
                             ss_strerror(-errno));
    }
    char **nm = realloc(in->mem, (in->n_mem + 1) * sizeof(*nm));
    if (!nm) {
        if (!is_stdin)
            close(fd);
        return tool_fail("run: out of memory");
    }
    in->mem = nm;
    char *mem = NULL;
    size_t len = 0;
    int r = read_all(fd, what, &mem, &len);
    if (!is_stdin)
        close(fd);
    if (r != 0)
        return r;
    in->mem[in->n_mem++] = mem;

    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (mem[i] == '\n')
            n++;
    if (len > 0 && mem[len - 1] != '\n')
        n++;
    run_source *s = add_source(in);
    char **items = calloc(n ? n : 1, sizeof(*items));
    if (!s || !items) {
        free(items);
        return tool_fail("run: out of memory");
    }
    /* The lines are cut in place: each "\n" becomes its argument's terminator. */
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= len && k < n; i++) {
        if (i == len || mem[i] == '\n') {
            mem[i] = '\0';
            items[k++] = mem + start;
            start = i + 1;
        }
    }
    s->items = items;
    s->n = n;
    s->owns_items = true;
    s->linked = linked;
    return 0;
}

/* The sources of the command line's part from its first separator on. */
static int add_args(run_input *in, int argc, char **argv)
{
    size_t i = 0, n = (size_t)argc;

    while (i < n) {
        const char *sep = argv[i++];
        bool files = strncmp(sep, "::::", 4) == 0;
        bool linked = sep[strlen(sep) - 1] == '+';
        size_t first = i;
        while (i < n && !run_input_is_sep(argv[i]))
            i++;
        if (i == first)
            return tool_usage("run", "run: argument list %zu after '%s' is empty", in->n_src + 1,
                              sep);
        if (!files) {
            run_source *s = add_source(in);
            if (!s)
                return tool_fail("run: out of memory");
            s->items = argv + first;
            s->n = i - first;
            s->linked = linked;
            continue;
        }
        /* "::::+ F G": F is linked to the source before, G is a source of its own */
        for (size_t f = first; f < i; f++) {
            int r = add_file(in, argv[f], linked && f == first);
            if (r != 0)
                return r;
        }
    }
    return 0;
}

int run_input_init(run_input *in, const run_input_opts *opts, int argc, char **argv)
{
    memset(in, 0, sizeof(*in));
    for (size_t f = 0; f < opts->n_arg_files; f++) {
        int r = add_file(in, opts->arg_files[f], false);
        if (r != 0)
            return r;
    }
    int r = add_args(in, argc, argv);
    if (r != 0)
        return r;
    if (in->n_src == 0) {
        r = add_file(in, "-", false);
        if (r != 0)
            return r;
    }
    if (in->n_src > 0)
        in->src[0].linked = false; /* parallel: nothing before it to link to */

    if (opts->colsep) {
        int err;
        PCRE2_SIZE off;
        in->colsep =
            pcre2_compile((PCRE2_SPTR)opts->colsep, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
        if (!in->colsep) {
            PCRE2_UCHAR msg[120];
            pcre2_get_error_message(err, msg, sizeof(msg));
            return tool_usage("run", "run: --colsep '%s': %s at offset %zu", opts->colsep,
                              (const char *)msg, (size_t)off);
        }
        in->md = pcre2_match_data_create_from_pattern(in->colsep, NULL);
        if (!in->md)
            return tool_fail("run: out of memory");
    }
    in->per_job = opts->max_mode && opts->max_args > 0 ? opts->max_args : 1;
    in->no_args = opts->max_mode && opts->max_args == 0;
    in->each_word = opts->max_mode == 'N';
    in->any_n = opts->colsep || opts->max_mode;

    /* Linked sources count as one: as long as the shortest of them. */
    size_t records = 1;
    for (size_t s = 0; s < in->n_src;) {
        size_t len = in->src[s].n;
        size_t e = s + 1;
        for (; e < in->n_src && in->src[e].linked; e++)
            if (in->src[e].n < len)
                len = in->src[e].n;
        if (len != 0 && records > SIZE_MAX / len)
            return tool_usage("run", "run: too many combinations of arguments");
        records *= len;
        s = e;
    }
    in->n_records = records;
    in->total = records / in->per_job + (records % in->per_job != 0);
    return 0;
}

void run_input_free(run_input *in)
{
    for (size_t s = 0; s < in->n_src; s++)
        if (in->src[s].owns_items)
            free(in->src[s].items);
    free(in->src);
    for (size_t m = 0; m < in->n_mem; m++)
        free(in->mem[m]);
    free(in->mem);
    pcre2_match_data_free(in->md);
    pcre2_code_free(in->colsep);
    memset(in, 0, sizeof(*in));
}

/* ---- a job's arguments ---- */

/* The pieces of a job's arguments, before they are copied into one block. */
typedef struct pieces {
    struct piece {
        const char *p;
        size_t len;
    } *v;
    size_t n, cap, bytes;
} pieces;

static int add_piece(pieces *ps, const char *p, size_t len)
{
    if (ps->n == ps->cap) {
        size_t ncap = ps->cap ? ps->cap * 2 : 16;
        struct piece *n = realloc(ps->v, ncap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        ps->v = n;
        ps->cap = ncap;
    }
    ps->v[ps->n++] = (struct piece){p, len};
    ps->bytes += len + 1;
    return 0;
}

/* One column, without blanks at either end (parallel's --trim rl, which
 * --colsep implies). */
static int add_column(pieces *ps, const char *p, size_t len)
{
    while (len > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        len--;
    }
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    return add_piece(ps, p, len);
}

/* An element cut into its columns where --colsep matches. A match of no
 * length cuts nothing (it would cut between every two characters). */
static int add_columns(const run_input *in, pieces *ps, const char *item)
{
    size_t len = strlen(item), start = 0, pos = 0;

    while (pos <= len) {
        int m = pcre2_match(in->colsep, (PCRE2_SPTR)item, len, pos, 0, in->md, NULL);
        if (m < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(in->md);
        if (ov[1] == ov[0]) {
            pos = ov[0] + 1;
            continue;
        }
        int r = add_column(ps, item + start, ov[0] - start);
        if (r < 0)
            return r;
        start = pos = ov[1];
    }
    return add_column(ps, item + start, len - start);
}

/* The elements of record r, each source's in turn. */
static int add_record(const run_input *in, pieces *ps, size_t r)
{
    /* The linked groups, the last varying fastest: walk them from the end. */
    size_t *index = calloc(in->n_src ? in->n_src : 1, sizeof(*index));
    if (!index)
        return -ENOMEM;
    size_t rest = r;
    for (size_t e = in->n_src; e > 0;) {
        size_t s = e - 1;
        while (s > 0 && in->src[s].linked)
            s--;
        size_t len = SIZE_MAX;
        for (size_t k = s; k < e; k++)
            if (in->src[k].n < len)
                len = in->src[k].n;
        for (size_t k = s; k < e; k++)
            index[k] = rest % len;
        rest /= len;
        e = s;
    }
    int rc = 0;
    for (size_t s = 0; s < in->n_src && rc == 0; s++) {
        const char *item = in->src[s].items[index[s]];
        rc = in->colsep ? add_columns(in, ps, item) : add_piece(ps, item, strlen(item));
    }
    free(index);
    return rc;
}

int run_input_args(const run_input *in, size_t i, run_argv *ret)
{
    pieces ps = {0};
    run_argv a = {0};
    int rc = 0;

    size_t first = i * in->per_job;
    size_t end = first + in->per_job < in->n_records ? first + in->per_job : in->n_records;
    if (!in->no_args)
        for (size_t r = first; r < end && rc == 0; r++)
            rc = add_record(in, &ps, r);
    if (rc == 0) {
        a.v = calloc(ps.n ? ps.n : 1, sizeof(*a.v));
        a.mem = malloc(ps.bytes ? ps.bytes : 1);
        rc = a.v && a.mem ? 0 : -ENOMEM;
    }
    if (rc < 0) {
        free(ps.v);
        run_argv_free(&a);
        return rc;
    }
    /* Copied: a column is not terminated where it ends in its element. */
    char *o = a.mem;
    for (size_t k = 0; k < ps.n; k++) {
        a.v[k] = o;
        memcpy(o, ps.v[k].p, ps.v[k].len);
        o += ps.v[k].len;
        *o++ = '\0';
    }
    a.n = ps.n;
    free(ps.v);
    *ret = a;
    return 0;
}

void run_argv_free(run_argv *a)
{
    free(a->v);
    free(a->mem);
    memset(a, 0, sizeof(*a));
}
