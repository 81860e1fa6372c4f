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

#include "host/item.h"
#include "hostclient/mirror_int.h"
#include "util/clock.h"

/* Whether retrying can cure an error: the transport's, a 5xx, a garbled answer. */
static bool retryable(int err)
{
    switch (err) {
    case -ECONNREFUSED:
    case -ETIMEDOUT:
    case -ECONNRESET:
    case -EHOSTUNREACH:
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

/* The POST item of one entry; line records get their line break back (a
 * continued piece has none: the next piece goes on with it). */
static json_t *entry_item(ss_host_mirror *m, ss__hq_hdr h, const char *text, ss__buf *scratch)
{
    if (h.what == SS__HQ_CLOSE)
        return ss__post_close_encode();
    if (h.kind != SS_KIND_LINE)
        return ss__post_message_encode((ss_kind)h.kind, text, h.len);
    if (h.flags & SS_REC_CONTINUED)
        return ss__post_text_encode(text, h.len);
    ss__buf_reset(scratch);
    if (ss__buf_append(scratch, text, h.len) < 0 || ss__buf_append(scratch, "\n", 1) < 0)
        return NULL;
    return ss__post_text_encode(scratch->data, scratch->len);
}

/* {"type":"batch","mirror":ID,"batch":N,"source":S,"items":[the first k entries]} */
static char *encode_batch(ss_host_mirror *m, size_t k, size_t *ret_len)
{
    ss__buf scratch;
    ss__buf_init(&scratch, SIZE_MAX);
    json_t *items = json_array();
    json_t *body = json_object();
    char *out = NULL;
    if (!items || !body)
        goto out;
    size_t off = 0;
    for (size_t i = 0; i < k; i++) {
        const char *text;
        ss__hq_hdr h = ss__hq_next(&m->inflight, &off, &text);
        if (json_array_append_new(items, entry_item(m, h, text, &scratch)) < 0)
            goto out;
    }
    if (json_object_set_new(body, "type", json_string("batch")) < 0 ||
        json_object_set_new(body, "mirror", json_string(m->id)) < 0 ||
        json_object_set_new(body, "batch", json_integer((json_int_t)(m->batch + 1))) < 0 ||
        (m->source[0] && json_object_set_new(body, "source", json_string(m->source)) < 0) ||
        json_object_set(body, "items", items) < 0)
        goto out;
    out = json_dumps(body, JSON_COMPACT);
    if (out)
        *ret_len = strlen(out);
out:
    json_decref(items);
    json_decref(body);
    ss__buf_free(&scratch);
    return out;
}

/* The base protocol's body for the first k entries, which must be line records
 * (one "str" POST, as the Python mirror sends several lines written at once)
 * or, k == 1, a grouped record or the close. */
static char *encode_base(ss_host_mirror *m, size_t k, size_t *ret_len)
{
    ss__buf text;
    ss__buf_init(&text, SIZE_MAX);
    json_t *body = NULL;
    size_t off = 0;
    const char *t;
    ss__hq_hdr h = ss__hq_next(&m->inflight, &off, &t);
    if (h.what == SS__HQ_CLOSE) {
        body = ss__post_close_encode();
    } else if (h.kind != SS_KIND_LINE) {
        body = ss__post_message_encode((ss_kind)h.kind, t, h.len);
    } else {
        for (size_t i = 0; i < k; i++) {
            if (i > 0)
                h = ss__hq_next(&m->inflight, &off, &t);
            if (ss__buf_append(&text, t, h.len) < 0 ||
                (!(h.flags & SS_REC_CONTINUED) && ss__buf_append(&text, "\n", 1) < 0))
                goto out;
        }
        body = ss__post_text_encode(text.data ? text.data : "", text.len);
    }
    char *out = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (out)
        *ret_len = strlen(out);
    json_decref(body);
    ss__buf_free(&text);
    return out;
out:
    ss__buf_free(&text);
    return NULL;
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
    ss__buf_consume(&m->inflight, off);
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
        size_t len = 0;
        char *body = base ? encode_base(m, m->send_k, &len) : encode_batch(m, m->send_k, &len);
        if (!body)
            return -ENOMEM;
        int rc = request(m, "POST", m->url, body, len);
        free(body);
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
            rc = ss__hqueue_take(&m->q, m->opts.batch_records, m->opts.batch_bytes,
                                 &m->inflight);
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
