/*
 * The record ring: the one store of records for every in-memory collector.
 *
 * At most maxlen records, with consecutive sequence numbers first_seq ..
 * next_seq - 1, indexed by seq & slot_mask in an array of fixed 24-byte slots;
 * their text lives in a byte arena used as a FIFO of variable-sized chunks (a
 * chunk never wraps: when the end has no room, the next chunk starts at offset
 * 0), their source name and producer id in the origin table (origins.h), one
 * entry per distinct pair.
 *
 * The header, the slots, the origin table, the arena and a space for the
 * default writer's partial line form one region that can live in a memory-mapped file
 * (ring_file.c), so that the records outlive a crash. Stores are ordered for that: a record's slot
 * and text are written before next_seq is advanced, and first_seq is advanced
 * before a rotated-out record's space is reused, so a reader of the file sees
 * whole records only. On the heap the arena starts small and grows up to
 * max_bytes; in a file it has max_bytes from the start.
 *
 * No locking here: the owner (ss_linebuf) serializes every call.
 */
#ifndef SS_RING_RING_H
#define SS_RING_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <syncstream/record.h>

#include "ring/origins.h"

#define SS__RING_MAGIC "SSRING\x01"
/* Version 2: 24-byte slots and the origin table (version 1 had the source in
 * 64-byte slots). */
#define SS__RING_VERSION 2u

/* The on-disk header; fields are fixed-width so that the file layout is exact. */
typedef struct ss__ring_hdr {
    char magic[8];
    uint32_t version;
    uint32_t hdr_size;
    uint64_t maxlen;
    uint64_t max_line;
    uint64_t max_bytes;
    uint64_t slots_off; /* offsets from the start of the region */
    uint64_t partial_off;
    uint64_t data_off;
    uint64_t region_size;
    uint64_t first_seq; /* oldest stored record; == next_seq when empty */
    uint64_t next_seq;  /* seq the next stored record gets; starts at 1 */
    uint64_t written;
    uint64_t stored;
    uint64_t shed;
    uint64_t cleared;
    uint64_t cut;
    uint64_t partial_len;
    int64_t partial_time_ns;
    uint32_t partial_flags;
    uint32_t partial_producer;
    char partial_source[SS_SOURCE_MAX];
    /* The slot array has slot_mask + 1 entries, a power of two >= maxlen, so
     * that finding a record's slot is a mask rather than a division. */
    uint64_t slot_mask;
    uint64_t origins_off; /* maxlen + 1 entries: the most a full ring and the
                             record entering it name */
} ss__ring_hdr;

/* 24 bytes, so that a record held at maxlen 1M costs at most 96 bytes with its
 * 64 bytes of text (issue 18): the seq is implied by the slot's place, the
 * source and producer are an origin entry's index. */
typedef struct ss__slot {
    int64_t time_ns;
    uint32_t off; /* of the text in the arena (max_bytes <= 1 GiB) */
    uint32_t len;
    uint32_t origin;  /* index in the origin table */
    uint16_t seq_low; /* the seq's low 16 bits: shows a damaged file's slot */
    uint8_t flags;    /* SS_REC_* bits, all below 1 << 8 */
    uint8_t kind;
} ss__slot;

typedef struct ss__ring {
    ss__ring_hdr *hdr;
    ss__slot *slots;
    ss__origins origins;
    char *data;
    char *partial;   /* file-backed only: max_line bytes; NULL on the heap */
    size_t data_cap; /* the arena's current size */
    ss_full_policy full;
    /* file-backed only */
    void *map;
    size_t map_len;
    int fd;
} ss__ring;

typedef struct ss__ring_geometry {
    size_t maxlen;
    size_t max_line;
    size_t max_bytes;
} ss__ring_geometry;

/* A heap ring. Returns 0 or -ENOMEM. */
int ss__ring_init_heap(ss__ring *ring, const ss__ring_geometry *geo, ss_full_policy full);

/* Release a heap or file ring (the file is synced and kept). */
void ss__ring_done(ss__ring *ring);

/*
 * Store one record, applying the full policy. source points to SS_SOURCE_MAX
 * bytes (a NUL-padded name, as ss__source_copy makes), compared and copied
 * whole; producer is the record's producer id (record.h). Returns 1
 * when stored, 0 when the policy dropped it (counted in hdr->shed), SS_ETOOBIG
 * for a text that can never fit, -ENOMEM when the heap arena could not grow
 * (then the record is not counted).
 */
int ss__ring_append(ss__ring *ring, ss_kind kind, uint32_t flags, const char *source,
                    uint32_t producer, int64_t time_ns, const char *text, size_t len);

/* Arena bytes taken by the records newer than cursor, from the first of them
 * to the end of the newest, gaps included: the space that stays taken when
 * every older record has left. */
uint64_t ss__ring_bytes_after(const ss__ring *ring, uint64_t cursor);

/* Remove every record (counted in hdr->cleared); sequence numbers go on. */
void ss__ring_clear(ss__ring *ring);

static inline size_t ss__ring_count(const ss__ring *ring)
{
    return (size_t)(ring->hdr->next_seq - ring->hdr->first_seq);
}

/* The slot of a stored record, seq in [first_seq, next_seq). */
static inline const ss__slot *ss__ring_slot(const ss__ring *ring, uint64_t seq)
{
    return &ring->slots[seq & ring->hdr->slot_mask];
}

/* The source and producer of a stored record. */
static inline const ss__origin *ss__ring_origin(const ss__ring *ring, const ss__slot *s)
{
    return ss__origins_get(&ring->origins, s->origin);
}

/*
 * Of `records` stored records followed by a partial line (when *partial), keep
 * the newest n items: returns how many of the oldest records to leave out, and
 * clears *partial when n is 0.
 */
static inline size_t ss__newest_items(size_t records, bool *partial, size_t n)
{
    size_t items = records + *partial;
    if (n >= items)
        return 0;
    size_t drop = items - n;
    if (drop > records) {
        *partial = false;
        drop = records;
    }
    return drop;
}

/* Region layout for a geometry: the header, the slots, the origin table, the
 * partial line space and the arena; returns the region's size. */
size_t ss__ring_layout(ss__ring_hdr *hdr, const ss__ring_geometry *geo);

/* Check that a header read from a file has our format and a self-consistent
 * geometry for a region of file_size bytes (its sequence numbers are not
 * looked at: a live writer changes them). Returns 0, SS_EFORMAT (not a ring)
 * or SS_ECORRUPT. */
int ss__ring_hdr_check(const ss__ring_hdr *hdr, size_t file_size);

/* Whether a stored record's place in the arena lies inside it, computed
 * without overflow. */
static inline bool ss__slot_in_arena(const ss__slot *s, uint64_t max_bytes)
{
    return s->off <= max_bytes && s->len <= max_bytes - s->off;
}

/* Check the records of a ring file its new owner is about to continue: the
 * sequence numbers, and every stored record's slot; takes the origin table's
 * holds from them. Returns 0, SS_ECORRUPT or -ENOMEM. */
int ss__ring_check_records(ss__ring *ring);

/* File-backed rings (ring_file.c). */
int ss__ring_open_file(ss__ring *ring, const char *path, const ss__ring_geometry *geo,
                       ss_full_policy full);

/* Read the newest n records of a ring file another process may be writing,
 * and a copy of its header (counters as of the read) into *ret_hdr if not
 * NULL. Returns the number of records, or a negative errno, SS_EFORMAT or
 * SS_ECORRUPT. */
int ss__ring_inspect_file(const char *path, size_t n, ss_records *ret, ss__ring_hdr *ret_hdr);

#endif
