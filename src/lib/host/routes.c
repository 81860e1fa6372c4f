/*
 * The JSON routes of the host server: ROUTE (write, read, clear), ROUTE-state
 * (the stop request, capacity, length) and ROUTE-health. docs/host-protocol.md
 * is their reference; the base protocol's behaviour follows sync-stream 1.2's
 * LineHostBuffer, with one difference: every bad request gets a 400 saying what
 * is wrong (the Python server answers some with a 500, and ignores others).
 */
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <syncstream/common.h>
#include <syncstream/linebuf.h>

#include "codec/record_json.h"
#include "host/json_prepare.h"
#include "host/request.h"
#include "host/server_int.h"

#define SINCE_DEFAULT_LIMIT 1000
#define SINCE_MAX_LIMIT 10000
#define SINCE_MAX_WAIT_MS 60000
/* A cursor read stops adding records past this much text (sent twice: in data
 * and in records; at least one record
 * is returned): its answer stays bounded whatever the limit; `next` says where
 * to go on. */
#define SINCE_MAX_TEXT (4u << 20)

static enum MHD_Result bad_request(struct MHD_Connection *c, const char *why)
{
    return ss__host_reply_message(c, MHD_HTTP_BAD_REQUEST, "%s", why);
}

/* Decode a POST ROUTE body into b: the pre-scan, then the decoder, a big body
 * only in one of the server's few slots for big decodes. */
static int decode_post(ss_host_server *srv, ss__host_batch *b, char *body, size_t len, char *why,
                       size_t why_size)
{
    int rc = ss__host_json_prepare(body, len, why, why_size);
    if (rc < 0)
        return rc;
    bool big = len > SS__HOST_BIG_BODY;
    if (big)
        while (sem_wait(&srv->big_decodes) < 0 && errno == EINTR)
            ;
    rc = ss__host_batch_decode(b, body ? body : "", len, why, why_size);
    if (big)
        sem_post(&srv->big_decodes);
    return rc;
}

static enum MHD_Result on_post(ss_host_server *srv, struct MHD_Connection *c, char *body,
                               size_t len)
{
    ss__host_batch b;
    char why[300];
    ss__host_batch_init(&b, srv->max_body);
    int rc = decode_post(srv, &b, body, len, why, sizeof(why));
    bool duplicate = false, stop = false;
    if (rc == 0)
        rc = srv->store->ops->apply(srv->store, &b, &duplicate);
    ss__host_batch_free(&b);
    /* glibc keeps what a big tree freed in its arenas: give it back, when the
     * program allows a call that acts on its whole heap. */
    if (srv->trim_memory && len > SS__HOST_BIG_BODY)
        malloc_trim(0);
    if (rc == -EINVAL)
        return bad_request(c, why);
    if (rc == -ENOBUFS)
        return ss__host_reply_message(c, MHD_HTTP_CONTENT_TOO_LARGE,
                                      "the items' text is larger than the server's cap");
    if (rc == 0)
        rc = srv->store->ops->get_stop(srv->store, &stop);
    if (rc < 0)
        return ss__host_reply_store_error(c, rc);
    json_t *reply = json_pack("{s:s, s:b}", "message", "success", "closed", stop);
    if (reply && duplicate)
        json_object_set_new(reply, "duplicate", json_true());
    return ss__host_reply_json(c, MHD_HTTP_CREATED, reply);
}

/* The items of a set as a JSON array of ITEMs, and (when objects is not NULL)
 * of record objects. */
static int encode_set(const ss_records *set, json_t **ret_items, json_t **ret_objects)
{
    json_t *items = json_array();
    json_t *objects = ret_objects ? json_array() : NULL;
    int rc = items && (objects || !ret_objects) ? 0 : -ENOMEM;
    for (size_t i = 0; i < set->count && rc == 0; i++) {
        if (json_array_append_new(items, ss__item_encode(&set->items[i])) != 0 ||
            (objects && json_array_append_new(objects, ss__record_obj_encode(&set->items[i])) != 0))
            rc = -ENOMEM;
    }
    if (rc < 0) {
        json_decref(items);
        json_decref(objects);
        return rc;
    }
    *ret_items = items;
    if (ret_objects)
        *ret_objects = objects;
    return 0;
}

/* GET ROUTE[?n=N]: the base protocol's read of the view. */
static enum MHD_Result read_view(ss_host_server *srv, struct MHD_Connection *c, bool has_n,
                                 int64_t n)
{
    ss_records set = SS_RECORDS_INIT;
    json_t *items = NULL;
    int rc = 0;
    if (!has_n || n > 0)
        rc = srv->store->ops->read(srv->store, has_n ? (size_t)n : SS_READ_ALL, &set);
    if (rc >= 0)
        rc = encode_set(&set, &items, NULL);
    ss_records_clear(&set);
    if (rc < 0)
        return ss__host_reply_store_error(c, rc);
    return ss__host_reply_json(c, MHD_HTTP_OK,
                               json_pack("{s:s, s:o}", "message", "success", "data", items));
}

/* GET ROUTE?since=SEQ[&limit=N][&wait=MS]: the cursor read (an extension). */
static enum MHD_Result read_since(ss_host_server *srv, struct MHD_Connection *c, uint64_t since,
                                  bool has_epoch, uint64_t epoch, size_t limit, int wait_ms)
{
    ss__host_store *st = srv->store;
    ss__host_store_stats stats;
    int rc = st->ops->stats(st, &stats);
    /* A client starting from 0 never saw what rotated out before it came. */
    bool fresh = since == 0;
    /* A cursor of another epoch, or beyond the newest record, was handed out by
     * an earlier life of the buffer (the server restarted): read from the
     * oldest record kept. */
    if (rc == 0 && (since > stats.last_seq || (has_epoch && epoch != stats.epoch)))
        since = 0;
    ss_records set = SS_RECORDS_INIT;
    if (rc == 0)
        rc = st->ops->read_since(st, since, limit, &set);
    /* Nothing to answer yet: wait, within the waiting pool. */
    if (rc == 0 && wait_ms > 0 && set.count == 0) {
        ss__host_peer *peer;
        enum MHD_Result busy;
        if (!ss__host_wait_enter(srv, c, &peer, &busy)) {
            ss_records_clear(&set);
            return busy;
        }
        rc = st->ops->wait(st, since, wait_ms);
        ss__host_wait_leave(srv, peer);
        if (rc == 0)
            rc = st->ops->read_since(st, since, limit, &set);
        else if (rc == -ETIMEDOUT)
            rc = 0;
    }
    size_t text = 0, keep = 0;
    while (keep < set.count && (keep == 0 || text + set.items[keep].len <= SINCE_MAX_TEXT))
        text += set.items[keep++].len;
    if (keep < set.count) {
        set.count = keep; /* the set still frees all it holds */
        set.cursor = set.items[keep - 1].seq;
    }
    json_t *items = NULL, *objects = NULL;
    if (rc >= 0)
        rc = encode_set(&set, &items, &objects);
    uint64_t next = set.cursor;
    uint64_t missed = fresh ? 0 : set.missed;
    ss_records_clear(&set);
    if (rc < 0)
        return ss__host_reply_store_error(c, rc);
    return ss__host_reply_json(c, MHD_HTTP_OK,
                               json_pack("{s:s, s:o, s:o, s:I, s:I, s:I}", "message", "success",
                                         "data", items, "records", objects, "next",
                                         (json_int_t)next, "missed", (json_int_t)missed, "epoch",
                                         (json_int_t)stats.epoch));
}

static enum MHD_Result on_get(ss_host_server *srv, struct MHD_Connection *c)
{
    int64_t n = 0, since = 0, limit = SINCE_DEFAULT_LIMIT, wait_ms = 0, epoch = 0;
    int has_n = ss__host_query_int(c, "n", INT64_MIN, INT64_MAX, &n);
    int has_since = ss__host_query_int(c, "since", 0, INT64_MAX, &since);
    int has_limit = ss__host_query_int(c, "limit", 1, SINCE_MAX_LIMIT, &limit);
    int has_wait = ss__host_query_int(c, "wait", 0, SINCE_MAX_WAIT_MS, &wait_ms);
    int has_epoch = ss__host_query_int(c, "epoch", 0, INT64_MAX, &epoch);
    if (has_n < 0)
        return bad_request(c, "n must be an integer");
    if (has_since < 0)
        return bad_request(c, "since must be an integer >= 0");
    if (has_limit < 0)
        return bad_request(c, "limit must be an integer from 1 to 10000");
    if (has_wait < 0)
        return bad_request(c, "wait must be an integer from 0 to 60000 (milliseconds)");
    if (has_epoch < 0)
        return bad_request(c, "epoch must be an integer >= 0");
    if (has_since && has_n)
        return bad_request(c, "give either n or since, not both");
    if (!has_since && (has_limit || has_wait || has_epoch))
        return bad_request(c, "limit, wait and epoch go with since");
    if (has_since)
        return read_since(srv, c, (uint64_t)since, has_epoch, (uint64_t)epoch, (size_t)limit,
                          (int)wait_ms);
    return read_view(srv, c, has_n, n);
}

enum MHD_Result ss__host_on_buffer(ss_host_server *srv, struct MHD_Connection *c,
                                   const char *method, char *body, size_t len)
{
    if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
        return on_post(srv, c, body, len);
    if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
        return on_get(srv, c);
    if (strcmp(method, MHD_HTTP_METHOD_DELETE) == 0) {
        int rc = srv->store->ops->clear(srv->store);
        if (rc < 0)
            return ss__host_reply_store_error(c, rc);
        return ss__host_reply_message(c, MHD_HTTP_OK, "success");
    }
    return ss__host_reply_not_allowed(c, method, "GET, POST, DELETE");
}

/* Strip surrounding whitespace from *s (len bytes), as Python's str.strip(). */
static size_t strip(const char **s, size_t len)
{
    while (len > 0 && isspace((unsigned char)**s)) {
        (*s)++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)(*s)[len - 1]))
        len--;
    return len;
}

/* Whether len bytes at s, stripped, are name (sync-stream strips state names). */
static bool stripped_is(const char *s, size_t len, const char *name)
{
    len = strip(&s, len);
    return len == strlen(name) && memcmp(s, name, len) == 0;
}

/* Python's str(value).casefold().strip() == "true": a JSON true, or a string
 * reading true in any case with surrounding whitespace. */
static bool value_reads_true(const json_t *value)
{
    if (json_is_true(value))
        return true;
    if (!json_is_string(value))
        return false;
    const char *s = json_string_value(value);
    size_t len = strip(&s, json_string_length(value));
    return len == 4 && strncasecmp(s, "true", 4) == 0;
}

static enum MHD_Result state_post(ss_host_server *srv, struct MHD_Connection *c, char *body,
                                  size_t len)
{
    char prep_why[128];
    if (ss__host_json_prepare(body, len, prep_why, sizeof(prep_why)) < 0)
        return bad_request(c, prep_why);
    json_error_t jerr;
    json_t *root = json_loadb(body ? body : "", len, JSON_ALLOW_NUL, &jerr);
    if (!root)
        return ss__host_reply_message(c, MHD_HTTP_BAD_REQUEST,
                                      "invalid JSON at line %d, column %d: %s", jerr.line,
                                      jerr.column, jerr.text);
    const json_t *state = json_object_get(root, "state");
    const char *why = NULL;
    if (!json_is_object(root))
        why = "the body must be a JSON object";
    else if (!json_is_string(state) ||
             stripped_is(json_string_value(state), json_string_length(state), ""))
        why = "\"state\" must be a non-empty string";
    int rc = 0;
    if (!why && stripped_is(json_string_value(state), json_string_length(state), "closed"))
        rc =
            srv->store->ops->set_stop(srv->store, value_reads_true(json_object_get(root, "value")));
    json_decref(root);
    if (why)
        return bad_request(c, why);
    if (rc < 0)
        return ss__host_reply_store_error(c, rc);
    /* Other state names change nothing, as in sync-stream. */
    return ss__host_reply_message(c, MHD_HTTP_CREATED, "success");
}

static enum MHD_Result state_get(ss_host_server *srv, struct MHD_Connection *c)
{
    const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "state");
    size_t len = name ? strlen(name) : 0;
    if (!name || stripped_is(name, len, ""))
        return bad_request(c, "the query needs state=NAME (closed, maxlen or curlen)");
    ss__host_store *st = srv->store;
    json_t *data = NULL;
    int rc = 0;
    if (stripped_is(name, len, "closed")) {
        bool stop;
        rc = st->ops->get_stop(st, &stop);
        data = json_boolean(stop);
    } else if (stripped_is(name, len, "maxlen")) {
        ss__host_store_stats stats;
        rc = st->ops->stats(st, &stats);
        data = json_integer((json_int_t)stats.maxlen);
    } else if (stripped_is(name, len, "curlen")) {
        size_t n = 0;
        rc = st->ops->len(st, &n);
        data = json_integer((json_int_t)n);
    } else {
        data = json_null();
    }
    if (rc < 0) {
        json_decref(data);
        return ss__host_reply_store_error(c, rc);
    }
    return ss__host_reply_json(c, MHD_HTTP_OK,
                               json_pack("{s:s, s:o}", "message", "success", "data", data));
}

enum MHD_Result ss__host_on_state(ss_host_server *srv, struct MHD_Connection *c, const char *method,
                                  char *body, size_t len)
{
    if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
        return state_get(srv, c);
    if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
        return state_post(srv, c, body, len);
    if (strcmp(method, MHD_HTTP_METHOD_DELETE) == 0) {
        int rc = srv->store->ops->set_stop(srv->store, false);
        if (rc < 0)
            return ss__host_reply_store_error(c, rc);
        return ss__host_reply_message(c, MHD_HTTP_OK, "success");
    }
    return ss__host_reply_not_allowed(c, method, "GET, POST, DELETE");
}

enum MHD_Result ss__host_on_health(ss_host_server *srv, struct MHD_Connection *c)
{
    ss__host_store *st = srv->store;
    ss__host_store_stats stats;
    bool stop = false;
    int rc = st->ops->stats(st, &stats);
    if (rc == 0)
        rc = st->ops->get_stop(st, &stop);
    if (rc < 0)
        return ss__host_reply_store_error(c, rc);
    return ss__host_reply_json(
        c, MHD_HTTP_OK,
        json_pack("{s:s, s:s, s:I, s:I, s:b, s:s, s:I, s:I}", "message", "success", "status", "ok",
                  "records", (json_int_t)stats.count, "maxlen", (json_int_t)stats.maxlen, "closed",
                  stop, "version", ss_version(), "next_seq", (json_int_t)(stats.last_seq + 1),
                  "epoch", (json_int_t)stats.epoch));
}
