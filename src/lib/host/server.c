/*
 * The host server's lifecycle and request plumbing on libmicrohttpd: bodies
 * gathered under their cap, authentication, and the dispatch of a request to
 * its route's handler (routes.c, events.c). Options, secrets, the store and
 * the listening socket are set up in setup.c, answers made in reply.c.
 *
 * libmicrohttpd runs one thread per connection (at most max_connections), so a
 * handler may block: a long-poll sleeps in the store's wait and an event stream
 * in its content callback. ss_host_server_free() shuts the store down first,
 * which wakes them, then stops the daemon, which joins the threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <syncstream/common.h>
#include <syncstream/linebuf.h>

#include "host/body.h"
#include "host/framing.h"
#include "host/request_gate.h"
#include "host/server_int.h"
#include "util/clock.h"

/* A body this many times over the cap (sent without a Content-Length) is not
 * read to its end: the connection is closed. */
#define DISCARD_FACTOR 4
/* A request's body must arrive within this many idle timeouts: a client that
 * trickles a byte now and then (never idle long enough to be cut) is cut here. */
#define BODY_DEADLINE_FACTOR 4

/* One request's state, from its first call to its completion. */
typedef struct request {
    ss__host_body body;
    size_t cap;          /* the body's cap on this route */
    int64_t deadline_ms; /* CLOCK_MONOTONIC: the body must be in by then */
    size_t drained;      /* bytes dropped from a body that will be refused */
    unsigned refusal;    /* 0, or the status the request gets once its body is drained */
    const char *why;     /* the refusal's message (but for 413's) */
} request;

/* Whether given (len bytes) is the token. The time taken depends only on the
 * server's token, never on where the two first differ. */
static bool token_matches(const ss_host_server *srv, const char *given, size_t len)
{
    volatile unsigned char diff = len != srv->token_len;
    for (size_t i = 0; i < srv->token_len; i++)
        diff |= (unsigned char)(srv->token[i] ^ (i < len ? given[i] : 0));
    return diff == 0;
}

static bool authorized(const ss_host_server *srv, struct MHD_Connection *c, const char *url)
{
    if (!srv->token)
        return true;
    const char *auth =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    static const char bearer[] = "Bearer ";
    if (auth && strncasecmp(auth, bearer, sizeof(bearer) - 1) == 0) {
        const char *t = auth + sizeof(bearer) - 1;
        return token_matches(srv, t, strlen(t));
    }
    /* A browser's EventSource cannot set headers: the token may ride in the URL
     * of the page and of the event stream, and nowhere else (URLs end up in
     * logs and histories). */
    bool page = strcmp(url, "/") == 0 || (strncmp(url, srv->route, srv->route_len) == 0 &&
                                          strcmp(url + srv->route_len, "-events") == 0);
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    return page && q && token_matches(srv, q, strlen(q));
}

static enum MHD_Result reply_page(ss_host_server *srv, struct MHD_Connection *c)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(srv->page_len, srv->page, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    ss__host_add_headers(r, "text/html; charset=utf-8");
    /* The page's script and style are inline; it loads nothing and talks only
     * to this server. No referrer: its URL may carry ?token=. */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'unsafe-inline'; style-src "
                            "'unsafe-inline'; connect-src 'self'; base-uri 'none'; "
                            "form-action 'none'; frame-ancestors 'none'");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

/* Send a complete request to its route. */
static enum MHD_Result dispatch(ss_host_server *srv, struct MHD_Connection *c, const char *url,
                                const char *method, char *body, size_t len)
{
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    /* libmicrohttpd answers HEAD with the headers of the GET answer. */
    bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (strcmp(url, "/") == 0)
        return get || head ? reply_page(srv, c)
                           : ss__host_reply_not_allowed(c, method, "GET, HEAD");
    if (strncmp(url, srv->route, srv->route_len) == 0) {
        const char *rest = url + srv->route_len;
        if (*rest == '\0')
            return ss__host_on_buffer(srv, c, method, body, len);
        if (strcmp(rest, "-state") == 0)
            return ss__host_on_state(srv, c, method, body, len);
        if (strcmp(rest, "-events") == 0)
            return get ? ss__host_on_events(srv, c) : ss__host_reply_not_allowed(c, method, "GET");
        if (strcmp(rest, "-health") == 0)
            return get || head ? ss__host_on_health(srv, c)
                               : ss__host_reply_not_allowed(c, method, "GET, HEAD");
    }
    return ss__host_reply_message(c, MHD_HTTP_NOT_FOUND, "no such route: %.200s", url);
}

static enum MHD_Result refuse(const ss_host_server *srv, struct MHD_Connection *c,
                              const request *rq)
{
    if (rq->refusal == MHD_HTTP_SERVICE_UNAVAILABLE)
        return ss__host_reply_busy(
            c,
            "too many request bodies at once (the server holds at most %zu bytes of them); "
            "try again later",
            srv->bodies.limit);
    if (rq->refusal != MHD_HTTP_CONTENT_TOO_LARGE)
        return ss__host_reply_message(c, rq->refusal, "%s", rq->why);
    return ss__host_reply_message(c, rq->refusal, "the body is larger than the cap of %zu bytes",
                                  rq->cap);
}

/* Whether url is ROUTE (suffix "") or ROUTE + suffix. */
static bool is_route(const ss_host_server *srv, const char *url, const char *suffix)
{
    return strncmp(url, srv->route, srv->route_len) == 0 &&
           strcmp(url + srv->route_len, suffix) == 0;
}

/* The status (and *why) a request is refused with before its body is read, or
 * 0. */
static unsigned gate(const ss_host_server *srv, struct MHD_Connection *c, const char *url,
                     const char *method, const char **why)
{
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    bool reads =
        strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (!authorized(srv, c, url)) {
        *why = "missing or wrong bearer token";
        return MHD_HTTP_UNAUTHORIZED;
    }
    if (!srv->token && srv->loopback && !ss__host_host_is_local_name(c)) {
        *why = "the Host header must be an IP address or localhost (this server has no token)";
        return MHD_HTTP_FORBIDDEN;
    }
    if (!reads && !ss__host_origin_is_own(c, srv->cert_pem != NULL)) {
        *why = "requests from another origin may only read";
        return MHD_HTTP_FORBIDDEN;
    }
    if (post && (is_route(srv, url, "") || is_route(srv, url, "-state")) &&
        !ss__host_is_json_request(c)) {
        *why = "a POST body must be sent with Content-Type: application/json";
        return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    return 0;
}

/* Whether the client waits for "100 Continue" before it sends its body. */
static bool expects_continue(struct MHD_Connection *c)
{
    const char *e = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    return e && strcasecmp(e, "100-continue") == 0;
}

/* The body cap of a request to url. */
static size_t body_cap(const ss_host_server *srv, const char *url)
{
    if (is_route(srv, url, "-state"))
        return SS__HOST_STATE_MAX_BODY < srv->max_body ? SS__HOST_STATE_MAX_BODY : srv->max_body;
    return srv->max_body;
}

/*
 * A request comes in several calls: the first with its headers, then one per
 * piece of body, then a last one with no data, where it is answered. A request
 * refused early (no token, a body over the cap) still has its body read and
 * dropped, up to DISCARD_FACTOR times the cap: closing a socket with unread data
 * resets it, and the client would see the reset instead of the answer.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    ss_host_server *srv = cls;
    request *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof(*rq));
        if (!rq)
            return MHD_NO;
        ss__host_conn_guard_request(&srv->guard, c, true);
        rq->cap = body_cap(srv, url);
        rq->deadline_ms = ss__mono_ms() + (int64_t)srv->timeout_s * 1000 * BODY_DEADLINE_FACTOR;
        *con_cls = rq;
        const char *why;
        unsigned framing = ss__host_framing_check(c, &why);
        if (framing)
            return ss__host_reply_message_header(c, framing, MHD_HTTP_HEADER_CONNECTION, "close",
                                                 "%s", why);
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t declared = 0;
        if (cl && ss__host_parse_int(cl, 0, INT64_MAX, &declared) < 0)
            declared = 0; /* libmicrohttpd itself refuses a malformed length */
        rq->refusal = gate(srv, c, url, method, &rq->why);
        if (!rq->refusal && (uint64_t)declared > rq->cap)
            rq->refusal = MHD_HTTP_CONTENT_TOO_LARGE;
        size_t size = (size_t)declared;
        /* A body sent in chunks (framing checked: chunked alone) may be as
         * large as the cap. */
        if (!cl &&
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
            size = rq->cap;
        if (!rq->refusal && size && ss__host_body_begin(&rq->body, &srv->bodies, size) < 0)
            rq->refusal = MHD_HTTP_SERVICE_UNAVAILABLE;
        /* Answer now (libmicrohttpd then closes the connection without
         * reading the body) when the body is far too large to drain, or when
         * the client waits for "100 Continue" before it sends it. */
        if (rq->refusal && ((uint64_t)declared / DISCARD_FACTOR > rq->cap || expects_continue(c)))
            return refuse(srv, c, rq);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (ss__mono_ms() > rq->deadline_ms)
            return MHD_NO; /* closes the connection; nothing was stored */
        if (!rq->refusal && ss__host_body_append(&rq->body, upload_data, n) == 0)
            return MHD_YES;
        if (!rq->refusal)
            rq->refusal = MHD_HTTP_CONTENT_TOO_LARGE; /* over the cap, or out of memory */
        ss__host_body_free(&rq->body);
        rq->drained += n;
        return rq->drained / DISCARD_FACTOR > rq->cap ? MHD_NO : MHD_YES;
    }
    if (rq->refusal)
        return refuse(srv, c, rq);
    enum MHD_Result ok = dispatch(srv, c, url, method, rq->body.buf.data, rq->body.buf.len);
    /* The handlers are done with the body: it goes back to the budget now,
     * not once a slow client has read the answer. */
    ss__host_body_free(&rq->body);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    ss_host_server *srv = cls;
    request *rq = *con_cls;
    if (!rq)
        return;
    ss__host_conn_guard_request(&srv->guard, c, false);
    ss__host_body_free(&rq->body);
    free(rq);
    *con_cls = NULL;
}

/* The library never prints: libmicrohttpd's messages go nowhere. */
static void quiet_logger(void *cls, const char *fmt, va_list ap)
{
}

static int start_daemon(ss_host_server *srv, const ss_host_server_opts *o, int fd, bool v6)
{
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC;
    if (v6)
        flags |= MHD_USE_IPv6;
    if (srv->cert_pem) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
            return -ENOTSUP;
        flags |= MHD_USE_TLS;
    }
    unsigned max_conn = o->max_connections ? o->max_connections : SS_HOST_DEFAULT_MAX_CONNECTIONS;
    unsigned timeout = srv->timeout_s;
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, srv->cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, srv->key_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, max_conn, MHD_OPTION_CONNECTION_TIMEOUT, timeout,
        MHD_OPTION_NOTIFY_CONNECTION, ss__host_conn_guard_notify, &srv->guard,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_EXTERNAL_LOGGER, quiet_logger,
        srv, MHD_OPTION_ARRAY, srv->cert_pem ? tls : tls + 2, MHD_OPTION_END);
    return srv->daemon ? 0 : -EPROTO;
}

int ss_host_server_new(ss_host_server **ret, const ss_host_server_opts *opts)
{
    static const ss_host_server_opts defaults;
    if (!ret || ss_host_server_check_opts(opts, NULL) < 0)
        return -EINVAL;
    const ss_host_server_opts *o = opts ? opts : &defaults;
    const char *route = o->route ? o->route : SS_HOST_DEFAULT_ROUTE;
    ss_host_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -ENOMEM;
    srv->route_len = strlen(route);
    memcpy(srv->route, route, srv->route_len + 1);
    srv->max_body = o->max_body ? o->max_body : SS_HOST_DEFAULT_MAX_BODY;
    ss__host_body_budget_init(&srv->bodies, ss__host_body_budget_size(o));
    srv->timeout_s = o->timeout_s ? o->timeout_s : SS_HOST_DEFAULT_TIMEOUT_S;
    srv->trim_memory = o->trim_memory;
    srv->big_decodes_init = sem_init(&srv->big_decodes, 0, SS__HOST_BIG_DECODES) == 0;
    int fd = -1;
    bool v6 = false;
    int rc = srv->big_decodes_init ? ss__host_load_secrets(srv, o) : -errno;
    if (rc == 0)
        rc = ss__host_page_build(srv->route, &srv->page, &srv->page_len);
    if (rc == 0)
        rc = ss__host_open_store(o, &srv->store);
    if (rc == 0)
        rc = ss__host_open_listener(o->listen ? o->listen : SS_HOST_DEFAULT_LISTEN, &fd, &srv->port,
                                    &v6, &srv->loopback);
    if (rc == 0) {
        unsigned max_conn =
            o->max_connections ? o->max_connections : SS_HOST_DEFAULT_MAX_CONNECTIONS;
        /* Long-polls and event streams may hold half the connections: the
         * other half always serves plain requests. */
        unsigned max_waits = max_conn / 2 ? max_conn / 2 : 1;
        rc = ss__host_conn_guard_start(&srv->guard, srv->timeout_s, max_conn, max_waits,
                                       o->max_per_ip ? o->max_per_ip : SS_HOST_DEFAULT_MAX_PER_IP,
                                       o->max_per_ip == 0);
        srv->guard_started = rc == 0;
    }
    if (rc == 0) {
        rc = start_daemon(srv, o, fd, v6);
        /* Whether a daemon that failed to start closed the socket it was given
         * depends on where it failed: close it only if it is still open. */
        if (rc < 0 && fcntl(fd, F_GETFD) != -1)
            close(fd);
    }
    if (rc < 0) {
        ss_host_server_free(srv);
        return rc;
    }
    *ret = srv;
    return 0;
}

uint16_t ss_host_server_port(const ss_host_server *srv)
{
    return srv ? srv->port : 0;
}

int ss_host_server_set_stop(ss_host_server *srv, bool stop)
{
    if (!srv)
        return -EINVAL;
    return srv->store->ops->set_stop(srv->store, stop);
}

int ss_host_server_read(ss_host_server *srv, size_t n, ss_records *ret)
{
    if (!srv || !ret)
        return -EINVAL;
    return srv->store->ops->read(srv->store, n, ret);
}

static void free_secret(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

void ss_host_server_free(ss_host_server *srv)
{
    if (!srv)
        return;
    if (srv->store)
        srv->store->ops->shutdown(srv->store);
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    if (srv->guard_started)
        ss__host_conn_guard_stop(&srv->guard);
    if (srv->store)
        srv->store->ops->free(srv->store);
    if (srv->big_decodes_init)
        sem_destroy(&srv->big_decodes);
    free_secret(srv->token);
    free_secret(srv->key_pem);
    free(srv->cert_pem);
    free(srv->page);
    free(srv);
}
