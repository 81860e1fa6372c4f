#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/spawn.h"

pthread_mutex_t ss__child_fds_lock = PTHREAD_MUTEX_INITIALIZER;

int ss__open_pty(int pair[2], char *name, size_t size)
{
    pair[0] = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (pair[0] < 0)
        return -errno;
    if (grantpt(pair[0]) < 0 || unlockpt(pair[0]) < 0 || ptsname_r(pair[0], name, size))
        return -errno;
    pair[1] = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    return pair[1] < 0 ? -errno : 0;
}

int ss__spawn_attr(posix_spawnattr_t *attr, bool new_session)
{
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                  (new_session ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP);
    int rc = posix_spawnattr_setflags(attr, flags);
    if (rc == 0)
        rc = posix_spawnattr_setsigmask(attr, &none);
    if (rc == 0)
        rc = posix_spawnattr_setsigdefault(attr, &all);
    return -rc;
}
