/*
 * ss_host_reader: read and control a host-mode server's buffer (sync-stream's
 * LineHostReader), plus cursor reads, long-poll and a Server-Sent Events tail
 * against our extension server.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <syncstream/common.h>
#include <syncstream/hostclient.h>
#include <syncstream/linebuf.h>

#include "codec/record_json.h"
#include "hostclient/http.h"
#include "hostclient/sse.h"
#include "util/records.h"

#define DEFAULT_MAX_RESPONSE (256u << 20)
#define MAX_WAIT_MS 60000
/* The server sends a keep-alive comment every 15 s: a tail silent for longer
 * than this is taken for a dead connection and resumed. */
#define TAIL_IDLE_MS 45000
#define TAIL_BACKOFF_MIN_MS 100
#define TAIL_BACKOFF_MAX_MS 5000

struct ss_host_reader {
    char *url;
    char *state_url; /* ROUTE-state */
    char *health_url;
    char *events_url;
    ss__http http;
    int timeout_ms;
    size_t max_response;
    int protocol; /* SS_HOST_PROTO_UNKNOWN until probed */
    /* The server's life the cursors passed in belong to, as its last health
     * answer, cursor answer or event gave it; 0 while none did. */
    uint64_t epoch;
};

int ss_host_reader_new(ss_host_reader **ret, const char *url, const ss_host_reader_opts *opts)
{
    static const ss_host_reader_opts zero;
    const ss_host_reader_opts *o = opts ? opts : &zero;
    if (!ret || !ss__http_url_ok(url) || o->connect_timeout_ms < 0 || o->request_timeout_ms < 0)
        return -EINVAL;
    ss_host_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->timeout_ms = o->request_timeout_ms ? o->request_timeout_ms : 30000;
    r->max_response = o->max_response ? o->max_response : DEFAULT_MAX_RESPONSE;
    r->url = strdup(url);
    r->state_url = ss__http_url(url, "-state");
    r->health_url = ss__http_url(url, "-health");
    r->events_url = ss__http_url(url, "-events");
    int rc = -ENOMEM;
    if (r->url && r->state_url && r->health_url && r->events_url)
        rc = ss__http_init(&r->http, o->token, o->ca_file,
                           o->connect_timeout_ms ? o->connect_timeout_ms : 3000, r->timeout_ms,
                           r->max_response);
    if (rc < 0) {
        ss_host_reader_free(r);
        return rc;
    }
    *ret = r;
    return 0;
}

void ss_host_reader_free(ss_host_reader *r)
{
    if (!r)
        return;
    ss__http_done(&r->http);
    free(r->url);
    free(r->state_url);
    free(r->health_url);
    free(r->events_url);
    free(r);
}

void ss_host_reader_cancel(ss_host_reader *r)
{
    if (r)
        ss__http_cancel(&r->http);
}

const char *ss_host_reader_message(const ss_host_reader *r)
{
    return r ? r->http.message : "";
}

/* One request whose answer must be a 2xx JSON object: returns 0 and *ret (a
 * new reference), or an error with the message set. */
static int call(ss_host_reader *r, const char *method, const char *url, const char *body,
                int timeout_ms, json_t **ret)
{
    int rc = ss__http_request(&r->http, method, url, body, body ? strlen(body) : 0, timeout_ms);
    if (rc < 0)
        return rc;
    rc = ss__http_status_error(r->http.status);
    if (rc < 0)
        return rc;
    json_t *j = ss__http_json(&r->http);
    if (!j)
        return -EPROTO;
    if (ret)
        *ret = j;
    else
        json_decref(j);
    return 0;
}

int ss_host_reader_protocol(ss_host_reader *r)
{
    if (!r)
        return -EINVAL;
    if (r->protocol != SS_HOST_PROTO_UNKNOWN)
        return r->protocol;
    int rc = call(r, "GET", r->health_url, NULL, 0, NULL);
    if (rc == -ENOENT)
        r->protocol = SS_HOST_PROTO_BASE;
    else if (rc == 0)
        r->protocol = SS_HOST_PROTO_EXT;
    else
        return rc;
    r->http.message[0] = '\0';
    return r->protocol;
}

/* Read a non-negative integer member. */
static int get_u64(const json_t *obj, const char *name, uint64_t *ret)
{
    json_t *v = json_object_get(obj, name);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -EPROTO;
    *ret = (uint64_t)json_integer_value(v);
    return 0;
}

/* GET ROUTE-health into *ret, without taking its epoch for the cursors'. */
static int fetch_health(ss_host_reader *r, ss_host_health *ret)
{
    json_t *j;
    int rc = call(r, "GET", r->health_url, NULL, 0, &j);
    if (rc == -ENOENT) {
        r->protocol = SS_HOST_PROTO_BASE;
        return -EOPNOTSUPP;
    }
    if (rc < 0)
        return rc;
    r->protocol = SS_HOST_PROTO_EXT;
    uint64_t records, maxlen, next, epoch = 0;
    json_t *closed = json_object_get(j, "closed");
    const char *version = json_string_value(json_object_get(j, "version"));
    if (get_u64(j, "records", &records) < 0 || get_u64(j, "maxlen", &maxlen) < 0 ||
        get_u64(j, "next_seq", &next) < 0 || !json_is_boolean(closed) ||
        (json_object_get(j, "epoch") && get_u64(j, "epoch", &epoch) < 0)) {
        ss__http_set_message(&r->http, "the health answer lacks records, maxlen, next_seq or "
                                       "closed, or has a bad epoch");
        rc = -EPROTO;
    } else {
        memset(ret, 0, sizeof(*ret));
        ret->records = (size_t)records;
        ret->maxlen = (size_t)maxlen;
        ret->next_seq = next;
        ret->closed = json_is_true(closed);
        snprintf(ret->version, sizeof(ret->version), "%s", version ? version : "");
        ret->epoch = epoch;
    }
    json_decref(j);
    return rc;
}

int ss_host_reader_health(ss_host_reader *r, ss_host_health *ret)
{
    if (!r || !ret)
        return -EINVAL;
    int rc = fetch_health(r, ret);
    /* The caller computes its cursors from this answer's next_seq. */
    if (rc == 0 && ret->epoch)
        r->epoch = ret->epoch;
    return rc;
}

/* Where one decoded ITEM's text lies in the shared text buffer. */
typedef struct item_span {
    size_t off, len;
    ss_kind kind;
} item_span;

int ss_host_reader_read(ss_host_reader *r, size_t n, ss_records *ret)
{
    if (!r || !ret)
        return -EINVAL;
    char url[4096];
    if (n == SS_READ_ALL)
        snprintf(url, sizeof(url), "%s", r->url);
    else
        snprintf(url, sizeof(url), "%s?n=%zu", r->url,
                 n > (size_t)LLONG_MAX ? (size_t)LLONG_MAX : n);
    json_t *j;
    int rc = call(r, "GET", url, NULL, 0, &j);
    if (rc < 0)
        return rc;

    json_t *data = json_object_get(j, "data");
    size_t count = json_array_size(data);
    item_span *spans = NULL;
    ss__buf text;
    ss__buf_init(&text, r->max_response);
    rc = -EPROTO;
    if (!json_is_array(data)) {
        ss__http_set_message(&r->http, "the answer has no \"data\" array");
        goto out;
    }
    rc = -ENOMEM;
    spans = calloc(count ? count : 1, sizeof(*spans));
    if (!spans)
        goto out;
    for (size_t i = 0; i < count; i++) {
        const char *why = NULL;
        spans[i].off = text.len;
        rc = ss__item_decode(json_array_get(data, i), &spans[i].kind, &text, &why);
        if (rc < 0) {
            if (why)
                ss__http_set_message(&r->http, "item %zu: %s", i, why);
            rc = rc == -EINVAL ? -EPROTO : rc;
            goto out;
        }
        spans[i].len = text.len - spans[i].off;
    }
    ss__records_builder b;
    rc = ss__records_begin(&b, ret, count, text.len);
    if (rc < 0)
        goto out;
    static const char no_source[SS_SOURCE_MAX];
    for (size_t i = 0; i < count; i++)
        ss__records_add(&b, 0, 0, spans[i].kind, 0, 0, no_source, text.data + spans[i].off,
                        spans[i].len);
    rc = (int)count;
out:
    free(spans);
    ss__buf_free(&text);
    json_decref(j);
    return rc;
}

/* GET ROUTE-state?state=NAME: the answer's "data". */
static int get_state(ss_host_reader *r, const char *name, json_t **ret)
{
    char url[4096];
    snprintf(url, sizeof(url), "%s?state=%s", r->state_url, name);
    json_t *j;
    int rc = call(r, "GET", url, NULL, 0, &j);
    if (rc < 0)
        return rc;
    *ret = json_incref(json_object_get(j, "data"));
    json_decref(j);
    return 0;
}

static int get_count(ss_host_reader *r, const char *name, size_t *ret)
{
    if (!r || !ret)
        return -EINVAL;
    json_t *v;
    int rc = get_state(r, name, &v);
    if (rc < 0)
        return rc;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *ret = (size_t)json_integer_value(v);
    } else {
        ss__http_set_message(&r->http, "state %s is not a non-negative integer", name);
        rc = -EPROTO;
    }
    json_decref(v);
    return rc;
}

int ss_host_reader_len(ss_host_reader *r, size_t *ret)
{
    return get_count(r, "curlen", ret);
}

int ss_host_reader_maxlen(ss_host_reader *r, size_t *ret)
{
    return get_count(r, "maxlen", ret);
}

int ss_host_reader_closed(ss_host_reader *r, bool *ret)
{
    if (!r || !ret)
        return -EINVAL;
    json_t *v;
    int rc = get_state(r, "closed", &v);
    if (rc < 0)
        return rc;
    if (json_is_boolean(v)) {
        *ret = json_is_true(v);
    } else {
        ss__http_set_message(&r->http, "state closed is not a boolean");
        rc = -EPROTO;
    }
    json_decref(v);
    return rc;
}

int ss_host_reader_clear(ss_host_reader *r)
{
    return r ? call(r, "DELETE", r->url, NULL, 0, NULL) : -EINVAL;
}

int ss_host_reader_stop(ss_host_reader *r)
{
    return r ? call(r, "POST", r->state_url, "{\"state\": \"closed\", \"value\": true}", 0, NULL)
             : -EINVAL;
}

int ss_host_reader_reset(ss_host_reader *r)
{
    return r ? call(r, "DELETE", r->state_url, NULL, 0, NULL) : -EINVAL;
}

int ss_host_reader_follow(ss_host_reader *r, uint64_t cursor, size_t limit, int wait_ms,
                          ss_records *ret)
{
    if (!r || !ret || wait_ms < 0 || wait_ms > MAX_WAIT_MS)
        return -EINVAL;
    int rc = ss_host_reader_protocol(r);
    if (rc < 0)
        return rc;
    if (rc != SS_HOST_PROTO_EXT) {
        ss__http_set_message(&r->http, "a base-protocol server has no cursor reads");
        return -EOPNOTSUPP;
    }
    char url[4096];
    int n = snprintf(url, sizeof(url), "%s?since=%" PRIu64, r->url, cursor);
    /* The server then knows whether the cursor is of its own life. */
    if (cursor > 0 && r->epoch)
        n += snprintf(url + n, sizeof(url) - (size_t)n, "&epoch=%" PRIu64, r->epoch);
    if (limit)
        n +=
            snprintf(url + n, sizeof(url) - (size_t)n, "&limit=%zu", limit > 10000 ? 10000 : limit);
    if (wait_ms)
        snprintf(url + n, sizeof(url) - (size_t)n, "&wait=%d", wait_ms);
    json_t *j;
    rc = call(r, "GET", url, NULL, r->timeout_ms + wait_ms, &j);
    if (rc < 0)
        return rc;

    json_t *recs = json_object_get(j, "records");
    uint64_t next, missed, epoch = 0;
    rc = -EPROTO;
    if (!json_is_array(recs) || get_u64(j, "next", &next) < 0 ||
        get_u64(j, "missed", &missed) < 0 ||
        (json_object_get(j, "epoch") && get_u64(j, "epoch", &epoch) < 0)) {
        ss__http_set_message(&r->http, "the answer has no \"records\", \"next\" or \"missed\", "
                                       "or a bad \"epoch\"");
        goto out;
    }
    size_t count = json_array_size(recs), bytes = 0;
    ss_record one;
    for (size_t i = 0; i < count; i++) {
        const char *why;
        if (ss__record_obj_decode(json_array_get(recs, i), &one, &why) < 0) {
            ss__http_set_message(&r->http, "record %zu: %s", i, why);
            goto out;
        }
        bytes += one.len;
    }
    ss__records_builder b;
    rc = ss__records_begin(&b, ret, count, bytes);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < count; i++) {
        const char *why;
        ss__record_obj_decode(json_array_get(recs, i), &one, &why);
        ss__records_add(&b, one.seq, one.time_ns, one.kind, one.flags, 0, one.source, one.text,
                        one.len);
    }
    ret->cursor = next;
    ret->missed = missed;
    /* Another epoch, or (from an older server, which has none) records from
     * the cursor or below: the server restarted and read from its oldest. */
    if (cursor > 0 &&
        ((epoch && r->epoch && epoch != r->epoch) || (count > 0 && ret->items[0].seq <= cursor)))
        ret->missed = SS_HOST_MISSED_RESTART;
    if (epoch)
        r->epoch = epoch;
    rc = (int)count;
out:
    json_decref(j);
    return rc;
}

/* ---- live tail over Server-Sent Events ---- */

typedef struct tail_ctx {
    ss__http *http;
    ss_host_tail_fn fn;
    void *ctx;
    uint64_t cursor;
    uint64_t epoch; /* of the cursor; 0: not known (or an older server) */
    ss__sse sse;
    bool ended; /* fn asked to end */
    int fn_rc;
    bool got; /* this connection delivered something */
} tail_ctx;

/* The server restarted: tell fn, and count again from its new life's start. */
static int restarted(tail_ctx *t)
{
    t->cursor = 0;
    return t->fn(t->ctx, NULL, SS_HOST_MISSED_RESTART);
}

static int on_record(tail_ctx *t, const char *id, json_t *j)
{
    ss_record rec;
    const char *why;
    if (ss__record_obj_decode(j, &rec, &why) < 0) {
        ss__http_set_message(t->http, "a record event: %s", why);
        return -EPROTO;
    }
    /* A record of another life than the cursor's (from an older server, whose
     * ids are bare seqs, one not past the cursor: a resumed stream never
     * repeats one): the server restarted and sends its new life from the
     * oldest record. */
    uint64_t epoch, seq;
    if (ss__sse_parse_id(id, &epoch, &seq) < 0)
        epoch = 0;
    if (epoch ? t->epoch && epoch != t->epoch : rec.seq <= t->cursor) {
        int rc = restarted(t);
        if (rc)
            return rc;
    }
    if (epoch)
        t->epoch = epoch;
    if (rec.seq <= t->cursor)
        return 0; /* seen before (the same life's) */
    t->cursor = rec.seq;
    t->got = true;
    return t->fn(t->ctx, &rec, 0);
}

static int on_event(void *ctx, const char *event, const char *id, const char *data, size_t len)
{
    tail_ctx *t = ctx;
    json_error_t jerr;
    /* A record's text may hold a NUL (see ss__http_json). */
    json_t *j = json_loadb(data, len, JSON_ALLOW_NUL, &jerr);
    int rc = 0;
    if (strcmp(event, "record") == 0) {
        rc = on_record(t, id, j);
    } else if (strcmp(event, "missed") == 0) {
        uint64_t missed;
        if (get_u64(j, "missed", &missed) < 0) {
            ss__http_set_message(t->http, "a missed event without a count");
            rc = -EPROTO;
        } else {
            t->got = true;
            rc = t->fn(t->ctx, NULL, missed);
        }
    }
    json_decref(j);
    if (rc > 0 || (rc < 0 && rc != -EPROTO)) {
        t->ended = true;
        t->fn_rc = rc;
        return -ECANCELED;
    }
    return rc;
}

static int on_stream(void *ctx, const char *data, size_t len)
{
    tail_ctx *t = ctx;
    return ss__sse_feed(&t->sse, data, len);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Before a resumed connection: has the server restarted while it was away?
 * Its health tells (another epoch; from an older server without one, a next
 * seq not past the cursor, as numbers only grow during a life). Then fn is
 * told first, before what the new life sends. Returns fn's value. */
static int check_restart(ss_host_reader *r, tail_ctx *t)
{
    ss_host_health h;
    if (fetch_health(r, &h) < 0)
        return 0; /* still down: the connection will fail and be retried */
    bool again =
        h.epoch ? t->epoch && h.epoch != t->epoch : t->cursor > 0 && h.next_seq <= t->cursor;
    if (h.epoch)
        t->epoch = h.epoch;
    return again ? restarted(t) : 0;
}

int ss_host_reader_tail(ss_host_reader *r, uint64_t cursor, ss_host_tail_fn fn, void *ctx,
                        uint64_t *ret_cursor)
{
    if (!r || !fn)
        return -EINVAL;
    tail_ctx t = {.http = &r->http, .fn = fn, .ctx = ctx, .cursor = cursor, .epoch = r->epoch};
    int rc = ss__sse_init(&t.sse, r->max_response < (64u << 20) ? r->max_response : 64u << 20,
                          on_event, &t);
    int delay = 0;
    bool resumed = false;
    while (rc == 0) {
        if (resumed) {
            rc = check_restart(r, &t);
            if (rc)
                break;
        }
        /* Last-Event-ID in the form the server gives ids. Starting from 0
         * without one, the stream counts nothing that rotated out before as
         * missed. */
        char url[4096], header[96];
        snprintf(url, sizeof(url), "%s?since=%" PRIu64, r->events_url, t.cursor);
        if (t.epoch)
            snprintf(header, sizeof(header), "Last-Event-ID: %" PRIu64 "-%" PRIu64, t.epoch,
                     t.cursor);
        else
            snprintf(header, sizeof(header), "Last-Event-ID: %" PRIu64, t.cursor);
        bool fresh = !resumed && t.cursor == 0;
        ss__sse_reset(&t.sse);
        resumed = true;
        t.got = false;
        rc = ss__http_stream(&r->http, url, fresh ? NULL : header, TAIL_IDLE_MS, on_stream, &t);
        if (t.ended) {
            rc = t.fn_rc;
            break;
        }
        if (rc == 0 && r->http.status >= 300) {
            rc = ss__http_status_error(r->http.status);
            if (rc == -ENOENT) {
                rc = -EOPNOTSUPP; /* a base-protocol server has no event route */
                char said[sizeof(r->http.message)];
                memcpy(said, r->http.message, sizeof(said));
                ss__http_set_message(&r->http, "the server has no live tail (%s)", said);
            }
            if (rc != SS_ESERVER)
                break;
        }
        if (rc == -ECANCELED || rc == -ENOMEM || rc == -EINVAL || rc == -EMSGSIZE ||
            rc == -EACCES || rc == -EPROTO || rc == -EKEYREJECTED)
            break;
        /* The stream ended or broke: resume after the last record seen. */
        delay = t.got ? 0 : (delay ? delay * 2 : TAIL_BACKOFF_MIN_MS);
        if (delay > TAIL_BACKOFF_MAX_MS)
            delay = TAIL_BACKOFF_MAX_MS;
        if (delay)
            sleep_ms(delay);
        rc = 0;
    }
    ss__sse_done(&t.sse);
    if (t.epoch)
        r->epoch = t.epoch;
    if (ret_cursor)
        *ret_cursor = t.cursor;
    return rc;
}
