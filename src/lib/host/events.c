/*
 * GET ROUTE-events: the live tail as Server-Sent Events. Each record is one
 * event whose id is the server's epoch and its seq (EPOCH-SEQ), so a
 * browser's EventSource (or our reader) that reconnects with Last-Event-ID
 * continues exactly after the last record it saw, or from the oldest record
 * when the server restarted meanwhile. The stream is produced by libmicrohttpd's content callback,
 * which runs in the connection's own thread and may sleep in the store's wait.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <syncstream/common.h>

#include "codec/record_json.h"
#include "host/server_int.h"
#include "util/buf.h"
#include "util/clock.h"

/* Records read from the store at a time: a read copies them (up to max_line
 * each), so a few at a time, until the queue is full. */
#define EVENTS_PER_READ 32
#define KEEPALIVE_MS 15000
/* One client's queue: formatting stops once this many bytes wait for its
 * socket (the next fill goes on after the last record formatted), so it holds
 * at most this plus one record's event, and its socket's kernel buffer is set
 * to the same size (autotuning would let a client that does not read park
 * megabytes there). */
#define QUEUE_BOUND (64u << 10)
/* The hard cap only guards against a runaway: one record's event always fits
 * (a record is at most max_line bytes, 256 MiB, six times that escaped). */
#define OUT_CAP ((size_t)2 << 30)

typedef struct event_stream {
    ss_host_server *srv;
    ss__host_peer *peer; /* its place in the waiting pool */
    uint64_t epoch;      /* the buffer's when the stream began */
    uint64_t cursor;     /* the seq of the last record formatted */
    bool fresh;          /* the client gave no cursor: what rotated out before is not missed */
    ss__buf out;         /* the queue: formatted, not yet handed to libmicrohttpd */
    int tail_nl;         /* '\n's ending what was handed, up to 2 (2: an event's end) */
    int64_t filled_ms;   /* CLOCK_MONOTONIC: when the queue was last filled */
    bool dropping;       /* the last event is queued: the stream ends after it */
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
 * rotated out unseen) until the queue is full or none is left, or a keepalive
 * comment after KEEPALIVE_MS of silence. Returns 0, SS_ECLOSED (the server
 * stops) or another negative errno. */
static int fill(event_stream *es)
{
    ss__host_store *st = es->srv->store;
    for (;;) {
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
        size_t i = 0;
        for (; rc >= 0 && i < set.count && es->out.len < QUEUE_BOUND; i++) {
            rc = append_record(&es->out, es->epoch, &set.items[i]);
            last = set.items[i].seq;
        }
        if (rc >= 0)
            es->cursor = last;
        bool more = i == EVENTS_PER_READ; /* all formatted, and there may be more */
        ss_records_clear(&set);
        if (rc < 0)
            return rc;
        if (es->out.len >= QUEUE_BOUND || (es->out.len > 0 && !more))
            return 0;
        if (more)
            continue;
        rc = st->ops->wait(st, es->cursor, KEEPALIVE_MS);
        if (rc == -ETIMEDOUT)
            return append_str(&es->out, ": keepalive\n\n");
        if (rc < 0)
            return rc;
    }
}

/* A client that has not taken its queue within this share of timeout_s is
 * dropped: shorter than the idle timeout, so that a client reading too slowly
 * (below QUEUE_BOUND / 10 s by default) gets the last event before the idle
 * timeout would close it without a word. */
#define LAG_DIV 3

static int64_t lag_ms(const event_stream *es)
{
    return (int64_t)es->srv->timeout_s * 1000 / LAG_DIV;
}

/*
 * The client has not taken its queue since it was filled, lag_ms() ago: it
 * falls behind what it asked for. Rather than hold its thread and place for
 * ever, end its stream: what is queued after the event being sent goes, and a
 * last event says why. The client resumes with its Last-Event-ID (an
 * EventSource does so by itself), and learns of any records that rotated out
 * meanwhile. (A client that takes nothing at all is closed by the idle
 * timeout: no event can reach it.)
 */
static void drop(event_stream *es)
{
    /* Events end with a blank line and hold none inside: the next event
     * starts after the first "\n\n" ending in the queue, counting the '\n's
     * that ended what was handed (the rest of an event half handed is kept). */
    size_t end = 0;
    for (int nl = es->tail_nl; nl < 2 && end < es->out.len; end++)
        nl = es->out.data[end] == '\n' ? nl + 1 : 0;
    es->out.len = end;
    char last[256];
    snprintf(last, sizeof(last),
             "event: dropped\ndata: {\"message\":\"this client did not take its events "
             "within %g s (at most %u bytes are queued for it): reconnect with "
             "Last-Event-ID to go on\"}\n\n",
             (double)lag_ms(es) / 1000, QUEUE_BOUND);
    /* The cap is far away: the event fits whatever the queue holds. */
    (void)append_str(&es->out, last);
    es->dropping = true;
}

static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max)
{
    event_stream *es = cls;
    if (es->out.len > 0 && !es->dropping && ss__mono_ms() - es->filled_ms > lag_ms(es))
        drop(es);
    while (es->out.len == 0) {
        if (es->dropping)
            return MHD_CONTENT_READER_END_OF_STREAM;
        /* A queue grown past its bound by one long record gives that back. */
        if (es->out.alloc > 2 * QUEUE_BOUND)
            ss__buf_free(&es->out);
        if (fill(es) < 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
        es->filled_ms = ss__mono_ms();
    }
    size_t n = es->out.len;
    if (n > max)
        n = max;
    memcpy(buf, es->out.data, n);
    ss__buf_take(&es->out, n);
    int k = 0; /* the '\n's ending these bytes; all of them: add the earlier ones */
    while (k < 2 && (size_t)k < n && buf[n - 1 - k] == '\n')
        k++;
    if ((size_t)k == n)
        k += es->tail_nl;
    es->tail_nl = k > 2 ? 2 : k;
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
    es->tail_nl = 2; /* nothing handed yet: at an event's start */
    /* The first bytes go out at once: the client learns the stream is open
     * and how soon to reconnect. */
    if (append_str(&es->out, "retry: 1000\n\n") < 0) {
        free_events(es);
        return MHD_NO;
    }
    es->filled_ms = ss__mono_ms();
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    int sndbuf = QUEUE_BOUND;
    if (fd)
        setsockopt(fd->connect_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                                               read_events, es, free_events);
    if (!r) {
        free_events(es);
        return MHD_NO;
    }
    ss__host_add_headers(r, "text/event-stream");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}
