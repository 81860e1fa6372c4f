/*
 * Connected mirrors: processes that are not the buffer's children (started by
 * any means: a Python multiprocessing pool, a shell) connect to the socket
 * ss_procbuf_listen() opens and send frames as a forked child's mirror does.
 *
 * A connection first sends a HELLO frame with the secret of the address; the
 * collector answers with the line length and flags and the stop page's fd
 * (SCM_RIGHTS), so that a stop reaches the mirror as it reaches a child's.
 * Anything else, or a peer of another user, is closed without a record. A
 * connected mirror is never signalled: its pid (SO_PEERCRED) may be any
 * process, this one included.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <syncstream/common.h>
#include <syncstream/proc.h>

#include "linebuf/linebuf_int.h"
#include "proc/procbuf_int.h"
#include "util/clock.h"

/* Fill buf with random bytes; getrandom() never returns short for <= 256 bytes
 * once the pool is ready, but may be interrupted before it. */
static int random_bytes(void *buf, size_t len)
{
    for (;;) {
        ssize_t n = getrandom(buf, len, 0);
        if (n == (ssize_t)len)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

static void hex(char *out, const unsigned char *in, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

/* A new secret, and the address that carries it (pb->mu held). */
static int new_secret(ss_procbuf *pb, const char *name)
{
    int rc = random_bytes(pb->secret, sizeof(pb->secret));
    if (rc < 0)
        return rc;
    char secret_hex[2 * SS__MIRROR_SECRET + 1];
    hex(secret_hex, pb->secret, sizeof(pb->secret));
    snprintf(pb->address, sizeof(pb->address), "@%s/%s", name, secret_hex);
    return 0;
}

int ss_procbuf_listen(ss_procbuf *pb, char *ret_address, size_t size)
{
    if (!pb || !ret_address || size < SS_MIRROR_ADDRESS_MAX)
        return -EINVAL;
    pthread_mutex_lock(&pb->mu);
    int rc = 0;
    if (pb->listenfd < 0) {
        unsigned char nonce[8];
        char name[64], nonce_hex[2 * sizeof(nonce) + 1];
        rc = random_bytes(nonce, sizeof(nonce));
        hex(nonce_hex, nonce, sizeof(nonce));
        snprintf(name, sizeof(name), "syncstream.%d.%s", (int)getpid(), nonce_hex);
        int fd = rc < 0 ? -1 : socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (rc == 0 && fd < 0)
            rc = -errno;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        size_t name_len = strlen(name);
        memcpy(sa.sun_path + 1, name, name_len);
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + name_len);
        if (rc == 0 && (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, SOMAXCONN) < 0))
            rc = -errno;
        if (rc == 0)
            rc = new_secret(pb, name);
        if (rc == 0)
            rc = ss__procbuf_watch(pb, &pb->listen_io, fd);
        if (rc == 0)
            pb->listenfd = fd;
        else if (fd >= 0)
            close(fd);
    }
    if (rc == 0)
        snprintf(ret_address, size, "%s", pb->address);
    pthread_mutex_unlock(&pb->mu);
    return rc;
}

static int add_conn(ss_procbuf *pb, int fd, pid_t pid)
{
    if (pb->nconns == pb->conns_cap) {
        size_t cap = pb->conns_cap ? 2 * pb->conns_cap : 16;
        ss__child **grown = realloc(pb->conns, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        pb->conns = grown;
        pb->conns_cap = cap;
    }
    ss__child *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->id = -1;
    c->pid = pid;
    c->connected = true;
    snprintf(c->name, sizeof(c->name), "pid %d", (int)pid);
    memcpy(c->mirror_source, c->name, SS_SOURCE_MAX);
    ss__procbuf_open_chan(pb, c, &c->out, SS__CHAN_OUT, -1, 0);
    ss__procbuf_open_chan(pb, c, &c->err, SS__CHAN_ERR, -1, 0);
    ss__procbuf_open_chan(pb, c, &c->pidfd, SS__CHAN_PIDFD, -1, 0);
    int rc = ss__procbuf_open_chan(pb, c, &c->mirror, SS__CHAN_MIRROR, fd, 0);
    if (rc == 0)
        rc = ss__procbuf_watch(pb, &c->mirror.io, fd);
    if (rc < 0) {
        ss__procbuf_free_child(pb, c);
        return rc;
    }
    pb->conns[pb->nconns++] = c;
    return 0;
}

void ss__procbuf_accept(ss_procbuf *pb)
{
    for (;;) {
        int fd = accept4(pb->listenfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN: none left; anything else: the next event retries */
        struct ucred cred;
        socklen_t len = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != geteuid() ||
            add_conn(pb, fd, cred.pid) < 0)
            close(fd);
    }
}

int ss__procbuf_hello(ss_procbuf *pb, ss__child *c, const ss__frame *f)
{
    /* a comparison in constant time: the secret is the only defence */
    unsigned char diff = f->len != SS__MIRROR_SECRET;
    for (size_t i = 0; i < SS__MIRROR_SECRET && !diff; i++)
        diff |= (unsigned char)f->text[i] ^ pb->secret[i];
    if (diff)
        return -EACCES;
    unsigned char payload[12];
    for (int i = 0; i < 8; i++)
        payload[i] = (unsigned char)((uint64_t)pb->max_line >> (8 * i));
    for (int i = 0; i < 4; i++)
        payload[8 + i] = (unsigned char)(pb->line_flags >> (8 * i));
    ss__buf answer;
    ss__buf_init(&answer, 64);
    ss__frame a = {.type = SS__FRAME_HELLO, .text = (const char *)payload, .len = 12};
    int rc = ss__frame_encode(&answer, &a);
    if (rc == 0) {
        union {
            struct cmsghdr h;
            char space[CMSG_SPACE(sizeof(int))];
        } cbuf;
        memset(&cbuf, 0, sizeof(cbuf));
        struct iovec iov = {.iov_base = answer.data, .iov_len = answer.len};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = cbuf.space,
                             .msg_controllen = sizeof(cbuf.space)};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &pb->stopfd, sizeof(int));
        /* the connection's buffer is empty: the answer fits without waiting */
        ssize_t n = sendmsg(c->mirror.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        rc = n < 0 ? -errno : (size_t)n < answer.len ? -EIO : 0;
    }
    ss__buf_free(&answer);
    if (rc == 0) {
        c->authed = true;
        c->has_mirror = true;
        c->open_end = true;
    }
    return rc;
}

void ss__procbuf_conn_gone(ss_procbuf *pb, ss__child *c, bool lost)
{
    if (lost && c->authed) {
        static const char text[] = "its mirror connection ended without an end "
                                   "(the process died, or never ended or closed its mirror)";
        ss__linebuf_store(pb->lb, SS_KIND_ERROR, SS_REC_EXIT, c->mirror_source,
                          ss__child_producer(c), ss__now_realtime_ns(), text, sizeof(text) - 1);
    }
    for (size_t i = 0; i < pb->nconns; i++) {
        if (pb->conns[i] == c) {
            pb->conns[i] = pb->conns[--pb->nconns];
            break;
        }
    }
    ss__procbuf_free_child(pb, c);
}

void ss__procbuf_detach_conns(ss_procbuf *pb)
{
    /* Not freed here: the collector may hold an event for one. Shut down, each
     * reaches its end of file in the collector, which frees it; meanwhile
     * what it sends is ignored, and its mirror's next send fails (EPIPE). */
    for (size_t i = 0; i < pb->nconns; i++) {
        pb->conns[i]->detached = true;
        if (pb->conns[i]->mirror.fd >= 0)
            shutdown(pb->conns[i]->mirror.fd, SHUT_RDWR);
    }
    if (pb->listenfd >= 0) {
        /* the name stays; only the secret changes */
        const char *name = pb->address + 1;
        char saved[SS_MIRROR_ADDRESS_MAX];
        snprintf(saved, sizeof(saved), "%.*s", (int)strcspn(name, "/"), name);
        new_secret(pb, saved);
    }
}
