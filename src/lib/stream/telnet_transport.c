/*
 * The telnet transport: see telnet_transport.h. Everything sent goes through
 * the codec's output queue (t->tel.out): our answers to the server's
 * requests, RFC 2217's commands and the encoded data, in the order they were
 * made. The transport drains it itself (SS_TRANSPORT_FLUSH) and takes new
 * data only when it is empty, so the queue holds at most one write's worth
 * of data besides the answers.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <syncstream/common.h>
#include <syncstream/transport.h>

#include "stream/rfc2217.h"
#include "stream/telnet.h"
#include "stream/telnet_transport.h"
#include "util/tcp_connect.h"

/* Data bytes taken per write: their encoding (at most twice as many) is sent
 * from the stack. */
#define WRITE_CHUNK 4096
/* Rounds of a read that decode only commands before giving the loop back:
 * a peer sending nothing but negotiation cannot hold the I/O thread. */
#define READ_ROUNDS 8
/* The whole open's bound for a timeout of 0, as the tcp transport's. */
#define DEFAULT_TIMEOUT_MS 10000
/* The device's bytes kept while the settings are being made. */
#define EARLY_MAX (1024u * 1024u)

typedef struct tn {
    int fd;
    ss__telnet tel;
    bool shut_pending; /* shutdown_write() waits for the queue to drain */
    ss__buf early;     /* data that came during the handshake: read() gives it first */
    size_t early_off;

    /* rfc2217:// handshake: the settings asked and their answers */
    ss__rfc2217_set want[SS__RFC2217_MAX_SETS];
    ss__rfc2217_set got[SS__RFC2217_MAX_SETS];
    bool answered[SS__RFC2217_MAX_SETS];
    int nwant;
} tn;

/* The server's subnegotiations: an answer to a setting asked is kept; the
 * rest (the line and modem state notifications, answers to BREAK, DTR and
 * RTS) is not needed for a byte stream. */
static void on_sb(void *ctx, uint8_t opt, const uint8_t *data, size_t len)
{
    tn *t = ctx;
    ss__rfc2217_set a;
    if (opt != SS__TELNET_COMPORT || !ss__rfc2217_answer(data, len, &a))
        return;
    for (int i = 0; i < t->nwant; i++)
        if (t->want[i].cmd == a.cmd && !t->answered[i]) {
            t->answered[i] = true;
            t->got[i] = a;
            return;
        }
}

static int sock_error(void)
{
    return errno == EINTR || errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

/* Send what the queue holds, as far as the socket takes it. Returns 0 (the
 * rest waits) or a negative errno. */
static int drain(tn *t)
{
    ss__buf *o = &t->tel.out;
    while (o->len > 0) {
        ssize_t w = send(t->fd, o->data, o->len, MSG_NOSIGNAL);
        if (w < 0) {
            int rc = sock_error();
            return rc == -EAGAIN ? 0 : rc;
        }
        ss__buf_take(o, (size_t)w);
    }
    if (t->shut_pending) {
        t->shut_pending = false;
        if (shutdown(t->fd, SHUT_WR) < 0)
            return -errno;
    }
    return 0;
}

static int tn_fds(void *impl, ss_transport_fd *ret, size_t max)
{
    tn *t = impl;
    if (max < 1)
        return 0;
    unsigned ev = SS_TRANSPORT_READ | SS_TRANSPORT_WRITE;
    if (t->tel.out.len > 0 || t->shut_pending)
        ev |= SS_TRANSPORT_FLUSH;
    ret[0] = (ss_transport_fd){t->fd, ev};
    return 1;
}

/* One recv() decoded in place. Returns the data bytes, 0 at the end, -EAGAIN
 * or an error. *ret_more: bytes came, a next recv() may find more. */
static ssize_t recv_decode(tn *t, uint8_t *buf, size_t n, bool *ret_more)
{
    *ret_more = false;
    ssize_t r = recv(t->fd, buf, n, 0);
    if (r < 0)
        return sock_error();
    if (r == 0)
        return 0;
    *ret_more = true;
    ssize_t d = ss__telnet_decode(&t->tel, buf, (size_t)r, buf);
    if (d < 0)
        return d;
    /* answers go out at once: the server may wait for them */
    int rc = drain(t);
    return rc < 0 ? rc : d;
}

static ssize_t tn_read(void *impl, void *buf, size_t n, int *ret_chan)
{
    tn *t = impl;
    *ret_chan = SS_CHAN_OUT;
    size_t early = t->early.len - t->early_off;
    if (early > 0) {
        size_t k = early < n ? early : n;
        memcpy(buf, t->early.data + t->early_off, k);
        t->early_off += k;
        if (t->early_off == t->early.len) {
            ss__buf_free(&t->early);
            t->early_off = 0;
        }
        return (ssize_t)k;
    }
    for (int i = 0; i < READ_ROUNDS; i++) {
        bool more;
        ssize_t d = recv_decode(t, buf, n, &more);
        if (d != 0 || !more)
            return d;
    }
    return -EAGAIN;
}

static ssize_t tn_write(void *impl, const void *buf, size_t n)
{
    tn *t = impl;
    int rc = drain(t);
    if (rc < 0)
        return rc;
    if (t->tel.out.len > 0 || t->shut_pending)
        return -EAGAIN;
    uint8_t enc[2 * WRITE_CHUNK];
    size_t used;
    size_t len =
        ss__telnet_encode(&t->tel, buf, n < WRITE_CHUNK ? n : WRITE_CHUNK, enc, sizeof(enc), &used);
    ssize_t w = send(t->fd, enc, len, MSG_NOSIGNAL);
    if (w < 0) {
        rc = sock_error();
        if (rc < 0 && rc != -EAGAIN)
            return rc;
        w = 0;
    }
    if ((size_t)w < len) {
        /* the data is taken: its encoded rest is ours to send (flush) */
        rc = ss__buf_append(&t->tel.out, enc + w, len - (size_t)w);
        if (rc < 0)
            return w == 0 ? -EAGAIN : rc;
    }
    return (ssize_t)used;
}

static int tn_flush(void *impl)
{
    return drain(impl);
}

static int tn_shutdown_write(void *impl)
{
    tn *t = impl;
    t->shut_pending = true;
    return drain(t);
}

static int tn_set_line(void *impl, int line, bool on)
{
    tn *t = impl;
    uint8_t v = ss__rfc2217_line(line, on);
    if (!v || t->tel.us[SS__TELNET_COMPORT] != SS__TELNET_YES)
        return -ENOTSUP;
    ss__rfc2217_set s = {SS__RFC2217_CONTROL, v};
    int rc = ss__rfc2217_send(&t->tel, &s);
    return rc < 0 ? rc : drain(t);
}

static void tn_close(void *impl)
{
    tn *t = impl;
    close(t->fd);
    ss__telnet_free(&t->tel);
    ss__buf_free(&t->early);
    free(t);
}

/* telnet:// and rfc2217:// differ only in their name (the stream's default) */
#define TN_OPS(name)                                                                               \
    {                                                                                              \
        .kind = name,                                                                              \
        .fds = tn_fds,                                                                             \
        .read = tn_read,                                                                           \
        .write = tn_write,                                                                         \
        .close = tn_close,                                                                         \
        .flush = tn_flush,                                                                         \
        .shutdown_write = tn_shutdown_write,                                                       \
        .set_line = tn_set_line,                                                                   \
    }
static const ss_transport_ops telnet_ops = TN_OPS("telnet");
static const ss_transport_ops rfc2217_ops = TN_OPS("rfc2217");

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether the handshake has all it waits for: the server's word on
 * COM-PORT-OPTION and BINARY, then every setting's answer. */
static bool settled(const tn *t)
{
    const uint8_t *us = t->tel.us, *him = t->tel.him;
    if (us[SS__TELNET_COMPORT] == SS__TELNET_WANTYES ||
        us[SS__TELNET_BINARY] == SS__TELNET_WANTYES || him[SS__TELNET_BINARY] == SS__TELNET_WANTYES)
        return false;
    for (int i = 0; i < t->nwant; i++)
        if (!t->answered[i])
            return false;
    return true;
}

/* Move bytes until settled() or the deadline (-1: none), keeping the data
 * that comes meanwhile. Returns 0, -ETIMEDOUT, SS_ECONNLOST or an error. */
static int wait_settled(tn *t, int64_t deadline)
{
    uint8_t buf[4096];
    while (!settled(t)) {
        int left = -1;
        if (deadline >= 0) {
            int64_t l = deadline - mono_ms();
            if (l <= 0)
                return -ETIMEDOUT;
            left = (int)l;
        }
        struct pollfd p = {.fd = t->fd, .events = POLLIN | (t->tel.out.len ? POLLOUT : 0)};
        int n = poll(&p, 1, left);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n <= 0)
            continue;
        int rc = drain(t);
        if (rc < 0)
            return rc;
        bool more;
        ssize_t d = recv_decode(t, buf, sizeof(buf), &more);
        if (d == 0 && !more)
            return SS_ECONNLOST;
        if (d == -EAGAIN)
            continue;
        if (d < 0)
            return (int)d;
        if (t->early.len + (size_t)d > EARLY_MAX)
            return -ENOBUFS;
        rc = ss__buf_append(&t->early, buf, (size_t)d);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* rfc2217://: COM-PORT-OPTION agreed, then the settings asked and checked. */
static int handshake(tn *t, const ss_serial_opts *serial, unsigned given, int64_t deadline)
{
    int n = ss__rfc2217_settings(serial, given, t->want);
    if (n < 0)
        return n;
    int rc = wait_settled(t, deadline);
    if (rc < 0)
        return rc;
    if (t->tel.us[SS__TELNET_COMPORT] != SS__TELNET_YES)
        return -EPROTONOSUPPORT;
    /* asked only once agreed: RFC 2217's commands are not sent before */
    t->nwant = n;
    for (int i = 0; i < n && rc == 0; i++)
        rc = ss__rfc2217_send(&t->tel, &t->want[i]);
    if (rc == 0)
        rc = wait_settled(t, deadline);
    for (int i = 0; i < n && rc == 0; i++)
        if (t->got[i].value != t->want[i].value)
            rc = SS_EREJECTED;
    return rc;
}

int ss__transport_telnet(ss_transport *ret, const char *host, const char *port, int timeout_ms,
                         const ss_serial_opts *serial, unsigned given)
{
    if (!ret || !host || !port)
        return -EINVAL;
    if (timeout_ms == 0)
        timeout_ms = DEFAULT_TIMEOUT_MS;
    int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
    tn *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    ss__buf_init(&t->early, EARLY_MAX);
    int rc = ss__telnet_init(&t->tel, serial != NULL, on_sb, t);
    if (rc < 0)
        goto out_free;
    t->fd = ss__tcp_connect(host, port, timeout_ms);
    if (t->fd < 0) {
        rc = t->fd;
        goto out_free;
    }
    int one = 1;
    /* a stream sends what it is given, as the tcp transport does */
    (void)setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    rc = serial ? handshake(t, serial, given, deadline) : drain(t);
    if (rc < 0) {
        close(t->fd);
        goto out_free;
    }
    *ret = (ss_transport){serial ? &rfc2217_ops : &telnet_ops, t};
    return 0;

out_free:
    ss__telnet_free(&t->tel);
    ss__buf_free(&t->early);
    free(t);
    return rc;
}
