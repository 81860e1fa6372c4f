/* Admission and the deadline for request headers (see conn_guard.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "host/conn_guard.h"
#include "util/clock.h"

struct ss__host_conn {
    ss__host_conn *next, *prev;
    int fd;
    ss__host_peer *peer; /* its address's share (admit.h) */
    int64_t since_ms;    /* CLOCK_MONOTONIC: when the headers began to be awaited */
    bool in_request;     /* the headers are in: the body and reply have their own limits */
    bool cut;            /* shut down already */
};

/* How often the reaper looks. */
#define REAP_EVERY_MS 500

static void *reap(void *arg)
{
    ss__host_conn_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        struct timespec at = ss__deadline_after_ms(REAP_EVERY_MS);
        pthread_cond_timedwait(&g->wake, &g->lock, &at);
        int64_t now = ss__mono_ms();
        /* libmicrohttpd notifies a close before it closes the socket, under this
         * lock: every fd here is still the connection's own. */
        for (ss__host_conn *k = g->head; k; k = k->next) {
            if (!k->in_request && !k->cut && now - k->since_ms > g->header_ms) {
                shutdown(k->fd, SHUT_RDWR);
                k->cut = true;
            }
        }
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

int ss__host_conn_guard_start(ss__host_conn_guard *g, unsigned timeout_s, unsigned max_conns,
                              unsigned max_waits, unsigned per_addr, bool loopback_free)
{
    g->head = NULL;
    g->header_ms = (int64_t)(timeout_s < SS__HOST_HEADER_S ? timeout_s : SS__HOST_HEADER_S) * 1000;
    g->stopping = false;
    int rc = ss__host_admit_init(&g->admit, max_conns, max_waits, per_addr, loopback_free);
    if (rc < 0)
        return rc;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    rc = pthread_cond_init(&g->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        ss__host_admit_done(&g->admit);
        return -rc;
    }
    pthread_mutex_init(&g->lock, NULL);
    rc = pthread_create(&g->reaper, NULL, reap, g);
    if (rc != 0) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        ss__host_admit_done(&g->admit);
        return -rc;
    }
    return 0;
}

void ss__host_conn_guard_stop(ss__host_conn_guard *g)
{
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->reaper, NULL);
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    ss__host_admit_done(&g->admit);
}

/* Count a new connection against its address's share: its record, or NULL
 * when it is refused (then shut down at once: it is closed without an
 * answer, as libmicrohttpd closes one over its own limits). */
static ss__host_conn *admit(ss__host_conn_guard *g, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *fd_info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *addr_info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!fd_info)
        return NULL;
    ss__host_peer *peer = addr_info ? ss__host_admit_conn(&g->admit, addr_info->client_addr) : NULL;
    /* Out of memory: refused too (it could not be counted out again). */
    ss__host_conn *k = peer ? calloc(1, sizeof(*k)) : NULL;
    if (!k) {
        if (peer)
            ss__host_admit_conn_end(&g->admit, peer);
        shutdown(fd_info->connect_fd, SHUT_RDWR);
        return NULL;
    }
    k->fd = fd_info->connect_fd;
    k->peer = peer;
    k->since_ms = ss__mono_ms();
    return k;
}

void ss__host_conn_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                                enum MHD_ConnectionNotificationCode toe)
{
    ss__host_conn_guard *g = cls;
    ss__host_conn *k = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        k = admit(g, c);
        if (!k)
            return;
        pthread_mutex_lock(&g->lock);
        k->next = g->head;
        if (g->head)
            g->head->prev = k;
        g->head = k;
        pthread_mutex_unlock(&g->lock);
        *socket_context = k;
        return;
    }
    if (!k)
        return;
    pthread_mutex_lock(&g->lock);
    if (k->prev)
        k->prev->next = k->next;
    else
        g->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    pthread_mutex_unlock(&g->lock);
    ss__host_admit_conn_end(&g->admit, k->peer);
    free(k);
    *socket_context = NULL;
}

/* The record of connection c (NULL: refused, so never served). */
static ss__host_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

void ss__host_conn_guard_request(ss__host_conn_guard *g, struct MHD_Connection *c, bool started)
{
    ss__host_conn *k = conn_of(c);
    if (!k)
        return;
    pthread_mutex_lock(&g->lock);
    k->in_request = started;
    k->since_ms = ss__mono_ms();
    pthread_mutex_unlock(&g->lock);
}

bool ss__host_conn_guard_wait(ss__host_conn_guard *g, struct MHD_Connection *c,
                              ss__host_peer **ret_peer)
{
    ss__host_conn *k = conn_of(c);
    if (!k || !ss__host_admit_wait(&g->admit, k->peer))
        return false;
    *ret_peer = k->peer;
    return true;
}

void ss__host_conn_guard_wait_end(ss__host_conn_guard *g, ss__host_peer *peer)
{
    ss__host_admit_wait_end(&g->admit, peer);
}
