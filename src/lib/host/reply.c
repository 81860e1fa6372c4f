/*
 * The host server's answers (JSON bodies, the headers every answer has, error
 * statuses) and its parsing of integer arguments.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream/common.h>

#include "host/server_int.h"

void ss__host_add_headers(struct MHD_Response *r, const char *content_type)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
}

/* Reply with status and the JSON object body, plus the header name: value
 * when name is not NULL. */
static enum MHD_Result reply_json_header(struct MHD_Connection *c, unsigned status, json_t *body,
                                         const char *name, const char *value)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        static const char oom[] = "{\"message\":\"the server is out of memory\"}";
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        text = strdup(oom);
        if (!text)
            return MHD_NO;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    ss__host_add_headers(r, "application/json");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (name)
        MHD_add_response_header(r, name, value);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

enum MHD_Result ss__host_reply_json(struct MHD_Connection *c, unsigned status, json_t *body)
{
    return reply_json_header(c, status, body, NULL, NULL);
}

/* {"message": MESSAGE} with status, plus the header name: value when name is
 * not NULL. */
__attribute__((format(printf, 5, 0))) static enum MHD_Result
reply_message_v(struct MHD_Connection *c, unsigned status, const char *name, const char *value,
                const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    /* A message may quote a client's bytes: json_string would refuse invalid
     * UTF-8, so it goes through the replacing encoder. */
    json_t *body = json_pack("{s:o}", "message", ss__json_text(msg, strlen(msg)));
    return reply_json_header(c, status, body, name, value);
}

enum MHD_Result ss__host_reply_message(struct MHD_Connection *c, unsigned status, const char *fmt,
                                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result ok = reply_message_v(c, status, NULL, NULL, fmt, ap);
    va_end(ap);
    return ok;
}

enum MHD_Result ss__host_reply_message_header(struct MHD_Connection *c, unsigned status,
                                              const char *name, const char *value, const char *fmt,
                                              ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result ok = reply_message_v(c, status, name, value, fmt, ap);
    va_end(ap);
    return ok;
}

enum MHD_Result ss__host_reply_busy(struct MHD_Connection *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum MHD_Result ok =
        reply_message_v(c, MHD_HTTP_SERVICE_UNAVAILABLE, MHD_HTTP_HEADER_RETRY_AFTER,
                        SS__HOST_RETRY_AFTER, fmt, ap);
    va_end(ap);
    return ok;
}

enum MHD_Result ss__host_reply_store_error(struct MHD_Connection *c, int err)
{
    if (err == SS_ETOOBIG)
        return ss__host_reply_message(c, MHD_HTTP_CONTENT_TOO_LARGE,
                                      "a message is larger than the buffer can ever hold");
    if (err == SS_ECLOSED)
        return ss__host_reply_message(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                                      "the server is shutting down");
    return ss__host_reply_message(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                                  "the server cannot store records now: %s", ss_strerror(err));
}

int ss__host_parse_int(const char *s, int64_t min, int64_t max, int64_t *ret)
{
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (*p < '0' || *p > '9')
        return -EINVAL;
    /* Accumulate as a negative number: its range holds INT64_MIN. */
    int64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        int d = *p - '0';
        if (v < (INT64_MIN + d) / 10)
            return -EINVAL;
        v = v * 10 - d;
    }
    if (*p != '\0')
        return -EINVAL;
    if (!neg) {
        if (v == INT64_MIN)
            return -EINVAL;
        v = -v;
    }
    if (v < min || v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

int ss__host_query_int(struct MHD_Connection *c, const char *name, int64_t min, int64_t max,
                       int64_t *ret)
{
    const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    if (!s)
        return 0;
    return ss__host_parse_int(s, min, max, ret) == 0 ? 1 : -EINVAL;
}

enum MHD_Result ss__host_reply_not_allowed(struct MHD_Connection *c, const char *method,
                                           const char *allow)
{
    return ss__host_reply_message_header(c, MHD_HTTP_METHOD_NOT_ALLOWED, MHD_HTTP_HEADER_ALLOW,
                                         allow, "method %.16s is not allowed here; allowed: %s",
                                         method, allow);
}
