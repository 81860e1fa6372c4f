/*
 * The host mirror's insides, shared by its writer side (mirror.c) and its
 * sending thread (sender.c).
 *
 * Locking: mu guards everything under "shared"; the writer side alone touches
 * the line assembler; the thread alone touches http, inflight and batch. The
 * writer feeds the assembler under mu, so the lines of one write enter the
 * queue under one lock.
 */
#ifndef SS_HOSTCLIENT_MIRROR_INT_H
#define SS_HOSTCLIENT_MIRROR_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <syncstream/hostclient.h>

#include "hostclient/http.h"
#include "hostclient/queue.h"
#include "util/buf.h"
#include "util/lineasm.h"

#define SS__MIRROR_ID_LEN 32

struct ss_host_mirror {
    /* set once by ss_host_mirror_new */
    char *url;
    char *state_url;          /* ROUTE-state?state=closed */
    char *health_url;         /* ROUTE-health */
    ss_host_mirror_opts opts; /* strings not kept; defaults filled in */
    char source[SS_SOURCE_MAX];
    char id[SS__MIRROR_ID_LEN + 1];

    /* writer side */
    ss__lineasm la;
    ss__lineasm la_err; /* ss_host_mirror_write_stderr's lines */
    bool closed;        /* close called */

    /* shared, under mu */
    pthread_mutex_t mu;
    pthread_cond_t work;     /* the thread waits for records, a backoff's end or quit */
    pthread_cond_t progress; /* writers wait for room, flush and close for delivery */
    ss__hqueue q;
    uint64_t queued;  /* entries pushed */
    uint64_t done;    /* entries delivered */
    bool quit;        /* the thread must end now */
    bool thread_idle; /* the thread waits for records on work */
    int push_err;     /* a writer's push failed (spool I/O): reported once */
    ss_host_mirror_stats st;

    /* the thread's */
    ss__http http;
    ss__buf inflight; /* entries taken from the queue, not yet delivered */
    size_t inflight_count;
    size_t send_k;   /* entries in the request being tried (0: none yet) */
    uint64_t batch;  /* the number of the last batch sent */
    ss__buf body;    /* the request being sent, kept for the next one */
    ss__buf scratch; /* a run of lines being joined */
    pthread_t thread;
    bool thread_started;
};

/*
 * Wait until a write of len bytes (ss_host_mirror_write) cannot block on a
 * full queue, at most timeout_ms (>= 0), so that a caller can wait in slices
 * and stay interruptible (the Python binding). Returns 0, or what the write
 * would return without waiting (SS_ECLOSED, SS_ESTOPPED, the sending error),
 * -ECANCELED (the mirror is ending), -ETIMEDOUT. A write larger than the whole
 * queue gets 0 once the queue is empty: it may still block.
 */
int ss__host_mirror_wait_room(ss_host_mirror *m, size_t len, int timeout_ms);

/* The sending thread's body. */
void *ss__mirror_thread(void *arg);

#endif
