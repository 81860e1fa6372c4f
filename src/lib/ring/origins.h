/*
 * The ring's origin table: who wrote a record, its source name and producer id,
 * kept once per distinct pair instead of in every slot (36 bytes a record at
 * maxlen 1M were a quarter of the ring's memory; a buffer has a few producers).
 *
 * An entry is live while the ring holds a record naming it: while the seq of
 * the newest such record (its last_seq) is at least the ring's first_seq. So a
 * record rotating out costs the table nothing; entries are kept in the order of
 * their last_seq (a list, most recently named last), and a new pair reuses the
 * list's head when that is dead, which keeps the table at most maxlen + 1
 * entries. The entries can live in a ring file (then the table has its full
 * size from the start) or on the heap (then it starts small and doubles); the
 * last_seq, the list and the hash chains are always on the heap, rebuilt from
 * the slots when a file is continued.
 *
 * No locking: the ring's owner serializes every call.
 */
#ifndef SS_RING_ORIGINS_H
#define SS_RING_ORIGINS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <syncstream/record.h>

typedef struct ss__origin {
    char source[SS_SOURCE_MAX]; /* NUL-padded, as ss__source_copy makes it */
    uint32_t producer;
} ss__origin;

/* Per entry, on the heap. Links are index + 1, 0 ending a list. */
typedef struct ss__origin_meta {
    uint64_t last_seq; /* the newest record naming it (0: none yet) */
    uint32_t older;    /* the list by last_seq */
    uint32_t newer;
    uint32_t chain; /* the next in its hash chain */
} ss__origin_meta;

typedef struct ss__origins {
    ss__origin *tab; /* in the ring file, or on the heap (grown) */
    ss__origin_meta *meta;
    uint32_t *buckets;    /* hash chain heads */
    uint32_t cap_buckets; /* a power of two >= cap */
    uint32_t cap;         /* entries tab and meta have room for */
    uint32_t max;         /* the most entries ever needed: maxlen + 1 */
    uint32_t top;         /* entries below top are in use (live or dead) */
    uint32_t oldest;      /* the list's ends */
    uint32_t newest;
    /* A copy of the newest entry: compared without a chain of loads (that
     * chain made a thread-mode write 5% slower). */
    ss__origin newest_key;
    uint64_t prior; /* the last_seq the entry named last had before */
    bool in_file;   /* tab is the file's, of max entries: never reallocated */
} ss__origins;

/* A table for at most max entries, its entries in file_tab (max of them) or,
 * when NULL, on the heap. Returns 0 or -ENOMEM. */
int ss__origins_init(ss__origins *o, ss__origin *file_tab, uint32_t max);

void ss__origins_done(ss__origins *o);

/* Whether entry e is (source, producer); source points to SS_SOURCE_MAX bytes.
 * Word compares: a call to memcmp cost a tenth of a write. */
static inline bool ss__origin_is(const ss__origin *e, const char *source, uint32_t producer)
{
    uint64_t diff = e->producer ^ producer;
    for (size_t i = 0; i < SS_SOURCE_MAX; i += 8) {
        uint64_t a, b;
        memcpy(&a, e->source + i, sizeof(a));
        memcpy(&b, source + i, sizeof(b));
        diff |= a ^ b;
    }
    return diff == 0;
}

int ss__origins_name_slow(ss__origins *o, const char *source, uint32_t producer, uint64_t seq,
                          uint64_t first_seq, uint32_t *ret_index);

/*
 * The entry of (source, producer) for record seq, the ring holding records
 * first_seq .. seq - 1: found or made (reusing a dead entry). source points to
 * SS_SOURCE_MAX bytes. Returns 0 with *ret_index set, or -ENOMEM. Inline for
 * the common case: the newest record's entry again.
 */
static inline int ss__origins_name(ss__origins *o, const char *source, uint32_t producer,
                                   uint64_t seq, uint64_t first_seq, uint32_t *ret_index)
{
    uint32_t i = o->newest - 1;
    if (o->newest && ss__origin_is(&o->newest_key, source, producer)) {
        o->prior = o->meta[i].last_seq;
        o->meta[i].last_seq = seq;
        *ret_index = i;
        return 0;
    }
    return ss__origins_name_slow(o, source, producer, seq, first_seq, ret_index);
}

/* Undo the last ss__origins_name() when its record was not stored after all
 * (shed or out of memory), the ring now holding first_seq onwards. A cleared
 * ring needs no call: its records are below first_seq, so every entry is dead. */
void ss__origins_unname(ss__origins *o, uint32_t index, uint64_t first_seq);

/*
 * Rebuild a file table from the records it keeps: ss__origins_adopt() once per
 * record, oldest first (0, SS_ECORRUPT for an index outside the table, or
 * -ENOMEM), then ss__origins_relist() (0 or -ENOMEM).
 */
int ss__origins_adopt(ss__origins *o, uint32_t index, uint64_t seq);
int ss__origins_relist(ss__origins *o);

static inline const ss__origin *ss__origins_get(const ss__origins *o, uint32_t index)
{
    return &o->tab[index];
}

#endif
