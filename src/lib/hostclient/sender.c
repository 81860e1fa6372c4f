/*
 * The host mirror's sending thread: probes the server's protocol, takes
 * batches from the queue and delivers them in order, retrying with backoff
 * until they are acknowledged (HOST-EXT: the same mirror id and batch number
 * on every retry, so the server stores each batch once).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <syncstream/common.h>

#include "codec/record_json.h"
#include "hostclient/mirror_int.h"
#include "util/clock.h"

/* Whether retrying can cure an error: the transport's, a 5xx, a garbled answer. */
static bool retryable(int err)
{
    switch (err) {
    case -ECONNREFUSED:
    case -ETIMEDOUT:
    case -ECONNRESET:
    case SS_ENOHOST: /* a name may be published later (a server not yet started) */
    case SS_ERESOLVE:
    case -EIO:
    case -EPROTO:
    case SS_ESERVER:
        return true;
    default:
        return false;
    }
}

/* Note an answer or a failure in the stats (mu held). */
static void note(ss_host_mirror *m, int err)
{
    m->st.last_status = (int)m->http.status;
    if (err || m->http.status >= 400)
        memcpy(m->st.message, m->http.message, sizeof(m->st.message));
}

/* Sending ended for good (mu held): wake everyone waiting for progress. */
static void fail(ss_host_mirror *m, int err)
{
    m->st.error = err;
    pthread_cond_broadcast(&m->progress);
}

/* Sleep the current backoff (mu held), then double it. Returns false when the
 * thread must end. */
static bool backoff_wait(ss_host_mirror *m, int *delay)
{
    *delay = *delay ? *delay * 2 : m->opts.backoff_min_ms;
    if (*delay > m->opts.backoff_max_ms)
        *delay = m->opts.backoff_max_ms;
    struct timespec until = ss__deadline_after_ms(*delay);
    while (!m->quit && pthread_cond_timedwait(&m->work, &m->mu, &until) != ETIMEDOUT)
        ;
    return !m->quit;
}

/* The JSON answer to a request that got a 2xx, or NULL (h->message set). */
static json_t *answer(ss_host_mirror *m)
{
    return ss__http_json(&m->http);
}

/* A request and its status: 0 for a 2xx, else an error. */
static int request(ss_host_mirror *m, const char *method, const char *url, const char *body,
                   size_t len)
{
    int rc = ss__http_request(&m->http, method, url, body, len, 0);
    if (rc == 0)
        rc = ss__http_status_error(m->http.status);
    pthread_mutex_lock(&m->mu);
    note(m, rc);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static void set_stopped(ss_host_mirror *m, const json_t *closed)
{
    if (!json_is_boolean(closed))
        return;
    pthread_mutex_lock(&m->mu);
    m->st.stopped = json_is_true(closed);
    pthread_mutex_unlock(&m->mu);
}

/* GET ROUTE-state?state=closed: learn whether a stop was requested. */
static int poll_stop(ss_host_mirror *m)
{
    int rc = request(m, "GET", m->state_url, NULL, 0);
    if (rc < 0)
        return rc;
    json_t *j = answer(m);
    if (!j)
        return -EPROTO;
    set_stopped(m, json_object_get(j, "data"));
    json_decref(j);
    return 0;
}

/* GET ROUTE-health: ours answers, a base-protocol server says 404. */
static int probe(ss_host_mirror *m)
{
    ss_host_protocol proto;
    int rc = 0;
    if (!(m->opts.flags & SS_HOST_FORCE_BASE))
        rc = request(m, "GET", m->health_url, NULL, 0);
    if (rc == -ENOENT || (m->opts.flags & SS_HOST_FORCE_BASE)) {
        /* A stop requested before we came is honoured from the first write on. */
        rc = poll_stop(m);
        if (rc < 0)
            return rc;
        proto = SS_HOST_PROTO_BASE;
    } else if (rc < 0) {
        return rc;
    } else {
        json_t *j = answer(m);
        if (!j)
            return -EPROTO;
        set_stopped(m, json_object_get(j, "closed"));
        json_decref(j);
        proto = SS_HOST_PROTO_EXT;
    }
    pthread_mutex_lock(&m->mu);
    m->st.protocol = proto;
    pthread_mutex_unlock(&m->mu);
    return 0;
}

/* Append the JSON text of j (released) to the request body. */
static int dump_cb(const char *buf, size_t size, void *data)
{
    return ss__buf_append(data, buf, size) < 0 ? -1 : 0;
}

static int dump(json_t *j, ss__buf *body)
{
    int rc = j && json_dump_callback(j, dump_cb, body, JSON_COMPACT | JSON_ENCODE_ANY) == 0
                 ? 0
                 : -ENOMEM;
    json_decref(j);
    return rc;
}

/*
 * The POST items of the first k entries, as JSON text appended to body and
 * separated by commas. A run of line records becomes one "str" item holding
 * them all, each whole line with its line break back (a continued piece has
 * none: the next piece goes on with it); the server's line assembly splits it
 * into the same records, at a fraction of the cost of an item per line. A
 * warning or error is a grouped message; the close entry is a close.
 */
/* item with the record flags set (HOST-EXT) when flagged; NULL stays NULL. */
static json_t *with_flags(json_t *item, uint32_t flags, bool flagged)
{
    if (item && flagged && (flags & SS__POST_FLAGS) &&
        ss__post_flags_add(item, flags & SS__POST_FLAGS) < 0) {
        json_decref(item);
        return NULL;
    }
    return item;
}

/* Whether entry h is a line record that goes in a run of flags run_flags: a
 * run holds lines of the same stderr and exit flags. */
static bool in_run(ss__hq_hdr h, uint32_t run_flags)
{
    return h.what == SS__HQ_RECORD && h.kind == SS_KIND_LINE &&
           (h.flags & SS__POST_FLAGS) == run_flags;
}

/* Appends item j to body, after a comma unless it is the first; j is
 * consumed, and NULL (out of memory) fails. */
static int add_item(ss__buf *body, size_t *items, json_t *j)
{
    int rc = (*items)++ > 0 ? ss__buf_append(body, ",", 1) : 0;
    if (rc < 0) {
        json_decref(j);
        return rc;
    }
    return dump(j, body);
}

/* Ends the current run of lines, if any: its one "str" item, then an empty run. */
static int flush_run(ss__buf *run, uint32_t run_flags, ss__buf *body, size_t *items, bool flagged)
{
    if (run->len == 0)
        return 0;
    int rc = add_item(body, items,
                      with_flags(ss__post_text_encode(run->data, run->len), run_flags, flagged));
    ss__buf_reset(run);
    return rc;
}

static int encode_items(ss_host_mirror *m, size_t k, ss__buf *body, bool flagged)
{
    ss__buf *run = &m->scratch;
    size_t off = 0, items = 0;
    uint32_t run_flags = 0;
    int rc = 0;
    ss__buf_reset(run);
    for (size_t i = 0; i < k && rc == 0; i++) {
        const char *text;
        ss__hq_hdr h = ss__hq_next(&m->inflight, &off, &text);
        bool line = h.what == SS__HQ_RECORD && h.kind == SS_KIND_LINE;
        /* A line of other flags ends the run and starts one of its own (in a
         * batch: the base protocol has no flags, and one request per run). */
        if (line && flagged && !in_run(h, run_flags))
            rc = flush_run(run, run_flags, body, &items, flagged);
        if (line) {
            run_flags = h.flags & SS__POST_FLAGS;
            if (rc == 0)
                rc = ss__buf_append(run, text, h.len);
            if (rc == 0 && !(h.flags & SS_REC_CONTINUED))
                rc = ss__buf_append(run, "\n", 1);
            if (rc < 0 || i + 1 < k)
                continue;
        }
        /* The run ends here: its item first, then this entry's. */
        rc = flush_run(run, run_flags, body, &items, flagged);
        if (rc < 0 || line)
            continue;
        rc = add_item(body, &items,
                      h.what == SS__HQ_CLOSE
                          ? ss__post_close_encode()
                          : with_flags(ss__post_message_encode((ss_kind)h.kind, text, h.len),
                                       h.flags, flagged));
    }
    return rc < 0 ? -ENOMEM : 0;
}

/* {"type":"batch","mirror":ID,"batch":N,"source":S,"items":[...]} for the
 * first k entries into m->body. */
static int encode_batch(ss_host_mirror *m, size_t k)
{
    char head[160];
    int n = snprintf(head, sizeof(head), "{\"type\":\"batch\",\"mirror\":\"%s\",\"batch\":%llu,",
                     m->id, (unsigned long long)(m->batch + 1));
    ss__buf_reset(&m->body);
    int rc = ss__buf_append(&m->body, head, (size_t)n);
    if (rc == 0 && m->source[0]) {
        /* The source is any bytes: jansson makes it a JSON string. */
        rc = ss__buf_append(&m->body, "\"source\":", 9);
        if (rc == 0)
            rc = dump(ss__json_text(m->source, strlen(m->source)), &m->body);
        if (rc == 0)
            rc = ss__buf_append(&m->body, ",", 1);
    }
    if (rc == 0)
        rc = ss__buf_append(&m->body, "\"items\":[", 9);
    if (rc == 0)
        rc = encode_items(m, k, &m->body, true);
    if (rc == 0)
        rc = ss__buf_append(&m->body, "]}", 2);
    return rc < 0 ? -ENOMEM : 0;
}

/* The base protocol's body for the first k entries, which request_span made
 * one item: a run of line records (one "str" POST, as the Python mirror sends
 * the lines one write completed), a grouped record or the close. */
static int encode_base(ss_host_mirror *m, size_t k)
{
    ss__buf_reset(&m->body);
    return encode_items(m, k, &m->body, false);
}

/* How many leading entries the next request may carry: all of them in a batch;
 * in the base protocol a run of line records, or one other entry. */
static size_t request_span(ss_host_mirror *m, bool base)
{
    if (!base)
        return m->inflight_count;
    size_t off = 0, n = 0;
    while (n < m->inflight_count) {
        const char *t;
        ss__hq_hdr h = ss__hq_next(&m->inflight, &off, &t);
        bool line = h.what == SS__HQ_RECORD && h.kind == SS_KIND_LINE;
        if (!line)
            return n ? n : 1;
        n++;
    }
    return n;
}

/* The first k entries were acknowledged. */
static void delivered(ss_host_mirror *m, size_t k, bool duplicate)
{
    size_t off = 0, records = 0;
    for (size_t i = 0; i < k; i++) {
        const char *t;
        if (ss__hq_next(&m->inflight, &off, &t).what == SS__HQ_RECORD)
            records++;
    }
    ss__buf_take(&m->inflight, off);
    m->inflight_count -= k;
    m->send_k = 0;
    pthread_mutex_lock(&m->mu);
    m->done += k;
    m->st.pending -= k;
    m->st.records_sent += records;
    m->st.batches_sent++;
    if (duplicate)
        m->st.duplicates++;
    pthread_cond_broadcast(&m->progress);
    pthread_mutex_unlock(&m->mu);
}

/* Deliver every entry in flight, in order. Returns 0 or the first error. */
static int send_inflight(ss_host_mirror *m)
{
    bool base = m->st.protocol == SS_HOST_PROTO_BASE;
    while (m->inflight_count > 0) {
        /* send_k is the size of the request being tried: kept across retries,
         * so a retried batch number always carries the same entries. */
        if (m->send_k == 0)
            m->send_k = request_span(m, base);
        if (base) {
            /* As the Python mirror: ask for the stop before each POST. */
            int rc = poll_stop(m);
            if (rc < 0)
                return rc;
        }
        int rc = base ? encode_base(m, m->send_k) : encode_batch(m, m->send_k);
        if (rc < 0)
            return rc;
        rc = request(m, "POST", m->url, m->body.data, m->body.len);
        if (rc == -EMSGSIZE && m->send_k > 1) {
            /* Too large for the server, so nothing was stored: try half. */
            m->send_k = (m->send_k + 1) / 2;
            continue;
        }
        if (rc < 0)
            return rc;
        json_t *j = answer(m);
        bool duplicate = false;
        if (j) {
            set_stopped(m, json_object_get(j, "closed"));
            duplicate = json_is_true(json_object_get(j, "duplicate"));
            json_decref(j);
        }
        if (!base)
            m->batch++;
        delivered(m, m->send_k, duplicate);
    }
    return 0;
}

/* Nothing to send (mu held): wait for records, asking for the stop request
 * every stop_poll_ms. Returns false when the thread must end. */
static bool idle(ss_host_mirror *m)
{
    m->thread_idle = true;
    if (m->opts.stop_poll_ms < 0) {
        pthread_cond_wait(&m->work, &m->mu);
    } else {
        struct timespec until = ss__deadline_after_ms(m->opts.stop_poll_ms);
        if (pthread_cond_timedwait(&m->work, &m->mu, &until) == ETIMEDOUT &&
            ss__hqueue_count(&m->q) == 0 && !m->quit) {
            m->thread_idle = false;
            pthread_mutex_unlock(&m->mu);
            /* A failed poll is not an error: the next batch will tell. */
            poll_stop(m);
            pthread_mutex_lock(&m->mu);
        }
    }
    m->thread_idle = false;
    return !m->quit;
}

void *ss__mirror_thread(void *arg)
{
    ss_host_mirror *m = arg;
    int delay = 0;

    pthread_mutex_lock(&m->mu);
    while (!m->quit) {
        int rc = 0;
        if (m->st.protocol == SS_HOST_PROTO_UNKNOWN) {
            pthread_mutex_unlock(&m->mu);
            rc = probe(m);
            pthread_mutex_lock(&m->mu);
        } else if (m->inflight_count == 0) {
            if (ss__hqueue_count(&m->q) == 0) {
                if (!idle(m))
                    break;
                continue;
            }
            rc = ss__hqueue_take(&m->q, m->opts.batch_records, m->opts.batch_bytes, &m->inflight);
            if (rc < 0) {
                fail(m, rc);
                break;
            }
            m->inflight_count = (size_t)rc;
            pthread_cond_broadcast(&m->progress); /* room for blocked writers */
            continue;
        } else {
            pthread_mutex_unlock(&m->mu);
            rc = send_inflight(m);
            pthread_mutex_lock(&m->mu);
        }
        if (rc == 0) {
            delay = 0;
            continue;
        }
        if (m->quit)
            break;
        if (!retryable(rc)) {
            fail(m, rc);
            break;
        }
        m->st.retries++;
        if (!backoff_wait(m, &delay))
            break;
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}
