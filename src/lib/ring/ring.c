#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <syncstream/common.h>

#include "ring/ring.h"
#include "util/fence.h"
#include "util/records.h"

/* The arena starts this small on the heap and doubles as records need room. */
#define HEAP_ARENA_START (64u * 1024u)

/* Every chunk is a multiple of 8 bytes and at least 8, so that the oldest chunk's
 * start and the newest chunk's end coincide only when the arena is full. */
static size_t chunk_size(size_t len)
{
    return ((len ? len : 1) + 7) & ~(size_t)7;
}

static uint64_t chunk_end(const ss__slot *s)
{
    return s->off + chunk_size(s->len);
}

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

static uint64_t slot_count(size_t maxlen)
{
    uint64_t n = 1;
    while (n < maxlen)
        n <<= 1;
    return n;
}

size_t ss__ring_layout(ss__ring_hdr *hdr, const ss__ring_geometry *geo)
{
    memset(hdr, 0, sizeof(*hdr));
    memcpy(hdr->magic, SS__RING_MAGIC, sizeof(hdr->magic));
    hdr->version = SS__RING_VERSION;
    hdr->hdr_size = sizeof(*hdr);
    hdr->maxlen = geo->maxlen;
    hdr->max_line = geo->max_line;
    hdr->max_bytes = geo->max_bytes;
    hdr->slots_off = round_up(sizeof(*hdr), 64);
    hdr->slot_mask = slot_count(geo->maxlen) - 1;
    hdr->origins_off = round_up(hdr->slots_off + (hdr->slot_mask + 1) * sizeof(ss__slot), 64);
    hdr->partial_off = round_up(hdr->origins_off + (geo->maxlen + 1) * sizeof(ss__origin), 64);
    hdr->data_off = round_up(hdr->partial_off + geo->max_line, 64);
    hdr->region_size = hdr->data_off + geo->max_bytes;
    hdr->first_seq = hdr->next_seq = 1;
    return hdr->region_size;
}

int ss__ring_hdr_check(const ss__ring_hdr *hdr, size_t file_size)
{
    if (memcmp(hdr->magic, SS__RING_MAGIC, sizeof(hdr->magic)) != 0)
        return SS_EFORMAT;
    if (hdr->version != SS__RING_VERSION || hdr->hdr_size != sizeof(*hdr))
        return SS_EFORMAT;
    ss__ring_hdr want;
    ss__ring_geometry geo = {hdr->maxlen, hdr->max_line, hdr->max_bytes};
    if (geo.maxlen == 0 || geo.maxlen > (1u << 28) || geo.max_line == 0 ||
        geo.max_line > (256u << 20) || geo.max_bytes > (1ull << 30))
        return SS_ECORRUPT;
    ss__ring_layout(&want, &geo);
    if (hdr->slot_mask != want.slot_mask || hdr->slots_off != want.slots_off ||
        hdr->origins_off != want.origins_off || hdr->partial_off != want.partial_off ||
        hdr->data_off != want.data_off || hdr->region_size != want.region_size ||
        hdr->region_size > file_size)
        return SS_ECORRUPT;
    return 0;
}

int ss__ring_check_records(ss__ring *ring)
{
    const ss__ring_hdr *hdr = ring->hdr;
    if (hdr->first_seq == 0 || hdr->first_seq > hdr->next_seq ||
        hdr->next_seq - hdr->first_seq > hdr->maxlen || hdr->partial_len > hdr->max_line)
        return SS_ECORRUPT;
    for (uint64_t seq = hdr->first_seq; seq < hdr->next_seq; seq++) {
        const ss__slot *s = ss__ring_slot(ring, seq);
        if (s->seq_low != (uint16_t)seq || !ss__slot_in_arena(s, hdr->max_bytes) ||
            chunk_size(s->len) > hdr->max_bytes - s->off || s->kind > SS_KIND_ERROR)
            return SS_ECORRUPT;
        int rc = ss__origins_adopt(&ring->origins, s->origin, seq);
        if (rc < 0)
            return rc;
    }
    return ss__origins_relist(&ring->origins);
}

int ss__ring_init_heap(ss__ring *ring, const ss__ring_geometry *geo, ss_full_policy full)
{
    memset(ring, 0, sizeof(*ring));
    ring->fd = -1;
    ring->full = full;
    ring->hdr = malloc(sizeof(*ring->hdr));
    ring->slots = calloc(slot_count(geo->maxlen), sizeof(ss__slot));
    ring->data_cap = geo->max_bytes < HEAP_ARENA_START ? geo->max_bytes : HEAP_ARENA_START;
    ring->data = malloc(ring->data_cap);
    if (!ring->hdr || !ring->slots || !ring->data ||
        ss__origins_init(&ring->origins, NULL, (uint32_t)geo->maxlen + 1) < 0) {
        ss__ring_done(ring);
        return -ENOMEM;
    }
    ss__ring_layout(ring->hdr, geo);
    return 0;
}

/* Where a chunk of need bytes fits without evicting anything. */
static bool find_room(const ss__ring *ring, size_t need, uint64_t *ret_off)
{
    if (ss__ring_count(ring) == 0) {
        *ret_off = 0;
        return need <= ring->data_cap;
    }
    uint64_t head = ss__ring_slot(ring, ring->hdr->first_seq)->off;
    uint64_t tail = chunk_end(ss__ring_slot(ring, ring->hdr->next_seq - 1));
    if (tail > head) {
        if (ring->data_cap - tail >= need) {
            *ret_off = tail;
            return true;
        }
        *ret_off = 0;
        return head >= need;
    }
    *ret_off = tail;
    return head - tail >= need;
}

/*
 * Double the heap arena (up to max_bytes), laying the records out again from
 * offset 0, oldest first. Returns 1 when grown, 0 when it is at its bound (or
 * in a file), -ENOMEM when memory ran out.
 */
static int grow_heap_arena(ss__ring *ring)
{
    if (ring->map || ring->data_cap >= ring->hdr->max_bytes)
        return 0;
    size_t cap = ring->data_cap * 2;
    if (cap > ring->hdr->max_bytes)
        cap = ring->hdr->max_bytes;
    char *data = malloc(cap);
    if (!data)
        return -ENOMEM;
    uint64_t off = 0;
    for (uint64_t seq = ring->hdr->first_seq; seq < ring->hdr->next_seq; seq++) {
        ss__slot *s = &ring->slots[seq & ring->hdr->slot_mask];
        memcpy(data + off, ring->data + s->off, s->len);
        s->off = off;
        off += chunk_size(s->len);
    }
    free(ring->data);
    ring->data = data;
    ring->data_cap = cap;
    return 1;
}

/* Rotate the oldest record out. first_seq moves before its space is reused, so a
 * concurrent reader of the file (which re-checks first_seq) never trusts it. */
static void evict_oldest(ss__ring *ring)
{
    __atomic_store_n(&ring->hdr->first_seq, ring->hdr->first_seq + 1, __ATOMIC_RELEASE);
    if (ring->map)
        ss__store_fence(); /* only a file has readers outside our lock */
    ring->hdr->shed++;
}

int ss__ring_append(ss__ring *ring, ss_kind kind, uint32_t flags, const char *source,
                    uint32_t producer, int64_t time_ns, const char *text, size_t len)
{
    ss__ring_hdr *hdr = ring->hdr;
    uint64_t off;
    uint32_t origin;

    /* Refused before it counts as written: the caller still holds the text.
     * (len is compared first: rounding a huge len up could wrap.) */
    if (len > hdr->max_bytes || chunk_size(len) > hdr->max_bytes)
        return SS_ETOOBIG;
    size_t need = chunk_size(len);
    if (ring->full == SS_FULL_DROP_NEWEST && ss__ring_count(ring) == hdr->maxlen)
        goto out_shed;
    /* Named before any record leaves, so that an entry is reused only once
     * no stored record names it: the table holds at most maxlen + 1. */
    int rc =
        ss__origins_name(&ring->origins, source, producer, hdr->next_seq, hdr->first_seq, &origin);
    if (rc < 0)
        return rc;
    bool evicted = false;
    if (ss__ring_count(ring) == hdr->maxlen) {
        evict_oldest(ring);
        evicted = true;
    }
    while (!find_room(ring, need, &off)) {
        int grown = grow_heap_arena(ring);
        if (grown > 0)
            continue;
        /* Out of memory below the byte bound: an error, not a silent rotation.
         * The record rotated out to make a place for this one comes back: only
         * a heap ring grows, so no reader outside our lock saw it go, and
         * nothing has overwritten it. */
        if (grown < 0 || ss__ring_count(ring) == 0) {
            if (evicted) {
                __atomic_store_n(&hdr->first_seq, hdr->first_seq - 1, __ATOMIC_RELEASE);
                hdr->shed--;
            }
            ss__origins_unname(&ring->origins, origin, hdr->first_seq);
            return -ENOMEM;
        }
        if (ring->full == SS_FULL_DROP_NEWEST) {
            ss__origins_unname(&ring->origins, origin, hdr->first_seq);
            goto out_shed;
        }
        evict_oldest(ring);
    }

    uint64_t seq = hdr->next_seq;
    ss__slot *s = &ring->slots[seq & hdr->slot_mask];
    s->time_ns = time_ns;
    s->off = (uint32_t)off;
    s->len = (uint32_t)len;
    s->origin = origin;
    s->seq_low = (uint16_t)seq;
    s->flags = (uint8_t)flags;
    s->kind = (uint8_t)kind;
    if (len)
        memcpy(ring->data + off, text, len);
    /* Publish only once the slot and the text are complete. */
    __atomic_store_n(&hdr->next_seq, seq + 1, __ATOMIC_RELEASE);
    hdr->written++;
    hdr->stored++;
    if (flags & SS_REC_CONTINUED)
        hdr->cut++;
    return 1;

out_shed:
    hdr->written++;
    hdr->shed++;
    if (flags & SS_REC_CONTINUED)
        hdr->cut++;
    return 0;
}

uint64_t ss__ring_bytes_after(const ss__ring *ring, uint64_t cursor)
{
    uint64_t first = cursor + 1 > ring->hdr->first_seq ? cursor + 1 : ring->hdr->first_seq;
    if (first >= ring->hdr->next_seq)
        return 0;
    uint64_t head = ss__ring_slot(ring, first)->off;
    uint64_t tail = chunk_end(ss__ring_slot(ring, ring->hdr->next_seq - 1));
    return tail > head ? tail - head : ring->data_cap - head + tail;
}

void ss__ring_clear(ss__ring *ring)
{
    ring->hdr->cleared += ss__ring_count(ring);
    __atomic_store_n(&ring->hdr->first_seq, ring->hdr->next_seq, __ATOMIC_RELEASE);
    if (ring->map)
        ss__store_fence(); /* before an origin entry is reused, as in evict_oldest */
}

void ss__ring_done(ss__ring *ring)
{
    ss__origins_done(&ring->origins);
    if (ring->map) {
        msync(ring->map, ring->map_len, MS_SYNC);
        munmap(ring->map, ring->map_len);
    } else {
        free(ring->hdr);
        free(ring->slots);
        free(ring->data);
    }
    if (ring->fd >= 0)
        close(ring->fd);
    memset(ring, 0, sizeof(*ring));
    ring->fd = -1;
}
