/*
 * What every part of the library that starts a program shares: process mode's
 * spawned children (proc/spawn.c) and stream mode's exec transport
 * (stream/exec.c).
 */
#ifndef SS_UTIL_SPAWN_H
#define SS_UTIL_SPAWN_H

#include <pthread.h>
#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Held from making a child's fds until the parent has closed the child's ends.
 * A fork() copies every fd, close-on-exec or not; a child forked by another
 * thread in that window (a process-mode mirror) would hold this child's write
 * ends, and this child would never be seen to finish while that one lives.
 */
extern pthread_mutex_t ss__child_fds_lock;

/* A pseudo-terminal: pair[0] the master, pair[1] the slave, both close-on-exec,
 * and the slave's name. The slave is opened here and held by the parent until
 * the child has its own copies, so the master never sees "no slave" between
 * the two. Returns 0 or a negative errno (what is open stays open: the caller
 * closes pair[0] and pair[1] when >= 0). */
int ss__open_pty(int pair[2], char *name, size_t size);

/* A child starts with default signal handling and nothing blocked, whatever
 * the parent did (a tool blocking SIGINT for sigwait, say), in its own process
 * group (or, with new_session, its own session, as a pty's child needs), so that
 * a stop or a kill reaches its descendants too. Returns 0 or a negative errno. */
int ss__spawn_attr(posix_spawnattr_t *attr, bool new_session);

#endif
