/*
 * syncstream/host.h: host mode's server, an HTTP line server wire-compatible
 * with the Python package sync-stream's LineHostBuffer.
 *
 * Model. The server holds one line buffer (an ss_linebuf: at most maxlen records
 * plus one partial line; or, with opts.store, a Redis stream several servers
 * share) and serves it over HTTP at a route (default
 * /sync-stream): mirrors on other machines POST text, warnings and errors;
 * readers GET records and the stop request. docs/host-protocol.md documents
 * every route: the base protocol an unmodified Python mirror or reader speaks,
 * and our extensions (batched POSTs sent exactly once per mirror id and batch
 * number, cursor reads with long-poll, server-sent events, health). `GET /`
 * serves a web page that shows the buffer live.
 *
 * Lifecycle. ss_host_server_new() binds, listens and serves from its own
 * threads (one per connection, at most max_connections, at most max_per_ip
 * from one address and, once half the connections are taken, less than a
 * quarter of the free ones, with the default max_per_ip none of that per
 * address for loopback clients; long-polls and event streams within half of them,
 * shared out the same way, else 503) until ss_host_server_free(). Requests are
 * bounded: bodies by max_body (413 beyond; 4 KiB on ROUTE-state) and all bodies
 * held at once by body_budget (503 beyond), idle connections by timeout_s, the
 * arrival of a request's headers by 10 s (or timeout_s if shorter) and of its
 * body by 4 * timeout_s (the connection is closed); a bad request gets 400 with
 * a JSON
 * message and changes nothing. A body is checked by one cheap pass before it is
 * parsed (at most 200 000 JSON values, 8 deep), and at most 2 bodies over
 * 256 KiB are parsed at once.
 *
 * Security. With a token, every route needs "Authorization: Bearer TOKEN" (or
 * ?token=TOKEN, for the web page and EventSource), else 401; the comparison
 * takes the same time wherever the tokens differ. With a certificate and key,
 * the server speaks HTTPS only (libmicrohttpd's GnuTLS support).
 *
 * Thread safety: every function is thread-safe, except that ss_host_server_free()
 * must not race with any other call on the same server.
 */
#ifndef SYNCSTREAM_HOST_H
#define SYNCSTREAM_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <syncstream/record.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ss_host_server ss_host_server;

#define SS_HOST_DEFAULT_LISTEN "127.0.0.1:5000"
#define SS_HOST_DEFAULT_ROUTE "/sync-stream"
#define SS_HOST_DEFAULT_MAX_BODY (8u * 1024u * 1024u)
#define SS_HOST_DEFAULT_BODY_BUDGET (64u * 1024u * 1024u)
#define SS_HOST_DEFAULT_MAX_CONNECTIONS 256
#define SS_HOST_DEFAULT_TIMEOUT_S 30
#define SS_HOST_DEFAULT_MAX_PER_IP 32

/* Options; all-zero (or a NULL pointer) means every default. */
typedef struct ss_host_server_opts {
    /* "ADDR:PORT" with an IPv4 address, or "[ADDR]:PORT" with an IPv6 one;
     * port 0 picks a free port (see ss_host_server_port). NULL means
     * SS_HOST_DEFAULT_LISTEN. */
    const char *listen;
    /* Where the buffer is served: starts with '/', at most 200 bytes of
     * [A-Za-z0-9/._~-], not "/" itself. ROUTE-state, ROUTE-events and
     * ROUTE-health follow from it. NULL means SS_HOST_DEFAULT_ROUTE. */
    const char *route;
    size_t maxlen;   /* records kept; 0 means SS_LINEBUF_DEFAULT_MAXLEN */
    size_t max_line; /* longest record before it is cut; 0: the default */
    size_t max_body; /* request body cap; 0 means 8 MiB */
    /* The request bodies held in memory at once, in bytes: a body takes its
     * Content-Length (sent in chunks: max_body) while it is read and handled;
     * a request finding too little left gets 503 with Retry-After: 1 and its
     * body is dropped. 0 means SS_HOST_DEFAULT_BODY_BUDGET, or max_body when
     * that is larger; otherwise at least max_body. */
    size_t body_budget;
    unsigned max_connections; /* 0 means SS_HOST_DEFAULT_MAX_CONNECTIONS */
    /* 0 means 30 s: a connection idle that long is closed, a request's
     * headers must all arrive within that time but at most 10 s (from the
     * connection's start or the end of its previous request), and its body
     * within 4 times it. */
    unsigned timeout_s;
    /* Bearer token: every request must carry it. NULL: no authentication. The
     * token is copied. Or token_file: a file whose first line is the token
     * (trailing whitespace removed); at most one of the two. */
    const char *token;
    const char *token_file;
    /* HTTPS: PEM files of the certificate (chain) and its private key; both or
     * neither. NULL: plain HTTP. */
    const char *cert_file;
    const char *key_file;
    /* Where the records live. NULL (or "memory"): in this process, the
     * default. "redis://HOST[:PORT]/KEY": in the Redis stream KEY, shared by
     * every server started on the same KEY (docs/host-mode.md, "Redis"); the
     * server connects on first use and again by itself after Redis was away,
     * answering 503 meanwhile. */
    const char *store;
    /* Connections at once from one IP address (an IPv6 /64 counts as one);
     * once half of max_connections are taken, also less than a quarter of the
     * free ones (beyond: closed at once). 0 means SS_HOST_DEFAULT_MAX_PER_IP,
     * and no per-address limit at all for loopback clients (127.0.0.0/8, ::1):
     * any local program may connect from any loopback address, so the limit
     * would only turn away the many workers of one machine. A value set here
     * applies to every address, loopback included. */
    unsigned max_per_ip;
    /* true: after each request body over 256 KiB, call glibc's malloc_trim(0)
     * to give the memory its decoding freed back to the system. That call
     * acts on the whole process (every malloc arena, whoever allocated in it)
     * and takes time in proportion to the heap, so it is off by default, and
     * glibc keeps that memory for the process's later allocations; turn it
     * on in a program that is mostly this server, as `syncstream serve`
     * does. */
    bool trim_memory;
} ss_host_server_opts;

/*
 * ss_host_server_new - start a server: bind, listen, serve.
 *
 * On success *ret owns a running server, stopped and freed with
 * ss_host_server_free(). Errors: -EINVAL (a bad listen address, route or
 * option; an empty token or token file; only one of cert_file and key_file);
 * -EINVAL also for a store that is neither "memory" nor a valid redis:// URI;
 * a negative errno from reading the token, certificate or key file (-EFBIG
 * when one is over 1 MiB) or from socket/bind/listen (-EADDRINUSE...), or from
 * starting the server's own thread; -ENOTSUP when TLS is asked for and
 * libmicrohttpd lacks it; -EPROTO when libmicrohttpd refuses to start (for
 * example a certificate or key it cannot load); -ENOMEM.
 */
int ss_host_server_new(ss_host_server **ret, const ss_host_server_opts *opts);

/*
 * ss_host_server_check_opts - check options without starting anything or
 * reading any file: the checks for which ss_host_server_new() returns -EINVAL
 * before it reads a file (the listen address, the route, cert_file and key_file
 * together, at most one of token and token_file, body_budget 0 or at least
 * max_body, the store: NULL, "memory" or
 * redis://HOST[:PORT]/KEY with HOST a name, an IPv4 address or a bracketed
 * IPv6 one and KEY 1..200 bytes of [A-Za-z0-9._:{}-], braces only as a Redis
 * Cluster hash tag). opts may be NULL.
 *
 * Thread-safe. Returns 0, or -EINVAL with *ret_what (when ret_what is not NULL)
 * set to a static string naming the field at fault: "listen", "route",
 * "cert_file", "token", "body_budget" or "store".
 */
int ss_host_server_check_opts(const ss_host_server_opts *opts, const char **ret_what);

/*
 * ss_host_server_port - the TCP port the server listens on (useful with port 0).
 * Never fails.
 */
uint16_t ss_host_server_port(const ss_host_server *srv);

/*
 * ss_host_server_set_stop - set (true) or clear the stop request that mirrors
 * see ("closed" in the protocol), as POST / DELETE ROUTE-state do. Returns 0;
 * -EINVAL when srv is NULL; the memory store cannot fail otherwise, the
 * Redis store returns its error while Redis cannot be reached.
 */
int ss_host_server_set_stop(ss_host_server *srv, bool stop);

/*
 * ss_host_server_read - the newest n items of the server's buffer (n =
 * SS_READ_ALL for all), as ss_linebuf_read(); *ret is cleared then filled, the
 * caller frees it with ss_records_clear(). Returns the number of items,
 * -EINVAL (srv or ret NULL), SS_ECLOSED or -ENOMEM.
 */
int ss_host_server_read(ss_host_server *srv, size_t n, ss_records *ret);

/*
 * ss_host_server_free - stop serving and release everything: blocked long-polls
 * and event streams end, open connections close, the threads are joined.
 * Accepts NULL.
 */
void ss_host_server_free(ss_host_server *srv);

#ifdef __cplusplus
}
#endif

#endif
