/*
 * The TCP transport: a connected, non-blocking socket (client side, or the
 * one connection a listener accepted).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <syncstream/common.h>
#include <syncstream/transport.h>

#include "util/clock.h"
#include "util/tcp_connect.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000

typedef struct tcp {
    int fd;
} tcp;

static int tcp_fds(void *impl, ss_transport_fd *ret, size_t max)
{
    tcp *t = impl;
    if (max < 1)
        return 0;
    ret[0] = (ss_transport_fd){t->fd, SS_TRANSPORT_READ | SS_TRANSPORT_WRITE};
    return 1;
}

static ssize_t tcp_read(void *impl, void *buf, size_t n, int *ret_chan)
{
    tcp *t = impl;
    ssize_t r = recv(t->fd, buf, n, 0);
    *ret_chan = SS_CHAN_OUT;
    if (r < 0)
        return errno == EINTR || errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return r;
}

static ssize_t tcp_write(void *impl, const void *buf, size_t n)
{
    tcp *t = impl;
    /* MSG_NOSIGNAL: a closed peer is an error to report, not a SIGPIPE */
    ssize_t r = send(t->fd, buf, n, MSG_NOSIGNAL);
    if (r < 0)
        return errno == EINTR || errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return r;
}

static int tcp_shutdown_write(void *impl)
{
    tcp *t = impl;
    return shutdown(t->fd, SHUT_WR) < 0 ? -errno : 0;
}

static void tcp_close(void *impl)
{
    tcp *t = impl;
    close(t->fd);
    free(t);
}

static const ss_transport_ops tcp_ops = {
    .kind = "tcp",
    .fds = tcp_fds,
    .read = tcp_read,
    .write = tcp_write,
    .shutdown_write = tcp_shutdown_write,
    .close = tcp_close,
};

/* Options every stream socket gets: non-blocking, no Nagle delay, keepalive. */
static int tune(int fd, const ss_tcp_opts *o)
{
    int one = 1;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    /* not every socket is TCP (a test may pass a Unix one): ignore ENOPROTOOPT */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (o && o->keepalive_idle_s > 0) {
        int intvl = o->keepalive_interval_s > 0 ? o->keepalive_interval_s : 5;
        int cnt = o->keepalive_count > 0 ? o->keepalive_count : 3;
        if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &o->keepalive_idle_s, sizeof(int)) < 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) < 0 ||
            setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) < 0)
            return -errno;
    }
    return 0;
}

static int wrap(ss_transport *ret, int fd, const ss_tcp_opts *o)
{
    int rc = tune(fd, o);
    tcp *t = rc == 0 ? malloc(sizeof(*t)) : NULL;
    if (!t) {
        close(fd);
        return rc < 0 ? rc : -ENOMEM;
    }
    t->fd = fd;
    *ret = (ss_transport){&tcp_ops, t};
    return 0;
}

int ss_transport_tcp_connect(ss_transport *ret, const char *host, const char *port,
                             const ss_tcp_opts *opts)
{
    if (!ret || !host || !port)
        return -EINVAL;
    int timeout =
        opts && opts->connect_timeout_ms ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    int fd = ss__tcp_connect(host, port, timeout);
    return fd < 0 ? fd : wrap(ret, fd, opts);
}

/* ---- the listening side ---- */

struct ss_tcp_listener {
    int fd;
    int port;
};

int ss_tcp_listener_new(ss_tcp_listener **ret, const char *host, const char *port)
{
    if (!ret || !port)
        return -EINVAL;
    struct addrinfo hints = {.ai_family = host ? AF_UNSPEC : AF_INET6,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE};
    struct addrinfo *res;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0)
        return ss__gai_error(gai);
    int rc = 0, fd = -1;
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (fd < 0) {
        rc = -errno;
        goto out_res;
    }
    int one = 1, zero = 0;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (!host) /* [::] takes IPv4 too */
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    struct sockaddr_storage sa;
    socklen_t salen = sizeof(sa);
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 8) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &salen) < 0) {
        rc = -errno;
        goto out_fd;
    }
    ss_tcp_listener *l = malloc(sizeof(*l));
    if (!l) {
        rc = -ENOMEM;
        goto out_fd;
    }
    l->fd = fd;
    l->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                             : ((struct sockaddr_in *)&sa)->sin_port);
    *ret = l;
    goto out_res;

out_fd:
    close(fd);
out_res:
    freeaddrinfo(res);
    return rc;
}

int ss_tcp_listener_port(const ss_tcp_listener *l)
{
    return l->port;
}

int ss_tcp_listener_accept(ss_tcp_listener *l, int timeout_ms, const ss_tcp_opts *opts,
                           ss_transport *ret)
{
    if (!l || !ret)
        return -EINVAL;
    int64_t deadline = ss__poll_deadline_ns(timeout_ms);
    struct pollfd p = {.fd = l->fd, .events = POLLIN};
    int n;
    do
        n = poll(&p, 1, ss__poll_left_ms(deadline));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -ETIMEDOUT;
    int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return -errno;
    return wrap(ret, fd, opts);
}

void ss_tcp_listener_free(ss_tcp_listener *l)
{
    if (!l)
        return;
    close(l->fd);
    free(l);
}
