/*
 * GET ROUTE-events: the live tail as Server-Sent Events. Each record is one
 * event whose id is the server's epoch and its seq (EPOCH-SEQ), so a
 * browser's EventSource (or our reader) that reconnects with Last-Event-ID
 * continues exactly after the last record it saw, or from the oldest record
 * when the server restarted meanwhile. The stream is produced by libmicrohttpd's content callback, which runs
 * in the connection's own thread and may sleep in the store's wait.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream/common.h>

#include "host/item.h"
#include "host/server_int.h"
#include "util/buf.h"

#define EVENTS_PER_READ 1000
#define KEEPALIVE_MS 15000
/* Formatting stops once this many bytes wait for the socket, so memory stays
 * bounded however long the records; the next fill goes on after the last
 * record formatted. */
#define OUT_SOFT_LIMIT (1u << 20)
/* The hard cap only guards against a runaway: one record's event always fits
 * (a record is at most max_line bytes, 256 MiB, six times that escaped). */
#define OUT_CAP ((size_t)2 << 30)

typedef struct event_stream {
    ss_host_server *srv;
    ss__host_peer *peer; /* its place in the waiting pool */
    uint64_t epoch;  /* the buffer's when the stream began */
    uint64_t cursor; /* the seq of the last record formatted */
    bool fresh;      /* the client gave no cursor: what rotated out before is not missed */
    ss__buf out;     /* formatted, not yet handed to libmicrohttpd */
    size_t handed;   /* bytes of out already handed */
} event_stream;

static int append_str(ss__buf *b, const char *s)
{
    return ss__buf_append(b, s, strlen(s));
}

static int append_record(ss__buf *b, uint64_t epoch, const ss_record *r)
{
    char head[96];
    snprintf(head, sizeof(head), "id: %" PRIu64 "-%" PRIu64 "\nevent: record\ndata: ", epoch,
             r->seq);
    json_t *obj = ss__record_obj_encode(r);
    char *data = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!data)
        return -ENOMEM;
    /* Compact JSON escapes every line break, so data is one line as SSE needs. */
    int rc = append_str(b, head);
    if (rc == 0)
        rc = append_str(b, data);
    if (rc == 0)
        rc = append_str(b, "\n\n");
    free(data);
    return rc;
}

/* Format what comes next into es->out: records (after a missed notice when some
 * rotated out unseen), or a keepalive comment after KEEPALIVE_MS of silence.
 * Returns 0, SS_ECLOSED (the server stops) or another negative errno. */
static int fill(event_stream *es)
{
    ss__host_store *st = es->srv->store;
    ss_records set = SS_RECORDS_INIT;
    int rc = st->ops->read_since(st, es->cursor, EVENTS_PER_READ, &set);
    if (rc >= 0 && es->fresh)
        set.missed = 0;
    es->fresh = false;
    if (rc >= 0 && set.missed > 0) {
        char line[80];
        snprintf(line, sizeof(line), "event: missed\ndata: {\"missed\":%" PRIu64 "}\n\n",
                 set.missed);
        rc = append_str(&es->out, line);
    }
    uint64_t last = set.count ? es->cursor : set.cursor;
    for (size_t i = 0; rc >= 0 && i < set.count && es->out.len < OUT_SOFT_LIMIT; i++) {
        rc = append_record(&es->out, es->epoch, &set.items[i]);
        last = set.items[i].seq;
    }
    if (rc >= 0)
        es->cursor = last;
    bool none = set.count == 0 && set.missed == 0;
    ss_records_clear(&set);
    if (rc < 0 || !none)
        return rc < 0 ? rc : 0;
    rc = st->ops->wait(st, es->cursor, KEEPALIVE_MS);
    if (rc == -ETIMEDOUT)
        return append_str(&es->out, ": keepalive\n\n");
    return rc;
}

static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max)
{
    event_stream *es = cls;
    while (es->handed == es->out.len) {
        ss__buf_reset(&es->out);
        es->handed = 0;
        if (fill(es) < 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = es->out.len - es->handed;
    if (n > max)
        n = max;
    memcpy(buf, es->out.data + es->handed, n);
    es->handed += n;
    return (ssize_t)n;
}

static void free_events(void *cls)
{
    event_stream *es = cls;
    ss__host_wait_leave(es->srv, es->peer);
    ss__buf_free(&es->out);
    free(es);
}

/* Parse a Last-Event-ID: "EPOCH-SEQ" as this server sends, or a bare SEQ (as
 * an older server sent). *ret is 0 for a cursor from another life of the
 * buffer (another epoch than this one). Returns 0 or -EINVAL. */
static int parse_last_id(uint64_t this_epoch, const char *id, int64_t *ret)
{
    const char *dash = strchr(id, '-');
    if (!dash)
        return ss__host_parse_int(id, 0, INT64_MAX, ret);
    char epoch_text[24];
    size_t elen = (size_t)(dash - id);
    int64_t epoch;
    if (elen == 0 || elen >= sizeof(epoch_text))
        return -EINVAL;
    memcpy(epoch_text, id, elen);
    epoch_text[elen] = '\0';
    if (ss__host_parse_int(epoch_text, 0, INT64_MAX, &epoch) < 0 || dash[1] == '+' ||
        dash[1] == '-' || ss__host_parse_int(dash + 1, 0, INT64_MAX, ret) < 0)
        return -EINVAL;
    if ((uint64_t)epoch != this_epoch)
        *ret = 0;
    return 0;
}

enum MHD_Result ss__host_on_events(ss_host_server *srv, struct MHD_Connection *c)
{
    /* The store's epoch first: a Last-Event-ID is read against it. */
    ss__host_store_stats stats;
    int rc = srv->store->ops->stats(srv->store, &stats);
    if (rc < 0)
        return ss__host_reply_store_error(c, rc);
    int64_t since = 0;
    const char *last_id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
    if (last_id) {
        if (parse_last_id(stats.epoch, last_id, &since) < 0)
            return ss__host_reply_message(c, MHD_HTTP_BAD_REQUEST,
                                          "Last-Event-ID must be EPOCH-SEQ or SEQ, integers >= 0");
    } else if (ss__host_query_int(c, "since", 0, INT64_MAX, &since) < 0) {
        return ss__host_reply_message(c, MHD_HTTP_BAD_REQUEST, "since must be an integer >= 0");
    }
    ss__host_peer *peer;
    enum MHD_Result busy;
    if (!ss__host_wait_enter(srv, c, &peer, &busy))
        return busy;
    event_stream *es = calloc(1, sizeof(*es));
    if (!es) {
        ss__host_wait_leave(srv, peer);
        return MHD_NO;
    }
    es->srv = srv;
    es->peer = peer;
    es->epoch = stats.epoch;
    es->fresh = !last_id && since == 0;
    /* A cursor beyond the newest record comes from an earlier life of the
     * server: start from the oldest record kept. */
    es->cursor = (uint64_t)since > stats.last_seq ? 0 : (uint64_t)since;
    ss__buf_init(&es->out, OUT_CAP);
    /* The first bytes go out at once: the client learns the stream is open
     * and how soon to reconnect. */
    if (append_str(&es->out, "retry: 1000\n\n") < 0) {
        free_events(es);
        return MHD_NO;
    }
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, read_events, es, free_events);
    if (!r) {
        free_events(es);
        return MHD_NO;
    }
    ss__host_add_headers(r, "text/event-stream");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}
