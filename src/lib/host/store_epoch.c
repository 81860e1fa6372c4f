/*
 * The epoch of a store's record numbering (host/store.h): a random number
 * drawn when the numbers start, so that a client can tell a cursor of an
 * earlier life of the buffer from one of this life.
 */
#include <sys/random.h>

#include "host/store.h"
#include "util/clock.h"

uint64_t ss__host_new_epoch(void)
{
    uint64_t e;
    /* Without entropy, the time tells one life from the next as well. */
    if (getrandom(&e, sizeof(e), GRND_NONBLOCK) != (ssize_t)sizeof(e))
        e = (uint64_t)ss__now_realtime_ns();
    e &= ((uint64_t)1 << 53) - 1;
    return e ? e : 1; /* 0 stands for "no epoch" in clients */
}
