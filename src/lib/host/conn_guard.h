/*
 * host/conn_guard.h: the admission of every connection (a fair share per
 * address, admit.h) and a deadline for its request headers.
 *
 * libmicrohttpd reads a request's headers before the server sees the request,
 * and its timeout is only an idle one: a client sending a header line now and
 * then holds a connection (and, with a few hundred of them, every slot) for
 * ever. The guard tracks each connection from libmicrohttpd's connection
 * notifications and a reaper thread shuts down the socket of any connection
 * whose headers (of its first request, or of the next one on a kept-alive
 * connection) have not all arrived within the deadline. The deadline is short
 * (SS__HOST_HEADER_S at most): every client library sends its headers at
 * once. A connection over its address's share is shut down as it starts.
 * Thread-safe.
 */
#ifndef SS_HOST_CONN_GUARD_H
#define SS_HOST_CONN_GUARD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <microhttpd.h>

#include "host/admit.h"

/* The longest a request's headers may take (the idle timeout if shorter). */
#define SS__HOST_HEADER_S 10

typedef struct ss__host_conn ss__host_conn;

typedef struct ss__host_conn_guard {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    ss__host_conn *head; /* the open connections */
    int64_t header_ms;   /* the deadline for a request's headers */
    ss__host_admit admit;
    bool stopping;
    pthread_t reaper;
} ss__host_conn_guard;

/* Start the guard's reaper: a header deadline of timeout_s seconds but at most
 * SS__HOST_HEADER_S, at most max_conns connections of which max_waits wait,
 * shared per address as admit.h says (per_addr at most, but none for
 * loopback addresses if loopback_free). Returns 0 or a negative errno (the
 * guard is then unusable). */
int ss__host_conn_guard_start(ss__host_conn_guard *g, unsigned timeout_s, unsigned max_conns,
                              unsigned max_waits, unsigned per_addr, bool loopback_free);

/* Stop the reaper; call after the daemon has stopped (no connection left). */
void ss__host_conn_guard_stop(ss__host_conn_guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION's callback; cls is the guard. */
void ss__host_conn_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                                enum MHD_ConnectionNotificationCode toe);

/* The connection's request has all its headers (its first call arrived), or its
 * request is done and the next one's headers start now. */
void ss__host_conn_guard_request(ss__host_conn_guard *g, struct MHD_Connection *c, bool started);

/* A long-poll or event stream on connection c may begin waiting: true (end it
 * with ss__host_conn_guard_wait_end(g, *ret_peer)) or false (its address holds
 * its share of the waiting pool, or the pool is full). */
bool ss__host_conn_guard_wait(ss__host_conn_guard *g, struct MHD_Connection *c,
                              ss__host_peer **ret_peer);
void ss__host_conn_guard_wait_end(ss__host_conn_guard *g, ss__host_peer *peer);

#endif
