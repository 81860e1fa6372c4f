/* What the files of the host server share inside the library. */
#ifndef SS_HOST_SERVER_INT_H
#define SS_HOST_SERVER_INT_H

#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include <syncstream/host.h>

#include "host/body.h"
#include "host/conn_guard.h"
#include "host/store.h"

#define SS__HOST_ROUTE_MAX 200
/* POST ROUTE-state's only legal body is {"state": NAME, "value": VALUE}. */
#define SS__HOST_STATE_MAX_BODY 4096
/* A body over this size is decoded by jansson only while fewer than
 * SS__HOST_BIG_DECODES others are: the peak memory of decoding is that many
 * trees of max_body, whatever the number of connections. */
#define SS__HOST_BIG_BODY (256u << 10)
#define SS__HOST_BIG_DECODES 2

struct ss_host_server {
    struct MHD_Daemon *daemon;
    ss__host_store *store;
    char route[SS__HOST_ROUTE_MAX + 1];
    size_t route_len;
    size_t max_body;
    ss__host_body_budget bodies; /* request bodies held at once (body.h) */
    sem_t big_decodes;           /* SS__HOST_BIG_DECODES slots (see above) */
    bool big_decodes_init;
    bool trim_memory;   /* ss_host_server_opts.trim_memory */
    unsigned timeout_s; /* idle connection timeout, and the one for request headers */
    ss__host_conn_guard guard;
    bool guard_started;
    char *token; /* NULL: no authentication */
    size_t token_len;
    char *page; /* the web page, with the route filled in */
    size_t page_len;
    char *cert_pem;
    char *key_pem;
    uint16_t port;
    bool loopback; /* listening on 127.0.0.0/8 or ::1 */
};

/* Add the headers every answer has: content_type, Cache-Control: no-store,
 * X-Content-Type-Options: nosniff. */
void ss__host_add_headers(struct MHD_Response *r, const char *content_type);

/* Reply with status and the JSON object body (a reference is taken over; NULL
 * gives a 500). Content-Type application/json. */
enum MHD_Result ss__host_reply_json(struct MHD_Connection *c, unsigned status, json_t *body);

/* Reply with status and {"message": MESSAGE}, MESSAGE formatted. */
enum MHD_Result ss__host_reply_message(struct MHD_Connection *c, unsigned status, const char *fmt,
                                       ...) __attribute__((format(printf, 3, 4)));

/* As ss__host_reply_message, with one more header, name: value (Connection:
 * close after a request whose body is not read). */
enum MHD_Result ss__host_reply_message_header(struct MHD_Connection *c, unsigned status,
                                              const char *name, const char *value, const char *fmt,
                                              ...) __attribute__((format(printf, 5, 6)));

/* Seconds a client refused for a busy server (ss__host_reply_busy) is asked
 * to wait: the bodies in flight, or a waiter's turn, are done in about that
 * time on a local network. */
#define SS__HOST_RETRY_AFTER "1"

/* 503 with Retry-After: SS__HOST_RETRY_AFTER and {"message": MESSAGE}: the
 * server is busy (the body budget is spent, the waiting pool is full) and the
 * client may try again. */
enum MHD_Result ss__host_reply_busy(struct MHD_Connection *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* 405: method is not one of allow (a list for the message and the Allow
 * header). */
enum MHD_Result ss__host_reply_not_allowed(struct MHD_Connection *c, const char *method,
                                           const char *allow);

/* The reply for a store error: 503 (shutting down, unreachable, no memory) or
 * 413 (SS_ETOOBIG). */
enum MHD_Result ss__host_reply_store_error(struct MHD_Connection *c, int err);

/*
 * ss__host_query_int - the integer query argument name, in [min, max].
 * Returns 1 with *ret set, 0 when absent (*ret untouched), or -EINVAL when it
 * is not a decimal integer in range.
 */
int ss__host_query_int(struct MHD_Connection *c, const char *name, int64_t min, int64_t max,
                       int64_t *ret);

/* Parse a whole decimal integer (optional sign) in [min, max]. Returns 0 or
 * -EINVAL. */
int ss__host_parse_int(const char *s, int64_t min, int64_t max, int64_t *ret);

/* Handlers, called with the whole body (NULL, 0 when none), which they may
 * rewrite in place (json_prepare.h). */
enum MHD_Result ss__host_on_buffer(ss_host_server *srv, struct MHD_Connection *c,
                                   const char *method, char *body, size_t len);
enum MHD_Result ss__host_on_state(ss_host_server *srv, struct MHD_Connection *c, const char *method,
                                  char *body, size_t len);
enum MHD_Result ss__host_on_health(ss_host_server *srv, struct MHD_Connection *c);
enum MHD_Result ss__host_on_events(ss_host_server *srv, struct MHD_Connection *c);

/* wait_pool.c. A long-poll or event stream on c enters the waiting pool: true
 * with *ret_peer set (leave with ss__host_wait_leave), or false with a 503
 * queued and *ret_reply the handler's result. */
bool ss__host_wait_enter(ss_host_server *srv, struct MHD_Connection *c, ss__host_peer **ret_peer,
                         enum MHD_Result *ret_reply);
void ss__host_wait_leave(ss_host_server *srv, ss__host_peer *peer);

/* setup.c. The body budget opts ask for (opts checked): body_budget, or by
 * default SS_HOST_DEFAULT_BODY_BUDGET or max_body when that is larger. */
size_t ss__host_body_budget_size(const ss_host_server_opts *o);

/* setup.c. Read the token (opts.token or token_file), certificate and key into
 * srv. Returns 0, -EINVAL (an empty token) or a negative errno from reading. */
int ss__host_load_secrets(ss_host_server *srv, const ss_host_server_opts *o);

/* The store opts.store names: memory (the default) or Redis. Returns 0 or a
 * negative errno. */
int ss__host_open_store(const ss_host_server_opts *o, ss__host_store **ret);

/* Bind and listen on listen_addr (checked by ss_host_server_check_opts): the
 * socket, the port it got, whether it is IPv6 and whether it is a loopback
 * address. Returns 0 or -errno. */
int ss__host_open_listener(const char *listen_addr, int *ret_fd, uint16_t *ret_port, bool *ret_v6,
                           bool *ret_loopback);

/* The web page with the route filled in: *ret (malloc'd) and *ret_len. Returns 0
 * or -ENOMEM. */
int ss__host_page_build(const char *route, char **ret, size_t *ret_len);

#endif
