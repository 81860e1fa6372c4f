/*
 * host/conn_guard.h: a deadline for the request headers of every connection.
 *
 * libmicrohttpd reads a request's headers before the server sees the request,
 * and its timeout is only an idle one: a client sending a header line now and
 * then holds a connection (and, with a few hundred of them, every slot) for
 * ever. The guard tracks each connection from libmicrohttpd's connection
 * notifications and a reaper thread shuts down the socket of any connection
 * whose headers (of its first request, or of the next one on a kept-alive
 * connection) have not all arrived within the deadline. Thread-safe.
 */
#ifndef SS_HOST_CONN_GUARD_H
#define SS_HOST_CONN_GUARD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <microhttpd.h>

typedef struct ss__host_conn ss__host_conn;

typedef struct ss__host_conn_guard {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    ss__host_conn *head; /* the open connections */
    int64_t header_ms;   /* the deadline for a request's headers */
    bool stopping;
    pthread_t reaper;
} ss__host_conn_guard;

/* Start the guard's reaper with a deadline of header_s seconds. Returns 0 or a
 * negative errno (the guard is then unusable). */
int ss__host_conn_guard_start(ss__host_conn_guard *g, unsigned header_s);

/* Stop the reaper; call after the daemon has stopped (no connection left). */
void ss__host_conn_guard_stop(ss__host_conn_guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION's callback; cls is the guard. */
void ss__host_conn_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                                enum MHD_ConnectionNotificationCode toe);

/* The connection's request has all its headers (its first call arrived), or its
 * request is done and the next one's headers start now. */
void ss__host_conn_guard_request(ss__host_conn_guard *g, struct MHD_Connection *c, bool started);

#endif
