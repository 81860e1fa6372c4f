/* Connections and waits shared fairly between addresses (see admit.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/admit.h"

struct ss__host_peer {
    unsigned char key[16]; /* an IPv4 address, or an IPv6 /64 (the rest zero) */
    unsigned conns, waits;
    ss__host_peer *next; /* in its bucket, or in the free list */
};

int ss__host_admit_init(ss__host_admit *a, unsigned max_conns, unsigned max_waits,
                        unsigned per_addr)
{
    memset(a, 0, sizeof(*a));
    a->max_conns = max_conns;
    a->max_waits = max_waits;
    a->per_addr = per_addr;
    a->n_buckets = 16;
    while (a->n_buckets < max_conns)
        a->n_buckets *= 2;
    a->peers = calloc(max_conns, sizeof(*a->peers));
    a->buckets = calloc(a->n_buckets, sizeof(*a->buckets));
    if (!a->peers || !a->buckets) {
        free(a->peers);
        free(a->buckets);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < max_conns; i++) {
        a->peers[i].next = a->free_list;
        a->free_list = &a->peers[i];
    }
    pthread_mutex_init(&a->lock, NULL);
    return 0;
}

void ss__host_admit_done(ss__host_admit *a)
{
    pthread_mutex_destroy(&a->lock);
    free(a->peers);
    free(a->buckets);
}

/* An address may take another slot while it holds less than this fraction
 * of the free ones. */
#define FREE_SHARE_DIV 4

/*
 * Whether an address holding `held` of the `used` of `limit` slots may take
 * one more: at most per_addr; and once half the slots are taken, only while
 * it holds less than a quarter of the free ones, so that a new address is
 * admitted while one slot is free and each greedy address leaves four fifths
 * of what it found. Filling the server then takes about
 * limit / (2 * per_addr) + 4 * ln(limit / 2) addresses (22 for 256 slots and
 * 32 per address), where a fixed share lets limit / per_addr of them (8) fill
 * it.
 */
static bool may_take(unsigned held, unsigned used, unsigned limit, unsigned per_addr)
{
    return used < limit && held < per_addr &&
           (used < limit / 2 || (uint64_t)held * FREE_SHARE_DIV < (uint64_t)(limit - used));
}

static bool key_of(const struct sockaddr *addr, unsigned char *key)
{
    memset(key, 0, 16);
    if (addr && addr->sa_family == AF_INET) {
        memcpy(key, &((const struct sockaddr_in *)addr)->sin_addr, 4);
        return true;
    }
    if (addr && addr->sa_family == AF_INET6) {
        key[15] = 6; /* never equal to an IPv4 key, whose last bytes are zero */
        memcpy(key, &((const struct sockaddr_in6 *)addr)->sin6_addr, 8);
        return true;
    }
    return false;
}

static ss__host_peer **bucket(ss__host_admit *a, const unsigned char *key)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211ULL;
    return &a->buckets[h & (a->n_buckets - 1)];
}

ss__host_peer *ss__host_admit_conn(ss__host_admit *a, const struct sockaddr *addr)
{
    unsigned char key[16];
    if (!key_of(addr, key))
        return NULL;
    pthread_mutex_lock(&a->lock);
    ss__host_peer **b = bucket(a, key);
    ss__host_peer *p = *b;
    while (p && memcmp(p->key, key, 16) != 0)
        p = p->next;
    unsigned held = p ? p->conns : 0;
    if (!may_take(held, a->conns, a->max_conns, a->per_addr) || (!p && !a->free_list)) {
        pthread_mutex_unlock(&a->lock);
        return NULL;
    }
    if (!p) {
        p = a->free_list;
        a->free_list = p->next;
        memcpy(p->key, key, 16);
        p->conns = p->waits = 0;
        p->next = *b;
        *b = p;
    }
    p->conns++;
    a->conns++;
    pthread_mutex_unlock(&a->lock);
    return p;
}

/* Give p back once nothing is held from its address. Called locked. */
static void release_if_unused(ss__host_admit *a, ss__host_peer *p)
{
    if (p->conns || p->waits)
        return;
    ss__host_peer **at = bucket(a, p->key);
    while (*at != p)
        at = &(*at)->next;
    *at = p->next;
    p->next = a->free_list;
    a->free_list = p;
}

void ss__host_admit_conn_end(ss__host_admit *a, ss__host_peer *p)
{
    pthread_mutex_lock(&a->lock);
    p->conns--;
    a->conns--;
    release_if_unused(a, p);
    pthread_mutex_unlock(&a->lock);
}

bool ss__host_admit_wait(ss__host_admit *a, ss__host_peer *p)
{
    pthread_mutex_lock(&a->lock);
    bool ok = may_take(p->waits, a->waits, a->max_waits, a->per_addr);
    if (ok) {
        p->waits++;
        a->waits++;
    }
    pthread_mutex_unlock(&a->lock);
    return ok;
}

void ss__host_admit_wait_end(ss__host_admit *a, ss__host_peer *p)
{
    pthread_mutex_lock(&a->lock);
    p->waits--;
    a->waits--;
    release_if_unused(a, p);
    pthread_mutex_unlock(&a->lock);
}
