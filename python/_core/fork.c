/* The fork generation (core.h). */
#include "core.h"

#include <pthread.h>

unsigned long ss__py_fork_gen;

static int watch_rc;

static void after_fork_child(void)
{
    ss__py_fork_gen++;
}

static void watch(void)
{
    watch_rc = pthread_atfork(NULL, NULL, after_fork_child);
}

int ss__py_fork_watch(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, watch);
    if (watch_rc != 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}
