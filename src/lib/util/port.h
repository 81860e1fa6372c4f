/* A TCP port written in a URI, shared by the library's address parsers. */
#ifndef SS_UTIL_PORT_H
#define SS_UTIL_PORT_H

#include <stddef.h>

/* The n bytes at p as a port: "1".."65535" in digits only, else -1. */
static inline int ss__parse_port(const char *p, size_t n)
{
    if (n == 0 || n > 5)
        return -1;
    int port = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        port = port * 10 + (p[i] - '0');
    }
    return port >= 1 && port <= 65535 ? port : -1;
}

#endif
