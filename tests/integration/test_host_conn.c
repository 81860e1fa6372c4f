/*
 * The host server under attacks on its connections, from many loopback
 * addresses (client sockets bound to 127.0.0.2, 127.0.0.3...): slow headers
 * (slowloris) and long-polls or event streams held open must not keep a
 * client of another address out; event-stream clients that never read must
 * not grow the server's memory. Loopback clients have no per-address cap
 * unless one is set.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "http_test.h"
#include "test.h"

#define ATTACKERS 8 /* addresses */
#define PER_ATTACKER 8

typedef struct fixture {
    ss_host_server *srv;
    char url[160]; /* http://127.0.0.1:PORT/sync-stream */
} fixture;

static void start(fixture *f, const ss_host_server_opts *o)
{
    assert_int_equal(ss_host_server_new(&f->srv, o), 0);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u/sync-stream",
             ss_host_server_port(f->srv));
}

/* A TCP connection to the server from 127.0.0.(host), or -1 when refused. */
static int connect_from(const fixture *f, int host)
{
    int fd = http_raw_connect(ss_host_server_port(f->srv), host, 10, 0);
    struct timeval tv = {.tv_sec = 10};
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

static bool send_all(int fd, const char *s)
{
    return send(fd, s, strlen(s), MSG_NOSIGNAL) == (ssize_t)strlen(s);
}

/* Read one answer with a Content-Length body: its status, or -1 when the
 * connection closed (or 10 s passed) first. */
static int read_answer(int fd)
{
    char buf[8192];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
        buf[got] = '\0';
        const char *end = strstr(buf, "\r\n\r\n");
        const char *cl = strcasestr(buf, "\r\nContent-Length:");
        if (end && cl && cl < end && got >= (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10))
            return atoi(buf + 9);
        if (got == sizeof(buf) - 1)
            return -1;
    }
}

/* A connection from 127.0.0.(host) that was served one request (so the
 * server admitted it), kept alive; -1 when the server refused it. */
static int admitted_from(const fixture *f, int host)
{
    int fd = connect_from(f, host);
    if (fd >= 0 && send_all(fd, "GET /sync-stream-health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") &&
        read_answer(fd) == 200)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

/* The legitimate client, from 127.0.0.1: its GET is answered within 5 s. */
static void expect_served(const fixture *f, const char *suffix)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", f->url, suffix);
    http_opts o = {.timeout_ms = 5000};
    http_reply r;
    http_request("GET", url, NULL, 0, &o, &r);
    if (r.status != 200)
        fail_msg("GET %s from 127.0.0.1 during the attack: status %ld", suffix, r.status);
    http_reply_clear(&r);
}

/* Start a server of ATTACKERS * PER_ATTACKER connections, PER_ATTACKER per
 * address, and from each of ATTACKERS addresses open as many connections as
 * it admits, each sending even's bytes (from an even attacker) or odd's.
 * Returns how many are held, in fds. */
static int attack(fixture *f, const char *even, const char *odd, int *fds)
{
    ss_host_server_opts o = {.listen = "127.0.0.1:0",
                             .max_connections = ATTACKERS * PER_ATTACKER,
                             .max_per_ip = PER_ATTACKER};
    start(f, &o);
    int held = 0;
    for (int a = 0; a < ATTACKERS; a++) {
        for (int i = 0; i < PER_ATTACKER; i++) {
            int fd = admitted_from(f, 2 + a);
            if (fd >= 0 && send_all(fd, a % 2 ? odd : even))
                fds[held++] = fd;
            else if (fd >= 0)
                close(fd);
        }
    }
    return held;
}

/* Hold LOCAL keep-alive connections from 127.0.0.1, each served one request;
 * returns how many were admitted. */
#define LOCAL 40

static int hold_local(const ss_host_server_opts *o, int *fds)
{
    fixture f;
    start(&f, o);
    int held = 0;
    for (int i = 0; i < LOCAL; i++) {
        int fd = admitted_from(&f, 1);
        if (fd >= 0)
            fds[held++] = fd;
    }
    for (int k = 0; k < held; k++)
        close(fds[k]);
    ss_host_server_free(f.srv);
    return held;
}

/*
 * Many workers of one machine sending to a local server: with the default
 * per-address cap (32), loopback connections have no cap but the total, so
 * 40 at once are all served (before, 8 were closed at once). A cap set
 * explicitly still holds on loopback: connection N+1 is refused.
 */
static void test_loopback_default_cap(void **state_)
{
    (void)state_;
    int fds[LOCAL];
    ss_host_server_opts def = {.listen = "127.0.0.1:0"};
    assert_int_equal(hold_local(&def, fds), LOCAL);
    ss_host_server_opts set = {.listen = "127.0.0.1:0", .max_per_ip = SS_HOST_DEFAULT_MAX_PER_IP};
    assert_int_equal(hold_local(&set, fds), SS_HOST_DEFAULT_MAX_PER_IP);
}

/*
 * Slowloris: eight addresses open all the connections they may and send
 * headers that never end. Before, eight addresses of max_per_ip filled
 * max_connections and a ninth address was refused for the whole header time
 * (renewable). Now an address's share shrinks as the server fills, so another
 * address is still served; and the headers must end within 10 s, well before
 * the 30 s idle timeout.
 */
static void test_slowloris_many_addresses(void **state_)
{
    (void)state_;
    fixture f;
    int fds[ATTACKERS * PER_ATTACKER];
    const char *head = "GET /sync-stream-health HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    int held = attack(&f, head, head, fds);
    assert_true(held > 0);
    assert_true(held < ATTACKERS * PER_ATTACKER);
    expect_served(&f, "-health");
    /* Trickled header lines (never idle) do not keep the connections: each is
     * cut at the header deadline (the loop gives them 25 s). */
    int cut = 0;
    bool gone[ATTACKERS * PER_ATTACKER] = {false};
    for (int round = 0; round < 50 && cut < held; round++) {
        usleep(500 * 1000);
        for (int k = 0; k < held; k++) {
            if (gone[k])
                continue;
            struct pollfd pfd = {.fd = fds[k], .events = POLLIN};
            if (!send_all(fds[k], "X-a: b\r\n") || poll(&pfd, 1, 0) == 1) {
                gone[k] = true;
                cut++;
            }
        }
    }
    assert_int_equal(cut, held);
    for (int k = 0; k < held; k++)
        close(fds[k]);
    ss_host_server_free(f.srv);
}

/*
 * Long-polls and event streams held open from eight addresses: before, they
 * took every connection for as long as they lasted. Now they wait only within
 * a pool of half the connections (beyond: 503 with Retry-After), each address
 * has its fair share of both, and a client of another address is served, its
 * own long-poll and event stream included.
 */
static void test_waits_many_addresses(void **state_)
{
    (void)state_;
    fixture f;
    int fds[ATTACKERS * PER_ATTACKER];
    int held = attack(&f, "GET /sync-stream?since=0&wait=60000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                      "GET /sync-stream-events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", fds);
    assert_true(held > 0);
    expect_served(&f, "-health");
    expect_served(&f, "?since=0&wait=200");
    /* the first event-stream bytes come at once; the stream then ends with
     * curl's timeout */
    char url[256];
    snprintf(url, sizeof(url), "%s-events", f.url);
    http_opts ho = {.timeout_ms = 1500};
    http_reply r;
    http_request("GET", url, NULL, 0, &ho, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(r.body);
    assert_non_null(strstr(r.body, "retry: 1000"));
    http_reply_clear(&r);
    /* Some of the attackers' waits were refused by the pool (more were
     * admitted than it holds), with a JSON 503 and Retry-After. */
    int busy = 0;
    for (int round = 0; round < 10 && busy == 0; round++) {
        struct pollfd pfds[ATTACKERS * PER_ATTACKER];
        for (int k = 0; k < held; k++)
            pfds[k] = (struct pollfd){.fd = fds[k], .events = POLLIN};
        assert_true(poll(pfds, (nfds_t)held, 1000) >= 0);
        for (int k = 0; k < held; k++) {
            char buf[2048];
            ssize_t n = pfds[k].revents & POLLIN ? read(fds[k], buf, sizeof(buf) - 1) : 0;
            if (n <= 0)
                continue;
            buf[n] = '\0';
            if (strncmp(buf, "HTTP/1.1 503", 12) == 0) {
                assert_non_null(strcasestr(buf, "\r\nRetry-After: 1\r\n"));
                assert_non_null(strstr(buf, "{\"message\":\"too many long-polls"));
                busy++;
            }
        }
    }
    assert_true(busy > 0);
    /* the server stops with every wait still open */
    ss_host_server_free(f.srv);
    for (int k = 0; k < held; k++)
        close(fds[k]);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

#ifdef SANITIZED
size_t __sanitizer_get_current_allocated_bytes(void);
#else
#include <malloc.h>
#endif

/* The bytes the process has allocated now (the server runs in it): from the
 * sanitizer's allocator when there is one (its RSS holds freed memory in
 * quarantine), else from glibc's. */
static size_t heap_bytes(void)
{
#ifdef SANITIZED
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

/* Store about 20 MB: 20 batches of 1000 lines of 1000 bytes. */
static void post_20mb(const fixture *f)
{
    enum { LINES = 1000, LEN = 1000 };
    char *text = malloc(LINES * LEN + 1);
    for (int i = 0; i < LINES; i++) {
        memset(text + i * LEN, 'a' + i % 26, LEN - 1);
        text[i * LEN + LEN - 1] = '\n';
    }
    text[LINES * LEN] = '\0';
    json_t *j = json_pack("{s:s, s:{s:s}}", "type", "str", "data", "value", text);
    char *body = json_dumps(j, JSON_COMPACT);
    for (int b = 0; b < 20; b++) {
        http_reply r;
        assert_int_equal(http_request("POST", f->url, body, strlen(body), NULL, &r), 0);
        assert_int_equal(r.status, 201);
        http_reply_clear(&r);
    }
    free(body);
    json_decref(j);
    free(text);
}

/* An event-stream client from 127.0.0.(host) with a small receive buffer,
 * which reads nothing yet. */
static int events_from(const fixture *f, int host, const char *query)
{
    int fd = http_raw_connect(ss_host_server_port(f->srv), host, 10, 4096);
    assert_true(fd >= 0);
    char req[256];
    snprintf(req, sizeof(req), "GET /sync-stream-events%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
             query);
    assert_true(send_all(fd, req));
    return fd;
}

/*
 * Event-stream clients that never read, each from the oldest of 20 MB of
 * records: before, each had up to 1 MiB formatted ahead of its socket (in a
 * 2 MiB buffer) plus a 64 KiB block, 30 clients about 60 MB. Now a client's
 * queue holds at most 64 KiB plus one record's event: the 30 hold a few MB,
 * and all of it is given back when they go.
 */
static void test_events_never_read(void **state_)
{
    (void)state_;
    enum { CLIENTS = 30 };
    fixture f;
    ss_host_server_opts o = {.listen = "127.0.0.1:0", .maxlen = 30000};
    start(&f, &o);
    post_20mb(&f);
    size_t base = heap_bytes();
    int fds[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        fds[i] = events_from(&f, 2 + i % 3, "?since=0");
    /* each client has records waiting in its socket: the server formatted
     * its queue at least once (bounded: 20 s) */
    for (int i = 0; i < CLIENTS; i++) {
        int avail = 0;
        for (int k = 0; k < 200 && avail < 2048; k++) {
            assert_int_equal(ioctl(fds[i], FIONREAD, &avail), 0);
            if (avail < 2048)
                usleep(100 * 1000);
        }
        assert_true(avail >= 2048);
    }
    size_t during = heap_bytes();
    print_message("heap: %zu KiB with the data, %zu KiB more with %d stalled streams\n", base >> 10,
                  during > base ? (during - base) >> 10 : 0, CLIENTS);
    /* 256 KiB a client is a generous bound (the queue is 64 KiB) */
    assert_true(during < base + CLIENTS * (256u << 10));
    for (int i = 0; i < CLIENTS; i++)
        close(fds[i]);
    /* back to the heap of the idle server once their streams end (20 s) */
    size_t after = heap_bytes();
    for (int k = 0; k < 200 && after > base + (1u << 20); k++) {
        usleep(100 * 1000);
        after = heap_bytes();
    }
    assert_true(after <= base + (1u << 20));
    ss_host_server_free(f.srv);
}

/*
 * A client that reads, but slower than its events come (32 KiB/s from a
 * backlog of 5 MB, with a timeout of 3 s: its 64 KiB queue is not taken
 * within 1 s): its stream ends with a last event that says why. Before, it
 * was held for ever.
 */
static void test_events_slow_reader_dropped(void **state_)
{
    (void)state_;
    fixture f;
    ss_host_server_opts o = {.listen = "127.0.0.1:0", .maxlen = 30000, .timeout_s = 3};
    start(&f, &o);
    post_20mb(&f);
    int fd = events_from(&f, 2, "?since=0");
    static const char want[] = "event: dropped\ndata: {\"message\":\"this client did not "
                               "take its events within 1 s (at most 65536 bytes are queued "
                               "for it): reconnect with Last-Event-ID to go on\"}\n\n";
    /* what was read last (a whole event fits), then up to 8 KiB more */
    enum { KEEP = 2048, CHUNK = 8192 };
    char *buf = malloc(KEEP + CHUNK + 1);
    size_t len = 0;
    bool dropped = false;
    /* 8 KiB every 250 ms for 6 s, then everything, to the end of the stream
     * (20 s at most) */
    for (int i = 0; i < 100000 && !dropped; i++) {
        if (i < 24)
            usleep(250 * 1000);
        ssize_t n = recv(fd, buf + len, CHUNK, i < 24 ? MSG_DONTWAIT : 0);
        if (n < 0 && errno == EAGAIN && i < 24)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        dropped = strstr(buf, want) != NULL;
        size_t keep = len < KEEP ? len : KEEP;
        memmove(buf, buf + len - keep, keep);
        len = keep;
    }
    free(buf);
    assert_true(dropped);
    close(fd);
    ss_host_server_free(f.srv);
}

static int group_setup(void **state_)
{
    (void)state_;
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

static int group_teardown(void **state_)
{
    (void)state_;
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_default_cap),
        cmocka_unit_test(test_slowloris_many_addresses),
        cmocka_unit_test(test_waits_many_addresses),
        cmocka_unit_test(test_events_never_read),
        cmocka_unit_test(test_events_slow_reader_dropped),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
