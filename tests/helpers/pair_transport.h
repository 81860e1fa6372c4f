/*
 * A user's transport written against the public interface (transport.h): one
 * end of a socketpair; the test holds the other end (the "device"). Knobs make
 * it misbehave in the ways the stream must survive.
 */
#ifndef SS_PAIR_TRANSPORT_H
#define SS_PAIR_TRANSPORT_H

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

typedef struct pair_knobs {
    size_t
        write_then_fail; /* > 0: the first write takes at most this many bytes, later ones -EPIPE */
    int eagain_writes;   /* the first this many write() calls are -EAGAIN */
    bool never_write;    /* write() is always -EAGAIN and the fd is not watched for it */
    bool slow_fds;       /* fds() takes 2 ms: widens the loop's walk of touched streams */
} pair_knobs;

typedef struct pair_end {
    int fd;
    pair_knobs k;
    int eagains, writes;
} pair_end;

static int pair_fds(void *impl, ss_transport_fd *ret, size_t max)
{
    pair_end *p = impl;
    if (p->k.slow_fds)
        usleep(2000);
    if (max < 1)
        return 0;
    unsigned ev = SS_TRANSPORT_READ | (p->k.never_write ? 0 : SS_TRANSPORT_WRITE);
    ret[0] = (ss_transport_fd){p->fd, ev};
    return 1;
}

static ssize_t pair_read(void *impl, void *buf, size_t n, int *ret_chan)
{
    pair_end *p = impl;
    *ret_chan = SS_CHAN_OUT;
    ssize_t r = read(p->fd, buf, n);
    return r >= 0 ? r : errno == EAGAIN ? -EAGAIN : -errno;
}

static ssize_t pair_write(void *impl, const void *buf, size_t n)
{
    pair_end *p = impl;
    if (p->k.never_write || p->eagains < p->k.eagain_writes) {
        p->eagains++;
        return -EAGAIN;
    }
    if (p->k.write_then_fail) {
        if (p->writes++ > 0)
            return -EPIPE;
        n = n < p->k.write_then_fail ? n : p->k.write_then_fail;
    }
    ssize_t r = send(p->fd, buf, n, MSG_NOSIGNAL);
    return r >= 0 ? r : errno == EAGAIN ? -EAGAIN : -errno;
}

static void pair_close(void *impl)
{
    pair_end *p = impl;
    close(p->fd);
    free(p);
}

static const ss_transport_ops pair_ops = {
    .kind = "pair",
    .fds = pair_fds,
    .read = pair_read,
    .write = pair_write,
    .close = pair_close,
};

/* A pair transport in *ret; *dev is the device's end (blocking). */
static inline void pair_transport(ss_transport *ret, int *dev, const pair_knobs *k)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
    pair_end *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    p->fd = sv[0];
    if (k)
        p->k = *k;
    *ret = (ss_transport){&pair_ops, p};
    *dev = sv[1];
}

/* A stream over a pair transport, on loop (NULL: its own). */
static inline ss_stream *pair_stream(ss_stream_loop *loop, const ss_stream_opts *o, int *dev,
                                     const pair_knobs *k)
{
    ss_transport t;
    pair_transport(&t, dev, k);
    ss_stream *s = NULL;
    assert_int_equal(ss_stream_new(&s, loop, &t, o), 0);
    return s;
}

#endif
