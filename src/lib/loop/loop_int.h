/* Inside ss_loop: what the services on it (stream/, proc/, capture/) use. */
#ifndef SS_LOOP_LOOP_INT_H
#define SS_LOOP_LOOP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <syncstream/loop.h>

#include "util/evloop.h"

typedef struct ss__stream_svc ss__stream_svc;

struct ss_loop {
    ss__evloop *ev;
    atomic_uint refs; /* the program's, and one per object on the loop */
    bool external;
    pthread_mutex_t mu;      /* guards streams */
    ss__stream_svc *streams; /* the stream service, made for the first stream */
    /* frees it with the loop: set by stream/, which loop/ does not include */
    void (*streams_free)(ss__stream_svc *svc);
};

/* A private loop for one object (threaded), or the program's loop with one
 * more reference: what an object's options ask for. Returns 0 or as
 * ss_loop_new(). Released with ss__loop_unref(). */
int ss__loop_take(ss_loop *given, ss_loop **ret);

/* Drop a reference; the last stops and frees the loop. Not from a turn. */
void ss__loop_unref(ss_loop *loop);

#endif
