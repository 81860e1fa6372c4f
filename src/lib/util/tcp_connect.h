/* Connecting a TCP socket (util/tcp_connect.c): shared by the tcp and telnet
 * transports, the ssh module and host mode's client. */
#ifndef SS_UTIL_TCP_CONNECT_H
#define SS_UTIL_TCP_CONNECT_H

/* Connect to host:port, trying every address the name resolves to in turn,
 * all within timeout_ms (negative: no limit). Returns a connected socket,
 * non-blocking and close-on-exec, or SS_ENOHOST / SS_ERESOLVE (the name does
 * not resolve: see ss__gai_error()), -EINVAL (a bad port), -ENOMEM, or the
 * last address's negative errno (-ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH...). */
int ss__tcp_connect(const char *host, const char *port, int timeout_ms);

/* getaddrinfo()'s error gai as our code: SS_ENOHOST (the name is not known),
 * SS_ERESOLVE (the name service failed or did not answer), -EINVAL (a bad
 * port or flags), -ENOMEM, or errno for EAI_SYSTEM. Read errno right after
 * the failed call. */
int ss__gai_error(int gai);

#endif
