/* Connecting a TCP socket: shared by the tcp transport and the ssh module. */
#ifndef SS_STREAM_TCP_H
#define SS_STREAM_TCP_H

/* Connect to host:port, trying every address the name resolves to in turn,
 * all within timeout_ms (negative: no limit). Returns a connected socket,
 * non-blocking and close-on-exec, or -EHOSTUNREACH (the name does not
 * resolve), -EINVAL (a bad port), -ENOMEM, or the last address's negative
 * errno (-ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH...). */
int ss__tcp_connect(const char *host, const char *port, int timeout_ms);

#endif
