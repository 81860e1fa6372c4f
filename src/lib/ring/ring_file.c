/*
 * Rings in memory-mapped files: crash survival for ss_linebuf, and the reader
 * behind ss_linebuf_inspect_file().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <syncstream/common.h>

#include "ring/ring.h"
#include "util/fence.h"
#include "util/records.h"

static bool same_geometry(const ss__ring_hdr *a, const ss__ring_hdr *b)
{
    return a->maxlen == b->maxlen && a->max_line == b->max_line && a->max_bytes == b->max_bytes;
}

/* Reserve the file's blocks now: a sparse file would turn a full disk into a
 * SIGBUS at some later write to the mapping. */
static int allocate_file(int fd, size_t size)
{
    int rc = posix_fallocate(fd, 0, (off_t)size);
    if (rc == EOPNOTSUPP || rc == EINVAL)
        rc = ftruncate(fd, (off_t)size) == 0 ? 0 : errno;
    return -rc;
}

/*
 * Make a new ring file at path whole, under a temporary name beside it, and
 * link it into place only then: a process killed while making it leaves no
 * half-made file at path. Returns 0, -EEXIST when another process made path
 * meanwhile, or a negative errno.
 */
static int create_file(const char *path, const ss__ring_hdr *hdr, size_t size)
{
    static unsigned counter;
    char tmp[4096];
    int n = snprintf(tmp, sizeof(tmp), "%s.%d.%u.tmp", path, (int)getpid(),
                     __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -ENAMETOOLONG;
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = allocate_file(fd, size);
    errno = 0;
    if (rc == 0 && pwrite(fd, hdr, sizeof(*hdr), 0) != (ssize_t)sizeof(*hdr))
        rc = errno ? -errno : -EIO;
    if (rc == 0 && link(tmp, path) < 0)
        rc = -errno;
    unlink(tmp);
    close(fd);
    return rc;
}

int ss__ring_open_file(ss__ring *ring, const char *path, const ss__ring_geometry *geo,
                       ss_full_policy full)
{
    ss__ring_hdr want, have;
    size_t size = ss__ring_layout(&want, geo);
    struct stat st;
    bool fresh;
    int rc;

    memset(ring, 0, sizeof(*ring));
    for (int attempt = 0;; attempt++) {
        ring->fd = open(path, O_RDWR | O_CLOEXEC);
        if (ring->fd >= 0)
            break;
        if (errno != ENOENT || attempt == 2)
            return -errno;
        rc = create_file(path, &want, size);
        if (rc < 0 && rc != -EEXIST)
            return rc;
    }
    /* One owner at a time: the ring's own lock is a process-local mutex. An open
     * file description lock also refuses a second owner inside this process,
     * where a classic fcntl lock would be granted again. */
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(ring->fd, F_OFD_SETLK, &lock) < 0) {
        rc = (errno == EAGAIN || errno == EACCES) ? -EBUSY : -errno;
        goto out_close;
    }
    if (fstat(ring->fd, &st) < 0) {
        rc = -errno;
        goto out_close;
    }
    fresh = st.st_size == 0;
    if (fresh) {
        rc = allocate_file(ring->fd, size);
        if (rc < 0)
            goto out_truncate;
    } else {
        if ((size_t)st.st_size < sizeof(have) ||
            pread(ring->fd, &have, sizeof(have), 0) != (ssize_t)sizeof(have)) {
            rc = SS_EFORMAT;
            goto out_close;
        }
        rc = ss__ring_hdr_check(&have, (size_t)st.st_size);
        if (rc == 0 && !same_geometry(&have, &want))
            rc = SS_EFORMAT;
        if (rc < 0)
            goto out_close;
    }
    ring->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, ring->fd, 0);
    if (ring->map == MAP_FAILED) {
        ring->map = NULL;
        rc = -errno;
        goto out_truncate;
    }
    ring->map_len = size;
    ring->full = full;
    ring->hdr = ring->map;
    ring->slots = (ss__slot *)((char *)ring->map + want.slots_off);
    ring->partial = (char *)ring->map + want.partial_off;
    ring->data = (char *)ring->map + want.data_off;
    ring->data_cap = geo->max_bytes;
    rc = ss__origins_init(&ring->origins, (ss__origin *)((char *)ring->map + want.origins_off),
                          (uint32_t)geo->maxlen + 1);
    if (rc == 0 && !fresh)
        rc = ss__ring_check_records(ring);
    if (rc < 0) {
        ss__origins_done(&ring->origins);
        munmap(ring->map, ring->map_len);
        ring->map = NULL;
        goto out_close;
    }
    if (fresh) {
        /* The magic goes in last, so a file cut short by a crash here is
         * refused as a non-ring file rather than read as an empty ring. */
        memcpy(ring->hdr, &want, sizeof(want));
        memset(ring->hdr->magic, 0, sizeof(ring->hdr->magic));
        ss__store_fence();
        memcpy(ring->hdr->magic, want.magic, sizeof(want.magic));
    }
    return 0;

out_truncate:
    if (fresh && ftruncate(ring->fd, 0) < 0) {
        /* Nothing more to undo: the error that brought us here is the one to report. */
    }
out_close:
    close(ring->fd);
    ring->fd = -1;
    return rc;
}

/* Copy the selected slots first: their lengths decide the allocation, and a live
 * writer may change the mapping under us at any moment. */
static int snapshot_records(const ss__ring_hdr *hdr, const char *base, size_t n, ss_records *ret)
{
    const ss__slot *slots = (const ss__slot *)(base + hdr->slots_off);
    const ss__origin *origins = (const ss__origin *)(base + hdr->origins_off);
    const char *data = base + hdr->data_off;
    uint64_t first = __atomic_load_n(&hdr->first_seq, __ATOMIC_ACQUIRE);
    uint64_t next = __atomic_load_n(&hdr->next_seq, __ATOMIC_ACQUIRE);
    size_t partial_len = hdr->partial_len;
    bool partial = partial_len > 0 && partial_len <= hdr->max_line;
    uint64_t missed = 0;

    /* The two loads are not one snapshot: a writer may have moved both in
     * between. What fell out meanwhile is caught by the re-check below. */
    if (next < first)
        return SS_ECORRUPT;
    if (next - first > hdr->maxlen)
        first = next - hdr->maxlen;
    if (first == 0)
        return SS_ECORRUPT;
    size_t records = (size_t)(next - first);
    size_t drop = ss__newest_items(records, &partial, n);
    first += drop;
    records -= drop;

    ss__slot *copy = records ? malloc(records * sizeof(*copy)) : NULL;
    if (records && !copy)
        return -ENOMEM;
    size_t text_bytes = partial ? partial_len : 0;
    /* A slot that does not hold the record it should is damaged: marked by
     * an origin outside the table, and skipped. */
    for (size_t i = 0; i < records; i++) {
        copy[i] = slots[(first + i) & hdr->slot_mask];
        if (copy[i].seq_low != (uint16_t)(first + i) || copy[i].origin > hdr->maxlen ||
            !ss__slot_in_arena(&copy[i], hdr->max_bytes)) {
            copy[i].origin = UINT32_MAX;
            copy[i].len = 0;
        }
        text_bytes += copy[i].len;
    }

    ss__records_builder b;
    int rc = ss__records_begin(&b, ret, records + partial, text_bytes);
    if (rc < 0)
        goto out_free_copy;
    for (size_t i = 0; i < records; i++) {
        const ss__slot *s = &copy[i];
        if (s->origin == UINT32_MAX) {
            missed++;
            continue;
        }
        const ss__origin *o = &origins[s->origin];
        ss__records_add(&b, first + i, s->time_ns, (ss_kind)s->kind, s->flags, o->producer,
                        o->source, data + s->off, s->len);
    }
    if (partial)
        ss__records_add(&b, 0, hdr->partial_time_ns, SS_KIND_LINE,
                        hdr->partial_flags | SS_REC_PARTIAL, hdr->partial_producer,
                        hdr->partial_source, base + hdr->partial_off, partial_len);

    /* A live writer may have rotated records out while we copied them. */
    ss__load_fence();
    uint64_t first_now = __atomic_load_n(&hdr->first_seq, __ATOMIC_ACQUIRE);
    size_t keep = 0;
    for (size_t i = 0; i < ret->count; i++) {
        ss_record *r = &ret->items[i];
        if (!(r->flags & SS_REC_PARTIAL) && r->seq < first_now) {
            missed++;
            continue;
        }
        ret->items[keep++] = *r;
    }
    ret->count = keep;
    ret->missed = missed;
    ret->cursor = next - 1;
    rc = (int)keep;

out_free_copy:
    free(copy);
    return rc;
}

int ss__ring_inspect_file(const char *path, size_t n, ss_records *ret, ss__ring_hdr *ret_hdr)
{
    struct stat st;
    ss__ring_hdr hdr;
    int rc;

    if (!path || !ret)
        return -EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out_close;
    }
    if ((size_t)st.st_size < sizeof(hdr) ||
        pread(fd, &hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
        rc = SS_EFORMAT;
        goto out_close;
    }
    rc = ss__ring_hdr_check(&hdr, (size_t)st.st_size);
    if (rc < 0)
        goto out_close;
    void *map = mmap(NULL, hdr.region_size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        rc = -errno;
        goto out_close;
    }
    rc = snapshot_records(map, map, n, ret);
    if (rc >= 0 && ret_hdr)
        memcpy(ret_hdr, map, sizeof(*ret_hdr));
    munmap(map, hdr.region_size);
out_close:
    close(fd);
    return rc;
}
