/*
 * URIs for transports:
 *     tcp://HOST:PORT   tcp://[IPV6]:PORT
 *     telnet://HOST:PORT
 *     rfc2217://HOST:PORT[?baud=N&data=5-8&parity=...&stop=1|2&rtscts=0|1&xonxoff=0|1]
 *     serial:PATH[?baud=N&data=5-8&parity=none|even|odd&stop=1|2&rtscts=0|1&xonxoff=0|1&reopen=MS]
 *     exec:COMMAND      exec-pipe:COMMAND
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream/transport.h>

#include "ssh/ssh_int.h"
#include "stream/serial.h"
#include "stream/telnet_transport.h"
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

__attribute__((format(printf, 3, 4))) static int bad(char *why, size_t len, const char *fmt, ...)
{
    if (why && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* How much of a user's text a message quotes. */
#define QUOTE 64

/* HOST:PORT after scheme (for the messages: "tcp://"...). */
static int parse_tcp(const char *scheme, const char *p, ss__uri *u, char *why, size_t wl)
{
    const char *colon;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close || close[1] != ':')
            return bad(why, wl, "%s wants [IPV6]:PORT after the brackets (%s[::1]:23)", scheme,
                       scheme);
        if (!copy_part(u->host, sizeof(u->host), p + 1, (size_t)(close - p - 1)))
            return bad(why, wl, "the host name is longer than %zu bytes", sizeof(u->host) - 1);
        colon = close + 1;
    } else {
        colon = strrchr(p, ':');
        if (!colon)
            return bad(why, wl, "%s wants HOST:PORT, and '%.*s' has no ':PORT'", scheme, QUOTE, p);
        /* a bare IPv6 address would be ambiguous: it needs its brackets */
        if (memchr(p, ':', (size_t)(colon - p)))
            return bad(why, wl, "an IPv6 address goes in brackets: %s[ADDRESS]:PORT", scheme);
        if (!copy_part(u->host, sizeof(u->host), p, (size_t)(colon - p)))
            return bad(why, wl, "the host name is longer than %zu bytes", sizeof(u->host) - 1);
    }
    if (!u->host[0])
        return bad(why, wl, "%s has an empty host", scheme);
    if (strpbrk(u->host, "/?#@ "))
        return bad(why, wl, "the host '%.*s' holds one of / ? # @ or a space", QUOTE, u->host);
    long port;
    size_t plen = strlen(colon + 1);
    if (!parse_num(colon + 1, plen, &port) || port < 1 || port > 65535 ||
        !copy_part(u->port, sizeof(u->port), colon + 1, plen))
        return bad(why, wl, "the port '%.*s' is not a number from 1 to 65535", QUOTE, colon + 1);
    return 0;
}

/* The serial settings; each one's number is its bit in ss__uri.given. */
enum { KEY_BAUD, KEY_DATA, KEY_PARITY, KEY_STOP, KEY_RTSCTS, KEY_XONXOFF, KEY_REOPEN, NKEYS };
_Static_assert(1u << KEY_BAUD == SS__URI_SET_BAUD && 1u << KEY_DATA == SS__URI_SET_DATA &&
                   1u << KEY_PARITY == SS__URI_SET_PARITY && 1u << KEY_STOP == SS__URI_SET_STOP &&
                   1u << KEY_RTSCTS == SS__URI_SET_RTSCTS &&
                   1u << KEY_XONXOFF == SS__URI_SET_XONXOFF,
               "ss__uri.given's bits are the keys' numbers");
static const char *const serial_keys[NKEYS] = {
    [KEY_BAUD] = "baud",     [KEY_DATA] = "data",     [KEY_PARITY] = "parity",
    [KEY_STOP] = "stop",     [KEY_RTSCTS] = "rtscts", [KEY_XONXOFF] = "xonxoff",
    [KEY_REOPEN] = "reopen",
};

/* One "key=value" of a serial query, key being serial_keys[key]. */
static int serial_option(unsigned key, const char *v, size_t vlen, ss_serial_opts *o, char *why,
                         size_t wl)
{
    long n = 0;
    bool num = parse_num(v, vlen, &n);
    const char *allowed = NULL;
    switch (key) {
    case KEY_BAUD: {
        if (num && ss__serial_baud_ok((unsigned)n)) {
            o->baud = (unsigned)n;
            return 0;
        }
        return bad(why, wl, "serial setting baud=%.*s: not a rate from 1 to %u",
                   (int)(vlen < QUOTE ? vlen : QUOTE), v, SS__SERIAL_MAX_BAUD);
    }
    case KEY_DATA:
        if (num && n >= 5 && n <= 8) {
            o->data_bits = (unsigned)n;
            return 0;
        }
        allowed = "5, 6, 7 or 8";
        break;
    case KEY_PARITY:
        if (is(v, vlen, "none") || is(v, vlen, "even") || is(v, vlen, "odd")) {
            o->parity = v[0] == 'n' ? SS_PARITY_NONE : v[0] == 'e' ? SS_PARITY_EVEN : SS_PARITY_ODD;
            return 0;
        }
        allowed = "none, even or odd";
        break;
    case KEY_STOP:
        if (num && (n == 1 || n == 2)) {
            o->stop_bits = (unsigned)n;
            return 0;
        }
        allowed = "1 or 2";
        break;
    case KEY_RTSCTS:
    case KEY_XONXOFF:
        if (num && n <= 1) {
            *(key == KEY_RTSCTS ? &o->rtscts : &o->xonxoff) = n;
            return 0;
        }
        allowed = "0 or 1";
        break;
    default: /* KEY_REOPEN */
        if (is(v, vlen, "-1") || (num && n > 0 && n <= 3600000)) {
            o->reopen_ms = num ? (int)n : -1;
            return 0;
        }
        allowed = "milliseconds from 1 to 3600000, or -1 for never";
        break;
    }
    return bad(why, wl, "serial setting %s=%.*s: allowed values are %s", serial_keys[key],
               (int)(vlen < QUOTE ? vlen : QUOTE), v, allowed);
}

/* The settings after a '?' (q points at it; NULL: none), into u->serial and
 * u->given. An rfc2217:// port is not reopened: reopen is for serial: only. */
static int parse_query(const char *q, ss__uri *u, char *why, size_t wl)
{
    while (q) {
        const char *k = q + 1;
        const char *amp = strchr(k, '&');
        size_t len = amp ? (size_t)(amp - k) : strlen(k);
        const char *eq = memchr(k, '=', len);
        if (len == 0)
            return bad(why, wl, "an empty serial setting (a stray '?' or '&')");
        if (!eq)
            return bad(why, wl, "serial setting '%.*s' has no '=VALUE'",
                       (int)(len < QUOTE ? len : QUOTE), k);
        size_t klen = (size_t)(eq - k);
        unsigned key = 0;
        while (key < NKEYS && !is(k, klen, serial_keys[key]))
            key++;
        if (key == NKEYS)
            return bad(why, wl,
                       "unknown serial setting '%.*s' (known: baud, data, parity, stop, rtscts, "
                       "xonxoff, reopen)",
                       (int)(klen < QUOTE ? klen : QUOTE), k);
        if (key == KEY_REOPEN && u->kind == SS__URI_RFC2217)
            return bad(why, wl,
                       "serial setting reopen is for serial: ports only (rfc2217:// "
                       "ends with its connection)");
        /* Which of two values would win is a guess the user should not have to make. */
        if (u->given & (1u << key))
            return bad(why, wl, "serial setting %s is given more than once", serial_keys[key]);
        u->given |= 1u << key;
        int rc = serial_option(key, eq + 1, len - klen - 1, &u->serial, why, wl);
        if (rc < 0)
            return rc;
        q = amp;
    }
    /* RFC 2217 has one flow control setting */
    if (u->kind == SS__URI_RFC2217 && u->serial.rtscts && u->serial.xonxoff)
        return bad(why, wl, "rfc2217:// sets one flow control: rtscts=1 or xonxoff=1, not both");
    return 0;
}

static int parse_serial(const char *p, ss__uri *u, char *why, size_t wl)
{
    const char *q = strchr(p, '?');
    size_t plen = q ? (size_t)(q - p) : strlen(p);
    if (plen == 0)
        return bad(why, wl, "serial: wants a device path (serial:/dev/ttyUSB0)");
    if (!copy_part(u->path, sizeof(u->path), p, plen))
        return bad(why, wl, "the device path is longer than %zu bytes", sizeof(u->path) - 1);
    return parse_query(q, u, why, wl);
}

/* rfc2217://HOST:PORT[?SETTINGS] after its scheme. */
static int parse_rfc2217(const char *p, ss__uri *u, char *why, size_t wl)
{
    const char *q = strchr(p, '?');
    /* the host part alone, for parse_tcp: room for the longest host and port */
    char hostport[sizeof(u->host) + sizeof(u->port) + 3];
    if (!copy_part(hostport, sizeof(hostport), p, q ? (size_t)(q - p) : strlen(p)))
        return bad(why, wl, "the host name is longer than %zu bytes", sizeof(u->host) - 1);
    int rc = parse_tcp("rfc2217://", hostport, u, why, wl);
    return rc < 0 ? rc : parse_query(q, u, why, wl);
}

int ss__uri_parse(const char *uri, ss__uri *ret, char *why, size_t why_len)
{
    if (why && why_len)
        why[0] = '\0';
    if (!uri || !ret)
        return bad(why, why_len, "no URI");
    memset(ret, 0, sizeof(*ret));
    if (strncmp(uri, "tcp://", 6) == 0) {
        ret->kind = SS__URI_TCP;
        return parse_tcp("tcp://", uri + 6, ret, why, why_len);
    }
    if (strncmp(uri, "telnet://", 9) == 0) {
        ret->kind = SS__URI_TELNET;
        return parse_tcp("telnet://", uri + 9, ret, why, why_len);
    }
    if (strncmp(uri, "rfc2217://", 10) == 0) {
        ret->kind = SS__URI_RFC2217;
        return parse_rfc2217(uri + 10, ret, why, why_len);
    }
    if (strncmp(uri, "serial:", 7) == 0) {
        ret->kind = SS__URI_SERIAL;
        return parse_serial(uri + 7, ret, why, why_len);
    }
    const char *cmd = NULL;
    if (strncmp(uri, "exec:", 5) == 0) {
        ret->kind = SS__URI_EXEC;
        cmd = uri + 5;
    } else if (strncmp(uri, "exec-pipe:", 10) == 0) {
        ret->kind = SS__URI_EXEC_PIPE;
        cmd = uri + 10;
    } else {
        return bad(why, why_len,
                   "unknown scheme: a URI starts with tcp://, telnet://, rfc2217://, serial:, "
                   "exec:, exec-pipe: or ssh://");
    }
    if (!cmd[0])
        return bad(why, why_len, "%s wants a COMMAND after the ':'",
                   ret->kind == SS__URI_EXEC ? "exec:" : "exec-pipe:");
    ret->command = cmd;
    return 0;
}

int ss_transport_uri_check(const char *uri, char *host, size_t host_size, char *why, size_t why_len)
{
    if (host && host_size)
        host[0] = '\0';
    if (uri && strncmp(uri, "ssh://", 6) == 0) {
        ss_ssh_opts o = {0};
        char *storage;
        int rc = ss_ssh_parse_uri(uri, &o, &storage);
        if (rc == -EINVAL)
            return bad(why, why_len,
                       "not ssh://[USER@]HOST[:PORT][/COMMAND] (an empty host or user, a "
                       "password in the URI, a port outside 1..65535 or unbalanced brackets)");
        if (rc < 0)
            return rc;
        if (host && host_size)
            snprintf(host, host_size, "%s", o.host);
        free(storage);
        return 0;
    }
    ss__uri u;
    int rc = ss__uri_parse(uri, &u, why, why_len);
    if (rc == 0 && host && host_size &&
        (u.kind == SS__URI_TCP || u.kind == SS__URI_TELNET || u.kind == SS__URI_RFC2217))
        snprintf(host, host_size, "%s", u.host);
    return rc;
}

int ss_transport_open_uri(ss_transport *ret, const char *uri, int timeout_ms)
{
    /* ssh:// has a parser and settings of its own (syncstream/ssh.h). */
    if (uri && strncmp(uri, "ssh://", 6) == 0)
        return ss__transport_ssh_uri(ret, uri, timeout_ms);
    ss__uri u;
    int rc = ss__uri_parse(uri, &u, NULL, 0);
    if (rc < 0 || !ret)
        return rc < 0 ? rc : -EINVAL;
    switch (u.kind) {
    case SS__URI_TCP: {
        ss_tcp_opts o = {.connect_timeout_ms = timeout_ms < 0 ? -1 : timeout_ms};
        return ss_transport_tcp_connect(ret, u.host, u.port, &o);
    }
    case SS__URI_TELNET:
        return ss__transport_telnet(ret, u.host, u.port, timeout_ms, NULL, 0);
    case SS__URI_RFC2217:
        return ss__transport_telnet(ret, u.host, u.port, timeout_ms, &u.serial, u.given);
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
