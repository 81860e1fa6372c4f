#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <syncstream/proc.h>

#include "hostclient/queue.h"

int ss__hqueue_init(ss__hqueue *q, size_t mem_cap, const char *spool_path, size_t spool_cap)
{
    memset(q, 0, sizeof(*q));
    ss__buf_init(&q->mem, mem_cap);
    q->fd = -1;
    if (!spool_path)
        return 0;
    q->path = strdup(spool_path);
    if (!q->path)
        return -ENOMEM;
    q->fd = open(spool_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (q->fd < 0) {
        int err = -errno;
        free(q->path);
        q->path = NULL;
        return err;
    }
    q->spool_cap = spool_cap;
    return 0;
}

void ss__hqueue_done(ss__hqueue *q)
{
    ss__buf_free(&q->mem);
    if (q->fd >= 0) {
        close(q->fd);
        unlink(q->path);
    }
    free(q->path);
    q->fd = -1;
    q->path = NULL;
}

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -EIO;
        p = (const char *)p + w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static int pread_all(int fd, void *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -EIO;
        p = (char *)p + r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

size_t ss__hqueue_room(ss__hqueue *q)
{
    /* Entries go to the spool once one did, until it is read back empty. */
    size_t spool =
        q->fd >= 0 && q->spool_wr < q->spool_cap ? (size_t)(q->spool_cap - q->spool_wr) : 0;
    if (q->spool_count > 0)
        return spool;
    /* The cap bounds the bytes held; what was taken is reclaimed by push. */
    size_t mem = q->mem.cap - q->mem.len;
    /* Entries fill memory first, then the spool: either one holds them all. */
    return mem > spool ? mem : spool;
}

int ss__hqueue_push(ss__hqueue *q, uint8_t what, ss_kind kind, uint32_t flags, const char *text,
                    size_t len)
{
    ss__hq_hdr h = {.len = (uint32_t)len,
                    .what = what,
                    .kind = (uint8_t)kind,
                    .flags = (uint8_t)(flags & (SS_REC_CONTINUED | SS_REC_STDERR | SS_REC_EXIT))};
    size_t need = SS__HQ_HDR + len;

    if (q->spool_count == 0) {
        if (q->mem.len + need <= q->mem.cap) {
            size_t before = q->mem.len;
            int rc = ss__buf_append(&q->mem, &h, SS__HQ_HDR);
            if (rc == 0 && len)
                rc = ss__buf_append(&q->mem, text, len);
            if (rc < 0) {
                q->mem.len = before; /* -ENOMEM: not even the header stays */
                return rc;
            }
            q->mem_count++;
            return 0;
        }
    }
    /* The file's size is the bound: it starts over only once read back empty. */
    if (q->fd < 0 || q->spool_wr + need > q->spool_cap)
        return -ENOBUFS;
    if (pwrite_all(q->fd, &h, SS__HQ_HDR, q->spool_wr) < 0 ||
        (len && pwrite_all(q->fd, text, len, q->spool_wr + SS__HQ_HDR) < 0))
        return -EIO;
    q->spool_wr += need;
    q->spool_count++;
    q->spooled++;
    return 0;
}

int ss__hqueue_take(ss__hqueue *q, size_t max_entries, size_t max_text, ss__buf *out)
{
    size_t moved = 0, text = 0;

    while (moved < max_entries && q->mem_count > 0) {
        ss__hq_hdr h;
        memcpy(&h, q->mem.data, SS__HQ_HDR);
        if (moved > 0 && text + h.len > max_text)
            return (int)moved;
        int rc = ss__buf_append(out, q->mem.data, SS__HQ_HDR + h.len);
        if (rc < 0)
            return moved ? (int)moved : rc;
        ss__buf_take(&q->mem, SS__HQ_HDR + h.len);
        q->mem_count--;
        moved++;
        text += h.len;
    }
    /* The spool holds only entries newer than every one in memory. */
    while (moved < max_entries && q->mem_count == 0 && q->spool_count > 0) {
        ss__hq_hdr h;
        if (pread_all(q->fd, &h, SS__HQ_HDR, q->spool_rd) < 0)
            return moved ? (int)moved : -EIO;
        if (moved > 0 && text + h.len > max_text)
            break;
        size_t at = out->len;
        int rc = ss__buf_append(out, &h, SS__HQ_HDR);
        if (rc == 0 && h.len) {
            /* Grow out by the text's size, then read it in place. */
            char *tmp = malloc(h.len);
            rc = tmp ? pread_all(q->fd, tmp, h.len, q->spool_rd + SS__HQ_HDR) : -ENOMEM;
            if (rc == 0)
                rc = ss__buf_append(out, tmp, h.len);
            free(tmp);
        }
        if (rc < 0) {
            out->len = at;
            return moved ? (int)moved : rc;
        }
        q->spool_rd += SS__HQ_HDR + h.len;
        q->spool_count--;
        moved++;
        text += h.len;
    }
    if (q->fd >= 0 && q->spool_count == 0 && q->spool_wr > 0) {
        /* Read back empty: start the file over, so it does not grow forever. */
        if (ftruncate(q->fd, 0) == 0)
            q->spool_rd = q->spool_wr = 0;
    }
    return (int)moved;
}

ss__hq_hdr ss__hq_next(const ss__buf *run, size_t *off, const char **text)
{
    ss__hq_hdr h;
    memcpy(&h, run->data + *off, SS__HQ_HDR);
    *text = run->data + *off + SS__HQ_HDR;
    *off += SS__HQ_HDR + h.len;
    return h;
}
