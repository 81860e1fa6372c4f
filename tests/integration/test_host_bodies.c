/*
 * The host server against what an HTTP library would not send, over raw
 * sockets on 127.0.0.0/8: the request bodies held at once stay within the
 * body budget (60 clients from 60 addresses each hold an 8 MiB body and the
 * process's RSS is measured), a request whose body length can be read two
 * ways (request smuggling) is refused and its connection closed, every error
 * answer the server makes is JSON, and the ones libmicrohttpd makes itself
 * are exactly those docs/host-protocol.md lists.
 */
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "http_test.h"
#include "test.h"

/* A raw connection to port from 127.0.0.SRC, reads timing out after 20 s. */
static int connect_from(uint16_t port, int src)
{
    int fd = http_raw_connect(port, src, 20, 0);
    assert_true(fd >= 0);
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        assert_true(w > 0);
        c += w;
        n -= (size_t)w;
    }
}

/* Read until the peer closes; -1 when 20 s pass first (a server left
 * waiting). The bytes read are NUL-terminated in buf. */
static ssize_t read_to_close(int fd, char *buf, size_t size)
{
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, size - 1 - got);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            break;
        if (n < 0)
            return -1;
        got += (size_t)n;
        if (got == size - 1)
            break;
    }
    buf[got] = '\0';
    return (ssize_t)got;
}

/* One answer on a kept-alive connection: its head and Content-Length body in
 * buf (NUL-terminated). Returns its status. */
static int read_answer(int fd, char *buf, size_t size)
{
    size_t got = 0;
    char *end = NULL;
    while (!end) {
        ssize_t n = read(fd, buf + got, size - 1 - got);
        assert_true(n > 0);
        got += (size_t)n;
        buf[got] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    assert_non_null(cl);
    size_t want = (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10);
    assert_true(want < size);
    while (got < want) {
        ssize_t n = read(fd, buf + got, want - got);
        assert_true(n > 0);
        got += (size_t)n;
    }
    buf[got] = '\0';
    return atoi(buf + 9);
}

/* The value of header name in an answer's head, or "" (static buffer). */
static const char *answer_header(const char *answer, const char *name)
{
    static char value[256];
    char key[64];
    snprintf(key, sizeof(key), "\r\n%s:", name);
    const char *end = strstr(answer, "\r\n\r\n");
    const char *h = strcasestr(answer, key);
    value[0] = '\0';
    if (h && (!end || h < end)) {
        h += strlen(key);
        h += strspn(h, " ");
        snprintf(value, sizeof(value), "%.*s", (int)strcspn(h, "\r\n"), h);
    }
    return value;
}

/* An answer our code made: JSON {"message": "..."} with the headers every
 * answer of ours has. */
static void assert_our_json(const char *what, const char *answer)
{
    const char *body = strstr(answer, "\r\n\r\n");
    json_error_t jerr;
    json_t *j = body ? json_loads(body + 4, 0, &jerr) : NULL;
    if (!json_is_string(json_object_get(j, "message")) ||
        strcmp(answer_header(answer, "Content-Type"), "application/json") != 0 ||
        strcmp(answer_header(answer, "X-Content-Type-Options"), "nosniff") != 0)
        fail_msg("%s: not our JSON error answer: %.400s", what, answer);
    json_decref(j);
}

static size_t rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    size_t kib = 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %zu kB", &kib) == 1)
            break;
    fclose(f);
    assert_true(kib > 0);
    return kib;
}

/* Whether every byte sent on fds has reached the server (none queued or
 * unacknowledged on our side). */
static bool all_sent(const int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        int queued = 0;
        if (ioctl(fds[i], SIOCOUTQ, &queued) < 0 || queued > 0)
            return false;
    }
    return true;
}

static ss_host_server *start(const ss_host_server_opts *o)
{
    ss_host_server *srv;
    assert_int_equal(ss_host_server_new(&srv, o), 0);
    return srv;
}

#define CLIENTS 60
#define HELD_BODY ((8u << 20) - 1)
/* Two of the bodies. */
#define TEST_BUDGET (16u << 20)
/* What the held bodies may add to the RSS: the budget, the sanitizers' own
 * memory for it (measured: 25 MiB in all under ASan, 90 MiB under TSan), and
 * slack. Held whole, the 60 bodies add 480 MiB (550 MiB measured, ASan). */
#define RSS_GROWTH_MAX_KIB (200u << 10)

/*
 * Sixty authorized clients each send all but the last byte of an 8 MiB body
 * and wait. The bodies held at once stay within the budget (the RSS grows by
 * about the budget, not by 60 bodies); a client waiting for "100 Continue" is
 * refused at once; the others past the budget get 503 with Retry-After once
 * their body is in (read and dropped), those within it are stored, and the
 * budget is all given back.
 */
static void test_body_budget(void **state)
{
    (void)state;
    ss_host_server *srv =
        start(&(ss_host_server_opts){.listen = "127.0.0.1:0", .body_budget = TEST_BUDGET});
    uint16_t port = ss_host_server_port(srv);
    static const char json[] = "{\"type\":\"str\",\"data\":{\"value\":\"held\\n\"}}";
    char *body = malloc(HELD_BODY);
    assert_non_null(body);
    memset(body, ' ', HELD_BODY);
    memcpy(body, json, sizeof(json) - 1);
    char head[256];
    snprintf(head, sizeof(head),
             "POST /sync-stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: %u\r\n\r\n",
             HELD_BODY);
    char buf[8192];

    /* Every client's connection (and the server's thread for it) is set up
     * and has served one request before the baseline. */
    int fds[CLIENTS];
    static const char health[] = "GET /sync-stream-health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    for (int i = 0; i < CLIENTS; i++) {
        fds[i] = connect_from(port, 2 + i);
        send_all(fds[i], health, sizeof(health) - 1);
        assert_int_equal(read_answer(fds[i], buf, sizeof(buf)), 200);
    }
    size_t base = rss_kib();
    for (int i = 0; i < CLIENTS; i++) {
        send_all(fds[i], head, strlen(head));
        send_all(fds[i], body, HELD_BODY - 1);
    }

    /* Once all of it is in, the RSS is stable and bounded (bounded waits). */
    for (int i = 0; i < 200 && !all_sent(fds, CLIENTS); i++)
        usleep(50 * 1000);
    size_t peak = rss_kib(), steady = 0;
    for (int i = 0; i < 100 && steady < 3; i++) {
        usleep(100 * 1000);
        size_t now = rss_kib();
        steady = now < peak + 1024 ? steady + 1 : 0;
        peak = now > peak ? now : peak;
    }
    print_message("the RSS grew by %zu KiB with %d bodies of %u bytes sent\n", peak - base, CLIENTS,
                  HELD_BODY);
    if (peak > base + RSS_GROWTH_MAX_KIB)
        fail_msg("the RSS grew by %zu KiB with %d bodies of %u bytes held (at most %u KiB)",
                 peak - base, CLIENTS, HELD_BODY, RSS_GROWTH_MAX_KIB);

    /* A client that waits for "100 Continue" is answered without sending
     * its body. */
    int waiting = connect_from(port, 200);
    char expect[320];
    snprintf(expect, sizeof(expect),
             "POST /sync-stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Expect: 100-continue\r\nContent-Length: %u\r\n\r\n",
             HELD_BODY);
    send_all(waiting, expect, strlen(expect));
    assert_int_equal(read_answer(waiting, buf, sizeof(buf)), 503);
    assert_string_equal(answer_header(buf, "Retry-After"), "1");
    assert_our_json("503 before the body", buf);
    close(waiting);

    int stored = 0, refused = 0;
    for (int i = 0; i < CLIENTS; i++) {
        send_all(fds[i], " ", 1);
        assert_true(read_to_close(fds[i], buf, sizeof(buf)) > 0);
        close(fds[i]);
        int status = atoi(buf + 9);
        assert_our_json("a held body's answer", buf);
        if (status == 201) {
            stored++;
        } else {
            assert_int_equal(status, 503);
            assert_string_equal(answer_header(buf, "Retry-After"), "1");
            refused++;
        }
    }
    assert_int_equal(stored, TEST_BUDGET / HELD_BODY);
    assert_int_equal(refused, CLIENTS - TEST_BUDGET / HELD_BODY);

    /* All of the budget is back: as many bodies fit at once again. */
    for (int i = 0; i < (int)(TEST_BUDGET / HELD_BODY); i++) {
        fds[i] = connect_from(port, 2 + i);
        send_all(fds[i], head, strlen(head));
        send_all(fds[i], body, HELD_BODY - 1);
    }
    for (int i = 0; i < (int)(TEST_BUDGET / HELD_BODY); i++) {
        send_all(fds[i], " ", 1);
        assert_true(read_to_close(fds[i], buf, sizeof(buf)) > 0);
        assert_int_equal(atoi(buf + 9), 201);
        close(fds[i]);
    }
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_server_read(srv, SS_READ_ALL, &set), 2 * (TEST_BUDGET / HELD_BODY));
    ss_records_clear(&set);
    free(body);
    ss_host_server_free(srv);
}

/* One raw request from 127.0.0.1; everything the server sends until it
 * closes, in buf. Fails when the server leaves it waiting. */
static void exchange(uint16_t port, const char *request, size_t len, char *buf, size_t size)
{
    int fd = connect_from(port, 1);
    send_all(fd, request, len);
    ssize_t got = read_to_close(fd, buf, size);
    close(fd);
    if (got < 0)
        fail_msg("no answer within 20 s to: %.200s", request);
}

static int count_answers(const char *buf)
{
    int n = 0;
    for (const char *p = buf; (p = strstr(p, "HTTP/1.1 ")); p++)
        n++;
    return n;
}

/*
 * Request smuggling: a request whose body length can be read two ways
 * (Content-Length headers that differ, Content-Length with
 * Transfer-Encoding, a transfer coding other than chunked) is refused with a
 * JSON 400 (501 for a coding before chunked) and its connection closed, so
 * that nothing after it is read as a request. Content-Length headers that
 * agree, and chunked alone, are served.
 */
static void test_framing(void **state)
{
    (void)state;
    ss_host_server *srv = start(&(ss_host_server_opts){.listen = "127.0.0.1:0"});
    uint16_t port = ss_host_server_port(srv);
    static const char head[] =
        "POST /sync-stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
    static const char body[] = "{\"type\":\"str\",\"data\":{\"value\":\"smuggled\\n\"}}";
    static const char chunked_body[] =
        "2c\r\n{\"type\":\"str\",\"data\":{\"value\":\"smuggled\\n\"}}\r\n0\r\n\r\n";
    /* Sent after each body: answered only if the server reads past it. */
    static const char next[] = "GET /sync-stream-health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    static const struct {
        const char *headers, *body;
        int status;
        const char *why;
    } refused[] = {
        {"Content-Length: 44\r\nContent-Length: 0\r\n", body, 400, "Content-Length headers"},
        {"Content-Length: 0\r\nContent-Length: 44\r\n", body, 400, "Content-Length headers"},
        {"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", chunked_body, 400,
         "both Content-Length and Transfer-Encoding"},
        {"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", chunked_body, 400,
         "both Content-Length and Transfer-Encoding"},
        {"Transfer-Encoding: gzip\r\n", body, 400, "must end with chunked"},
        {"Transfer-Encoding: chunked, identity\r\n", chunked_body, 400, "must end with chunked"},
        {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", chunked_body, 400,
         "must end with chunked"},
        {"Transfer-Encoding: \r\n", body, 400, "must end with chunked"},
        {"Transfer-Encoding: gzip, chunked\r\n", chunked_body, 501, "only transfer coding"},
    };
    char request[1024], buf[8192];
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        int len = snprintf(request, sizeof(request), "%s%s\r\n%s%s", head, refused[i].headers,
                           refused[i].body, next);
        exchange(port, request, (size_t)len, buf, sizeof(buf));
        if (atoi(buf + 9) != refused[i].status || !strstr(buf, refused[i].why) ||
            count_answers(buf) != 1 || strcmp(answer_header(buf, "Connection"), "close") != 0)
            fail_msg("case %zu (%s): want %d '%s' alone, got: %.600s", i, refused[i].headers,
                     refused[i].status, refused[i].why, buf);
        assert_our_json(refused[i].headers, buf);
    }
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_server_read(srv, SS_READ_ALL, &set), 0);

    /* One length, said once or twice alike, or chunked alone: served, and the
     * next request on the connection too. */
    static const struct {
        const char *headers, *body;
    } served[] = {
        {"Content-Length: 44\r\n", body},
        {"Content-Length: 44\r\nContent-Length: 44\r\n", body},
        {"Transfer-Encoding: chunked\r\n", chunked_body},
        {"Transfer-Encoding: Chunked\r\n", chunked_body},
    };
    for (size_t i = 0; i < sizeof(served) / sizeof(served[0]); i++) {
        int len = snprintf(request, sizeof(request),
                           "%s%s\r\n%sGET /sync-stream-health "
                           "HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                           head, served[i].headers, served[i].body);
        exchange(port, request, (size_t)len, buf, sizeof(buf));
        if (atoi(buf + 9) != 201 || count_answers(buf) != 2)
            fail_msg("case %zu (%s): want 201 then 200, got: %.600s", i, served[i].headers, buf);
    }
    assert_int_equal(ss_host_server_read(srv, SS_READ_ALL, &set), 4);
    ss_records_clear(&set);
    ss_host_server_free(srv);
}

/*
 * Every error answer the server makes is JSON {"message": ...}; the ones
 * libmicrohttpd makes before the server sees the request are exactly those
 * docs/host-protocol.md lists ("Errors the HTTP library answers"): short
 * HTML pages, without the headers every answer of ours has.
 */
static void test_error_answers(void **state)
{
    (void)state;
    ss_host_server *srv = start(&(ss_host_server_opts){.listen = "127.0.0.1:0", .max_body = 1000});
    ss_host_server *locked =
        start(&(ss_host_server_opts){.listen = "127.0.0.1:0", .token = "s3cret"});
    uint16_t port = ss_host_server_port(srv);
    char big[2100];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char request[4096], buf[8192];
#define H "Host: 127.0.0.1\r\nConnection: close\r\n"
    const struct {
        const char *head, *body; /* body: sent with its Content-Length */
        int status;
    } ours[] = {
        {"GET /nowhere HTTP/1.1\r\n" H, NULL, 404},
        {"GET /sync-stream?n=abc HTTP/1.1\r\n" H, NULL, 400},
        {"GET /sync-stream?since=-1 HTTP/1.1\r\n" H, NULL, 400},
        {"GET /sync-stream-state HTTP/1.1\r\n" H, NULL, 400},
        {"GET /sync-stream-events?since=x HTTP/1.1\r\n" H, NULL, 400},
        {"PUT /sync-stream HTTP/1.1\r\n" H, NULL, 405},
        {"BREW /sync-stream-health HTTP/1.1\r\n" H, NULL, 405},
        {"POST /sync-stream HTTP/1.1\r\n" H "Content-Type: text/plain\r\n", "{}", 415},
        {"POST /sync-stream HTTP/1.1\r\n" H "Content-Type: application/json\r\n", "{nope", 400},
        {"POST /sync-stream HTTP/1.1\r\n" H "Content-Type: application/json\r\n",
         "{\"type\":\"nonsense\"}", 400},
        {"POST /sync-stream HTTP/1.1\r\n" H "Content-Type: application/json\r\n"
         "Origin: http://elsewhere.example\r\n",
         "{}", 403},
        {"POST /sync-stream HTTP/1.1\r\n" H "Content-Type: application/json\r\n", big, 413},
        {"POST /sync-stream HTTP/1.1\r\n" H "Content-Type: application/json\r\n"
         "Content-Length: 5000000\r\n\r\n",
         NULL, 413},
        {"POST /sync-stream HTTP/1.1\r\n" H "Content-Type: application/json\r\n"
         "Content-Length: 2\r\nContent-Length: 3\r\n\r\n",
         NULL, 400},
    };
    for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
        int len;
        if (ours[i].body)
            len = snprintf(request, sizeof(request), "%sContent-Length: %zu\r\n\r\n%s",
                           ours[i].head, strlen(ours[i].body), ours[i].body);
        else
            len = snprintf(request, sizeof(request), "%s%s", ours[i].head,
                           strstr(ours[i].head, "\r\n\r\n") ? "" : "\r\n");
        exchange(port, request, (size_t)len, buf, sizeof(buf));
        if (atoi(buf + 9) != ours[i].status)
            fail_msg("case %zu: want %d, got: %.400s", i, ours[i].status, buf);
        assert_our_json(ours[i].head, buf);
    }
    /* no token */
    static const char health[] = "GET /sync-stream-health HTTP/1.1\r\n" H "\r\n";
    exchange(ss_host_server_port(locked), health, sizeof(health) - 1, buf, sizeof(buf));
    assert_int_equal(atoi(buf + 9), 401);
    assert_our_json("401", buf);

    static const char *const chunked_head =
        "POST /sync-stream HTTP/1.1\r\n" H "Content-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    struct {
        const char *what;
        char *request;
        int status;
    } library[] = {
        {"a header line without a colon", NULL, 400},
        {"a Content-Length that is not a number", NULL, 400},
        {"a malformed chunk size", NULL, 400},
        {"a Content-Length over 2^64", NULL, 413},
        {"a chunk size over 2^64", NULL, 413},
        {"a request line over the connection's memory", NULL, 414},
        {"headers over the connection's memory", NULL, 431},
        {"a chunk line over the connection's memory", NULL, 500},
        {"HTTP/2.0", NULL, 505},
        {"HTTP/0.9", NULL, 505},
    };
    char *filler = malloc(100001);
    assert_non_null(filler);
    memset(filler, 'a', 100000);
    filler[100000] = '\0';
    assert_true(
        asprintf(&library[0].request, "GET /sync-stream HTTP/1.1\r\n" H "No colon\r\n\r\n") > 0);
    assert_true(asprintf(&library[1].request,
                         "POST /sync-stream HTTP/1.1\r\n" H "Content-Length: abc\r\n\r\n") > 0);
    assert_true(asprintf(&library[2].request, "%szz\r\n", chunked_head) > 0);
    assert_true(asprintf(&library[3].request,
                         "POST /sync-stream HTTP/1.1\r\n" H
                         "Content-Length: 99999999999999999999999\r\n\r\n") > 0);
    assert_true(asprintf(&library[4].request, "%sffffffffffffffffff\r\n", chunked_head) > 0);
    assert_true(asprintf(&library[5].request, "GET /sync-stream?%s HTTP/1.1\r\n" H "\r\n", filler) >
                0);
    assert_true(asprintf(&library[6].request, "GET /sync-stream HTTP/1.1\r\n" H "X-A: %s\r\n\r\n",
                         filler) > 0);
    assert_true(
        asprintf(&library[7].request, "%s5;%s\r\nhello\r\n0\r\n\r\n", chunked_head, filler) > 0);
    assert_true(asprintf(&library[8].request, "GET /sync-stream HTTP/2.0\r\n" H "\r\n") > 0);
    assert_true(asprintf(&library[9].request, "GET /sync-stream HTTP/0.9\r\n" H "\r\n") > 0);
    for (size_t i = 0; i < sizeof(library) / sizeof(library[0]); i++) {
        exchange(port, library[i].request, strlen(library[i].request), buf, sizeof(buf));
        if (atoi(buf + 9) != library[i].status || answer_header(buf, "X-Content-Type-Options")[0] ||
            strcmp(answer_header(buf, "Content-Type"), "application/json") == 0)
            fail_msg("%s: want libmicrohttpd's own %d, got: %.400s", library[i].what,
                     library[i].status, buf);
        free(library[i].request);
    }
    /* Not HTTP at all: closed without an answer. */
    static const char junk[] = "GARBAGE\r\n\r\n";
    exchange(port, junk, sizeof(junk) - 1, buf, sizeof(buf));
    assert_string_equal(buf, "");
#undef H
    free(filler);
    ss_host_server_free(locked);
    ss_host_server_free(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* First: the RSS it measures has the least of other tests' memory. */
        cmocka_unit_test(test_body_budget),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_error_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
