/*
 * ss__http: one kept-alive HTTP connection of a host-mode client (libcurl's
 * easy interface), with the headers sync-stream's clients send, bounded
 * response bodies and cancellation. Used by the mirror's thread and by the
 * reader; not thread-safe except ss__http_cancel().
 */
#ifndef SS_HOSTCLIENT_HTTP_H
#define SS_HOSTCLIENT_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "util/buf.h"

typedef struct ss__http {
    void *curl;         /* CURL * */
    void *headers;      /* struct curl_slist *: Accept, User-Agent, Authorization */
    void *post_headers; /* the same plus Content-Type: application/json */
    ss__buf body;       /* the last response's body */
    long status;        /* the last response's status, 0 when none */
    int timeout_ms;     /* one request, connection included */
    atomic_bool cancel; /* set by ss__http_cancel(): requests end with -ECANCELED */
    char message[256];  /* what the server or the transport said last */
    char errbuf[256];   /* curl's error text (CURL_ERROR_SIZE) */
} ss__http;

/* A stream's data callback (SSE): gets every chunk of the body as it arrives.
 * Returns 0 to go on or a negative value to abort the request with it. */
typedef int (*ss__http_data_fn)(void *ctx, const char *data, size_t len);

/* Set up a connection. token (may be NULL) is sent as a bearer token; ca_file
 * (may be NULL) names the certificate authorities an https server's
 * certificate must verify against. max_body bounds a response body. Returns 0,
 * -EINVAL (a token with a line break), -ENOMEM. */
int ss__http_init(ss__http *h, const char *token, const char *ca_file, int connect_timeout_ms,
                  int timeout_ms, size_t max_body);
void ss__http_done(ss__http *h);

/*
 * One request: method "GET", "POST" (with a JSON body) or "DELETE". On an
 * answer returns 0 with h->status and h->body set (whatever the status; a
 * status >= 400 also sets h->message from the body's JSON "message"); else a
 * negative transport error (-ECONNREFUSED, -ETIMEDOUT, -ECONNRESET,
 * SS_ENOHOST or SS_ERESOLVE for a host or proxy name that does not resolve
 * (h->message names it and gives the resolver's error), -EKEYREJECTED for a certificate that does
 * not verify, -EMSGSIZE for a body over max_body, -ECANCELED, -ENOMEM, -EINVAL for a bad URL or CA
 * file, -EIO) with h->message set. timeout_ms overrides the request timeout when > 0.
 */
int ss__http_request(ss__http *h, const char *method, const char *url, const char *body, size_t len,
                     int timeout_ms);

/*
 * A streamed GET: each piece of the body goes to fn as it arrives, no timeout
 * but cancellation (and a low-speed limit of no byte in idle_ms). extra_header
 * (may be NULL) is one more "Name: value" header. Returns as ss__http_request;
 * fn's negative value ends the stream and is returned.
 */
int ss__http_stream(ss__http *h, const char *url, const char *extra_header, int idle_ms,
                    ss__http_data_fn fn, void *ctx);

/* The error for an answer's status: 0 for 2xx, -EACCES (401), -ENOENT (404),
 * -EMSGSIZE (413), SS_EREJECTED (other 4xx), SS_ESERVER (5xx), -EPROTO. */
int ss__http_status_error(long status);

/* The body of the last answer as a JSON object (new reference), or NULL with
 * h->message set when it is not one. Its strings may hold NUL: read them with
 * json_string_length(). */
json_t *ss__http_json(ss__http *h);

void ss__http_cancel(ss__http *h);

/* Set h->message; printf-style. */
void ss__http_set_message(ss__http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A derived route's URL: url followed by suffix ("-state", "-health"...), as
 * sync-stream derives its state URL. Returns malloc'ed memory or NULL. */
char *ss__http_url(const char *url, const char *suffix);

/* Whether url starts with http:// or https://. */
bool ss__http_url_ok(const char *url);

#endif
