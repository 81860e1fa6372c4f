#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream/common.h>

#include "ring/origins.h"

/* The heap table's first size; it doubles up to max. */
#define FIRST_CAP 16u

static uint32_t hash_of(const ss__origin *e)
{
    uint64_t h = (uint64_t)e->producer * 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < SS_SOURCE_MAX; i += 8) {
        uint64_t w;
        memcpy(&w, e->source + i, sizeof(w));
        h = (h ^ w) * 0xff51afd7ed558ccdu;
        h ^= h >> 29;
    }
    return (uint32_t)(h >> 32);
}

static uint32_t *bucket_of(ss__origins *o, const ss__origin *e)
{
    return &o->buckets[hash_of(e) & (o->cap_buckets - 1)];
}

static void chain_in(ss__origins *o, uint32_t i)
{
    uint32_t *head = bucket_of(o, &o->tab[i]);
    o->meta[i].chain = *head;
    *head = i + 1;
}

static void chain_out(ss__origins *o, uint32_t i)
{
    uint32_t *p = bucket_of(o, &o->tab[i]);
    while (*p != i + 1)
        p = &o->meta[*p - 1].chain;
    *p = o->meta[i].chain;
}

static void newest_changed(ss__origins *o)
{
    if (o->newest)
        o->newest_key = o->tab[o->newest - 1];
}

static void list_out(ss__origins *o, uint32_t i)
{
    ss__origin_meta *m = &o->meta[i];
    if (m->older)
        o->meta[m->older - 1].newer = m->newer;
    else
        o->oldest = m->newer;
    if (m->newer)
        o->meta[m->newer - 1].older = m->older;
    else
        o->newest = m->older;
    newest_changed(o);
}

static void list_in_newest(ss__origins *o, uint32_t i)
{
    o->meta[i].older = o->newest;
    o->meta[i].newer = 0;
    if (o->newest)
        o->meta[o->newest - 1].newer = i + 1;
    else
        o->oldest = i + 1;
    o->newest = i + 1;
    newest_changed(o);
}

/* Room for at least need entries; the hash chains are laid out again. */
static int grow(ss__origins *o, uint32_t need)
{
    uint32_t cap = o->cap ? o->cap : FIRST_CAP;
    while (cap < need)
        cap *= 2;
    if (cap > o->max)
        cap = o->max;
    if (cap < need)
        return -ENOMEM; /* not reached: live entries never outnumber records */
    uint32_t nb = 1;
    while (nb < cap)
        nb <<= 1;
    uint32_t *buckets = calloc(nb, sizeof(*buckets));
    if (!buckets)
        return -ENOMEM;
    /* Each array is kept as soon as it has grown: a larger one is harmless if
     * the next allocation fails. */
    ss__origin_meta *meta = realloc(o->meta, cap * sizeof(*meta));
    if (meta)
        o->meta = meta;
    ss__origin *tab = o->tab;
    if (meta && !o->in_file) {
        tab = realloc(o->tab, cap * sizeof(*tab));
        if (tab)
            o->tab = tab;
    }
    if (!meta || !tab) {
        free(buckets);
        return -ENOMEM;
    }
    memset(o->meta + o->cap, 0, (cap - o->cap) * sizeof(*o->meta));
    o->cap = cap;
    free(o->buckets);
    o->buckets = buckets;
    o->cap_buckets = nb;
    for (uint32_t i = 0; i < o->top; i++)
        chain_in(o, i);
    return 0;
}

int ss__origins_init(ss__origins *o, ss__origin *file_tab, uint32_t max)
{
    memset(o, 0, sizeof(*o));
    o->tab = file_tab;
    o->in_file = file_tab != NULL;
    o->max = max;
    return grow(o, 1);
}

void ss__origins_done(ss__origins *o)
{
    if (!o->in_file)
        free(o->tab);
    free(o->meta);
    free(o->buckets);
    memset(o, 0, sizeof(*o));
}

int ss__origins_name_slow(ss__origins *o, const char *source, uint32_t producer, uint64_t seq,
                          uint64_t first_seq, uint32_t *ret_index)
{
    ss__origin want;
    memcpy(want.source, source, SS_SOURCE_MAX);
    want.producer = producer;
    uint32_t i;
    for (uint32_t k = *bucket_of(o, &want); k; k = o->meta[k - 1].chain) {
        if (ss__origin_is(&o->tab[k - 1], source, producer)) {
            i = k - 1;
            o->prior = o->meta[i].last_seq;
            list_out(o, i);
            goto found;
        }
    }
    if (o->oldest && o->meta[o->oldest - 1].last_seq < first_seq) {
        /* The least recently named entry names no record left: reuse it. */
        i = o->oldest - 1;
        chain_out(o, i);
        list_out(o, i);
    } else {
        if (o->top == o->cap) {
            int rc = grow(o, o->cap + 1);
            if (rc < 0)
                return rc;
        }
        i = o->top++;
    }
    o->tab[i] = want;
    o->prior = 0;
    chain_in(o, i);
found:
    list_in_newest(o, i);
    o->meta[i].last_seq = seq;
    *ret_index = i;
    return 0;
}

void ss__origins_unname(ss__origins *o, uint32_t index, uint64_t first_seq)
{
    /* Live before: it stays so a little longer than it needs to, harmless. */
    if (o->prior >= first_seq)
        return;
    /* Dead but for the record that was not stored: first in line for reuse,
     * so that such records never make the table outgrow its bound. */
    ss__origin_meta *m = &o->meta[index];
    list_out(o, index);
    m->last_seq = 0;
    m->newer = o->oldest;
    m->older = 0;
    if (o->oldest)
        o->meta[o->oldest - 1].older = index + 1;
    else
        o->newest = index + 1;
    o->oldest = index + 1;
    newest_changed(o);
}

int ss__origins_adopt(ss__origins *o, uint32_t index, uint64_t seq)
{
    if (index >= o->max)
        return SS_ECORRUPT;
    if (index >= o->cap) {
        int rc = grow(o, index + 1);
        if (rc < 0)
            return rc;
    }
    o->meta[index].last_seq = seq;
    if (index >= o->top)
        o->top = index + 1;
    return 0;
}

static int by_last_seq(const void *a, const void *b, void *ctx)
{
    const ss__origin_meta *meta = ctx;
    uint64_t x = meta[*(const uint32_t *)a].last_seq, y = meta[*(const uint32_t *)b].last_seq;
    return (x > y) - (x < y);
}

int ss__origins_relist(ss__origins *o)
{
    uint32_t *order = malloc((o->top ? o->top : 1) * sizeof(*order));
    if (!order)
        return -ENOMEM;
    for (uint32_t i = 0; i < o->top; i++)
        order[i] = i;
    qsort_r(order, o->top, sizeof(*order), by_last_seq, o->meta);
    memset(o->buckets, 0, o->cap_buckets * sizeof(*o->buckets));
    o->oldest = o->newest = 0;
    for (uint32_t k = 0; k < o->top; k++) {
        chain_in(o, order[k]);
        list_in_newest(o, order[k]);
    }
    free(order);
    return 0;
}
