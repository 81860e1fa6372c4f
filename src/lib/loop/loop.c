/*
 * ss_loop: the public handle on the library's event loop (util/evloop.h),
 * threaded or driven by the program's own loop, shared by reference among
 * the objects on it (see syncstream/loop.h).
 */
#include <errno.h>
#include <stdlib.h>

#include <syncstream/loop.h>

#include "loop/loop_int.h"

int ss_loop_new(ss_loop **ret, unsigned flags)
{
    if (!ret || (flags & ~(unsigned)SS_LOOP_EXTERNAL))
        return -EINVAL;
    ss_loop *loop = calloc(1, sizeof(*loop));
    if (!loop)
        return -ENOMEM;
    int rc = ss__evloop_new(&loop->ev);
    if (rc < 0) {
        free(loop);
        return rc;
    }
    loop->external = flags & SS_LOOP_EXTERNAL;
    if (!loop->external && (rc = ss__evloop_start(loop->ev)) < 0) {
        ss__evloop_free(loop->ev);
        free(loop);
        return rc;
    }
    atomic_init(&loop->refs, 1);
    pthread_mutex_init(&loop->mu, NULL);
    *ret = loop;
    return 0;
}

int ss__loop_take(ss_loop *given, ss_loop **ret)
{
    if (!given)
        return ss_loop_new(ret, 0);
    atomic_fetch_add(&given->refs, 1);
    *ret = given;
    return 0;
}

void ss__loop_unref(ss_loop *loop)
{
    if (!loop || atomic_fetch_sub(&loop->refs, 1) != 1)
        return;
    /* every object has left: the last turn runs no work of theirs */
    ss__evloop_stop(loop->ev);
    if (loop->streams)
        loop->streams_free(loop->streams);
    ss__evloop_free(loop->ev);
    pthread_mutex_destroy(&loop->mu);
    free(loop);
}

void ss_loop_free(ss_loop *loop)
{
    ss__loop_unref(loop);
}

int ss_loop_fd(const ss_loop *loop)
{
    return loop && loop->external ? ss__evloop_fd(loop->ev) : -EINVAL;
}

int ss_loop_timeout_ms(ss_loop *loop)
{
    return loop && loop->external ? ss__evloop_timeout_ms(loop->ev) : -EINVAL;
}

int ss_loop_run_ready(ss_loop *loop)
{
    return loop && loop->external ? ss__evloop_run_ready(loop->ev) : -EINVAL;
}
