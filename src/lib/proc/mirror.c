/*
 * ss_mirror: the child's side of process mode. Lines are assembled here and
 * sent whole, as frames (proc/frame.h), over the child's own pipe; each call
 * sends what it completed with one write(2). (A pipe rather than a socket: the
 * kernel packs small writes into the pipe's pages, where a socket allocates a
 * buffer per write, which halves the rate of short lines.)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <syncstream/common.h>
#include <syncstream/proc.h>

#include "proc/frame.h"
#include "proc/mirror_int.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/lineasm.h"

/* A frame of one record never exceeds this; a record is cut at max_line and a
 * grouped record is refused beyond it with SS_ETOOBIG. */
#define MIRROR_MAX_PAYLOAD (64u << 20)

struct ss_mirror {
    int fd;
    bool is_socket;       /* a connected mirror: send() without SIGPIPE */
    const uint32_t *stop; /* non-zero: the parent asked every mirror to stop */
    void *stop_map;       /* our own mapping of the stop page, if we made one */
    ss__lineasm la;
    ss__buf out; /* frames completed by the current call */
    int64_t now_ns;
};

int ss__mirror_new(ss_mirror **ret, int fd, const uint32_t *stop, size_t max_line,
                   unsigned line_flags)
{
    ss_mirror *m = calloc(1, sizeof(*m));
    if (!m || ss__lineasm_init(&m->la, max_line, line_flags, NULL) < 0) {
        free(m);
        if (fd >= 0)
            close(fd);
        return -ENOMEM;
    }
    m->fd = fd;
    m->stop = stop;
    ss__buf_init(&m->out, SS__FRAME_HDR + MIRROR_MAX_PAYLOAD + max_line + SS__FRAME_HDR);
    *ret = m;
    return 0;
}

static int parse_number(const char **p, long max, long *ret)
{
    char *end;
    long v = strtol(*p, &end, 10);
    if (end == *p || v < 0 || v > max)
        return -EINVAL;
    *ret = v;
    *p = end;
    return 0;
}

int ss_mirror_open_env(ss_mirror **ret, const char *source)
{
    if (!ret)
        return -EINVAL;
    const char *env = getenv(SS_MIRROR_ENV);
    if (!env)
        return -ENOENT;
    long fd, stop_fd, max_line;
    const char *p = env;
    if (parse_number(&p, INT_MAX, &fd) < 0 || *p++ != ',' ||
        parse_number(&p, INT_MAX, &stop_fd) < 0 || *p++ != ',' ||
        parse_number(&p, 256l << 20, &max_line) < 0 || *p != '\0' || max_line == 0)
        return -EINVAL;
    void *map = mmap(NULL, sizeof(uint32_t), PROT_READ, MAP_SHARED, (int)stop_fd, 0);
    if (map == MAP_FAILED)
        return errno == EACCES || errno == ENODEV ? -EBADF : -errno;
    close((int)stop_fd);
    ss_mirror *m;
    int rc = ss__mirror_new(&m, (int)fd, map, (size_t)max_line, 0);
    if (rc < 0) {
        munmap(map, sizeof(uint32_t));
        return rc;
    }
    m->stop_map = map;
    /* Our descendants must not inherit the channel: they would keep it open,
     * and the parent would wait for them. */
    unsetenv(SS_MIRROR_ENV);
    fcntl((int)fd, F_SETFD, FD_CLOEXEC);
    if (source) {
        size_t n = strnlen(source, SS_SOURCE_MAX - 1);
        ss__frame f = {.type = SS__FRAME_SOURCE, .text = source, .len = (uint32_t)n};
        rc = ss__frame_encode(&m->out, &f);
        if (rc < 0) {
            ss__mirror_free(m);
            return rc;
        }
    }
    *ret = m;
    return 0;
}

/* Read exactly len bytes of the buffer's answer, the stop page's fd with
 * them, waiting at most timeout_ms in all (negative: no limit). */
static int recv_answer(int fd, char *data, size_t len, int *ret_stopfd, int timeout_ms)
{
    int64_t deadline = ss__mono_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
    size_t got = 0;
    while (got < len) {
        int64_t left = deadline - ss__mono_ms();
        int wait = timeout_ms < 0 ? -1 : left > 0 ? (int)left : 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, wait);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -ETIMEDOUT;
        union {
            struct cmsghdr h;
            char space[CMSG_SPACE(sizeof(int))];
        } cbuf;
        struct iovec iov = {.iov_base = data + got, .iov_len = len - got};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = cbuf.space,
                             .msg_controllen = sizeof(cbuf.space)};
        ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        /* the buffer closes a connection it refuses (a wrong secret: an
         * address from before a reset, or a buffer that is gone) */
        if (n == 0)
            return -EACCES;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(sizeof(int))) {
            int passed;
            memcpy(&passed, CMSG_DATA(c), sizeof(int));
            if (*ret_stopfd >= 0)
                close(passed);
            else
                *ret_stopfd = passed;
        }
        got += (size_t)n;
    }
    return 0;
}

int ss_mirror_connect(ss_mirror **ret, const char *address, int timeout_ms)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    unsigned char secret[SS__MIRROR_SECRET];
    socklen_t salen;
    if (!ret || ss__mirror_parse_address(address, &sa, &salen, secret) < 0)
        return -EINVAL;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int rc = 0;
    if (connect(fd, (struct sockaddr *)&sa, salen) < 0)
        rc = -errno;
    ss__buf hello;
    ss__buf_init(&hello, 64);
    ss__frame f = {.type = SS__FRAME_HELLO, .text = (const char *)secret, .len = sizeof(secret)};
    if (rc == 0)
        rc = ss__frame_encode(&hello, &f);
    if (rc == 0) {
        /* a fresh socket's buffer takes these few bytes at once */
        ssize_t n = send(fd, hello.data, hello.len, MSG_NOSIGNAL);
        rc = n < 0 ? -errno : (size_t)n < hello.len ? -EIO : 0;
    }
    ss__buf_free(&hello);

    /* The answer: a HELLO frame holding the line length and the line flags,
     * with the stop page's fd. */
    char answer[SS__FRAME_HDR + 12];
    int stopfd = -1;
    if (rc == 0)
        rc = recv_answer(fd, answer, sizeof(answer), &stopfd, timeout_ms);
    ss__frame a;
    size_t used;
    if (rc == 0 && (ss__frame_parse(answer, sizeof(answer), 12, &a, &used) != 1 ||
                    a.type != SS__FRAME_HELLO || a.len != 12 || stopfd < 0))
        rc = SS_ECORRUPT;
    void *map = MAP_FAILED;
    if (rc == 0) {
        map = mmap(NULL, sizeof(uint32_t), PROT_READ, MAP_SHARED, stopfd, 0);
        if (map == MAP_FAILED)
            rc = -errno;
    }
    if (stopfd >= 0)
        close(stopfd);
    ss_mirror *m = NULL;
    if (rc == 0) {
        uint64_t max_line = 0;
        uint32_t line_flags = 0;
        for (int i = 7; i >= 0; i--)
            max_line = max_line << 8 | (unsigned char)a.text[i];
        for (int i = 11; i >= 8; i--)
            line_flags = line_flags << 8 | (unsigned char)a.text[i];
        if (max_line == 0 || max_line > (256u << 20))
            rc = SS_ECORRUPT;
        else
            rc = ss__mirror_new(&m, fd, map, (size_t)max_line, line_flags);
        fd = -1; /* the mirror's now, or closed by it */
    }
    if (rc < 0) {
        if (map != MAP_FAILED)
            munmap(map, sizeof(uint32_t));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    m->stop_map = map;
    m->is_socket = true;
    *ret = m;
    return 0;
}

static bool stopped(const ss_mirror *m)
{
    return atomic_load_explicit((const _Atomic uint32_t *)m->stop, memory_order_relaxed) != 0;
}

/* Write every frame in m->out to the pipe. The mirror is its pipe's only
 * writer, so a write split by the kernel still arrives in order. */
static int send_out(ss_mirror *m)
{
    size_t off = 0;
    int rc = 0;
    while (off < m->out.len) {
        ssize_t n = m->is_socket ? send(m->fd, m->out.data + off, m->out.len - off, MSG_NOSIGNAL)
                                 : write(m->fd, m->out.data + off, m->out.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        off += (size_t)n;
    }
    ss__buf_reset(&m->out);
    return rc;
}

/* Queue one frame behind those of this call; when the queue is full, send it
 * first. */
static int queue_frame(ss_mirror *m, uint8_t type, ss_kind kind, uint32_t flags, const char *text,
                       size_t len)
{
    ss__frame f = {.type = type,
                   .kind = kind,
                   .flags = flags,
                   .time_ns = m->now_ns,
                   .text = text,
                   .len = (uint32_t)len};
    int rc = ss__frame_encode(&m->out, &f);
    if (rc == -ENOBUFS) {
        rc = send_out(m);
        if (rc == 0)
            rc = ss__frame_encode(&m->out, &f);
    }
    return rc;
}

static int frame_line(void *ctx, const char *text, size_t len, uint32_t flags)
{
    return queue_frame(ctx, SS__FRAME_RECORD, SS_KIND_LINE, flags, text, len);
}

int ss_mirror_write(ss_mirror *m, const void *data, size_t len)
{
    if (!m || (!data && len))
        return -EINVAL;
    if (stopped(m))
        return SS_ESTOPPED;
    m->now_ns = ss__now_realtime_ns();
    int rc = ss__lineasm_feed(&m->la, data, len, frame_line, m);
    int sent = send_out(m);
    return rc < 0 ? rc : sent;
}

int ss_mirror_new_line(ss_mirror *m)
{
    if (!m)
        return -EINVAL;
    if (stopped(m))
        return SS_ESTOPPED;
    m->now_ns = ss__now_realtime_ns();
    int rc = ss__lineasm_flush(&m->la, frame_line, m);
    int sent = send_out(m);
    return rc < 0 ? rc : sent;
}

/* End the partial line, then queue text as one record of the given kind. */
static int queue_group(ss_mirror *m, ss_kind kind, const char *text, size_t len)
{
    len = ss__trim_breaks(text, len);
    if (len > MIRROR_MAX_PAYLOAD)
        return SS_ETOOBIG;
    m->now_ns = ss__now_realtime_ns();
    int rc = ss__lineasm_flush(&m->la, frame_line, m);
    if (rc == 0)
        rc = queue_frame(m, SS__FRAME_RECORD, kind, 0, text, len);
    return rc;
}

int ss_mirror_append(ss_mirror *m, ss_kind kind, const void *text, size_t len)
{
    if (!m || (!text && len) || (unsigned)kind > SS_KIND_ERROR)
        return -EINVAL;
    if (stopped(m))
        return SS_ESTOPPED;
    int rc = queue_group(m, kind, text, len);
    int sent = send_out(m);
    return rc < 0 ? rc : sent;
}

void ss__mirror_set_fd(ss_mirror *m, int fd)
{
    m->fd = fd;
}

void ss__mirror_free(ss_mirror *m)
{
    ss__lineasm_done(&m->la);
    ss__buf_free(&m->out);
    if (m->stop_map)
        munmap(m->stop_map, sizeof(uint32_t));
    if (m->fd >= 0)
        close(m->fd);
    free(m);
}

/* Ending is not refused by a stop: what was written is still delivered. */
int ss_mirror_end(ss_mirror *m, const void *error_text, size_t len)
{
    if (!m || (!error_text && len))
        return -EINVAL;
    m->now_ns = ss__now_realtime_ns();
    int rc = error_text ? queue_group(m, SS_KIND_ERROR, error_text, len)
                        : ss__lineasm_flush(&m->la, frame_line, m);
    if (rc == 0)
        rc = queue_frame(m, SS__FRAME_CLOSE, SS_KIND_LINE, 0, NULL, 0);
    int sent = send_out(m);
    return rc < 0 ? rc : sent;
}

int ss_mirror_close(ss_mirror *m)
{
    if (!m)
        return 0;
    int rc = ss_mirror_end(m, NULL, 0);
    ss__mirror_free(m);
    return rc;
}

int ss_mirror_close_error(ss_mirror *m, const void *text, size_t len)
{
    if (!m)
        return 0;
    int rc = ss_mirror_end(m, text || len ? text : "", len);
    ss__mirror_free(m);
    return rc;
}

int ss__mirror_fd(const ss_mirror *m)
{
    return m->fd;
}

void ss__mirror_partial(const ss_mirror *m, const char **ret, size_t *ret_len)
{
    *ret = m->la.part;
    *ret_len = m->la.len;
}

void ss__mirror_clear(ss_mirror *m)
{
    ss__lineasm_reset(&m->la);
}
