/*
 * host/admit.h: a fair share of the server's connections and of its waiting
 * pool (long-polls and event streams) per client address.
 *
 * A fixed cap per address lets a few addresses take every slot (eight
 * addresses of 32 connections fill 256). Here, once half the slots are taken,
 * an address may take another only while it holds less than a quarter of the
 * free ones (and never more than `per_addr`): a new address (holding none) is
 * admitted while one slot is free, and each greedy address leaves four fifths
 * of what it found, so filling the server takes about 22 addresses (256 slots,
 * 32 per address) instead of 8. The waiting pool, a part of the connections,
 * is shared out the same way.
 *
 * An IPv4 address counts alone; an IPv6 one by its /64 (one host usually has
 * a whole /64). With the default per-address cap (loopback_free), a loopback
 * address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) has no share: its
 * connections and waits count only against the totals. Thread-safe; no
 * allocation after init.
 */
#ifndef SS_HOST_ADMIT_H
#define SS_HOST_ADMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>

/* What is held from one address (opaque). */
typedef struct ss__host_peer ss__host_peer;

typedef struct ss__host_admit {
    pthread_mutex_t lock;
    unsigned max_conns, max_waits, per_addr;
    bool loopback_free;
    unsigned conns, waits; /* held now, over every address */
    ss__host_peer *peers;  /* max_conns of them */
    ss__host_peer **buckets;
    unsigned n_buckets; /* a power of two */
    ss__host_peer *free_list;
} ss__host_admit;

/* max_conns connections, max_waits of them waiting, at most per_addr from one
 * address (all >= 1) but loopback addresses if loopback_free. Returns 0 or
 * -ENOMEM. */
int ss__host_admit_init(ss__host_admit *a, unsigned max_conns, unsigned max_waits,
                        unsigned per_addr, bool loopback_free);
void ss__host_admit_done(ss__host_admit *a);

/* A connection from addr: NULL when refused (its address holds its share, or
 * no slot is left), else its peer, released with ss__host_admit_conn_end. */
ss__host_peer *ss__host_admit_conn(ss__host_admit *a, const struct sockaddr *addr);
void ss__host_admit_conn_end(ss__host_admit *a, ss__host_peer *p);

/* A long-poll or an event stream of a connection of peer p: whether it may
 * wait (then end it with ss__host_admit_wait_end). The peer stays valid until
 * both its connections and waits end. */
bool ss__host_admit_wait(ss__host_admit *a, ss__host_peer *p);
void ss__host_admit_wait_end(ss__host_admit *a, ss__host_peer *p);

#endif
