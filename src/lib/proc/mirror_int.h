/* What the process buffer needs of the mirror side. */
#ifndef SS_PROC_MIRROR_INT_H
#define SS_PROC_MIRROR_INT_H

#include <stddef.h>
#include <stdint.h>

#include <syncstream/proc.h>

/*
 * A mirror over pipe fd (its write end, owned by the mirror from now on), watching the stop
 * flag at *stop (a shared mapping; not owned), cutting lines at max_line.
 * Returns 0 or -ENOMEM (fd is closed then).
 */
int ss__mirror_new(ss_mirror **ret, int fd, const uint32_t *stop, size_t max_line);

/* Give a mirror made with fd -1 its pipe (owned by the mirror from now on). */
void ss__mirror_set_fd(ss_mirror *m, int fd);

/* Free a mirror without sending anything; closes its fd if it has one. */
void ss__mirror_free(ss_mirror *m);

#endif
