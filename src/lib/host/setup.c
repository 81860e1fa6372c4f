/*
 * What a host server needs before it serves: its options checked, its token,
 * certificate and key read, its store opened and its listening socket bound.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/redis_uri.h"
#include "host/server_int.h"
#include "util/buf.h"

/* Read a whole small file (a token, a certificate, a key) as a C string. */
static int read_small_file(const char *path, char **ret, size_t *ret_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ss__buf b;
    ss__buf_init(&b, 1u << 20);
    char chunk[4096];
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        rc = ss__buf_append(&b, chunk, (size_t)n);
        if (rc < 0)
            break;
    }
    close(fd);
    if (rc == 0)
        rc = ss__buf_append(&b, "", 1);
    if (rc < 0) {
        ss__buf_free(&b);
        return rc == -ENOBUFS ? -EFBIG : rc;
    }
    *ret = b.data;
    *ret_len = b.len - 1;
    return 0;
}

/* The token (given, or read from its file). */
static int load_token(ss_host_server *srv, const ss_host_server_opts *o)
{
    if (o->token) {
        srv->token = strdup(o->token);
        if (!srv->token)
            return -ENOMEM;
        srv->token_len = strlen(srv->token);
    } else if (o->token_file) {
        int rc = read_small_file(o->token_file, &srv->token, &srv->token_len);
        if (rc < 0)
            return rc;
        /* The first line, without trailing whitespace (an editor's newline). */
        srv->token_len = strcspn(srv->token, "\r\n");
        while (srv->token_len > 0 &&
               (srv->token[srv->token_len - 1] == ' ' || srv->token[srv->token_len - 1] == '\t'))
            srv->token_len--;
        srv->token[srv->token_len] = '\0';
    } else {
        return 0;
    }
    return srv->token_len > 0 ? 0 : -EINVAL;
}

static bool route_valid(const char *route)
{
    size_t len = strlen(route);
    if (len < 2 || len > SS__HOST_ROUTE_MAX || route[0] != '/')
        return false;
    return strspn(route, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._~-") ==
           len;
}

/* Parse "A.B.C.D:PORT" or "[V6]:PORT". */
static int parse_listen(const char *listen_addr, struct sockaddr_storage *ret, socklen_t *ret_len)
{
    char host[64];
    const char *colon = strrchr(listen_addr, ':');
    if (!colon)
        return -EINVAL;
    size_t hlen = (size_t)(colon - listen_addr);
    const char *h = listen_addr;
    bool v6 = hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']';
    if (v6) {
        h++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof(host))
        return -EINVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    int64_t port;
    if (ss__host_parse_int(colon + 1, 0, 65535, &port) < 0 || colon[1] == '+' || colon[1] == '-')
        return -EINVAL;
    memset(ret, 0, sizeof(*ret));
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ret;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return -EINVAL;
        *ret_len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ret;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return -EINVAL;
        *ret_len = sizeof(*a);
    }
    return 0;
}

/* Bind and listen ourselves: a clear errno (EADDRINUSE...) and the real port
 * when port 0 was asked for. */
int ss__host_open_listener(const char *listen_addr, int *ret_fd, uint16_t *ret_port, bool *ret_v6,
                           bool *ret_loopback)
{
    struct sockaddr_storage addr;
    socklen_t alen;
    int rc = parse_listen(listen_addr, &addr, &alen);
    if (rc < 0)
        return rc;
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (addr.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&addr, alen) < 0 || listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &alen) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    *ret_port = ntohs(addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                                 : ((struct sockaddr_in *)&addr)->sin_port);
    *ret_v6 = addr.ss_family == AF_INET6;
    *ret_loopback = *ret_v6 ? IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&addr)->sin6_addr)
                            : (ntohl(((struct sockaddr_in *)&addr)->sin_addr.s_addr) >> 24) == 127;
    *ret_fd = fd;
    return 0;
}

/* NULL or "memory" (the default), or a redis:// address. */
static bool store_valid(const char *store)
{
    ss__redis_uri uri;
    return !store || strcmp(store, "memory") == 0 || ss__redis_uri_parse(store, &uri) == 0;
}

int ss__host_open_store(const ss_host_server_opts *o, ss__host_store **ret)
{
    if (!o->store || strcmp(o->store, "memory") == 0) {
        ss__host_mem_opts mo = {.maxlen = o->maxlen, .max_line = o->max_line};
        return ss__host_mem_store_new(ret, &mo);
    }
    ss__host_redis_opts ro = {.uri = o->store, .maxlen = o->maxlen, .max_line = o->max_line};
    return ss__host_redis_store_new(ret, &ro);
}

int ss_host_server_check_opts(const ss_host_server_opts *opts, const char **ret_what)
{
    static const ss_host_server_opts defaults;
    const ss_host_server_opts *o = opts ? opts : &defaults;
    struct sockaddr_storage addr;
    socklen_t alen;
    const char *what = NULL;
    if (parse_listen(o->listen ? o->listen : SS_HOST_DEFAULT_LISTEN, &addr, &alen) < 0)
        what = "listen";
    else if (!route_valid(o->route ? o->route : SS_HOST_DEFAULT_ROUTE))
        what = "route";
    else if (!o->cert_file != !o->key_file)
        what = "cert_file";
    else if (o->token && o->token_file)
        what = "token";
    else if (o->body_budget &&
             o->body_budget < (o->max_body ? o->max_body : SS_HOST_DEFAULT_MAX_BODY))
        what = "body_budget";
    else if (!store_valid(o->store))
        what = "store";
    if (what && ret_what)
        *ret_what = what;
    return what ? -EINVAL : 0;
}

size_t ss__host_body_budget_size(const ss_host_server_opts *o)
{
    size_t max_body = o->max_body ? o->max_body : SS_HOST_DEFAULT_MAX_BODY;
    if (o->body_budget)
        return o->body_budget;
    return max_body > SS_HOST_DEFAULT_BODY_BUDGET ? max_body : SS_HOST_DEFAULT_BODY_BUDGET;
}

int ss__host_load_secrets(ss_host_server *srv, const ss_host_server_opts *o)
{
    size_t ignored;
    int rc = load_token(srv, o);
    if (rc == 0 && o->cert_file)
        rc = read_small_file(o->cert_file, &srv->cert_pem, &ignored);
    if (rc == 0 && o->key_file)
        rc = read_small_file(o->key_file, &srv->key_pem, &ignored);
    return rc;
}
