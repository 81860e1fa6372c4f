/*
 * URIs for transports:
 *     tcp://HOST:PORT   tcp://[IPV6]:PORT
 *     serial:PATH[?baud=N&data=5-8&parity=none|even|odd&stop=1|2&rtscts=0|1&xonxoff=0|1&reopen=MS]
 *     exec:COMMAND      exec-pipe:COMMAND
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <syncstream/transport.h>

#include "ssh/ssh_int.h"
#include "stream/uri.h"

/* Copy [p, p + n) into dst (size bytes) as a string; false if it does not fit. */
static bool copy_part(char *dst, size_t size, const char *p, size_t n)
{
    if (n >= size)
        return false;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return true;
}

/* A decimal number of at most 9 digits, [p, p + n). */
static bool parse_num(const char *p, size_t n, long *ret)
{
    long v = 0;
    if (n == 0 || n > 9)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *ret = v;
    return true;
}

static bool is(const char *p, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(p, word, n) == 0;
}

static int parse_tcp(const char *p, ss__uri *u)
{
    const char *colon;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close || close[1] != ':' ||
            !copy_part(u->host, sizeof(u->host), p + 1, (size_t)(close - p - 1)))
            return -EINVAL;
        colon = close + 1;
    } else {
        colon = strrchr(p, ':');
        /* a bare IPv6 address would be ambiguous: it needs its brackets */
        if (!colon || memchr(p, ':', (size_t)(colon - p)) ||
            !copy_part(u->host, sizeof(u->host), p, (size_t)(colon - p)))
            return -EINVAL;
    }
    long port;
    size_t plen = strlen(colon + 1);
    if (!u->host[0] || strpbrk(u->host, "/?#@ ") || !parse_num(colon + 1, plen, &port) ||
        port < 1 || port > 65535 || !copy_part(u->port, sizeof(u->port), colon + 1, plen))
        return -EINVAL;
    return 0;
}

/* One "key=value" of a serial query. */
static int serial_option(const char *k, size_t klen, const char *v, size_t vlen, ss_serial_opts *o)
{
    long n = 0;
    bool num = parse_num(v, vlen, &n);
    if (is(k, klen, "baud") && num && n > 0)
        o->baud = (unsigned)n;
    else if (is(k, klen, "data") && num && n >= 5 && n <= 8)
        o->data_bits = (unsigned)n;
    else if (is(k, klen, "stop") && num && (n == 1 || n == 2))
        o->stop_bits = (unsigned)n;
    else if (is(k, klen, "parity") && is(v, vlen, "none"))
        o->parity = SS_PARITY_NONE;
    else if (is(k, klen, "parity") && is(v, vlen, "even"))
        o->parity = SS_PARITY_EVEN;
    else if (is(k, klen, "parity") && is(v, vlen, "odd"))
        o->parity = SS_PARITY_ODD;
    else if (is(k, klen, "rtscts") && num && n <= 1)
        o->rtscts = n;
    else if (is(k, klen, "xonxoff") && num && n <= 1)
        o->xonxoff = n;
    else if (is(k, klen, "reopen") && is(v, vlen, "-1"))
        o->reopen_ms = -1;
    else if (is(k, klen, "reopen") && num && n > 0 && n <= 3600000)
        o->reopen_ms = (int)n;
    else
        return -EINVAL;
    return 0;
}

static int parse_serial(const char *p, ss__uri *u)
{
    const char *q = strchr(p, '?');
    size_t plen = q ? (size_t)(q - p) : strlen(p);
    if (plen == 0 || !copy_part(u->path, sizeof(u->path), p, plen))
        return -EINVAL;
    while (q) {
        const char *k = q + 1;
        const char *amp = strchr(k, '&');
        size_t len = amp ? (size_t)(amp - k) : strlen(k);
        const char *eq = memchr(k, '=', len);
        if (!eq)
            return -EINVAL;
        int rc = serial_option(k, (size_t)(eq - k), eq + 1, len - (size_t)(eq + 1 - k), &u->serial);
        if (rc < 0)
            return rc;
        q = amp;
    }
    return 0;
}

int ss__uri_parse(const char *uri, ss__uri *ret)
{
    if (!uri || !ret)
        return -EINVAL;
    memset(ret, 0, sizeof(*ret));
    if (strncmp(uri, "tcp://", 6) == 0) {
        ret->kind = SS__URI_TCP;
        return parse_tcp(uri + 6, ret);
    }
    if (strncmp(uri, "serial:", 7) == 0) {
        ret->kind = SS__URI_SERIAL;
        return parse_serial(uri + 7, ret);
    }
    const char *cmd = NULL;
    if (strncmp(uri, "exec:", 5) == 0) {
        ret->kind = SS__URI_EXEC;
        cmd = uri + 5;
    } else if (strncmp(uri, "exec-pipe:", 10) == 0) {
        ret->kind = SS__URI_EXEC_PIPE;
        cmd = uri + 10;
    }
    if (!cmd || !cmd[0])
        return -EINVAL;
    ret->command = cmd;
    return 0;
}

int ss_transport_open_uri(ss_transport *ret, const char *uri, int timeout_ms)
{
    /* ssh:// has a parser and settings of its own (syncstream/ssh.h). */
    if (uri && strncmp(uri, "ssh://", 6) == 0)
        return ss__transport_ssh_uri(ret, uri, timeout_ms);
    ss__uri u;
    int rc = ss__uri_parse(uri, &u);
    if (rc < 0 || !ret)
        return rc < 0 ? rc : -EINVAL;
    switch (u.kind) {
    case SS__URI_TCP: {
        ss_tcp_opts o = {.connect_timeout_ms = timeout_ms < 0 ? -1 : timeout_ms};
        return ss_transport_tcp_connect(ret, u.host, u.port, &o);
    }
    case SS__URI_SERIAL:
        return ss_transport_serial_open(ret, u.path, &u.serial);
    case SS__URI_EXEC:
    case SS__URI_EXEC_PIPE: {
        char *argv[] = {"/bin/sh", "-c", (char *)u.command, NULL};
        return ss_transport_exec(ret, argv, u.kind == SS__URI_EXEC ? SS_EXEC_PTY : 0);
    }
    }
    return -EINVAL;
}
