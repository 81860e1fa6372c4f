#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <syncstream/common.h>

#include "hostclient/http.h"
#include "util/tcp_connect.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

/* libcurl's global set-up, once per process; thread-safe since libcurl 7.84
 * (CURL_VERSION_THREADSAFE), and pthread_once keeps it to one call anyway. */
static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void ss__http_set_message(ss__http *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->message, sizeof(h->message), fmt, ap);
    va_end(ap);
}

bool ss__http_url_ok(const char *url)
{
    return url && (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) &&
           !strpbrk(url, " \r\n");
}

char *ss__http_url(const char *url, const char *suffix)
{
    size_t lu = strlen(url), ls = strlen(suffix);
    char *s = malloc(lu + ls + 1);
    if (s) {
        memcpy(s, url, lu);
        memcpy(s + lu, suffix, ls + 1);
    }
    return s;
}

static struct curl_slist *add_header(struct curl_slist *list, const char *h, bool *failed)
{
    struct curl_slist *l = curl_slist_append(list, h);
    if (!l)
        *failed = true;
    return l ? l : list;
}

int ss__http_init(ss__http *h, const char *token, const char *ca_file, int connect_timeout_ms,
                  int timeout_ms, size_t max_body)
{
    memset(h, 0, sizeof(*h));
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return -ENOMEM;
    ss__buf_init(&h->body, max_body);
    h->timeout_ms = timeout_ms;
    CURL *c = curl_easy_init();
    if (!c)
        return -ENOMEM;
    h->curl = c;

    bool failed = false;
    char auth[600];
    struct curl_slist *hd = NULL;
    hd = add_header(hd, "Accept: application/json", &failed);
    /* "Expect: 100-continue" would cost a round trip per large POST. */
    hd = add_header(hd, "Expect:", &failed);
    if (token) {
        if (strlen(token) > 512 || strpbrk(token, "\r\n")) {
            curl_slist_free_all(hd);
            ss__http_done(h);
            return -EINVAL;
        }
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hd = add_header(hd, auth, &failed);
    }
    struct curl_slist *ph = NULL;
    for (struct curl_slist *i = hd; i; i = i->next)
        ph = add_header(ph, i->data, &failed);
    ph = add_header(ph, "Content-Type: application/json", &failed);
    h->headers = hd;
    h->post_headers = ph;
    if (failed) {
        ss__http_done(h);
        return -ENOMEM;
    }
    curl_easy_setopt(c, CURLOPT_USERAGENT, "cainmagi/syncstream");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    /* A read's answer comes in fewer, larger pieces than curl's 16 KiB. */
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L << 10);
    if (ca_file && curl_easy_setopt(c, CURLOPT_CAINFO, ca_file) != CURLE_OK) {
        ss__http_done(h);
        return -ENOMEM;
    }
    return 0;
}

void ss__http_done(ss__http *h)
{
    if (h->curl)
        curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    curl_slist_free_all(h->post_headers);
    ss__buf_free(&h->body);
    h->curl = h->headers = h->post_headers = NULL;
}

void ss__http_cancel(ss__http *h)
{
    atomic_store(&h->cancel, true);
}

typedef struct sink {
    ss__http *h;
    ss__http_data_fn fn;
    void *ctx;
    int err;      /* why the body was refused */
    bool checked; /* the first piece of the body was looked at */
} sink;

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    sink *s = userp;
    size_t n = size * nmemb;
    if (s->fn && !s->checked) {
        /* An error answer to a stream is a JSON body to keep, not events. */
        long status = 0;
        curl_easy_getinfo(s->h->curl, CURLINFO_RESPONSE_CODE, &status);
        s->checked = true;
        if (status >= 300)
            s->fn = NULL;
    }
    if (s->fn) {
        int rc = s->fn(s->ctx, data, n);
        if (rc < 0) {
            s->err = rc;
            return CURL_WRITEFUNC_ERROR;
        }
        return n;
    }
    if (!s->checked) {
        /* A body of a known length (a read of a million records is tens of
         * MiB) gets its room at once, not by growing and copying. */
        curl_off_t cl = -1;
        char *room;
        s->checked = true;
        if (curl_easy_getinfo(s->h->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
            cl > 0 && (uint64_t)cl <= s->h->body.cap)
            ss__buf_reserve(&s->h->body, (size_t)cl, &room);
    }
    int rc = ss__buf_append(&s->h->body, data, n);
    if (rc < 0) {
        s->err = rc == -ENOBUFS ? -EMSGSIZE : rc;
        return CURL_WRITEFUNC_ERROR;
    }
    return n;
}

static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    ss__http *h = userp;
    return atomic_load_explicit(&h->cancel, memory_order_relaxed) ? 1 : 0;
}

/*
 * A host name curl could not resolve: SS_ENOHOST or SS_ERESOLVE with the name
 * and the resolver's words in h->message. curl says neither which nor why, so
 * the name is asked again; this costs one more lookup only on this failure, as
 * fast as curl's (an unknown name) or as slow (a name service that does not
 * answer, the same wait again).
 */
static int resolve_error(ss__http *h)
{
    const char *url = NULL;
    char *host = NULL;
    CURLU *u = curl_url();
    curl_easy_getinfo(h->curl, CURLINFO_EFFECTIVE_URL, &url);
    if (!u || !url || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        curl_url_cleanup(u);
        return SS_ENOHOST; /* curl's own words stay in h->message */
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    errno = 0;
    int gai = getaddrinfo(host, NULL, &hints, &res);
    int err = gai ? ss__gai_error(gai) : 0;
    if (err != SS_ENOHOST)
        err = SS_ERESOLVE; /* the name service failed, or it answers again now */
    ss__http_set_message(h, "cannot resolve the host name '%s': %s", host,
                         gai ? gai_strerror(gai) : "it failed, and resolves again now");
    if (res)
        freeaddrinfo(res);
    curl_free(host);
    curl_url_cleanup(u);
    return err;
}

/* Translate a transfer's failure into an errno, keeping curl's words. */
static int transfer_error(ss__http *h, CURLcode rc, const sink *s)
{
    if (s->err) {
        if (s->err == -EMSGSIZE)
            ss__http_set_message(h, "the response is larger than %zu bytes", h->body.cap);
        else if (!h->message[0])
            ss__http_set_message(h, "%s", ss_strerror(s->err));
        return s->err;
    }
    ss__http_set_message(h, "%s", h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        return -ECONNREFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_ABORTED_BY_CALLBACK:
        return -ECANCELED;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_SSL_CACERT_BADFILE:
        return -EINVAL;
    case CURLE_PEER_FAILED_VERIFICATION:
        return -EKEYREJECTED; /* not retried: the next try meets the same certificate */
    case CURLE_COULDNT_RESOLVE_HOST:
        return resolve_error(h);
    case CURLE_COULDNT_RESOLVE_PROXY:
        return SS_ENOHOST; /* the proxy's name: curl's words say which */
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
        return -ECONNRESET;
    default:
        return -EIO;
    }
}

/* Read "message" from an error answer's JSON body into h->message. */
static void keep_error_message(ss__http *h)
{
    json_error_t jerr;
    json_t *j = json_loadb(h->body.data ? h->body.data : "", h->body.len, JSON_ALLOW_NUL, &jerr);
    const char *msg = json_is_object(j) ? json_string_value(json_object_get(j, "message")) : NULL;
    if (msg)
        ss__http_set_message(h, "%ld: %s", h->status, msg);
    else
        ss__http_set_message(h, "HTTP status %ld", h->status);
    json_decref(j);
}

static int perform(ss__http *h, sink *s)
{
    CURL *c = h->curl;
    h->status = 0;
    h->message[0] = h->errbuf[0] = '\0';
    ss__buf_reset(&h->body);
    if (atomic_load(&h->cancel)) {
        ss__http_set_message(h, "cancelled");
        return -ECANCELED;
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        return transfer_error(h, rc, s);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
    if (h->status >= 400)
        keep_error_message(h);
    return 0;
}

int ss__http_request(ss__http *h, const char *method, const char *url, const char *body, size_t len,
                     int timeout_ms)
{
    CURL *c = h->curl;
    bool post = strcmp(method, "POST") == 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, post ? h->post_headers : h->headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : h->timeout_ms));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 0L);
    if (post) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") == 0 ? NULL : method);
    }
    sink s = {.h = h};
    return perform(h, &s);
}

int ss__http_stream(ss__http *h, const char *url, const char *extra_header, int idle_ms,
                    ss__http_data_fn fn, void *ctx)
{
    CURL *c = h->curl;
    struct curl_slist *hd = NULL;
    bool failed = false;
    for (struct curl_slist *i = h->headers; i; i = i->next)
        hd = add_header(hd, i->data, &failed);
    hd = add_header(hd, "Accept: text/event-stream", &failed);
    if (extra_header)
        hd = add_header(hd, extra_header, &failed);
    if (failed) {
        curl_slist_free_all(hd);
        return -ENOMEM;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 0L);
    /* A live stream has no end; a silent one (no keep-alive comment for idle_ms)
     * is taken for dead. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)((idle_ms + 999) / 1000));
    sink s = {.h = h, .fn = fn, .ctx = ctx};
    int rc = perform(h, &s);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 0L);
    curl_slist_free_all(hd);
    return rc;
}

int ss__http_status_error(long status)
{
    if (status >= 200 && status < 300)
        return 0;
    switch (status) {
    case 401:
        return -EACCES;
    case 404:
        return -ENOENT;
    case 413:
        return -EMSGSIZE;
    default:
        break;
    }
    if (status >= 400 && status < 500)
        return SS_EREJECTED;
    if (status >= 500 && status < 600)
        return SS_ESERVER;
    return -EPROTO;
}

json_t *ss__http_json(ss__http *h)
{
    json_error_t jerr;
    /* Records may hold any byte: a NUL comes as "\u0000", which jansson
     * refuses without JSON_ALLOW_NUL (every string is then read with its
     * length, never up to its first NUL). */
    json_t *j = json_loadb(h->body.data ? h->body.data : "", h->body.len, JSON_ALLOW_NUL, &jerr);
    if (!json_is_object(j)) {
        json_decref(j);
        ss__http_set_message(h, "the server's answer is not a JSON object");
        return NULL;
    }
    return j;
}
