/*
 * connect_script.c: run the script of `syncstream connect`: a --script FILE
 * (connect_script_parse.c) or the --send / --expect steps, which become a
 * script of one statement each, so that both run on this one engine. Each
 * expectation and send has the timeout in force (--timeout, or the script's
 * `timeout`); one that fails without a branch for it prints the error payload.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <syncstream.h>

#include "connect.h"
#include "connect_script.h"
#include "tool.h"

#define DEFAULT_STEP_TIMEOUT_MS 10000

void connect_copy_stderr(ss_stream *s)
{
    char *err;
    size_t len;
    if (ss_stream_take_stderr(s, &err, &len) == 0 && err) {
        fwrite(err, 1, len, stderr);
        free(err);
    }
}

/* A payload part longer than twice this is shown as its head and its tail. */
#define EXCERPT 2048

/* Write one part of the payload to path. Returns 0 or a negative errno. */
static int save_part(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wbe");
    if (!f)
        return -errno;
    size_t n = len ? fwrite(data, 1, len, f) : 0;
    int rc = n == len ? 0 : -errno;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

/* One part of the payload on stderr under its --- header: whole when short
 * (or saved to path when asked), else its first and last EXCERPT bytes and
 * how many between them are not shown, so that a 16 MiB flood does not bury
 * the terminal. Returns 0 or the error of saving it. */
static int show_part(const char *title, const char *data, size_t len, const char *path)
{
    if (path) {
        int rc = save_part(path, data, len);
        if (rc < 0) {
            tool_fail("connect: cannot save the payload to '%s': %s", path, ss_strerror(rc));
            return rc;
        }
        fprintf(stderr, "--- %s (%zu bytes): saved to %s ---\n", title, len, path);
        return 0;
    }
    if (len <= 2 * EXCERPT) {
        fprintf(stderr, "--- %s (%zu bytes) ---\n", title, len);
        if (len) {
            fwrite(data, 1, len, stderr);
            fputc('\n', stderr);
        }
        return 0;
    }
    fprintf(stderr, "--- %s (%zu bytes; the first and last %d shown) ---\n", title, len, EXCERPT);
    /* each excerpt ends its line, so that the headers start theirs */
    fwrite(data, 1, EXCERPT, stderr);
    if (data[EXCERPT - 1] != '\n')
        fputc('\n', stderr);
    fprintf(stderr, "--- %zu bytes not shown (--save-payload=FILE keeps them all) ---\n",
            len - 2 * EXCERPT);
    fwrite(data + len - EXCERPT, 1, EXCERPT, stderr);
    if (data[len - 1] != '\n')
        fputc('\n', stderr);
    return 0;
}

/* Say why the statement at where failed, then the payload; returns the exit
 * status. */
static int report(const connect_opts *o, const char *where, int timeout_ms, int err,
                  const ss_stream_payload *pl)
{
    int status = TOOL_EXIT_FAILURE;
    if (err == -ETIMEDOUT) {
        tool_fail("connect: %s: not done within %g s", where, timeout_ms / 1000.0);
        status = TOOL_EXIT_TIMEOUT;
    } else if (err == -ENOBUFS) {
        tool_fail("connect: %s: the read buffer filled (%zu bytes, %g MiB) "
                  "without a match; no more bytes could come",
                  where, pl->read_len, pl->read_len / (1024.0 * 1024.0));
        status = TOOL_EXIT_TIMEOUT;
    } else if (err == SS_EEOF) {
        tool_fail("connect: %s: the stream ended first", where);
        status = TOOL_EXIT_EOF;
    } else {
        tool_fail("connect: %s: %s", where, ss_strerror(err));
    }
    char *unsent_path = NULL;
    if (o->save_payload && pl->unsent_len &&
        asprintf(&unsent_path, "%s.unsent", o->save_payload) < 0) {
        unsent_path = NULL;
        tool_fail("connect: out of memory");
        return TOOL_EXIT_FAILURE;
    }
    if (show_part("received, not matched", pl->read, pl->read_len, o->save_payload) < 0 ||
        show_part("not sent", pl->unsent, pl->unsent_len, unsent_path) < 0)
        status = TOOL_EXIT_FAILURE;
    free(unsent_path);
    return status;
}

/* A script being run. */
typedef struct runner {
    ss_stream *s;
    const connect_opts *o;
    cs_script *sc;
    int timeout_ms;      /* of each expectation and send, as `timeout` last said */
    unsigned long steps; /* statements and actions run so far */
    int waited;          /* the status `wait` took; 0 before */
} runner;

/* What running a statement gives: go on at *pc, or end with a status. */
#define GO_ON (-1)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void show(const runner *r, const char *p, size_t n)
{
    if (!r->o->quiet && n)
        fwrite(p, 1, n, stdout);
}

/* Print what arrives until the stream ends, within the timeout. Returns
 * SS_EEOF at the end, else the error (payload in *pl). */
static int drain(runner *r, ss_stream_payload *pl)
{
    static char buf[64 * 1024];
    int64_t deadline = now_ms() + r->timeout_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        ssize_t n = ss_stream_read(r->s, buf, sizeof(buf), left < 0 ? 0 : (int)left, pl);
        if (n < 0)
            return (int)n;
        show(r, buf, (size_t)n);
    }
}

static int fail_payload(runner *r, const char *where, int err, ss_stream_payload *pl)
{
    int status = report(r->o, where, r->timeout_ms, err, pl);
    ss_stream_payload_clear(pl);
    return status;
}

static int do_send(runner *r, const cs_stmt *st)
{
    ss_stream_payload pl = {0};
    int rc = ss_stream_write(r->s, st->text, st->len, r->timeout_ms, &pl);
    if (rc == 0)
        rc = ss_stream_flush(r->s, r->timeout_ms, &pl);
    connect_copy_stderr(r->s);
    return rc < 0 ? fail_payload(r, st->where, rc, &pl) : GO_ON;
}

static int do_wait(runner *r, const cs_stmt *st)
{
    ss_stream_payload pl = {0};
    fflush(stdout);
    int rc = drain(r, &pl);
    connect_copy_stderr(r->s);
    if (rc != SS_EEOF)
        return fail_payload(r, st->where, rc, &pl);
    ss_stream_payload_clear(&pl);
    r->waited = connect_program_status(r->s);
    return GO_ON;
}

/* Count one step; past the limit, the script is stopped. */
static int step(runner *r, const cs_stmt *st)
{
    if (++r->steps <= r->sc->max_steps)
        return GO_ON;
    return tool_fail("connect: %s: the script ran %lu steps (max-steps) and is stopped: "
                     "a loop that does not end?",
                     st->where, r->sc->max_steps);
}

/* Run a simple statement or action; self is the index of the statement (of
 * the expect whose branch it is in). Sets *pc to the next statement. */
static int simple(runner *r, cs_stmt *st, size_t self, size_t *pc)
{
    int rc = step(r, st);
    if (rc != GO_ON)
        return rc;
    switch (st->op) {
    case CS_SEND:
        return do_send(r, st);
    case CS_TIMEOUT:
        r->timeout_ms = (int)st->n;
        return GO_ON;
    case CS_GOTO:
        *pc = st->target;
        return GO_ON;
    case CS_RETRY:
        if (st->taken >= (unsigned long)st->n)
            return tool_fail("connect: %s: retry: gave up after %ld retries", st->where, st->n);
        st->taken++;
        *pc = st->target;
        return GO_ON;
    case CS_AGAIN:
        *pc = self;
        return GO_ON;
    case CS_EXIT:
        return st->n < 0 ? r->waited : (int)st->n;
    case CS_WAIT:
        return do_wait(r, st);
    case CS_ECHO:
        fflush(stdout);
        fwrite(st->text, 1, st->len, stderr);
        fputc('\n', stderr);
        return GO_ON;
    case CS_EXPECT:
        break;
    }
    return GO_ON;
}

/* Which branch of ex the answer rc of an expect over its patterns takes
 * (map: a pattern's index to its branch); -1: none. */
static int branch_of(const cs_stmt *ex, const size_t *map, int rc)
{
    if (rc >= 0)
        return (int)map[rc];
    for (size_t i = 0; i < ex->nbr; i++)
        if ((rc == -ETIMEDOUT && ex->br[i].pat == CS_PAT_TIMEOUT) ||
            (rc == SS_EEOF && ex->br[i].pat == CS_PAT_EOF))
            return (int)i;
    return -1;
}

static int bad_regex(const cs_stmt *ex)
{
    const char *re = NULL;
    size_t n = 0;
    for (size_t i = 0; i < ex->nbr; i++)
        if (ex->br[i].pat == CS_PAT_REGEX && n++ == 0)
            re = ex->br[i].text;
    if (n == 1)
        return tool_usage("connect", "connect: %s: '%s' is not a valid regular expression",
                          ex->where, re);
    return tool_usage("connect", "connect: %s: one of its regular expressions is not valid",
                      ex->where);
}

static int do_expect(runner *r, cs_stmt *ex, size_t self, size_t *pc)
{
    int rc = step(r, ex);
    if (rc != GO_ON)
        return rc;
    ss_pattern *pats = calloc(ex->nbr, sizeof(*pats));
    size_t *map = calloc(ex->nbr, sizeof(*map));
    if (!pats || !map) {
        free(pats);
        free(map);
        return tool_fail("connect: out of memory");
    }
    size_t np = 0;
    for (size_t i = 0; i < ex->nbr; i++) {
        const cs_branch *b = &ex->br[i];
        if (b->pat != CS_PAT_EXACT && b->pat != CS_PAT_REGEX)
            continue;
        pats[np] =
            (ss_pattern){.text = b->text,
                         .len = b->len,
                         .kind = b->pat == CS_PAT_EXACT ? SS_PATTERN_EXACT : SS_PATTERN_REGEX};
        map[np++] = i;
    }
    ss_stream_payload pl = {0};
    ss_stream_match m = {0};
    /* no pattern (`expect eof`): everything up to the end is printed */
    rc = np ? ss_stream_expect(r->s, pats, np, r->timeout_ms, &m, &pl) : drain(r, &pl);
    free(pats);
    connect_copy_stderr(r->s);
    int b = branch_of(ex, map, rc);
    free(map);
    if (rc >= 0)
        show(r, m.data, m.len);
    ss_stream_match_clear(&m);
    if (rc == -EINVAL) {
        ss_stream_payload_clear(&pl);
        fflush(stdout);
        return bad_regex(ex);
    }
    if (b < 0)
        return fail_payload(r, ex->where, rc, &pl);
    if (rc == SS_EEOF) {
        /* the end: what is left is shown and taken, as a match would be */
        show(r, pl.read, pl.read_len);
        ss_stream_consume(r->s);
    }
    ss_stream_payload_clear(&pl);
    *pc = self + 1;
    const cs_branch *br = &ex->br[b];
    for (size_t i = 0; i < br->nacts; i++) {
        size_t next = *pc;
        rc = simple(r, &br->acts[i], self, &next);
        if (rc != GO_ON)
            return rc;
        *pc = next;
        if (br->acts[i].op == CS_GOTO || br->acts[i].op == CS_RETRY || br->acts[i].op == CS_AGAIN)
            break; /* the parser lets no action follow them */
    }
    return GO_ON;
}

/* The --send / --expect steps as a script; NULL when out of memory. */
static cs_script *from_steps(const connect_opts *o)
{
    static const char *const option[] = {[CONNECT_SEND] = "--send",
                                         [CONNECT_EXPECT] = "--expect",
                                         [CONNECT_EXPECT_RE] = "--expect-re"};
    cs_script *sc = cs_new();
    for (size_t i = 0; sc && i < o->nsteps; i++) {
        const connect_step *st = &o->steps[i];
        char *where;
        if (asprintf(&where, "step %zu (%s '%s')", i + 1, option[st->kind], st->arg) < 0) {
            cs_free(sc);
            return NULL;
        }
        bool send = st->kind == CONNECT_SEND;
        cs_stmt *s = cs_add(sc, send ? CS_SEND : CS_EXPECT, where, send ? st->text : NULL, st->len);
        free(where);
        if (!s ||
            (!send && !cs_add_branch(s, st->kind == CONNECT_EXPECT ? CS_PAT_EXACT : CS_PAT_REGEX,
                                     st->text, st->len))) {
            cs_free(sc);
            return NULL;
        }
    }
    return sc;
}

int connect_script(ss_stream *s, const connect_opts *o)
{
    runner r = {.s = s,
                .o = o,
                .sc = o->script ? o->script : from_steps(o),
                .timeout_ms = o->timeout_ms < 0 ? DEFAULT_STEP_TIMEOUT_MS : o->timeout_ms};
    if (!r.sc)
        return tool_fail("connect: out of memory");
    size_t pc = 0;
    int status = GO_ON;
    while (status == GO_ON && pc < r.sc->n) {
        cs_stmt *st = &r.sc->st[pc];
        size_t self = pc++;
        status = st->op == CS_EXPECT ? do_expect(&r, st, self, &pc) : simple(&r, st, self, &pc);
    }
    if (r.sc != o->script)
        cs_free(r.sc);
    return tool_finish_output(status == GO_ON ? r.waited : status);
}

int connect_script_load(const char *path, cs_script **ret)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return tool_fail("connect: cannot read the script '%s': %s", path, ss_strerror(-errno));
    char *text = malloc(CS_MAX_FILE + 1);
    size_t len = text ? fread(text, 1, CS_MAX_FILE + 1, f) : 0;
    int err = ferror(f) ? -errno : 0;
    fclose(f);
    if (!text)
        return tool_fail("connect: out of memory");
    if (err < 0 || len > CS_MAX_FILE) {
        free(text);
        if (err < 0)
            return tool_fail("connect: cannot read the script '%s': %s", path, ss_strerror(err));
        return tool_usage("connect", "connect: the script '%s' is longer than %d bytes", path,
                          CS_MAX_FILE);
    }
    char why[512];
    err = cs_parse(path, text, len, ret, why, sizeof(why));
    free(text);
    if (err == -EINVAL)
        return tool_usage("connect", "connect: %s", why);
    if (err < 0)
        return tool_fail("connect: out of memory");
    return TOOL_EXIT_OK;
}
