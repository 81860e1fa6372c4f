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
    } else if (err == SS_EEOF) {
        tool_fail("connect: step %zu (%s '%s'): the stream ended first", i + 1, step_option(st),
                  st->arg);
        status = TOOL_EXIT_EOF;
    } else {
        tool_fail("connect: step %zu (%s '%s'): %s", i + 1, step_option(st), st->arg,
                  ss_strerror(err));
    }
    fprintf(stderr, "--- received, not matched (%zu bytes) ---\n", pl->read_len);
    if (pl->read_len) {
        fwrite(pl->read, 1, pl->read_len, stderr);
        fputc('\n', stderr);
    }
    fprintf(stderr, "--- not sent (%zu bytes) ---\n", pl->unsent_len);
    if (pl->unsent_len) {
        fwrite(pl->unsent, 1, pl->unsent_len, stderr);
        fputc('\n', stderr);
    }
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
