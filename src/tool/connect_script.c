/*
 * connect_script.c: `syncstream connect` with --send / --expect steps. Each
 * step has the whole --timeout; the first failure prints the error payload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <syncstream.h>

#include "connect.h"
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

static const char *step_option(const connect_step *st)
{
    switch (st->kind) {
    case CONNECT_SEND:
        return "--send";
    case CONNECT_EXPECT:
        return "--expect";
    default:
        return "--expect-re";
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

/* Say why step i failed, then the payload; returns the exit status. */
static int report(const connect_opts *o, size_t i, int timeout_ms, int err,
                  const ss_stream_payload *pl)
{
    const connect_step *st = &o->steps[i];
    int status = TOOL_EXIT_FAILURE;
    if (err == -ETIMEDOUT) {
        tool_fail("connect: step %zu (%s '%s'): not done within %g s", i + 1, step_option(st),
                  st->arg, timeout_ms / 1000.0);
        status = TOOL_EXIT_TIMEOUT;
    } else if (err == -ENOBUFS) {
        tool_fail("connect: step %zu (%s '%s'): the read buffer filled (%zu bytes, %g MiB) "
                  "without a match; no more bytes could come",
                  i + 1, step_option(st), st->arg, pl->read_len, pl->read_len / (1024.0 * 1024.0));
        status = TOOL_EXIT_TIMEOUT;
    } else if (err == SS_EEOF) {
        tool_fail("connect: step %zu (%s '%s'): the stream ended first", i + 1, step_option(st),
                  st->arg);
        status = TOOL_EXIT_EOF;
    } else {
        tool_fail("connect: step %zu (%s '%s'): %s", i + 1, step_option(st), st->arg,
                  ss_strerror(err));
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

int connect_script(ss_stream *s, const connect_opts *o)
{
    int timeout = o->timeout_ms < 0 ? DEFAULT_STEP_TIMEOUT_MS : o->timeout_ms;
    for (size_t i = 0; i < o->nsteps; i++) {
        const connect_step *st = &o->steps[i];
        ss_stream_payload pl = {0};
        int rc;
        if (st->kind == CONNECT_SEND) {
            rc = ss_stream_write(s, st->text, st->len, timeout, &pl);
            if (rc == 0)
                rc = ss_stream_flush(s, timeout, &pl);
        } else {
            ss_pattern pat = {.text = st->text,
                              .len = st->len,
                              .kind =
                                  st->kind == CONNECT_EXPECT ? SS_PATTERN_EXACT : SS_PATTERN_REGEX};
            ss_stream_match m = {0};
            rc = ss_stream_expect(s, &pat, 1, timeout, &m, &pl);
            if (rc >= 0 && !o->quiet)
                fwrite(m.data, 1, m.len, stdout);
            ss_stream_match_clear(&m);
            if (rc == -EINVAL && st->kind == CONNECT_EXPECT_RE) {
                ss_stream_payload_clear(&pl);
                fflush(stdout);
                return tool_usage("connect", "connect: '%s' is not a valid regular expression",
                                  st->arg);
            }
        }
        connect_copy_stderr(s);
        if (rc < 0) {
            int status = report(o, i, timeout, rc, &pl);
            ss_stream_payload_clear(&pl);
            return status;
        }
    }
    return tool_finish_output(TOOL_EXIT_OK);
}
