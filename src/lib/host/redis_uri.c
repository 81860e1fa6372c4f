/* redis://HOST[:PORT]/KEY into an ss__redis_uri (no I/O). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "host/redis_uri.h"
#include "util/port.h"

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("._:{}-", c) != NULL;
}

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

/* A bracketed host: an IPv6 address, optionally with a %zone (an interface). */
static bool ipv6_host(const char *host, size_t len)
{
    char addr[SS__REDIS_HOST_MAX + 1];
    const char *zone = memchr(host, '%', len);
    size_t addr_len = zone ? (size_t)(zone - host) : len;
    memcpy(addr, host, addr_len);
    addr[addr_len] = '\0';
    struct in6_addr bin;
    if (inet_pton(AF_INET6, addr, &bin) != 1)
        return false;
    if (!zone)
        return true;
    size_t zone_len = len - addr_len - 1;
    if (zone_len == 0)
        return false;
    for (size_t i = 1; i <= zone_len; i++)
        if (!host_char(zone[i]))
            return false;
    return true;
}

/* Redis Cluster hashes only the part between the first '{' and the next '}',
 * when that part is not empty. */
static bool has_hash_tag(const char *key)
{
    const char *open = strchr(key, '{');
    const char *close = open ? strchr(open + 1, '}') : NULL;
    return close && close > open + 1;
}

int ss__redis_uri_parse(const char *uri, ss__redis_uri *ret)
{
    static const char scheme[] = "redis://";
    if (!uri || !ret || strncmp(uri, scheme, sizeof(scheme) - 1) != 0)
        return -EINVAL;
    const char *auth = uri + sizeof(scheme) - 1;
    const char *slash = strchr(auth, '/');
    if (!slash)
        return -EINVAL;

    /* The key: everything after the first '/'. */
    const char *key = slash + 1;
    size_t key_len = strlen(key);
    if (key_len == 0 || key_len > SS__REDIS_KEY_MAX)
        return -EINVAL;
    for (size_t i = 0; i < key_len; i++)
        if (!key_char(key[i]))
            return -EINVAL;
    if (strpbrk(key, "{}") && !has_hash_tag(key))
        return -EINVAL; /* braces that Cluster would not read as a tag */

    /* The host, bracketed when it is an IPv6 address, then an optional port. */
    const char *host = auth, *host_end, *port_text = NULL;
    bool v6 = host[0] == '[';
    if (v6) {
        host++;
        host_end = memchr(host, ']', (size_t)(slash - host));
        if (!host_end)
            return -EINVAL;
        if (host_end + 1 < slash) {
            if (host_end[1] != ':')
                return -EINVAL;
            port_text = host_end + 2;
        }
    } else {
        const char *colon = memchr(host, ':', (size_t)(slash - host));
        host_end = colon ? colon : slash;
        if (colon)
            port_text = colon + 1;
    }
    size_t host_len = (size_t)(host_end - host);
    if (host_len == 0 || host_len > SS__REDIS_HOST_MAX)
        return -EINVAL;
    if (v6 && !ipv6_host(host, host_len))
        return -EINVAL;
    for (size_t i = 0; !v6 && i < host_len; i++)
        if (!host_char(host[i]))
            return -EINVAL;
    int port = SS__REDIS_DEFAULT_PORT;
    if (port_text && (port = ss__parse_port(port_text, (size_t)(slash - port_text))) < 0)
        return -EINVAL;

    memcpy(ret->host, host, host_len);
    ret->host[host_len] = '\0';
    ret->port = (uint16_t)port;
    memcpy(ret->key, key, key_len + 1);
    return 0;
}

void ss__redis_key_tag(const char *key, char *dst, size_t size)
{
    if (has_hash_tag(key))
        snprintf(dst, size, "%s", key);
    else
        snprintf(dst, size, "{%s}", key);
}
