/*
 * connect_sink.c: `connect --send-to URL`, every line the device sends
 * mirrored as records to a syncstream server (through the same
 * ss_host_mirror as `syncstream send`). The lines come from the stream's
 * bridge, on its I/O thread, which alone writes to the mirror until the
 * stream is freed; then the main thread closes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream.h>

#include "connect.h"
#include "tool.h"

struct connect_sink {
    ss_host_mirror *mirror;
    const char *url;
    int err; /* the first write error, said once at the end */
};

int connect_sink_open(connect_sink **ret, const connect_opts *o)
{
    *ret = NULL;
    if (!o->send_to)
        return TOOL_EXIT_OK;
    connect_sink *k = calloc(1, sizeof(*k));
    if (!k)
        return tool_fail("connect: out of memory");
    char source[SS_SOURCE_MAX];
    /* the URI by default, cut to what a source holds */
    snprintf(source, sizeof(source), "%s", o->source ? o->source : o->uri);
    ss_host_mirror_opts mo = {.source = source};
    int st = tool_host_mirror("connect", o->send_to, &o->send_to_host, &mo, &k->mirror);
    if (st != TOOL_EXIT_OK) {
        free(k);
        return st;
    }
    k->url = o->send_to;
    *ret = k;
    return TOOL_EXIT_OK;
}

int connect_sink_line(void *ctx, const char *source, ss_kind kind, uint32_t flags, const char *text,
                      size_t len)
{
    (void)source;
    connect_sink *k = ctx;
    if (!k || k->err)
        return 0;
    /* a cut piece goes as its own record, as the bridge cut it */
    int rc = ss_host_mirror_append_flags(k->mirror, kind, flags & SS_REC_STDERR, text, len);
    if (rc < 0)
        k->err = rc;
    return 0;
}

int connect_sink_close(connect_sink *k, int status)
{
    if (!k)
        return status;
    int rc = ss_host_mirror_close(k->mirror);
    if (rc < 0) {
        tool_host_mirror_unsent("connect", k->mirror, k->url, rc);
        status = status == TOOL_EXIT_OK ? TOOL_EXIT_FAILURE : status;
    } else if (k->err == SS_ESTOPPED) {
        tool_fail("connect: a stop was requested at %s; mirroring ended", k->url);
    } else if (k->err < 0) {
        tool_fail("connect: %s: %s", k->url, ss_strerror(k->err));
        status = status == TOOL_EXIT_OK ? TOOL_EXIT_FAILURE : status;
    }
    ss_host_mirror_free(k->mirror);
    free(k);
    return status;
}
