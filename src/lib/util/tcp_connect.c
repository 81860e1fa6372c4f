/*
 * Connecting a TCP socket: shared by the tcp and telnet transports (stream/),
 * the ssh module and host mode's client, so none of them includes another's
 * headers.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <syncstream/common.h>

#include "util/clock.h"
#include "util/tcp_connect.h"

/* Connect one address within the deadline. Returns the socket or -errno. */
static int connect_one(const struct addrinfo *ai, int64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return -errno;
    int rc = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        rc = -errno;
        if (rc == -EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int n;
            do
                n = poll(&p, 1, ss__poll_left_ms(deadline));
            while (n < 0 && errno == EINTR);
            int err = 0;
            socklen_t elen = sizeof(err);
            if (n < 0)
                rc = -errno;
            else if (n == 0)
                rc = -ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
                rc = -errno;
            else
                rc = -err;
        }
    }
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int ss__gai_error(int gai)
{
    switch (gai) {
    case EAI_MEMORY:
        return -ENOMEM;
    case EAI_SERVICE:
    case EAI_BADFLAGS:
    case EAI_FAMILY:
    case EAI_SOCKTYPE:
        return -EINVAL;
    case EAI_NONAME:
    case EAI_NODATA:
    case EAI_ADDRFAMILY:
        return SS_ENOHOST;
    case EAI_SYSTEM:
        return errno ? -errno : SS_ERESOLVE;
    default: /* EAI_AGAIN, EAI_FAIL: the name service itself failed */
        return SS_ERESOLVE;
    }
}

int ss__tcp_connect(const char *host, const char *port, int timeout_ms)
{
    int64_t deadline = ss__poll_deadline_ns(timeout_ms);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0)
        return ss__gai_error(gai);
    int fd = SS_ENOHOST; /* getaddrinfo() returned no address at all */
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = connect_one(ai, deadline);
        if (fd >= 0 || ss__poll_left_ms(deadline) == 0)
            break;
    }
    freeaddrinfo(res);
    return fd;
}
