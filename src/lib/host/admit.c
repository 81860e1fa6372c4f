/* Connections and waits shared fairly between addresses (see admit.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/admit.h"

struct ss__host_peer {
    /* an IPv4 address, or an IPv6 /64 (the rest zero); LOOPBACK_BYTE set for
     * a loopback address when the cap is the default (admit.h) */
    unsigned char key[16];
    unsigned conns, waits;
    ss__host_peer *next; /* in its bucket, or in the free list */
};

int ss__host_admit_init(ss__host_admit *a, unsigned max_conns, unsigned max_waits,
                        unsigned per_addr, bool loopback_free)
{
    memset(a, 0, sizeof(*a));
    a->max_conns = max_conns;
    a->max_waits = max_waits;
    a->per_addr = per_addr;
    a->loopback_free = loopback_free;
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

/* The key byte (zero in every other key) marking a loopback address. */
#define LOOPBACK_BYTE 14

static bool is_loopback(const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET)
        return ((const unsigned char *)&((const struct sockaddr_in *)addr)->sin_addr)[0] == 127;
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)addr)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a6) || (IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127);
}

static bool key_of(const ss__host_admit *a, const struct sockaddr *addr, unsigned char *key)
{
    memset(key, 0, 16);
    if (addr && addr->sa_family == AF_INET) {
        memcpy(key, &((const struct sockaddr_in *)addr)->sin_addr, 4);
    } else if (addr && addr->sa_family == AF_INET6) {
        key[15] = 6; /* never equal to an IPv4 key, whose last bytes are zero */
        memcpy(key, &((const struct sockaddr_in6 *)addr)->sin6_addr, 8);
    } else {
        return false;
    }
    /* Any local program may connect from any of 127.0.0.0/8: a cap per
     * loopback address protects nothing, and would turn away the many
     * workers of one machine sending to a local server. */
    if (a->loopback_free && is_loopback(addr))
        key[LOOPBACK_BYTE] = 1;
    return true;
}

/* What peer p holds against its share: nothing for a free loopback one. */
static unsigned held_of(const ss__host_peer *p, bool waits)
{
    if (!p || p->key[LOOPBACK_BYTE])
        return 0;
    return waits ? p->waits : p->conns;
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
    if (!key_of(a, addr, key))
        return NULL;
    pthread_mutex_lock(&a->lock);
    ss__host_peer **b = bucket(a, key);
    ss__host_peer *p = *b;
    while (p && memcmp(p->key, key, 16) != 0)
        p = p->next;
    if (!may_take(held_of(p, false), a->conns, a->max_conns, a->per_addr) ||
        (!p && !a->free_list)) {
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
    bool ok = may_take(held_of(p, true), a->waits, a->max_waits, a->per_addr);
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
