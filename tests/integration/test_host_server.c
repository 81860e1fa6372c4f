/*
 * The host-mode server over real HTTP on 127.0.0.1 (ports picked by the kernel):
 * every route and state of the base protocol, the PROTOCOL.md example, the
 * extensions (batches exactly once, per-mirror partial lines, since= and
 * long-poll, server-sent events with Last-Event-ID), bad requests that change
 * nothing, body caps, tokens, TLS with a certificate made here, eight
 * concurrent mirrors with per-line checksums, and a shutdown that ends blocked
 * requests.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_test.h"
#include "test.h"

static char tmpdir[] = "/tmp/ss-host-XXXXXX";

typedef struct fixture {
    ss_host_server *srv;
    char base[128]; /* http://127.0.0.1:PORT */
    char url[160];  /* base + route */
} fixture;

#ifdef SS_TEST_REDIS_STORE
/* The same tests against the Redis store: a redis-server for the program, a
 * fresh key for each server. */
#include "redis_server.h"
static ss_test_redis redis;
#endif

static void start(fixture *f, const ss_host_server_opts *opts, const char *scheme)
{
#ifdef SS_TEST_REDIS_STORE
    static int keys;
    char uri[128], key[32];
    snprintf(key, sizeof(key), "server%d", ++keys);
    ss_host_server_opts with_redis = opts ? *opts : (ss_host_server_opts){0};
    with_redis.store = ss_test_redis_uri(&redis, key, uri, sizeof(uri));
    opts = &with_redis;
#endif
    assert_int_equal(ss_host_server_new(&f->srv, opts), 0);
    snprintf(f->base, sizeof(f->base), "%s://127.0.0.1:%u", scheme, ss_host_server_port(f->srv));
    snprintf(f->url, sizeof(f->url), "%s%s", f->base,
             opts && opts->route ? opts->route : "/sync-stream");
}

static void start_plain(fixture *f, size_t maxlen)
{
    ss_host_server_opts o = {.listen = "127.0.0.1:0", .maxlen = maxlen};
    start(f, &o, "http");
}

/* A request to f->url + suffix; asserts an HTTP answer came. */
static void req(fixture *f, const char *method, const char *suffix, const char *body, http_reply *r)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", f->url, suffix);
    assert_int_equal(http_request(method, url, body, body ? strlen(body) : 0, NULL, r), 0);
}

static void post(fixture *f, const char *body, long want_status)
{
    http_reply r;
    req(f, "POST", "", body, &r);
    if (r.status != want_status)
        fail_msg("POST %s: status %ld, body %s", body, r.status, r.body ? r.body : "");
    http_reply_clear(&r);
}

static void post_text(fixture *f, const char *text)
{
    json_t *j = json_pack("{s:s, s:{s:s}}", "type", "str", "data", "value", text);
    char *body = json_dumps(j, JSON_COMPACT);
    post(f, body, 201);
    free(body);
    json_decref(j);
}

/* GET the view (n < 0: all) and compare its JSON with want. */
static void expect_view(fixture *f, int n, const char *want)
{
    char suffix[32] = "";
    if (n >= 0)
        snprintf(suffix, sizeof(suffix), "?n=%d", n);
    http_reply r;
    req(f, "GET", suffix, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(http_message(&r), "success");
    char *data = json_dumps(json_object_get(r.json, "data"), JSON_COMPACT | JSON_ENCODE_ANY);
    assert_string_equal(data, want);
    free(data);
    http_reply_clear(&r);
}

/* GET ROUTE-state?state=name: the data member as compact JSON (caller frees). */
static char *state(fixture *f, const char *name)
{
    char suffix[64];
    snprintf(suffix, sizeof(suffix), "-state?state=%s", name);
    http_reply r;
    req(f, "GET", suffix, NULL, &r);
    assert_int_equal(r.status, 200);
    char *s = json_dumps(json_object_get(r.json, "data"), JSON_COMPACT | JSON_ENCODE_ANY);
    http_reply_clear(&r);
    return s;
}

static void expect_state(fixture *f, const char *name, const char *want)
{
    char *s = state(f, name);
    assert_string_equal(s, want);
    free(s);
}

static json_int_t health_int(fixture *f, const char *member)
{
    http_reply r;
    req(f, "GET", "-health", NULL, &r);
    assert_int_equal(r.status, 200);
    json_int_t v = json_integer_value(json_object_get(r.json, member));
    http_reply_clear(&r);
    return v;
}

/* Once cut connections are gone, requests are served again (bounded retries:
 * the server notices closed connections asynchronously). */
static void expect_served_again(const fixture *f)
{
    long status = 0;
    for (int i = 0; i < 100 && status != 200; i++) {
        http_reply r;
        char url[256];
        snprintf(url, sizeof(url), "%s-health", f->url);
        http_request("GET", url, NULL, 0, NULL, &r);
        status = r.status;
        http_reply_clear(&r);
        if (status != 200)
            usleep(50 * 1000);
    }
    assert_int_equal(status, 200);
}

static void test_protocol_example(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 10);
    post_text(&f, "Hello!\n");
    post_text(&f, "a b\n");
    post_text(&f, "x\n y\n");
    post_text(&f, "tail");
    expect_view(&f, 2, "[\" y\",\"tail\"]");
    expect_state(&f, "curlen", "5");
    expect_state(&f, "maxlen", "10");
    expect_view(&f, -1, "[\"Hello!\",\"a b\",\"x\",\" y\",\"tail\"]");
    ss_host_server_free(f.srv);
}

static void test_messages_and_close(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 10);
    post_text(&f, "half");
    /* a warning ends the partial line first, and is one record */
    post(&f,
         "{\"type\":\"warning\",\"data\":{\"/is_syncsdata\":true,\"/type\":\"GroupedMessage\","
         "\"type\":\"warning\",\"data\":[\"w1\",\"w2\"]}}",
         201);
    post(&f, "{\"type\":\"error\",\"data\":\"boom\"}", 201);
    post_text(&f, "last");
    post(&f, "{\"type\":\"close\"}", 201);
    post(&f, "{\"type\":\"close\"}", 201); /* nothing to end: no empty record */
    expect_view(&f, -1,
                "[\"half\",{\"/is_syncsdata\":true,\"/type\":\"GroupedMessage\",\"type\":"
                "\"warning\",\"data\":[\"w1\",\"w2\"]},{\"/is_syncsdata\":true,\"/type\":"
                "\"GroupedMessage\",\"type\":\"error\",\"data\":[\"boom\"]},\"last\"]");
    /* writing exactly one line break records an empty line; \r ends a line too */
    post_text(&f, "\n");
    post_text(&f, "p1\rp2\r\n");
    expect_view(&f, 3, "[\"\",\"p1\",\"p2\"]");
    ss_host_server_free(f.srv);
}

/* Lines break where Python's str.splitlines breaks them, as sync-stream's server. */
static void test_python_line_breaks(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 20);
    post_text(&f, "abc\f");
    post_text(&f, "def\n");
    post_text(&f, "v\vfs\x1cgs\x1drs\x1e");
    post_text(&f, "nel\xc2\x85ls\xe2\x80\xa8ps\xe2\x80\xa9tail");
    expect_view(&f, -1,
                "[\"abc\",\"def\",\"v\",\"fs\",\"gs\",\"rs\",\"nel\",\"ls\",\"ps\","
                "\"tail\"]");
    ss_host_server_free(f.srv);
}

static void test_read_n_and_delete(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 3);
    post_text(&f, "1\n2\n3\n4\n");
    expect_view(&f, -1, "[\"2\",\"3\",\"4\"]");
    expect_view(&f, 0, "[]");
    expect_view(&f, 100, "[\"2\",\"3\",\"4\"]");
    http_reply r;
    req(&f, "GET", "?n=-2", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "data")), 0);
    http_reply_clear(&r);
    /* full records and a partial line: the oldest record leaves the view */
    post_text(&f, "5");
    expect_view(&f, -1, "[\"3\",\"4\",\"5\"]");
    expect_state(&f, "curlen", "3");

    req(&f, "DELETE", "", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(http_message(&r), "success");
    http_reply_clear(&r);
    expect_view(&f, -1, "[]");
    expect_state(&f, "curlen", "0");
    /* sequence numbers go on after a clear */
    post_text(&f, "after\n");
    assert_int_equal(health_int(&f, "next_seq"), 6);
    ss_host_server_free(f.srv);
}

static void test_state_routes(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 7);
    expect_state(&f, "closed", "false");
    expect_state(&f, "maxlen", "7");
    expect_state(&f, "curlen", "0");
    expect_state(&f, "other", "null");
    expect_state(&f, "%20maxlen%20", "7"); /* names are stripped, as in sync-stream */

    http_reply r;
    req(&f, "POST", "-state", "{\"state\":\"closed\",\"value\":\" TRUE \"}", &r);
    assert_int_equal(r.status, 201);
    http_reply_clear(&r);
    expect_state(&f, "closed", "true");
    /* the stop request rides on every POST response */
    req(&f, "POST", "", "{\"type\":\"close\"}", &r);
    assert_int_equal(r.status, 201);
    assert_true(json_is_true(json_object_get(r.json, "closed")));
    http_reply_clear(&r);
    req(&f, "DELETE", "-state", NULL, &r);
    assert_int_equal(r.status, 200);
    http_reply_clear(&r);
    expect_state(&f, "closed", "false");

    req(&f, "POST", "-state", "{\"state\":\" closed\",\"value\":true}", &r);
    http_reply_clear(&r);
    expect_state(&f, "closed", "true");
    req(&f, "POST", "-state", "{\"state\":\"closed\",\"value\":1}", &r);
    assert_int_equal(r.status, 201);
    http_reply_clear(&r);
    expect_state(&f, "closed", "false");
    /* another state name changes nothing */
    req(&f, "POST", "-state", "{\"state\":\"maxlen\",\"value\":99}", &r);
    assert_int_equal(r.status, 201);
    http_reply_clear(&r);
    expect_state(&f, "maxlen", "7");
    assert_int_equal(ss_host_server_set_stop(f.srv, true), 0);
    expect_state(&f, "closed", "true");

    const char *bad_gets[] = {"-state", "-state?state=", "-state?state=%20"};
    for (size_t i = 0; i < 3; i++) {
        req(&f, "GET", bad_gets[i], NULL, &r);
        assert_int_equal(r.status, 400);
        assert_true(strlen(http_message(&r)) > 0);
        http_reply_clear(&r);
    }
    const char *bad_posts[] = {"", "nope", "[]", "{}", "{\"state\":3}", "{\"state\":\"\"}"};
    for (size_t i = 0; i < 6; i++) {
        req(&f, "POST", "-state", bad_posts[i], &r);
        assert_int_equal(r.status, 400);
        assert_true(strlen(http_message(&r)) > 0);
        http_reply_clear(&r);
    }
    expect_state(&f, "closed", "true");
    ss_host_server_free(f.srv);
}

/* Every bad request: 400, a message, and the buffer exactly as it was. */
static void test_bad_requests(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 10);
    post_text(&f, "kept\npartial");
    const char *bodies[] = {
        "",
        "{",
        "not json",
        "[1]",
        "\"str\"",
        "{}",
        "{\"type\":5}",
        "{\"type\":\"nope\"}",
        "{\"type\":\"str\"}",
        "{\"type\":\"str\",\"data\":{\"value\":7}}",
        "{\"type\":\"str\",\"data\":[\"x\"]}",
        "{\"type\":\"warning\"}",
        "{\"type\":\"error\",\"data\":{\"type\":\"error\",\"data\":[\"x\"]}}",
        "{\"type\":\"batch\"}",
        "{\"type\":\"batch\",\"mirror\":\"bad id!\",\"batch\":1,\"items\":[{\"type\":\"close\"}]}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":0,\"items\":[{\"type\":\"close\"}]}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":\"1\",\"items\":[{\"type\":\"close\"}]}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1,\"items\":[]}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1,\"items\":{}}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1,\"source\":7,\"items\":[{\"type\":"
        "\"close\"}]}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1,\"source\":"
        "\"0123456789012345678901234567890123\",\"items\":[{\"type\":\"close\"}]}",
        /* a good item before a bad one: nothing of the batch is stored */
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1,\"items\":[{\"type\":\"str\",\"data\":"
        "{\"value\":\"good\\n\"}},{\"type\":\"str\",\"data\":{\"value\":null}}]}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1,\"items\":[{\"type\":\"batch\"}]}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        http_reply r;
        req(&f, "POST", "", bodies[i], &r);
        if (r.status != 400)
            fail_msg("body %s: status %ld", bodies[i], r.status);
        if (strlen(http_message(&r)) == 0)
            fail_msg("body %s: no message in %s", bodies[i], r.body);
        http_reply_clear(&r);
    }
    http_reply r;
    req(&f, "POST", "",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1,\"items\":[{\"type\":"
        "\"close\"},{\"type\":\"str\"}]}",
        &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(http_message(&r), "items[1]"));
    http_reply_clear(&r);

    const char *queries[] = {"?n=x",
                             "?n=1.5",
                             "?n=",
                             "?n=99999999999999999999",
                             "?since=-1",
                             "?since=a",
                             "?since=0&limit=0",
                             "?since=0&limit=10001",
                             "?since=0&wait=60001",
                             "?since=0&wait=x",
                             "?since=1&n=1",
                             "?limit=5",
                             "?wait=5"};
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        req(&f, "GET", queries[i], NULL, &r);
        if (r.status != 400 || strlen(http_message(&r)) == 0)
            fail_msg("GET %s: status %ld, body %s", queries[i], r.status, r.body);
        http_reply_clear(&r);
    }
    /* nothing changed: one record, the partial line, no seq used */
    expect_view(&f, -1, "[\"kept\",\"partial\"]");
    assert_int_equal(health_int(&f, "next_seq"), 2);
    /* the good batch id was not taken by the refused one */
    post(&f,
         "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1,\"items\":[{\"type\":\"str\","
         "\"data\":{\"value\":\"ok\\n\"}}]}",
         201);
    assert_int_equal(health_int(&f, "next_seq"), 3);
    ss_host_server_free(f.srv);
}

static void test_routes_and_methods(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 10);
    http_reply r;
    char url[256];
    const char *missing[] = {"/nope", "/sync-streamx", "/sync-stream-stat", "/sync"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(url, sizeof(url), "%s%s", f.base, missing[i]);
        assert_int_equal(http_request("GET", url, NULL, 0, NULL, &r), 0);
        assert_int_equal(r.status, 404);
        assert_true(strlen(http_message(&r)) > 0);
        http_reply_clear(&r);
    }
    req(&f, "PUT", "", "{}", &r);
    assert_int_equal(r.status, 405);
    http_reply_clear(&r);
    req(&f, "POST", "-health", "{}", &r);
    assert_int_equal(r.status, 405);
    http_reply_clear(&r);
    req(&f, "DELETE", "-events", NULL, &r);
    assert_int_equal(r.status, 405);
    http_reply_clear(&r);

    req(&f, "GET", "-health", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
    assert_string_equal(json_string_value(json_object_get(r.json, "version")), ss_version());
    assert_int_equal(json_integer_value(json_object_get(r.json, "maxlen")), 10);
    assert_true(json_is_false(json_object_get(r.json, "closed")));
    http_reply_clear(&r);

    snprintf(url, sizeof(url), "%s/", f.base);
    assert_int_equal(http_request("GET", url, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<!DOCTYPE html>"));
    assert_non_null(strstr(r.body, "const ROUTE = \"/sync-stream\";"));
    http_reply_clear(&r);
    ss_host_server_free(f.srv);

    /* another route */
    ss_host_server_opts o = {.listen = "127.0.0.1:0", .route = "/logs/job-1"};
    start(&f, &o, "http");
    post_text(&f, "routed\n");
    expect_view(&f, -1, "[\"routed\"]");
    expect_state(&f, "curlen", "1");
    snprintf(url, sizeof(url), "%s/sync-stream", f.base);
    assert_int_equal(http_request("GET", url, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 404);
    http_reply_clear(&r);
    ss_host_server_free(f.srv);
}

static void test_bad_options(void **state_)
{
    (void)state_;
    ss_host_server *srv = NULL;
    const char *listens[] = {"127.0.0.1",    "127.0.0.1:", "127.0.0.1:99999", "nohost:1", "[::1:5",
                             "127.0.0.1:-1", ":5000"};
    for (size_t i = 0; i < sizeof(listens) / sizeof(listens[0]); i++) {
        ss_host_server_opts o = {.listen = listens[i]};
        assert_int_equal(ss_host_server_new(&srv, &o), -EINVAL);
    }
    const char *routes[] = {"/", "", "x", "/a b", "/a?b"};
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        ss_host_server_opts o = {.listen = "127.0.0.1:0", .route = routes[i]};
        assert_int_equal(ss_host_server_new(&srv, &o), -EINVAL);
    }
    const char *what = NULL;
    ss_host_server_opts bad_listen = {.listen = "localhost:80"};
    assert_int_equal(ss_host_server_check_opts(&bad_listen, &what), -EINVAL);
    assert_string_equal(what, "listen");
    ss_host_server_opts bad_route = {.route = "/a b"};
    assert_int_equal(ss_host_server_check_opts(&bad_route, &what), -EINVAL);
    assert_string_equal(what, "route");
    assert_int_equal(ss_host_server_check_opts(NULL, NULL), 0);
    ss_host_server_opts half_tls = {.listen = "127.0.0.1:0", .cert_file = "/nonexistent"};
    assert_int_equal(ss_host_server_check_opts(&half_tls, &what), -EINVAL);
    assert_string_equal(what, "cert_file");
    assert_int_equal(ss_host_server_new(&srv, &half_tls), -EINVAL);
    ss_host_server_opts no_token = {.listen = "127.0.0.1:0", .token_file = "/nonexistent/t"};
    assert_int_equal(ss_host_server_new(&srv, &no_token), -ENOENT);
    ss_host_server_opts both = {.listen = "127.0.0.1:0", .token = "a", .token_file = "/x"};
    assert_int_equal(ss_host_server_new(&srv, &both), -EINVAL);
    assert_null(srv);

    /* a port in use */
    fixture f;
    start_plain(&f, 0);
    char taken[64];
    snprintf(taken, sizeof(taken), "127.0.0.1:%u", ss_host_server_port(f.srv));
    ss_host_server_opts o = {.listen = taken};
    assert_int_equal(ss_host_server_new(&srv, &o), -EADDRINUSE);
    ss_host_server_free(f.srv);

    /* IPv6 loopback, when the machine has it */
    ss_host_server_opts v6 = {.listen = "[::1]:0"};
    int rc = ss_host_server_new(&srv, &v6);
    if (rc == 0) {
        char url[128];
        snprintf(url, sizeof(url), "http://[::1]:%u/sync-stream-health", ss_host_server_port(srv));
        http_reply r;
        assert_int_equal(http_request("GET", url, NULL, 0, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        http_reply_clear(&r);
        ss_host_server_free(srv);
    } else {
        assert_true(rc == -EADDRNOTAVAIL || rc == -EAFNOSUPPORT);
    }
    ss_host_server_free(NULL);
}

static void test_body_cap(void **state_)
{
    (void)state_;
    fixture f;
    ss_host_server_opts o = {.listen = "127.0.0.1:0", .max_body = 1024};
    start(&f, &o, "http");
    size_t big = 2000; /* over the cap of 1024, within what the server drains */
    char *body = malloc(big + 64);
    int n = snprintf(body, big + 64, "{\"type\":\"str\",\"data\":{\"value\":\"");
    memset(body + n, 'x', big);
    snprintf(body + n + big, 64, "\\n\"}}");
    http_reply r;
    /* (the body is drained, so the client reads the answer rather than a reset) */
    assert_int_equal(http_request("POST", f.url, body, strlen(body), NULL, &r), 0);
    assert_int_equal(r.status, 413);
    assert_true(strlen(http_message(&r)) > 0);
    http_reply_clear(&r);
    /* without a Content-Length: read up to the cap, then refused all the same */
    http_opts chunked = {.chunked = true};
    assert_int_equal(http_request("POST", f.url, body, strlen(body), &chunked, &r), 0);
    assert_int_equal(r.status, 413);
    http_reply_clear(&r);
    /* declared far over the cap: refused before the body is read */
    http_opts quick = {.timeout_ms = 10000};
    size_t huge = 64 * 1024;
    char *huge_body = malloc(huge);
    memset(huge_body, ' ', huge);
    http_request("POST", f.url, huge_body, huge, &quick, &r);
    assert_true(r.status == 413 || r.status == 0); /* 0: the answer lost to a reset */
    http_reply_clear(&r);
    free(huge_body);
    free(body);
    expect_view(&f, -1, "[]");
    /* a body within the cap, chunked too */
    const char *ok = "{\"type\":\"str\",\"data\":{\"value\":\"fits\\n\"}}";
    assert_int_equal(http_request("POST", f.url, ok, strlen(ok), &chunked, &r), 0);
    assert_int_equal(r.status, 201);
    http_reply_clear(&r);
    expect_view(&f, -1, "[\"fits\"]");
    ss_host_server_free(f.srv);
}

static void test_batches_exactly_once(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 100);
    const char *b1 = "{\"type\":\"batch\",\"mirror\":\"host-a.1\",\"batch\":1,\"source\":\"a\","
                     "\"items\":[{\"type\":\"str\",\"data\":{\"value\":\"one\\n\"}},"
                     "{\"type\":\"str\",\"data\":{\"value\":\"two\\n\"}}]}";
    post(&f, b1, 201);
    http_reply r;
    req(&f, "POST", "", b1, &r); /* a retry of a batch already stored */
    assert_int_equal(r.status, 201);
    assert_true(json_is_true(json_object_get(r.json, "duplicate")));
    assert_true(json_is_false(json_object_get(r.json, "closed")));
    http_reply_clear(&r);
    /* numbers may skip (a restarted mirror), and older ones are then duplicates */
    post(&f,
         "{\"type\":\"batch\",\"mirror\":\"host-a.1\",\"batch\":3,\"source\":\"a\",\"items\":"
         "[{\"type\":\"str\",\"data\":{\"value\":\"three\\n\"}}]}",
         201);
    req(&f, "POST", "",
        "{\"type\":\"batch\",\"mirror\":\"host-a.1\",\"batch\":2,\"items\":"
        "[{\"type\":\"str\",\"data\":{\"value\":\"late\\n\"}}]}",
        &r);
    assert_true(json_is_true(json_object_get(r.json, "duplicate")));
    http_reply_clear(&r);
    expect_view(&f, -1, "[\"one\",\"two\",\"three\"]");

    /* partial lines per mirror: two mirrors' halves never mix, nor with base posts */
    post(&f,
         "{\"type\":\"batch\",\"mirror\":\"A\",\"batch\":1,\"items\":[{\"type\":\"str\","
         "\"data\":{\"value\":\"hel\"}}]}",
         201);
    post(&f,
         "{\"type\":\"batch\",\"mirror\":\"B\",\"batch\":1,\"items\":[{\"type\":\"str\","
         "\"data\":{\"value\":\"wor\"}}]}",
         201);
    post_text(&f, "base ");
    post(&f,
         "{\"type\":\"batch\",\"mirror\":\"A\",\"batch\":2,\"items\":[{\"type\":\"str\","
         "\"data\":{\"value\":\"lo\\n\"}}]}",
         201);
    post(&f,
         "{\"type\":\"batch\",\"mirror\":\"B\",\"batch\":2,\"items\":[{\"type\":\"str\","
         "\"data\":{\"value\":\"ld\"}},{\"type\":\"error\",\"data\":\"bad\"},"
         "{\"type\":\"str\",\"data\":{\"value\":\"unfinished\"}},{\"type\":\"close\"}]}",
         201);
    post_text(&f, "post\n");
    expect_view(&f, 5,
                "[\"hello\",\"world\",{\"/is_syncsdata\":true,\"/type\":"
                "\"GroupedMessage\",\"type\":\"error\",\"data\":[\"bad\"]},\"unfinished\","
                "\"base post\"]");
    /* sources: the batch's, else the mirror id; base posts have none */
    req(&f, "GET", "?since=3", NULL, &r);
    json_t *recs = json_object_get(r.json, "records");
    const char *want_src[] = {"A", "B", "B", "B", ""};
    assert_int_equal(json_array_size(recs), 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(recs, i), "source")),
                            want_src[i]);
    http_reply_clear(&r);
    ss_host_server_free(f.srv);
}

typedef struct delayed_post {
    fixture *f;
    const char *text;
} delayed_post;

static void *post_later(void *arg)
{
    delayed_post *d = arg;
    /* Not a timing assertion: the long-poll must return the record whenever it
     * comes; the pause only makes it likely the poll is already waiting. */
    usleep(200 * 1000);
    post_text(d->f, d->text);
    return NULL;
}

static void test_since_and_long_poll(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 3);
    post_text(&f, "r1\nr2\n");
    http_reply r;
    req(&f, "GET", "?since=0", NULL, &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "next")), 2);
    assert_int_equal(json_integer_value(json_object_get(r.json, "missed")), 0);
    char *items = json_dumps(json_object_get(r.json, "data"), JSON_COMPACT);
    assert_string_equal(items, "[\"r1\",\"r2\"]");
    free(items);
    json_t *rec = json_array_get(json_object_get(r.json, "records"), 1);
    assert_int_equal(json_integer_value(json_object_get(rec, "seq")), 2);
    assert_string_equal(json_string_value(json_object_get(rec, "kind")), "line");
    assert_true(json_integer_value(json_object_get(rec, "time_ns")) > 0);
    http_reply_clear(&r);

    /* the partial line is never part of a cursor read; limit */
    post_text(&f, "r3\npart");
    req(&f, "GET", "?since=0&limit=2", NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 2);
    assert_int_equal(json_integer_value(json_object_get(r.json, "next")), 2);
    http_reply_clear(&r);
    req(&f, "GET", "?since=2", NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 1);
    assert_int_equal(json_integer_value(json_object_get(r.json, "next")), 3);
    http_reply_clear(&r);

    /* nothing new: a long-poll times out empty, next unchanged */
    req(&f, "GET", "?since=3&wait=100", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 0);
    assert_int_equal(json_integer_value(json_object_get(r.json, "next")), 3);
    http_reply_clear(&r);

    /* a long-poll wakes when a record arrives */
    pthread_t t;
    delayed_post d = {&f, "woke\n"};
    assert_int_equal(pthread_create(&t, NULL, post_later, &d), 0);
    req(&f, "GET", "?since=3&wait=20000", NULL, &r);
    pthread_join(t, NULL);
    json_t *recs = json_object_get(r.json, "records");
    assert_int_equal(json_array_size(recs), 1);
    /* "part" was the partial line: the post completed it as "partwoke" */
    assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 0), "text")),
                        "partwoke");
    http_reply_clear(&r);

    /* records rotated out before a slow reader came back are counted */
    post_text(&f, "a\nb\nc\nd\n");
    req(&f, "GET", "?since=1", NULL, &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "missed")), 4);
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 3);
    assert_int_equal(json_integer_value(json_object_get(r.json, "next")), 8);
    http_reply_clear(&r);
    /* a cursor from a former life of the server reads from the oldest kept */
    req(&f, "GET", "?since=1000", NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 3);
    http_reply_clear(&r);
    /* after a clear, the missed records are reported once, then nothing */
    req(&f, "DELETE", "", NULL, &r);
    http_reply_clear(&r);
    req(&f, "GET", "?since=8", NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 0);
    http_reply_clear(&r);
    req(&f, "GET", "?since=5&wait=50", NULL, &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "missed")), 3);
    assert_int_equal(json_integer_value(json_object_get(r.json, "next")), 8);
    http_reply_clear(&r);
    ss_host_server_free(f.srv);
}

/* An event stream read until `want` records arrived. */
typedef struct sse_reader {
    char buf[1 << 18]; /* a few events of 60 KB records */
    size_t len;
    size_t want;
    uint64_t ids[256]; /* the seq of each id EPOCH-SEQ */
    uint64_t epoch;
    size_t n_ids;
    uint64_t missed;
    bool saw_missed;
} sse_reader;

static void sse_parse(sse_reader *s)
{
    char *end;
    while ((end = strstr(s->buf, "\n\n"))) {
        *end = '\0';
        char *id = strstr(s->buf, "id: ");
        char *missed = strstr(s->buf, "event: missed");
        if (missed) {
            char *m = strstr(s->buf, "\"missed\":");
            s->missed = strtoull(m + 9, NULL, 10);
            s->saw_missed = true;
        } else if (id && s->n_ids < 256) {
            char *dash;
            s->epoch = strtoull(id + 4, &dash, 10);
            assert_int_equal(*dash, '-');
            s->ids[s->n_ids++] = strtoull(dash + 1, NULL, 10);
            assert_non_null(strstr(s->buf, "event: record\ndata: {\"seq\":"));
        }
        size_t used = (size_t)(end + 2 - s->buf);
        memmove(s->buf, end + 2, s->len - used + 1);
        s->len -= used;
    }
}

static size_t sse_collect(char *p, size_t size, size_t n, void *cls)
{
    sse_reader *s = cls;
    size_t add = size * n;
    if (s->len + add >= sizeof(s->buf))
        return 0;
    memcpy(s->buf + s->len, p, add);
    s->len += add;
    s->buf[s->len] = '\0';
    sse_parse(s);
    return s->n_ids >= s->want ? 0 : add; /* 0 ends the transfer */
}

static void sse_read(fixture *f, const char *query, const char *last_id, size_t want, sse_reader *s)
{
    memset(s, 0, sizeof(*s));
    s->want = want;
    char url[256], hdr[64];
    snprintf(url, sizeof(url), "%s-events%s", f->url, query);
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    if (last_id) {
        snprintf(hdr, sizeof(hdr), "Last-Event-ID: %s", last_id);
        hdrs = curl_slist_append(hdrs, hdr);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sse_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    CURLcode rc = curl_easy_perform(h);
    assert_int_equal(rc, CURLE_WRITE_ERROR); /* we ended it, having enough */
    long status;
    char *ctype = NULL;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
    assert_int_equal(status, 200);
    assert_string_equal(ctype, "text/event-stream");
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
}

static void test_events_resume(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 5);
    post_text(&f, "e1\ne2\ne3\n");
    sse_reader s;
    sse_read(&f, "", NULL, 3, &s);
    assert_int_equal(s.n_ids, 3);
    assert_int_equal(s.ids[0], 1);
    assert_int_equal(s.ids[2], 3);
    /* reconnect after id 2 (as if 3 had not arrived): exactly 3, then live records */
    pthread_t t;
    delayed_post d = {&f, "e4\n"};
    assert_int_equal(pthread_create(&t, NULL, post_later, &d), 0);
    sse_read(&f, "", "2", 2, &s);
    pthread_join(t, NULL);
    assert_false(s.saw_missed);
    assert_int_equal(s.n_ids, 2);
    assert_int_equal(s.ids[0], 3);
    assert_int_equal(s.ids[1], 4);
    /* Last-Event-ID wins over since= */
    sse_read(&f, "?since=0", "3", 1, &s);
    assert_int_equal(s.ids[0], 4);
    sse_read(&f, "?since=1", NULL, 1, &s);
    assert_int_equal(s.ids[0], 2);
    /* rotated out while away: a missed event first */
    post_text(&f, "e5\ne6\ne7\ne8\n");
    sse_read(&f, "", "1", 5, &s);
    assert_true(s.saw_missed);
    assert_int_equal(s.missed, 2);
    assert_int_equal(s.ids[0], 4);
    assert_int_equal(s.ids[4], 8);

    http_reply r;
    req(&f, "GET", "-events?since=x", NULL, &r);
    assert_int_equal(r.status, 400);
    http_reply_clear(&r);
    ss_host_server_free(f.srv);
}

/* A client that starts from nothing (since=0, an event stream without
 * Last-Event-ID) is not told that records which rotated out before it came
 * were missed; a cursor of another life of the server (another epoch) starts
 * again from the oldest record kept, and the epoch is in the health route,
 * cursor answers and event ids. */
static void test_fresh_cursor_and_epoch(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 3);
    post_text(&f, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n");
    json_int_t epoch = health_int(&f, "epoch");
    assert_true(epoch > 0);
    http_reply r;
    req(&f, "GET", "?since=0", NULL, &r);
    assert_int_equal(json_integer_value(json_object_get(r.json, "missed")), 0);
    assert_int_equal(json_integer_value(json_object_get(r.json, "epoch")), epoch);
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 3);
    http_reply_clear(&r);
    req(&f, "GET", "?since=2", NULL, &r); /* a real cursor: 3 to 7 were missed */
    assert_int_equal(json_integer_value(json_object_get(r.json, "missed")), 5);
    http_reply_clear(&r);
    char suffix[96];
    snprintf(suffix, sizeof(suffix), "?since=9&epoch=%lld", (long long)epoch);
    req(&f, "GET", suffix, NULL, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 1);
    http_reply_clear(&r);
    snprintf(suffix, sizeof(suffix), "?since=9&epoch=%lld", (long long)epoch + 1);
    req(&f, "GET", suffix, NULL, &r);
    json_t *recs = json_object_get(r.json, "records");
    assert_int_equal(json_array_size(recs), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(recs, 0), "seq")), 8);
    http_reply_clear(&r);
    sse_reader *s = malloc(sizeof(*s));
    sse_read(&f, "", NULL, 3, s);
    assert_false(s->saw_missed);
    assert_int_equal(s->ids[0], 8);
    assert_int_equal(s->epoch, (uint64_t)epoch);
    char id[64];
    snprintf(id, sizeof(id), "%lld-9", (long long)epoch);
    sse_read(&f, "", id, 1, s);
    assert_int_equal(s->ids[0], 10);
    snprintf(id, sizeof(id), "%lld-9", (long long)epoch + 1);
    sse_read(&f, "", id, 3, s);
    assert_int_equal(s->ids[0], 8);
    free(s);
    ss_host_server_free(f.srv);
}

/* Large records: a cursor read's answer and the event stream's buffer stay
 * bounded, and nothing is skipped or repeated across the pieces. */
static void test_large_reads_are_bounded(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 1000);
    enum { N = 100, LEN = 60000 };
    char *text = malloc(LEN + 2);
    for (int i = 0; i < N; i++) {
        memset(text, 'a' + i % 26, LEN);
        text[LEN] = '\n';
        text[LEN + 1] = '\0';
        post_text(&f, text);
    }
    free(text);
    /* Each answer holds about 8 MiB of JSON, built and parsed under the
     * sanitizers on a loaded machine (both sides grow their buffers by
     * doubling, so the cost is linear): its wait is bounded by 120 s, not the
     * default 30 s, and still within the suite's 300 s. */
    const http_opts big = {.timeout_ms = 120000};
    uint64_t since = 0;
    int reads = 0, got = 0;
    while (got < N && reads < N) {
        char url[512];
        snprintf(url, sizeof(url), "%s?since=%" PRIu64 "&limit=10000", f.url, since);
        http_reply r;
        assert_int_equal(http_request("GET", url, NULL, 0, &big, &r), 0);
        assert_int_equal(r.status, 200);
        json_t *recs = json_object_get(r.json, "records");
        assert_true(json_array_size(recs) >= 1);
        assert_true(r.len < 9u << 20); /* 4 MiB of text, twice (data, records) */
        for (size_t i = 0; i < json_array_size(recs); i++) {
            json_t *rec = json_array_get(recs, i);
            assert_int_equal(json_integer_value(json_object_get(rec, "seq")), got + 1 + (int)i);
            json_t *t = json_object_get(rec, "text");
            assert_int_equal(json_string_length(t), LEN);
            assert_int_equal(json_string_value(t)[0], 'a' + (got + (int)i) % 26);
        }
        got += (int)json_array_size(recs);
        since = (uint64_t)json_integer_value(json_object_get(r.json, "next"));
        assert_int_equal(since, got);
        http_reply_clear(&r);
        reads++;
    }
    assert_int_equal(got, N);
    assert_true(reads > 1);
    sse_reader *s = malloc(sizeof(*s));
    sse_read(&f, "?since=95", NULL, 5, s);
    assert_int_equal(s->ids[0], 96);
    assert_int_equal(s->ids[4], 100);
    free(s);
    ss_host_server_free(f.srv);
}

static void test_token(void **state_)
{
    (void)state_;
    char path[256];
    snprintf(path, sizeof(path), "%s/token", tmpdir);
    FILE *fp = fopen(path, "w");
    fputs("s3cret-token  \nignored second line\n", fp);
    fclose(fp);
    fixture f;
    ss_host_server_opts o = {.listen = "127.0.0.1:0", .token_file = path};
    start(&f, &o, "http");
    const char *suffixes[] = {"", "-state?state=closed", "-health", "-events"};
    http_reply r;
    for (size_t i = 0; i < 4; i++) {
        req(&f, "GET", suffixes[i], NULL, &r);
        assert_int_equal(r.status, 401);
        assert_string_equal(http_message(&r), "missing or wrong bearer token");
        http_reply_clear(&r);
    }
    char url[256];
    snprintf(url, sizeof(url), "%s/", f.base);
    assert_int_equal(http_request("GET", url, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 401);
    http_reply_clear(&r);

    const char *wrong[] = {"Authorization: Bearer s3cret-toke",
                           "Authorization: Bearer s3cret-tokenX",
                           "Authorization: Basic s3cret-token", "Authorization: Bearer "};
    const char *body = "{\"type\":\"str\",\"data\":{\"value\":\"x\\n\"}}";
    for (size_t i = 0; i < 4; i++) {
        http_opts ho = {.headers = {wrong[i], NULL}};
        assert_int_equal(http_request("POST", f.url, body, strlen(body), &ho, &r), 0);
        assert_int_equal(r.status, 401);
        http_reply_clear(&r);
    }
    http_opts right = {.headers = {"Authorization: Bearer s3cret-token", NULL}};
    assert_int_equal(http_request("POST", f.url, body, strlen(body), &right, &r), 0);
    assert_int_equal(r.status, 201);
    http_reply_clear(&r);
    /* the token rides in the URL only for the page and the event stream */
    snprintf(url, sizeof(url), "%s?token=s3cret-token", f.url);
    assert_int_equal(http_request("GET", url, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 401);
    http_reply_clear(&r);
    snprintf(url, sizeof(url), "%s-events?token=s3cret-token", f.url);
    http_opts brief = {.timeout_ms = 1500}; /* the stream never ends by itself */
    http_request("GET", url, NULL, 0, &brief, &r);
    assert_int_equal(r.status, 200);
    http_reply_clear(&r);
    snprintf(url, sizeof(url), "%s/?token=s3cret-token", f.base);
    assert_int_equal(http_request("GET", url, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    http_reply_clear(&r);
    ss_host_server_free(f.srv);

    fp = fopen(path, "w");
    fputs("\n", fp);
    fclose(fp);
    ss_host_server *srv = NULL;
    assert_int_equal(ss_host_server_new(&srv, &o), -EINVAL);
}

static void test_tls(void **state_)
{
    (void)state_;
    char cert[256], key[256];
    assert_int_equal(ss_test_make_cert(tmpdir, cert, key, sizeof(cert)), 0);
    fixture f;
    ss_host_server_opts o = {.listen = "127.0.0.1:0", .cert_file = cert, .key_file = key};
    start(&f, &o, "https");
    http_opts tls = {.cainfo = cert};
    const char *body = "{\"type\":\"str\",\"data\":{\"value\":\"secret line\\n\"}}";
    http_reply r;
    assert_int_equal(http_request("POST", f.url, body, strlen(body), &tls, &r), 0);
    assert_int_equal(r.status, 201);
    http_reply_clear(&r);
    assert_int_equal(http_request("GET", f.url, NULL, 0, &tls, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "data"), 0)),
                        "secret line");
    http_reply_clear(&r);
    /* plain HTTP gets no answer from a TLS server; an unknown CA is refused */
    char plain[256];
    snprintf(plain, sizeof(plain), "http://127.0.0.1:%u/sync-stream", ss_host_server_port(f.srv));
    http_opts quick = {.timeout_ms = 5000};
    http_request("GET", plain, NULL, 0, &quick, &r);
    assert_true(r.status == 0 || r.status >= 400);
    http_reply_clear(&r);
    assert_int_not_equal(http_request("GET", f.url, NULL, 0, NULL, &r), 0);
    http_reply_clear(&r);
    ss_host_server_free(f.srv);

    /* a key that is not PEM: the server does not start */
    ss_host_server *srv = NULL;
    ss_host_server_opts bad = {.listen = "127.0.0.1:0", .cert_file = cert, .key_file = cert};
    assert_int_equal(ss_host_server_new(&srv, &bad), -EPROTO);
}

#define MIRRORS 8
#define LINES_PER_MIRROR 2000
#define LINES_PER_BATCH 50

typedef struct mirror_job {
    fixture *f;
    int id;
    int failures;
} mirror_job;

static uint32_t checksum(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void *run_mirror(void *arg)
{
    mirror_job *m = arg;
    char mirror_id[32], source[32];
    snprintf(mirror_id, sizeof(mirror_id), "mirror-%d", m->id);
    snprintf(source, sizeof(source), "m%d", m->id);
    int line = 0;
    for (int batch = 1; line < LINES_PER_MIRROR; batch++) {
        json_t *items = json_array();
        for (int k = 0; k < LINES_PER_BATCH; k++, line++) {
            char payload[96], text[128];
            /* lines of different lengths, some long, split across two items */
            int pad = (line * 7 + m->id) % 60;
            snprintf(payload, sizeof(payload), "m%d line %d %.*s", m->id, line, pad,
                     "............................................................");
            snprintf(text, sizeof(text), "%s %08x\n", payload, checksum(payload, strlen(payload)));
            size_t half = strlen(text) / 2;
            json_array_append_new(
                items, json_pack("{s:s, s:{s:s%}}", "type", "str", "data", "value", text, half));
            json_array_append_new(
                items, json_pack("{s:s, s:{s:s}}", "type", "str", "data", "value", text + half));
        }
        json_t *b = json_pack("{s:s, s:s, s:i, s:s, s:o}", "type", "batch", "mirror", mirror_id,
                              "batch", batch, "source", source, "items", items);
        char *body = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        /* every other batch is sent twice, as a retry after a lost answer would */
        for (int send = 0; send < 1 + (batch % 2); send++) {
            http_reply r;
            if (http_request("POST", m->f->url, body, strlen(body), NULL, &r) != 0 ||
                r.status != 201)
                m->failures++;
            http_reply_clear(&r);
        }
        free(body);
    }
    return NULL;
}

static void test_concurrent_mirrors(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, MIRRORS * LINES_PER_MIRROR);
    pthread_t threads[MIRRORS];
    mirror_job jobs[MIRRORS];
    for (int i = 0; i < MIRRORS; i++) {
        jobs[i] = (mirror_job){&f, i, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, run_mirror, &jobs[i]), 0);
    }
    for (int i = 0; i < MIRRORS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    /* read everything back by cursor: every line once, whole, in each mirror's
     * order, under its own source */
    int next_line[MIRRORS] = {0};
    uint64_t since = 0;
    size_t total = 0;
    for (;;) {
        char suffix[64];
        snprintf(suffix, sizeof(suffix), "?since=%" PRIu64 "&limit=10000", since);
        http_reply r;
        req(&f, "GET", suffix, NULL, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_integer_value(json_object_get(r.json, "missed")), 0);
        json_t *recs = json_object_get(r.json, "records");
        size_t i;
        json_t *rec;
        json_array_foreach(recs, i, rec)
        {
            const char *text = json_string_value(json_object_get(rec, "text"));
            const char *src = json_string_value(json_object_get(rec, "source"));
            int m, line;
            assert_int_equal(sscanf(text, "m%d line %d", &m, &line), 2);
            assert_true(m >= 0 && m < MIRRORS);
            char want_src[16];
            snprintf(want_src, sizeof(want_src), "m%d", m);
            assert_string_equal(src, want_src);
            assert_int_equal(line, next_line[m]);
            next_line[m]++;
            const char *sum = strrchr(text, ' ');
            char hex[16];
            snprintf(hex, sizeof(hex), "%08x", checksum(text, (size_t)(sum - text)));
            assert_string_equal(sum + 1, hex);
        }
        total += json_array_size(recs);
        uint64_t next = (uint64_t)json_integer_value(json_object_get(r.json, "next"));
        size_t got = json_array_size(recs);
        http_reply_clear(&r);
        if (got == 0)
            break;
        since = next;
    }
    assert_int_equal(total, MIRRORS * LINES_PER_MIRROR);
    for (int i = 0; i < MIRRORS; i++)
        assert_int_equal(next_line[i], LINES_PER_MIRROR);
    ss_host_server_free(f.srv);
}

/* A raw TCP connection to the server from 127.0.0.(host), for what an HTTP
 * library would not send. */
static int raw_connect_from(fixture *f, int host)
{
    int fd = http_raw_connect(ss_host_server_port(f->srv), host, 20, 0);
    assert_true(fd >= 0);
    return fd;
}

static int raw_connect(fixture *f)
{
    return raw_connect_from(f, 1);
}

/* Read until the peer closes (or 20 s pass: then -1). Returns the bytes read. */
static ssize_t read_to_close(int fd, char *buf, size_t size)
{
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, size - 1 - got);
        if (n == 0)
            break;
        if (n < 0)
            return errno == ECONNRESET ? (ssize_t)got : -1;
        got += (size_t)n;
        if (got == size - 1)
            break;
    }
    buf[got] = '\0';
    return (ssize_t)got;
}

/* Peers that die mid-request, send bytes that are not UTF-8, or lines longer
 * than max_line: nothing is stored from the dead, nothing is lost from the long. */
static void test_hostile_peers(void **state_)
{
    (void)state_;
    fixture f;
    ss_host_server_opts o = {.listen = "127.0.0.1:0", .maxlen = 100, .max_line = 1000};
    start(&f, &o, "http");
    /* half a body, then the client is gone */
    int fd = raw_connect(&f);
    const char *half = "POST /sync-stream HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
                       "{\"type\":\"str\",\"data\":{\"value\":\"never\\n";
    assert_true(write(fd, half, strlen(half)) == (ssize_t)strlen(half));
    close(fd);
    /* garbage instead of HTTP */
    fd = raw_connect(&f);
    const char *junk = "\x16\x03\x01garbage\r\n\r\n";
    assert_true(write(fd, junk, strlen(junk)) == (ssize_t)strlen(junk));
    char buf[4096];
    assert_true(read_to_close(fd, buf, sizeof(buf)) >= 0);
    close(fd);
    /* invalid UTF-8 inside the JSON: refused as bad JSON */
    http_reply r;
    const char bad_utf8[] = "{\"type\":\"str\",\"data\":{\"value\":\"\xff\xfe\\n\"}}";
    assert_int_equal(http_request("POST", f.url, bad_utf8, strlen(bad_utf8), NULL, &r), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(http_message(&r), "invalid JSON"));
    http_reply_clear(&r);
    /* a NUL inside the text, as Python's json.dumps writes it */
    post(&f, "{\"type\":\"str\",\"data\":{\"value\":\"a\\u0000b\\n\"}}", 201);
    /* a line of 2500 bytes with max_line 1000: three records, two continued */
    char *longline = malloc(2600);
    memset(longline, 'L', 2500);
    longline[2500] = '\0';
    post_text(&f, longline);
    post_text(&f, "\n");
    req(&f, "GET", "?since=0", NULL, &r);
    json_t *recs = json_object_get(r.json, "records");
    assert_int_equal(json_array_size(recs), 4);
    json_t *first = json_array_get(recs, 0);
    assert_int_equal(json_string_length(json_object_get(first, "text")), 3);
    assert_memory_equal(json_string_value(json_object_get(first, "text")), "a\0b", 3);
    size_t total = 0;
    for (size_t i = 1; i < 4; i++) {
        json_t *rec = json_array_get(recs, i);
        total += json_string_length(json_object_get(rec, "text"));
        assert_int_equal(json_is_true(json_object_get(rec, "continued")), i < 3);
    }
    assert_int_equal(total, 2500);
    http_reply_clear(&r);
    free(longline);
    ss_host_server_free(f.srv);
}

/* Connections are bounded in number and in idle time. */
static void test_connection_limits(void **state_)
{
    (void)state_;
    fixture f;
    ss_host_server_opts o = {.listen = "127.0.0.1:0", .max_connections = 2, .timeout_s = 1};
    start(&f, &o, "http");
    /* an idle connection is closed by the server (not by us: no timing asserted) */
    int idle = raw_connect(&f);
    char buf[4096];
    assert_int_equal(read_to_close(idle, buf, sizeof(buf)), 0);
    close(idle);
    /* two connections held open, the third is refused at once (once the idle
     * one's slot is free: the server releases it after closing the socket,
     * so both are tried again until both are served). From three addresses:
     * one address may not take the last half of the slots. */
    const char *get = "GET /sync-stream-health HTTP/1.1\r\nHost: x\r\n\r\n";
    int a = -1, b = -1;
    bool served = false;
    for (int i = 0; i < 100 && !served; i++) {
        if (i > 0) {
            close(a);
            close(b);
            usleep(50 * 1000);
        }
        a = raw_connect(&f);
        b = raw_connect_from(&f, 2);
        served = send(a, get, strlen(get), MSG_NOSIGNAL) > 0 &&
                 send(b, get, strlen(get), MSG_NOSIGNAL) > 0 && read(a, buf, sizeof(buf)) > 0 &&
                 read(b, buf, sizeof(buf)) > 0;
    }
    assert_true(served);
    int c = raw_connect_from(&f, 3);
    ssize_t n = write(c, get, strlen(get));
    (void)n;
    assert_int_equal(read_to_close(c, buf, sizeof(buf)), 0);
    close(c);
    close(a);
    close(b);
    /* a body trickled a byte at a time, never idle for a whole timeout: cut
     * once it has taken 4 timeouts (the loop gives it up to 60 s) */
    int trickle = -1;
    for (int i = 0; i < 100 && trickle < 0; i++) {
        trickle = raw_connect(&f);
        const char *head = "POST /sync-stream HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{";
        if (write(trickle, head, strlen(head)) < 0 || read(trickle, buf, 0) < 0) {
            close(trickle);
            trickle = -1;
            usleep(50 * 1000); /* the limited slots are still closing */
        }
    }
    bool cut = false;
    for (int i = 0; i < 120 && !cut; i++) {
        usleep(500 * 1000);
        cut = send(trickle, " ", 1, MSG_NOSIGNAL) < 0;
        if (!cut) {
            struct pollfd pfd = {.fd = trickle, .events = POLLIN};
            cut = poll(&pfd, 1, 0) == 1; /* closed by the server: readable (EOF) */
        }
    }
    assert_true(cut);
    close(trickle);
    expect_served_again(&f);
    ss_host_server_free(f.srv);
}

/* A body with more JSON values or deeper nesting than any legal request is
 * refused by the pre-scan before jansson builds a tree (the tree of a body of
 * many small values is about 20 times the body); ROUTE-state has a 4 KiB cap;
 * big bodies decoded at once wait for one of the few slots, and all get their
 * answer. */
static void test_json_bombs(void **state_)
{
    (void)state_;
    fixture f;
    ss_host_server_opts o = {.listen = "127.0.0.1:0", .maxlen = 100};
    start(&f, &o, "http");
    size_t n = 250000; /* values: over the limit of 200 000 */
    char *bomb = malloc(2 * n + 16);
    size_t at = (size_t)snprintf(bomb, 16, "{\"x\":[");
    for (size_t i = 0; i < n; i++) {
        bomb[at++] = '0';
        bomb[at++] = i + 1 < n ? ',' : ']';
    }
    bomb[at++] = '}';
    http_reply r;
    assert_int_equal(http_request("POST", f.url, bomb, at, NULL, &r), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(http_message(&r), "more than 200000 values"));
    http_reply_clear(&r);
    free(bomb);
    /* commas inside strings are text, not values */
    char *commas = malloc(n + 64);
    at = (size_t)snprintf(commas, 64, "{\"type\":\"str\",\"data\":{\"value\":\"");
    memset(commas + at, ',', n);
    at += n;
    at += (size_t)snprintf(commas + at, 64, "\\n\"}}");
    assert_int_equal(http_request("POST", f.url, commas, at, NULL, &r), 0);
    assert_int_equal(r.status, 201);
    http_reply_clear(&r);
    free(commas);
    const char *deep = "{\"type\":\"str\",\"data\":{\"value\":\"x\",\"a\":[[[[[[[[1]]]]]]]]}}";
    assert_int_equal(http_request("POST", f.url, deep, strlen(deep), NULL, &r), 0);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(http_message(&r), "nested"));
    http_reply_clear(&r);
    /* ROUTE-state: a legal body fits in 4 KiB; a bigger one is refused */
    char state_body[6000];
    int len = snprintf(state_body, sizeof(state_body),
                       "{\"state\":\"closed\",\"value\":true,\"pad\":\"%05000d\"}", 0);
    char url[256];
    snprintf(url, sizeof(url), "%s-state", f.url);
    assert_int_equal(http_request("POST", url, state_body, (size_t)len, NULL, &r), 0);
    assert_int_equal(r.status, 413);
    http_reply_clear(&r);
    expect_state(&f, "closed", "false");
    const char *state_bomb = "{\"state\":\"closed\",\"value\":[[[[[[[[[true]]]]]]]]]}";
    assert_int_equal(http_request("POST", url, state_bomb, strlen(state_bomb), NULL, &r), 0);
    assert_int_equal(r.status, 400);
    http_reply_clear(&r);
    expect_state(&f, "closed", "false");
    ss_host_server_free(f.srv);
}

typedef struct big_post {
    fixture *f;
    long status;
} big_post;

static void *run_big_post(void *arg)
{
    big_post *p = arg;
    size_t n = 1u << 20; /* over the 256 KiB of a big body */
    char *body = malloc(n + 64);
    size_t at = (size_t)snprintf(body, 64, "{\"type\":\"error\",\"data\":\"");
    memset(body + at, 'e', n);
    at += n;
    at += (size_t)snprintf(body + at, 64, "\"}");
    http_reply r;
    if (http_request("POST", p->f->url, body, at, NULL, &r) == 0)
        p->status = r.status;
    http_reply_clear(&r);
    free(body);
    return NULL;
}

static void test_big_bodies_at_once(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 100);
    big_post posts[6];
    pthread_t t[6];
    for (int i = 0; i < 6; i++) {
        posts[i] = (big_post){.f = &f};
        assert_int_equal(pthread_create(&t[i], NULL, run_big_post, &posts[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(posts[i].status, 201);
    }
    assert_int_equal(health_int(&f, "records"), 6);
    ss_host_server_free(f.srv);
}

/* Slow clients cannot hold every slot: one address gets max_per_ip
 * connections, and a request whose headers trickle in (never idle long enough
 * for the idle timeout) is cut once the header deadline (timeout_s) passes. */
static void test_slow_clients(void **state_)
{
    (void)state_;
    fixture f;
    ss_host_server_opts o = {
        .listen = "127.0.0.1:0", .max_connections = 10, .max_per_ip = 2, .timeout_s = 1};
    start(&f, &o, "http");
    int a = raw_connect(&f), b = raw_connect(&f);
    const char *head = "GET /sync-stream-health HTTP/1.1\r\nHost: x\r\n";
    assert_true(write(a, head, strlen(head)) > 0);
    assert_true(write(b, head, strlen(head)) > 0);
    /* a third from the same address is closed without an answer */
    char buf[4096];
    int c = raw_connect(&f);
    const char *get = "GET /sync-stream-health HTTP/1.1\r\nHost: x\r\n\r\n";
    ssize_t w = write(c, get, strlen(get));
    (void)w;
    assert_int_equal(read_to_close(c, buf, sizeof(buf)), 0);
    close(c);
    /* a and b trickle header lines, never idle for 1 s: both are cut (the
     * loop gives them up to 30 s) */
    bool cut_a = false, cut_b = false;
    for (int i = 0; i < 100 && !(cut_a && cut_b); i++) {
        usleep(300 * 1000);
        int *fds[2] = {&a, &b};
        bool *cut[2] = {&cut_a, &cut_b};
        for (int k = 0; k < 2; k++) {
            if (*cut[k])
                continue;
            struct pollfd pfd = {.fd = *fds[k], .events = POLLIN};
            *cut[k] = send(*fds[k], "X-a: b\r\n", 8, MSG_NOSIGNAL) < 0 || poll(&pfd, 1, 0) == 1;
        }
    }
    assert_true(cut_a && cut_b);
    close(a);
    close(b);
    expect_served_again(&f);
    ss_host_server_free(f.srv);
}

/* Python's json.dumps writes surrogateescape text (file names, argv, a
 * subprocess's output) as lone surrogate escapes: they are stored as U+FFFD,
 * as the Python server accepts them, not refused. */
static void test_lone_surrogates(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 10);
    post(&f, "{\"type\":\"str\",\"data\":{\"value\":\"file-\\udcff.txt\\n\"}}", 201);
    post(&f,
         "{\"type\":\"error\",\"data\":{\"/is_syncsdata\":true,\"/type\":\"GroupedMessage\","
         "\"type\":\"error\",\"data\":[\"x\\ud800\",\"\\ud83d\\ude00\"]}}",
         201);
    expect_view(&f, -1,
                "[\"file-\xef\xbf\xbd.txt\",{\"/is_syncsdata\":true,\"/type\":"
                "\"GroupedMessage\",\"type\":\"error\",\"data\":[\"x\xef\xbf\xbd\","
                "\"\xf0\x9f\x98\x80\"]}]");
    ss_host_server_free(f.srv);
}

/* Cross-site requests against a server on the user's machine: a POST must be
 * JSON (415 otherwise, so a page cannot send a simple text/plain one), a
 * request from another origin may only read, and a server on loopback without
 * a token answers only a Host that is an IP address or localhost (DNS
 * rebinding). Clients that send no Origin, as every CLI client, are served. */
static void test_cross_site(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 10);
    const char *body = "{\"type\":\"str\",\"data\":{\"value\":\"x\\n\"}}";
    const char *stop = "{\"state\":\"closed\",\"value\":true}";
    char state_url[256];
    snprintf(state_url, sizeof(state_url), "%s-state", f.url);
    http_reply r;
    const char *types[] = {"text/plain", "application/x-www-form-urlencoded", "",
                           "application/jsonx"};
    for (size_t i = 0; i < 4; i++) {
        http_opts ho = {.content_type = types[i]};
        assert_int_equal(http_request("POST", f.url, body, strlen(body), &ho, &r), 0);
        assert_int_equal(r.status, 415);
        assert_non_null(strstr(http_message(&r), "application/json"));
        http_reply_clear(&r);
        assert_int_equal(http_request("POST", state_url, stop, strlen(stop), &ho, &r), 0);
        assert_int_equal(r.status, 415);
        http_reply_clear(&r);
    }
    http_opts charset = {.content_type = "Application/JSON; charset=utf-8"};
    assert_int_equal(http_request("POST", f.url, body, strlen(body), &charset, &r), 0);
    assert_int_equal(r.status, 201);
    http_reply_clear(&r);
    /* another origin: refused; our own: served */
    char own[200];
    snprintf(own, sizeof(own), "Origin: %s", f.base);
    http_opts evil = {.headers = {"Origin: http://evil.example", NULL}};
    http_opts same = {.headers = {own, NULL}};
    assert_int_equal(http_request("POST", state_url, stop, strlen(stop), &evil, &r), 0);
    assert_int_equal(r.status, 403);
    http_reply_clear(&r);
    assert_int_equal(http_request("DELETE", f.url, NULL, 0, &evil, &r), 0);
    assert_int_equal(r.status, 403);
    http_reply_clear(&r);
    expect_state(&f, "closed", "false");
    expect_view(&f, -1, "[\"x\"]");
    assert_int_equal(http_request("POST", f.url, body, strlen(body), &same, &r), 0);
    assert_int_equal(r.status, 201);
    http_reply_clear(&r);
    /* DNS rebinding: a name that is not localhost nor an address */
    char port_host[3][64];
    snprintf(port_host[0], 64, "Host: evil.example:%u", ss_host_server_port(f.srv));
    snprintf(port_host[1], 64, "Host: localhost:%u", ss_host_server_port(f.srv));
    snprintf(port_host[2], 64, "Host: [::1]:%u", ss_host_server_port(f.srv));
    long want[3] = {403, 200, 200};
    for (int i = 0; i < 3; i++) {
        http_opts ho = {.headers = {port_host[i], NULL}};
        assert_int_equal(http_request("GET", f.url, NULL, 0, &ho, &r), 0);
        assert_int_equal(r.status, want[i]);
        http_reply_clear(&r);
    }
    ss_host_server_free(f.srv);
    /* with a token, any Host name (the token is the defence) */
    ss_host_server_opts o = {.listen = "127.0.0.1:0", .token = "t0k"};
    start(&f, &o, "http");
    http_opts named = {.headers = {port_host[0], "Authorization: Bearer t0k", NULL}};
    assert_int_equal(http_request("GET", f.url, NULL, 0, &named, &r), 0);
    assert_int_equal(r.status, 200);
    http_reply_clear(&r);
    ss_host_server_free(f.srv);
}

/* Assert that r has the header name with the value want. */
static void expect_header(const http_reply *r, const char *name, const char *want)
{
    char *v = http_header(r, name);
    if (!v || strcmp(v, want) != 0)
        fail_msg("header %s: got '%s', want '%s'", name, v ? v : "(none)", want);
    free(v);
}

/* HTTP details: a 405 says what is allowed in an Allow header; HEAD works on
 * the page and the health route; every answer has nosniff, and the page (whose
 * URL may carry the token) a CSP and no referrer. */
static void test_http_details(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 10);
    http_reply r;
    req(&f, "PUT", "", "{}", &r);
    assert_int_equal(r.status, 405);
    expect_header(&r, "Allow", "GET, POST, DELETE");
    expect_header(&r, "X-Content-Type-Options", "nosniff");
    http_reply_clear(&r);
    req(&f, "POST", "-health", "{}", &r);
    assert_int_equal(r.status, 405);
    expect_header(&r, "Allow", "GET, HEAD");
    http_reply_clear(&r);
    req(&f, "HEAD", "-health", NULL, &r);
    assert_int_equal(r.status, 200);
    expect_header(&r, "Content-Type", "application/json");
    http_reply_clear(&r);
    char url[256];
    snprintf(url, sizeof(url), "%s/", f.base);
    assert_int_equal(http_request("HEAD", url, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    http_reply_clear(&r);
    assert_int_equal(http_request("GET", url, NULL, 0, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    expect_header(&r, "Referrer-Policy", "no-referrer");
    expect_header(&r, "X-Content-Type-Options", "nosniff");
    char *csp = http_header(&r, "Content-Security-Policy");
    assert_non_null(csp);
    assert_non_null(strstr(csp, "default-src 'none'"));
    assert_non_null(strstr(csp, "connect-src 'self'"));
    free(csp);
    http_reply_clear(&r);
    ss_host_server_free(f.srv);
}

/* Names are compared whole: a NUL (\u0000, as JSON_ALLOW_NUL keeps it) inside
 * "type", "/type" or "batch" makes an unknown name, not the name before it. */
static void test_nul_in_names(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 10);
    const char *bodies[] = {
        "{\"type\":\"str\\u0000junk\",\"data\":{\"value\":\"nul-type\\n\"}}",
        "{\"type\":\"close\\u0000\"}",
        "{\"type\":\"error\",\"data\":{\"/is_syncsdata\":true,\"/type\":\"GroupedMessage\\u0000x\","
        "\"type\":\"error\",\"data\":[\"e\"]}}",
        "{\"type\":\"error\",\"data\":{\"/is_syncsdata\":true,\"/type\":\"GroupedMessage\","
        "\"type\":\"warning\\u0000\",\"data\":[\"e\"]}}",
        "{\"type\":\"batch\\u0000x\",\"mirror\":\"m\",\"batch\":1,\"items\":[{\"type\":\"str\","
        "\"data\":{\"value\":\"b\\n\"}}]}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        post(&f, bodies[i], 400);
    expect_view(&f, -1, "[]");
    ss_host_server_free(f.srv);
}

#define BASE_LINES 300

/* A Python-style mirror: one base-protocol POST per whole line. */
static void *run_base_mirror(void *arg)
{
    mirror_job *m = arg;
    for (int line = 0; line < BASE_LINES; line++) {
        char payload[96], text[128];
        snprintf(payload, sizeof(payload), "b%d line %d %.*s", m->id, line, (line * 5 + m->id) % 50,
                 "..................................................");
        snprintf(text, sizeof(text), "%s %08x\n", payload, checksum(payload, strlen(payload)));
        json_t *j = json_pack("{s:s, s:{s:s}}", "type", "str", "data", "value", text);
        char *body = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        http_reply r;
        if (http_request("POST", m->f->url, body, strlen(body), NULL, &r) != 0 || r.status != 201)
            m->failures++;
        http_reply_clear(&r);
        free(body);
    }
    return NULL;
}

/* Eight Python-style mirrors at once: whole lines per POST never mix, though
 * they share the one anonymous partial line. */
static void test_concurrent_base_mirrors(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, MIRRORS * BASE_LINES);
    pthread_t threads[MIRRORS];
    mirror_job jobs[MIRRORS];
    for (int i = 0; i < MIRRORS; i++) {
        jobs[i] = (mirror_job){&f, i, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, run_base_mirror, &jobs[i]), 0);
    }
    for (int i = 0; i < MIRRORS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_server_read(f.srv, SS_READ_ALL, &set), MIRRORS * BASE_LINES);
    int next_line[MIRRORS] = {0};
    for (size_t i = 0; i < set.count; i++) {
        const char *text = set.items[i].text;
        int m, line;
        assert_int_equal(sscanf(text, "b%d line %d", &m, &line), 2);
        assert_true(m >= 0 && m < MIRRORS);
        assert_int_equal(line, next_line[m]++);
        const char *sum = strrchr(text, ' ');
        char hex[16];
        snprintf(hex, sizeof(hex), "%08x", checksum(text, (size_t)(sum - text)));
        assert_string_equal(sum + 1, hex);
    }
    ss_records_clear(&set);
    ss_host_server_free(f.srv);
}

typedef struct blocked_get {
    char url[256];
    http_reply r;
    int rc;
} blocked_get;

static void *get_blocking(void *arg)
{
    blocked_get *b = arg;
    http_opts o = {.timeout_ms = 60000};
    b->rc = http_request("GET", b->url, NULL, 0, &o, &b->r);
    return NULL;
}

/* Freeing the server ends a long-poll and an event stream in progress. */
static void test_shutdown_ends_waits(void **state_)
{
    (void)state_;
    fixture f;
    start_plain(&f, 10);
    blocked_get poll_get, events_get;
    snprintf(poll_get.url, sizeof(poll_get.url), "%s?since=0&wait=60000", f.url);
    snprintf(events_get.url, sizeof(events_get.url), "%s-events", f.url);
    pthread_t t1, t2;
    assert_int_equal(pthread_create(&t1, NULL, get_blocking, &poll_get), 0);
    assert_int_equal(pthread_create(&t2, NULL, get_blocking, &events_get), 0);
    /* wait (bounded) until both requests are in: the server reads the buffer */
    usleep(300 * 1000);
    ss_host_server_free(f.srv);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    /* the long-poll was answered (503) or cut; the stream ended; neither hung */
    assert_true(poll_get.rc != CURLE_OPERATION_TIMEDOUT);
    assert_true(events_get.rc != CURLE_OPERATION_TIMEDOUT);
    http_reply_clear(&poll_get.r);
    http_reply_clear(&events_get.r);
}

static int group_setup(void **state_)
{
    (void)state_;
    /* raw sockets write to connections the server may have closed */
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
#ifdef SS_TEST_REDIS_STORE
    if (ss_test_redis_start(&redis) < 0)
        return -1;
#endif
    return ss_test_tmpdir_make(tmpdir);
}

static int group_teardown(void **state_)
{
    (void)state_;
    curl_global_cleanup();
#ifdef SS_TEST_REDIS_STORE
    ss_test_redis_remove(&redis);
#endif
    return ss_test_tmpdir_remove(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocol_example),
        cmocka_unit_test(test_messages_and_close),
        cmocka_unit_test(test_python_line_breaks),
        cmocka_unit_test(test_read_n_and_delete),
        cmocka_unit_test(test_state_routes),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_routes_and_methods),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_batches_exactly_once),
        cmocka_unit_test(test_since_and_long_poll),
        cmocka_unit_test(test_events_resume),
        cmocka_unit_test(test_fresh_cursor_and_epoch),
        cmocka_unit_test(test_large_reads_are_bounded),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_hostile_peers),
        cmocka_unit_test(test_connection_limits),
        cmocka_unit_test(test_json_bombs),
        cmocka_unit_test(test_big_bodies_at_once),
        cmocka_unit_test(test_slow_clients),
        cmocka_unit_test(test_lone_surrogates),
        cmocka_unit_test(test_cross_site),
        cmocka_unit_test(test_http_details),
        cmocka_unit_test(test_nul_in_names),
        cmocka_unit_test(test_concurrent_mirrors),
        cmocka_unit_test(test_concurrent_base_mirrors),
        cmocka_unit_test(test_shutdown_ends_waits),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
