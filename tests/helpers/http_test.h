/*
 * A small HTTP client for the host-mode tests (libcurl, one handle per call):
 * send a request, get the status, the body and, when the body is JSON, its
 * parsed value.
 */
#ifndef SS_HTTP_TEST_H
#define SS_HTTP_TEST_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

typedef struct http_reply {
    long status; /* 0 when no HTTP answer came */
    char *body;  /* NUL-terminated */
    size_t len;
    json_t *json; /* NULL when the body is not JSON */
    char *head;   /* the response's header lines, NUL-terminated (NULL: none) */
    size_t head_len;
} http_reply;

typedef struct http_opts {
    const char *headers[4];   /* extra request headers, NULL-terminated */
    const char *cainfo;       /* a CA (the test's certificate) for https */
    long timeout_ms;          /* 0: 30 s */
    bool chunked;             /* send the body with chunked transfer encoding */
    const char *content_type; /* NULL: application/json with a body; "": none */
} http_opts;

/* The size http_append allocates for n bytes: a power of two, so that the
 * buffer's size follows from its length and need not be stored. */
static size_t http_capacity(size_t n)
{
    size_t cap = 64;
    while (cap < n)
        cap *= 2;
    return cap;
}

/* Append add bytes to *buf (NUL-terminated at *len); returns add, or 0 when
 * out of memory (curl then ends the transfer). The buffer doubles: growing it
 * by each 16 KiB chunk curl hands over copied an 8 MiB answer some 500 times,
 * which under ASan (its realloc always moves) took over curl's 30 s timeout on
 * a loaded machine. */
static size_t http_append(char **buf, size_t *len, const char *p, size_t add)
{
    size_t need = *len + add + 1;
    if (!*buf || need > http_capacity(*len + 1)) {
        char *grown = realloc(*buf, http_capacity(need));
        if (!grown)
            return 0;
        *buf = grown;
    }
    memcpy(*buf + *len, p, add);
    *len += add;
    (*buf)[*len] = '\0';
    return add;
}

static size_t http_collect(char *p, size_t size, size_t n, void *cls)
{
    http_reply *r = cls;
    return http_append(&r->body, &r->len, p, size * n);
}

static size_t http_collect_head(char *p, size_t size, size_t n, void *cls)
{
    http_reply *r = cls;
    return http_append(&r->head, &r->head_len, p, size * n);
}

/* State for a chunked upload: curl reads the body through this. */
typedef struct http_upload {
    const char *data;
    size_t len, at;
} http_upload;

static size_t http_feed(char *buf, size_t size, size_t n, void *cls)
{
    http_upload *u = cls;
    size_t want = size * n, left = u->len - u->at;
    if (want > left)
        want = left;
    memcpy(buf, u->data + u->at, want);
    u->at += want;
    return want;
}

static inline void http_reply_clear(http_reply *r)
{
    free(r->head);
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* Send method url with body (NULL: none). Returns the curl result code (0 ok). */
static inline int http_request(const char *method, const char *url, const char *body, size_t len,
                               const http_opts *o, http_reply *ret)
{
    static const http_opts none;
    if (!o)
        o = &none;
    memset(ret, 0, sizeof(*ret));
    CURL *h = curl_easy_init();
    if (!h)
        return -1;
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    char ct[128];
    snprintf(ct, sizeof(ct), "Content-Type: %s",
             o->content_type ? o->content_type : "application/json");
    if (o->content_type && !o->content_type[0])
        hdrs = curl_slist_append(hdrs, "Content-Type:"); /* removes curl's own */
    else if (body)
        hdrs = curl_slist_append(hdrs, ct);
    for (int i = 0; i < 4 && o->headers[i]; i++)
        hdrs = curl_slist_append(hdrs, o->headers[i]);
    http_upload up = {body, len, 0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms ? o->timeout_ms : 30000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, ret);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_collect_head);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, ret);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (body && o->chunked) {
        hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, http_feed);
        curl_easy_setopt(h, CURLOPT_READDATA, &up);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (o->cainfo) {
        curl_easy_setopt(h, CURLOPT_CAINFO, o->cainfo);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    }
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ret->status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (ret->body) {
        json_error_t jerr;
        ret->json = json_loadb(ret->body, ret->len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    }
    return (int)rc;
}

/* The value of the response header name (case ignored) as a malloc'd string,
 * or NULL. */
static inline char *http_header(const http_reply *r, const char *name)
{
    size_t nlen = strlen(name);
    for (const char *line = r->head; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            return strndup(v, (size_t)(line + len - v));
        }
        line = end ? end + 2 : line + len;
    }
    return NULL;
}

/* The string member "message" of a reply, or "". */
static inline const char *http_message(const http_reply *r)
{
    const char *m = json_string_value(json_object_get(r->json, "message"));
    return m ? m : "";
}

/* A raw TCP connection to 127.0.0.1:port from 127.0.0.(src) (so that many
 * clients are many addresses), for what an HTTP library would not send; reads
 * time out after timeout_s. rcvbuf > 0 sets the receive buffer before the
 * connection (a small window for a client that does not read). Returns the
 * socket, or -1 when the connection fails. */
static inline int http_raw_connect(uint16_t port, int src, int timeout_s, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct timeval tv = {.tv_sec = timeout_s};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)src);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        goto fail;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

#endif
