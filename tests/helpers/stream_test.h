/*
 * Helpers for the stream-mode tests: a real TCP peer on 127.0.0.1 (or ::1),
 * run by a thread of the test on the accepted socket, and bounded waits.
 */
#ifndef SS_STREAM_TEST_H
#define SS_STREAM_TEST_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

/* What a peer does with its accepted connection (fd); it is closed after. */
typedef void (*peer_fn)(int fd, void *arg);

typedef struct peer {
    int listen_fd;
    char port[16];
    peer_fn fn;
    void *arg;
    pthread_t thread;
    int rst; /* close with a reset (SO_LINGER 0) instead of a FIN */
    /* the peer waits for go (a step number) before steps that must come after
     * something the test checked */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int go;
} peer;

static void *peer_main(void *arg)
{
    peer *p = arg;
    int fd = accept(p->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    p->fn(fd, p->arg);
    if (p->rst) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    close(fd);
    return NULL;
}

/* Listen on the loopback address of family (AF_INET or AF_INET6), port 0. */
static inline void peer_start_family(peer *p, int family, peer_fn fn, void *arg)
{
    memset(p, 0, sizeof(*p));
    p->fn = fn;
    p->arg = arg;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->listen_fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(p->listen_fd >= 0);
    struct sockaddr_storage sa = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&sa;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        len = sizeof(*in6);
    }
    assert_int_equal(bind(p->listen_fd, (struct sockaddr *)&sa, len), 0);
    assert_int_equal(listen(p->listen_fd, 1024), 0);
    len = sizeof(sa);
    assert_int_equal(getsockname(p->listen_fd, (struct sockaddr *)&sa, &len), 0);
    int port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&sa)->sin_port
                                       : ((struct sockaddr_in6 *)&sa)->sin6_port);
    snprintf(p->port, sizeof(p->port), "%d", port);
    if (fn)
        assert_int_equal(pthread_create(&p->thread, NULL, peer_main, p), 0);
}

static inline void peer_start(peer *p, peer_fn fn, void *arg)
{
    peer_start_family(p, AF_INET, fn, arg);
}

static inline void peer_stop(peer *p)
{
    if (p->fn)
        pthread_join(p->thread, NULL);
    close(p->listen_fd);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
}

/* The test lets the peer go on to step n. */
static inline void peer_go(peer *p, int n)
{
    pthread_mutex_lock(&p->mu);
    p->go = n;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
}

/* In the peer: wait (at most 10 s) for the test to let it go on to step n. */
static inline int peer_wait(peer *p, int n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&p->mu);
    int rc = 0;
    while (p->go < n && rc == 0)
        rc = pthread_cond_timedwait(&p->cond, &p->mu, &ts);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static inline void send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static inline void send_str(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

/* In a peer: read until the connection ends (or 10 s without a byte). */
static inline size_t drain(int fd)
{
    char buf[4096];
    size_t total = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (poll(&pfd, 1, 10000) > 0) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    return total;
}

/* Read exactly n bytes from fd, a device's end (bounded: 10 s). */
static inline void read_exact(int fd, void *buf, size_t n)
{
    size_t have = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (have < n && poll(&pfd, 1, 10000) > 0) {
        ssize_t r = read(fd, (char *)buf + have, n - have);
        if (r <= 0)
            break;
        have += (size_t)r;
    }
    assert_int_equal(have, n);
}

/* A stream connected to p. */
static inline ss_stream *connect_stream(peer *p, const ss_stream_opts *opts, ss_stream_loop *loop)
{
    ss_transport t;
    assert_int_equal(ss_transport_tcp_connect(&t, "127.0.0.1", p->port, NULL), 0);
    ss_stream *s = NULL;
    assert_int_equal(ss_stream_new(&s, loop, &t, opts), 0);
    return s;
}

/* CLOCK_REALTIME in nanoseconds, as event timestamps are. */
static inline int64_t ss__test_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wait (bounded: 10 s) until the stream has at least n bytes buffered. */
static inline void wait_ready(ss_stream *s, size_t n)
{
    for (int i = 0; i < 10000 && ss_stream_ready(s) < n; i++)
        usleep(1000);
    assert_true(ss_stream_ready(s) >= n);
}

#endif
