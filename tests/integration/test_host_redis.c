/*
 * The host server's Redis store against a real redis-server on 127.0.0.1,
 * started and stopped by this program (helpers/redis_server.c): two servers on
 * one key serve one buffer (lines, partial lines per mirror and anonymous,
 * batches exactly once, the stop request, clear, long-poll and server-sent
 * events across them); a server restarted; Redis restarted with its persisted
 * data; Redis away (503 with a clear message) and back (reconnected without
 * help); a mirror retrying across an outage loses and duplicates nothing.
 */
#include <inttypes.h>
#include <pthread.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "http_test.h"
#include "redis_server.h"
#include "test.h"

static ss_test_redis redis;

typedef struct server {
    ss_host_server *srv;
    char url[160]; /* http://127.0.0.1:PORT/sync-stream */
} server;

/* A server on redis key `key` (each test has its own key). */
static void start(server *s, const char *key, size_t maxlen)
{
    char uri[256];
    ss_test_redis_uri(&redis, key, uri, sizeof(uri));
    ss_host_server_opts o = {.listen = "127.0.0.1:0", .maxlen = maxlen, .store = uri};
    assert_int_equal(ss_host_server_new(&s->srv, &o), 0);
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u/sync-stream",
             ss_host_server_port(s->srv));
}

static void stop(server *s)
{
    ss_host_server_free(s->srv);
    s->srv = NULL;
}

static void req(const server *s, const char *method, const char *suffix, const char *body,
                http_reply *r)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", s->url, suffix);
    assert_int_equal(http_request(method, url, body, body ? strlen(body) : 0, NULL, r), 0);
}

static void post(const server *s, const char *body, long want_status)
{
    http_reply r;
    req(s, "POST", "", body, &r);
    if (r.status != want_status)
        fail_msg("POST %s: status %ld, body %s", body, r.status, r.body ? r.body : "");
    http_reply_clear(&r);
}

static void post_text(const server *s, const char *text)
{
    json_t *j = json_pack("{s:s,s:{s:s}}", "type", "str", "data", "value", text);
    char *body = json_dumps(j, JSON_COMPACT);
    post(s, body, 201);
    free(body);
    json_decref(j);
}

/* A batch of mirror `id` number n with the given text; returns the reply's
 * "duplicate". */
static bool post_batch(const server *s, const char *id, int n, const char *text)
{
    json_t *j = json_pack("{s:s,s:s,s:i,s:[{s:s,s:{s:s}}]}", "type", "batch", "mirror", id, "batch",
                          n, "items", "type", "str", "data", "value", text);
    char *body = json_dumps(j, JSON_COMPACT);
    http_reply r;
    req(s, "POST", "", body, &r);
    if (r.status != 201 && r.status != 200)
        fail_msg("batch %s/%d: status %ld, body %s", id, n, r.status, r.body ? r.body : "");
    bool dup = json_is_true(json_object_get(r.json, "duplicate"));
    http_reply_clear(&r);
    free(body);
    json_decref(j);
    return dup;
}

/* The view as one string, items joined by '|' (grouped messages as their
 * type). */
static void expect_view(const server *s, const char *want)
{
    http_reply r;
    req(s, "GET", "", NULL, &r);
    assert_int_equal(r.status, 200);
    char got[4096] = "";
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(r.json, "data"), i, item)
    {
        const char *t = json_is_string(item) ? json_string_value(item)
                                             : json_string_value(json_object_get(item, "type"));
        size_t used = strlen(got);
        snprintf(got + used, sizeof(got) - used, "%s%s", i ? "|" : "", t ? t : "?");
    }
    http_reply_clear(&r);
    assert_string_equal(got, want);
}

/* GET ?since=cursor: the records' texts joined by '|', their first seq and the
 * missed count. */
static void since(const server *s, uint64_t cursor, char *texts, size_t n, uint64_t *first,
                  uint64_t *missed)
{
    char q[64];
    snprintf(q, sizeof(q), "?since=%" PRIu64 "&limit=10000", cursor);
    http_reply r;
    req(s, "GET", q, NULL, &r);
    assert_int_equal(r.status, 200);
    texts[0] = '\0';
    *first = 0;
    size_t i;
    json_t *rec;
    json_array_foreach(json_object_get(r.json, "records"), i, rec)
    {
        if (i == 0)
            *first = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
        size_t used = strlen(texts);
        snprintf(texts + used, n - used, "%s%s", i ? "|" : "",
                 json_string_value(json_object_get(rec, "text")));
    }
    *missed = (uint64_t)json_integer_value(json_object_get(r.json, "missed"));
    http_reply_clear(&r);
}

static json_int_t health(const server *s, const char *member)
{
    http_reply r;
    req(s, "GET", "-health", NULL, &r);
    assert_int_equal(r.status, 200);
    json_int_t v = json_is_true(json_object_get(r.json, member))
                       ? 1
                       : json_integer_value(json_object_get(r.json, member));
    http_reply_clear(&r);
    return v;
}

/* ---- two servers, one key ---- */

static void test_two_servers_one_buffer(void **state_)
{
    (void)state_;
    server a, b;
    char texts[1024];
    uint64_t first, missed;
    http_reply r;
    start(&a, "two", 100);
    start(&b, "two", 100);

    post_text(&a, "from a\n");
    post_text(&b, "from b\n");
    expect_view(&a, "from a|from b");
    expect_view(&b, "from a|from b");

    /* the anonymous partial line lives in Redis: begun on a, ended on b */
    post_text(&a, "hel");
    expect_view(&b, "from a|from b|hel");
    post_text(&b, "lo\n");
    expect_view(&a, "from a|from b|hello");

    /* a mirror's partial line too, and never mixed with another's */
    assert_false(post_batch(&a, "m1", 1, "par"));
    assert_false(post_batch(&b, "m2", 1, "other "));
    assert_false(post_batch(&b, "m1", 2, "tial\n"));
    assert_false(post_batch(&a, "m2", 2, "mirror\n"));
    expect_view(&b, "from a|from b|hello|partial|other mirror");

    /* exactly once across servers: a batch retried on the other server */
    assert_false(post_batch(&a, "m1", 3, "once\n"));
    assert_true(post_batch(&b, "m1", 3, "once\n"));
    assert_true(post_batch(&a, "m1", 2, "tial\n"));
    since(&b, 0, texts, sizeof(texts), &first, &missed);
    assert_string_equal(texts, "from a|from b|hello|partial|other mirror|once");
    assert_int_equal(first, 1);
    assert_int_equal(missed, 0);
    assert_int_equal(health(&a, "next_seq"), 7);
    assert_int_equal(health(&b, "records"), 6);
    /* one buffer, one epoch: a client may go from one server to the other */
    assert_true(health(&a, "epoch") > 0);
    assert_int_equal(health(&a, "epoch"), health(&b, "epoch"));

    /* the stop request is shared: set on a, seen in b's POST answers */
    req(&a, "POST", "-state", "{\"state\": \"closed\", \"value\": true}", &r);
    assert_int_equal(r.status, 201);
    http_reply_clear(&r);
    req(&b, "POST", "", "{\"type\": \"str\", \"data\": {\"value\": \"x\\n\"}}", &r);
    assert_true(json_is_true(json_object_get(r.json, "closed")));
    http_reply_clear(&r);
    assert_int_equal(health(&b, "closed"), 1);
    req(&b, "DELETE", "-state", NULL, &r);
    http_reply_clear(&r);
    assert_int_equal(health(&a, "closed"), 0);

    /* a clear on one is a clear for both; numbers go on */
    req(&b, "DELETE", "", NULL, &r);
    assert_int_equal(r.status, 200);
    http_reply_clear(&r);
    expect_view(&a, "");
    post_text(&a, "after\n");
    since(&b, 0, texts, sizeof(texts), &first, &missed);
    assert_string_equal(texts, "after");
    assert_int_equal(first, 8);
    assert_int_equal(missed, 0); /* a client starting from 0 missed nothing */

    /* lines break where sync-stream's server breaks them (Python's
     * splitlines): a vertical tab, U+2028, "\r\n" split across servers */
    assert_false(post_batch(&a, "m3", 1, "v\vt\xe2\x80\xa8u\r"));
    assert_false(post_batch(&b, "m3", 2, "\nw\n"));
    since(&b, 8, texts, sizeof(texts), &first, &missed);
    assert_string_equal(texts, "v|t|u|w");
    stop(&a);
    stop(&b);
}

/* maxlen on a Redis stream: XADD MAXLEN ~ keeps at least maxlen; the view and
 * the cursor reads count exactly maxlen. */
static void test_rotation(void **state_)
{
    (void)state_;
    server a;
    start(&a, "rotate", 5);
    for (int i = 1; i <= 300; i++) {
        char line[32];
        snprintf(line, sizeof(line), "l%d\n", i);
        post_text(&a, line);
    }
    expect_view(&a, "l296|l297|l298|l299|l300");
    post_text(&a, "part");
    expect_view(&a, "l297|l298|l299|l300|part");
    assert_int_equal(health(&a, "records"), 5);
    http_reply r;
    req(&a, "GET", "-state?state=curlen", NULL, &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "data")), 5);
    http_reply_clear(&r);
    char texts[1024];
    uint64_t first, missed;
    since(&a, 0, texts, sizeof(texts), &first, &missed);
    assert_string_equal(texts, "l296|l297|l298|l299|l300");
    assert_int_equal(missed, 0); /* a client starting from 0 missed nothing */
    since(&a, 298, texts, sizeof(texts), &first, &missed);
    assert_string_equal(texts, "l299|l300");
    assert_int_equal(missed, 0);
    /* the stream itself is bounded too (approximately) */
    redisContext *c = redisConnect("127.0.0.1", redis.port);
    redisReply *len = redisCommand(c, "XLEN rotate");
    assert_true(len->integer >= 5 && len->integer < 300);
    freeReplyObject(len);
    redisFree(c);
    stop(&a);
}

/* ---- live tail across instances ---- */

typedef struct later {
    const server *s;
    const char *text;
} later;

static void *post_later(void *arg)
{
    later *l = arg;
    /* Not a timing assertion: the wait must end whenever the record comes;
     * the pause makes it likely that the reader already waits. */
    usleep(300 * 1000);
    post_text(l->s, l->text);
    return NULL;
}

static void test_long_poll_across_servers(void **state_)
{
    (void)state_;
    server a, b;
    start(&a, "poll", 100);
    start(&b, "poll", 100);
    post_text(&a, "one\n");
    pthread_t t;
    later l = {&a, "two\n"};
    assert_int_equal(pthread_create(&t, NULL, post_later, &l), 0);
    http_reply r;
    req(&b, "GET", "?since=1&wait=20000", NULL, &r);
    pthread_join(t, NULL);
    assert_int_equal(r.status, 200);
    json_t *recs = json_object_get(r.json, "records");
    assert_int_equal(json_array_size(recs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 0), "text")), "two");
    assert_int_equal(json_integer_value(json_object_get(r.json, "next")), 2);
    http_reply_clear(&r);
    /* nothing newer: the wait ends empty */
    req(&b, "GET", "?since=2&wait=100", NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 0);
    http_reply_clear(&r);
    stop(&a);
    stop(&b);
}

/* An event stream read until it holds `want` record events. */
typedef struct sse_body {
    char text[1 << 16];
    size_t len, want;
} sse_body;

static size_t count_records(const char *text)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, "event: record\n")); p++)
        n++;
    return n;
}

static size_t sse_take(char *p, size_t size, size_t n, void *cls)
{
    sse_body *b = cls;
    size_t add = size * n;
    if (b->len + add >= sizeof(b->text))
        return 0;
    memcpy(b->text + b->len, p, add);
    b->len += add;
    b->text[b->len] = '\0';
    return count_records(b->text) >= b->want ? 0 : add; /* 0 ends the transfer */
}

static void sse_read(const server *s, const char *last_id, size_t want, sse_body *b)
{
    memset(b, 0, sizeof(*b));
    b->want = want;
    char url[256], hdr[64];
    snprintf(url, sizeof(url), "%s-events", s->url);
    snprintf(hdr, sizeof(hdr), "Last-Event-ID: %s", last_id);
    struct curl_slist *hdrs = curl_slist_append(NULL, hdr);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sse_take);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    assert_int_equal(curl_easy_perform(h), CURLE_WRITE_ERROR); /* ended by us */
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
}

static void test_events_across_servers(void **state_)
{
    (void)state_;
    server a, b;
    start(&a, "events", 100);
    start(&b, "events", 100);
    post_text(&a, "e1\ne2\n");
    pthread_t t;
    later l = {&a, "e3\n"};
    assert_int_equal(pthread_create(&t, NULL, post_later, &l), 0);
    sse_body body;
    sse_read(&b, "1", 2, &body); /* e2 at once, e3 when a stores it */
    pthread_join(t, NULL);
    /* ids are EPOCH-SEQ */
    assert_non_null(strstr(body.text, "-2\nevent: record\ndata: {\"seq\":2,"));
    assert_non_null(strstr(body.text, "-3\nevent: record\ndata: {\"seq\":3,"));
    assert_non_null(strstr(body.text, "\"text\":\"e3\""));
    assert_null(strstr(body.text, "id: 1\n"));
    stop(&a);
    stop(&b);
}

/* ---- restarts ---- */

static void test_server_restarted(void **state_)
{
    (void)state_;
    server a;
    start(&a, "restart", 100);
    post_text(&a, "kept\n");
    assert_false(post_batch(&a, "m", 1, "half "));
    post_text(&a, "anon ");
    json_int_t epoch = health(&a, "epoch");
    stop(&a);

    start(&a, "restart", 100);
    expect_view(&a, "kept|anon ");
    /* the buffer's life goes on in Redis: a cursor of it is still good */
    assert_int_equal(health(&a, "epoch"), epoch);
    assert_true(post_batch(&a, "m", 1, "half ")); /* remembered */
    assert_false(post_batch(&a, "m", 2, "line\n"));
    post_text(&a, "line\n");
    char texts[1024];
    uint64_t first, missed;
    since(&a, 0, texts, sizeof(texts), &first, &missed);
    assert_string_equal(texts, "kept|half line|anon line");
    assert_int_equal(health(&a, "next_seq"), 4);
    char url[64];
    snprintf(url, sizeof(url), "?since=2&epoch=%lld", (long long)epoch);
    http_reply r;
    req(&a, "GET", url, NULL, &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "next")), 3);
    http_reply_clear(&r);

    /* Redis loses the buffer: numbers start again, in a new epoch */
    redisContext *c = redisConnect("127.0.0.1", redis.port);
    assert_true(c && !c->err);
    freeReplyObject(redisCommand(c, "FLUSHALL"));
    redisFree(c);
    post_text(&a, "new life\n");
    assert_int_equal(health(&a, "next_seq"), 2);
    assert_true(health(&a, "epoch") != epoch);
    req(&a, "GET", url, NULL, &r); /* the old cursor: from the oldest record */
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 1);
    http_reply_clear(&r);
    stop(&a);
}

static void test_redis_restarted(void **state_)
{
    (void)state_;
    server a, b, c;
    start(&a, "persist", 100);
    start(&b, "persist", 100);
    start(&c, "persist", 100);
    post_text(&a, "before\n");
    expect_view(&c, "before"); /* c holds connections made before the restart */
    assert_false(post_batch(&a, "m", 1, "open "));
    http_reply r;
    req(&a, "POST", "-state", "{\"state\": \"closed\", \"value\": true}", &r);
    http_reply_clear(&r);

    ss_test_redis_stop(&redis);
    /* Redis away: 503 with a JSON message that says so, on every route that
     * needs it */
    req(&a, "POST", "", "{\"type\": \"str\", \"data\": {\"value\": \"lost?\\n\"}}", &r);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(http_message(&r), "Redis store cannot be reached"));
    http_reply_clear(&r);
    req(&b, "GET", "", NULL, &r);
    assert_int_equal(r.status, 503);
    http_reply_clear(&r);
    req(&b, "GET", "-health", NULL, &r);
    assert_int_equal(r.status, 503);
    http_reply_clear(&r);

    /* back with its data: the servers reconnect by themselves */
    assert_int_equal(ss_test_redis_restart(&redis), 0);
    /* c's old connections are found closed before use: no 503 */
    expect_view(&c, "before");
    stop(&c);
    expect_view(&b, "before");
    assert_int_equal(health(&a, "closed"), 1);
    assert_int_equal(health(&a, "epoch"), health(&b, "epoch")); /* the same life */
    assert_true(post_batch(&b, "m", 1, "open "));
    assert_false(post_batch(&b, "m", 2, "line\n"));
    char texts[1024];
    uint64_t first, missed;
    since(&a, 0, texts, sizeof(texts), &first, &missed);
    assert_string_equal(texts, "before|open line");
    assert_int_equal(first, 1);

    /* the live tail follows again: the watcher reconnected */
    pthread_t t;
    later l = {&a, "live\n"};
    assert_int_equal(pthread_create(&t, NULL, post_later, &l), 0);
    req(&b, "GET", "?since=2&wait=20000", NULL, &r);
    pthread_join(t, NULL);
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 1);
    http_reply_clear(&r);
    stop(&a);
    stop(&b);
}

/* A server started while Redis is down runs, answers 503, and works once
 * Redis is there. */
static void test_started_without_redis(void **state_)
{
    (void)state_;
    ss_test_redis_stop(&redis);
    server a;
    start(&a, "late", 100);
    http_reply r;
    req(&a, "GET", "?since=0", NULL, &r);
    assert_int_equal(r.status, 503);
    assert_non_null(r.json);
    http_reply_clear(&r);
    assert_int_equal(ss_test_redis_restart(&redis), 0);
    post_text(&a, "now\n");
    expect_view(&a, "now");
    stop(&a);
}

/* ---- a mirror retrying across an outage ---- */

enum { OUTAGE_BATCHES = 60, OUTAGE_LINES = 50 };

typedef struct mirror_run {
    const server *servers[2];
    int sent;        /* batches acknowledged */
    int unavailable; /* 503 answers seen */
    bool outage;     /* Redis was stopped: the mirror may go on */
    pthread_mutex_t mu;
    pthread_cond_t changed;
} mirror_run;

/* Our own mirror's way (docs/host-protocol.md): each batch retried with the
 * same number, here on alternating servers, until a 2xx. */
static void *run_mirror(void *arg)
{
    mirror_run *m = arg;
    for (int n = 1; n <= OUTAGE_BATCHES; n++) {
        json_t *items = json_array();
        for (int i = 0; i < OUTAGE_LINES; i++) {
            char line[64];
            snprintf(line, sizeof(line), "b%d-l%d\n", n, i);
            json_array_append_new(items,
                                  json_pack("{s:s,s:{s:s}}", "type", "str", "data", "value", line));
        }
        json_t *j = json_pack("{s:s,s:s,s:i,s:o}", "type", "batch", "mirror", "outage", "batch", n,
                              "items", items);
        char *body = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        for (int attempt = 0;; attempt++) {
            assert_true(attempt < 2000); /* bounded: about 20 s of outage */
            http_reply r;
            const server *s = m->servers[attempt % 2];
            char url[256];
            snprintf(url, sizeof(url), "%s", s->url);
            int rc = http_request("POST", url, body, strlen(body), NULL, &r);
            long status = rc == 0 ? r.status : 0;
            http_reply_clear(&r);
            if (status == 200 || status == 201)
                break;
            assert_int_equal(status, 503);
            pthread_mutex_lock(&m->mu);
            m->unavailable++;
            pthread_cond_broadcast(&m->changed);
            pthread_mutex_unlock(&m->mu);
            usleep(10 * 1000);
        }
        free(body);
        pthread_mutex_lock(&m->mu);
        m->sent = n;
        pthread_cond_broadcast(&m->changed);
        /* the rest is sent into the outage (bounded: the test stops Redis
         * right after batch 10) */
        for (int i = 0; n == 10 && !m->outage && i < 300; i++) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&m->changed, &m->mu, &ts);
        }
        pthread_mutex_unlock(&m->mu);
    }
    return NULL;
}

/* Wait (bounded) until *value reaches at least want. */
static void wait_for(mirror_run *m, const int *value, int want)
{
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < 600 && *value < want && m->sent < OUTAGE_BATCHES; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&m->changed, &m->mu, &ts);
    }
    pthread_mutex_unlock(&m->mu);
}

static void test_outage_loses_nothing(void **state_)
{
    (void)state_;
    server a, b;
    start(&a, "outage", OUTAGE_BATCHES * OUTAGE_LINES);
    start(&b, "outage", OUTAGE_BATCHES * OUTAGE_LINES);
    mirror_run m = {.servers = {&a, &b}};
    pthread_mutex_init(&m.mu, NULL);
    pthread_cond_init(&m.changed, NULL);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, run_mirror, &m), 0);

    wait_for(&m, &m.sent, 10);
    ss_test_redis_stop(&redis);
    pthread_mutex_lock(&m.mu);
    m.outage = true;
    pthread_cond_broadcast(&m.changed);
    pthread_mutex_unlock(&m.mu);
    wait_for(&m, &m.unavailable, 3); /* the mirror met the outage */
    assert_true(m.unavailable >= 3);
    assert_int_equal(ss_test_redis_restart(&redis), 0);
    pthread_join(t, NULL);
    assert_int_equal(m.sent, OUTAGE_BATCHES);

    /* every line once, in order */
    http_reply r;
    req(&b, "GET", "?since=0&limit=10000", NULL, &r);
    json_t *recs = json_object_get(r.json, "records");
    assert_int_equal(json_array_size(recs), OUTAGE_BATCHES * OUTAGE_LINES);
    for (int n = 1, k = 0; n <= OUTAGE_BATCHES; n++)
        for (int i = 0; i < OUTAGE_LINES; i++, k++) {
            char want[64];
            snprintf(want, sizeof(want), "b%d-l%d", n, i);
            json_t *rec = json_array_get(recs, (size_t)k);
            assert_string_equal(json_string_value(json_object_get(rec, "text")), want);
            assert_int_equal(json_integer_value(json_object_get(rec, "seq")), k + 1);
        }
    http_reply_clear(&r);
    pthread_cond_destroy(&m.changed);
    pthread_mutex_destroy(&m.mu);
    stop(&a);
    stop(&b);
}

/* ---- concurrent writers on two servers ---- */

enum { CONC_THREADS = 4, CONC_POSTS = 60 };

typedef struct writer {
    const server *servers[2];
    int id;
} writer;

/* Even writers: base-protocol posts of whole lines (they share the anonymous
 * partial line, so every post races the others' on its version). Odd writers:
 * a mirror whose lines are split across batches. Servers alternate. */
static void *run_writer(void *arg)
{
    writer *w = arg;
    char mirror[16];
    snprintf(mirror, sizeof(mirror), "w%d", w->id);
    for (int i = 0; i < CONC_POSTS; i++) {
        const server *s = w->servers[i % 2];
        char text[64];
        if (w->id % 2 == 0) {
            snprintf(text, sizeof(text), "w%d-%d\n", w->id, i);
            post_text(s, text);
        } else {
            snprintf(text, sizeof(text), i % 2 ? "%d\n" : "w%d-", i % 2 ? i - 1 : w->id);
            assert_false(post_batch(s, mirror, i + 1, text));
        }
    }
    return NULL;
}

static void test_concurrent_writers(void **state_)
{
    (void)state_;
    server a, b;
    start(&a, "conc", 1000);
    start(&b, "conc", 1000);
    pthread_t t[CONC_THREADS];
    writer w[CONC_THREADS];
    for (int i = 0; i < CONC_THREADS; i++) {
        w[i] = (writer){{&a, &b}, i};
        assert_int_equal(pthread_create(&t[i], NULL, run_writer, &w[i]), 0);
    }
    for (int i = 0; i < CONC_THREADS; i++)
        pthread_join(t[i], NULL);

    /* every line whole, once, each writer's in its order; seqs 1, 2, 3... */
    http_reply r;
    req(&b, "GET", "?since=0&limit=10000", NULL, &r);
    json_t *recs = json_object_get(r.json, "records");
    int next[CONC_THREADS] = {0};
    size_t i;
    json_t *rec;
    json_array_foreach(recs, i, rec)
    {
        assert_int_equal(json_integer_value(json_object_get(rec, "seq")), (json_int_t)i + 1);
        int id, n;
        const char *text = json_string_value(json_object_get(rec, "text"));
        assert_int_equal(sscanf(text, "w%d-%d", &id, &n), 2);
        assert_true(id >= 0 && id < CONC_THREADS);
        assert_int_equal(n, next[id]);
        next[id] += id % 2 ? 2 : 1;
    }
    assert_int_equal(json_array_size(recs), CONC_THREADS / 2 * CONC_POSTS * 3 / 2);
    http_reply_clear(&r);
    stop(&a);
    stop(&b);
}

static void test_bad_store(void **state_)
{
    (void)state_;
    static const char *const bad[] = {
        "redis://",       "redis://host",      "redis://host/", "redis://:6379/k",
        "redis://h:0/k",  "redis://h:65536/k", "redis://h:x/k", "redis://h/k k",
        "redis://[::1/k", "redis://h/a{}b",    "mysql://h/k",   "memoryx",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ss_host_server *srv = NULL;
        ss_host_server_opts o = {.listen = "127.0.0.1:0", .store = bad[i]};
        const char *what = NULL;
        assert_int_equal(ss_host_server_check_opts(&o, &what), -EINVAL);
        assert_string_equal(what, "store");
        assert_int_equal(ss_host_server_new(&srv, &o), -EINVAL);
    }
    static const char *const good[] = {"redis://[::1]:7000/a:b{c}", "redis://localhost/k", "memory",
                                       NULL};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ss_host_server_opts o = {.store = good[i]};
        assert_int_equal(ss_host_server_check_opts(&o, NULL), 0);
    }
}

static int group_setup(void **state_)
{
    (void)state_;
    curl_global_init(CURL_GLOBAL_ALL);
    return ss_test_redis_start(&redis);
}

static int group_teardown(void **state_)
{
    (void)state_;
    ss_test_redis_remove(&redis);
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_store),
        cmocka_unit_test(test_two_servers_one_buffer),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_long_poll_across_servers),
        cmocka_unit_test(test_events_across_servers),
        cmocka_unit_test(test_server_restarted),
        cmocka_unit_test(test_redis_restarted),
        cmocka_unit_test(test_started_without_redis),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_outage_loses_nothing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
