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
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
    const uint32_t *stop;  /* non-zero: the parent asked every mirror to stop */
    void *stop_map;        /* our own mapping of the stop page, if we made one */
    ss__lineasm la;
    ss__buf out;           /* frames completed by the current call */
    int64_t now_ns;
};

int ss__mirror_new(ss_mirror **ret, int fd, const uint32_t *stop, size_t max_line)
{
    ss_mirror *m = calloc(1, sizeof(*m));
    if (!m || ss__lineasm_init(&m->la, max_line, 0, NULL) < 0) {
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
    int rc = ss__mirror_new(&m, (int)fd, map, (size_t)max_line);
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
        ssize_t n = write(m->fd, m->out.data + off, m->out.len - off);
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
static int queue_frame(ss_mirror *m, uint8_t type, ss_kind kind, uint32_t flags,
                       const char *text, size_t len)
{
    ss__frame f = {.type = type, .kind = kind, .flags = flags, .time_ns = m->now_ns,
                   .text = text, .len = (uint32_t)len};
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

/* Closing is not refused by a stop: what was written is still delivered. */
int ss_mirror_close(ss_mirror *m)
{
    if (!m)
        return 0;
    m->now_ns = ss__now_realtime_ns();
    int rc = ss__lineasm_flush(&m->la, frame_line, m);
    if (rc == 0)
        rc = queue_frame(m, SS__FRAME_CLOSE, SS_KIND_LINE, 0, NULL, 0);
    int sent = send_out(m);
    ss__mirror_free(m);
    return rc < 0 ? rc : sent;
}

int ss_mirror_close_error(ss_mirror *m, const void *text, size_t len)
{
    if (!m)
        return 0;
    if (!text && len) {
        ss__mirror_free(m);
        return -EINVAL;
    }
    int rc = queue_group(m, SS_KIND_ERROR, text, len);
    if (rc == 0)
        rc = queue_frame(m, SS__FRAME_CLOSE, SS_KIND_LINE, 0, NULL, 0);
    int sent = send_out(m);
    ss__mirror_free(m);
    return rc < 0 ? rc : sent;
}
