/*
 * The bridge: a stream's received bytes become lines for another mode. Into
 * an ss_linebuf through one ss_writer per channel (the writer holds the line
 * assembler), or to a callback through the line assembler directly. Runs on
 * the I/O thread with the stream's lock held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream/common.h>
#include <syncstream/stream.h>

#include "stream/stream_int.h"
#include "util/lineasm.h"

#define DEFAULT_MAX_LINE (64u * 1024u)

struct ss__bridge {
    const char *name; /* the stream's, which outlives the bridge */
    bool only;
    ss_writer *w[2];           /* linebuf: SS_CHAN_OUT, SS_CHAN_ERR */
    ss_bridge_line_fn on_line; /* or a callback, fed by */
    void *ctx;
    ss__lineasm la[2];
    uint32_t flags; /* of the lines being emitted now */
    bool ended;     /* flushed for good: end of stream, an error or a close */
};

static int emit(void *ctx, const char *text, size_t len, uint32_t flags)
{
    ss__bridge *b = ctx;
    int rc = b->on_line(b->ctx, b->name, SS_KIND_LINE, flags | b->flags, text, len);
    return rc < 0 ? rc : 0;
}

/* A failing sink (a closed line buffer, a callback's error) must not stop
 * the stream: the bytes are in the read buffer too, unless only. */
void ss__bridge_feed(ss__bridge *b, int chan, const char *data, size_t len)
{
    if (b->w[chan]) {
        (void)ss_writer_write(b->w[chan], data, len);
        return;
    }
    b->flags = chan == SS_CHAN_ERR ? SS_REC_STDERR : 0;
    (void)ss__lineasm_feed(&b->la[chan], data, len, emit, b);
}

void ss__bridge_event(ss__bridge *b, const char *text, size_t len)
{
    if (b->w[SS_CHAN_OUT])
        (void)ss_writer_append(b->w[SS_CHAN_OUT], SS_KIND_WARNING, text, len);
    else
        (void)b->on_line(b->ctx, b->name, SS_KIND_WARNING, 0, text, len);
}

void ss__bridge_end(ss__bridge *b)
{
    if (b->ended)
        return;
    b->ended = true;
    for (int chan = 0; chan < 2; chan++) {
        if (b->w[chan]) {
            (void)ss_writer_new_line(b->w[chan]);
        } else {
            b->flags = chan == SS_CHAN_ERR ? SS_REC_STDERR : 0;
            (void)ss__lineasm_flush(&b->la[chan], emit, b);
        }
    }
}

bool ss__bridge_only(const ss__bridge *b)
{
    return b->only;
}

void ss__bridge_free(ss__bridge *b)
{
    if (!b)
        return;
    for (int chan = 0; chan < 2; chan++) {
        if (b->w[chan])
            ss_writer_close(b->w[chan]);
        else if (b->on_line)
            ss__lineasm_done(&b->la[chan]);
    }
    free(b);
}

static int bridge_new(ss__bridge **ret, const ss_bridge_opts *o, const char *name)
{
    ss__bridge *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->name = name;
    b->only = o->only;
    int rc = 0;
    if (o->linebuf) {
        rc = ss_writer_new(&b->w[SS_CHAN_OUT], o->linebuf, name, 0);
        if (rc == 0)
            rc = ss_writer_new(&b->w[SS_CHAN_ERR], o->linebuf, name, SS_REC_STDERR);
    } else {
        b->on_line = o->on_line;
        b->ctx = o->ctx;
        size_t max_line = o->max_line ? o->max_line : DEFAULT_MAX_LINE;
        rc = ss__lineasm_init(&b->la[SS_CHAN_OUT], max_line, 0, NULL);
        if (rc == 0) {
            rc = ss__lineasm_init(&b->la[SS_CHAN_ERR], max_line, 0, NULL);
            if (rc < 0)
                ss__lineasm_done(&b->la[SS_CHAN_OUT]);
        }
        if (rc < 0)
            b->on_line = NULL; /* nothing for ss__bridge_free to release */
    }
    if (rc < 0) {
        ss__bridge_free(b);
        return rc;
    }
    *ret = b;
    return 0;
}

int ss_stream_bridge(ss_stream *s, const ss_bridge_opts *o)
{
    if (!s || !o || !o->linebuf == !o->on_line)
        return -EINVAL;
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    if (s->closed)
        rc = SS_ECLOSED;
    else if (s->bridge)
        rc = -EBUSY;
    else
        rc = bridge_new(&s->bridge, o, s->name);
    /* What arrived before the bridge and is not read yet is bridged too: a
     * program that prints as it starts would otherwise lose its first lines
     * to the race with attaching. The only reader also takes the bytes. */
    if (rc == 0) {
        if (s->rbuf.len > 0)
            ss__bridge_feed(s->bridge, SS_CHAN_OUT, s->rbuf.data, s->rbuf.len);
        if (s->ebuf.len > 0)
            ss__bridge_feed(s->bridge, SS_CHAN_ERR, s->ebuf.data, s->ebuf.len);
    }
    if (rc == 0 && o->only) {
        ss__buf_reset(&s->rbuf);
        ss__buf_reset(&s->ebuf);
    }
    /* with only, reading may resume at once */
    if (rc == 0 && !s->watch_read && !s->eof && !s->rerr)
        ss__loop_touch(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}
