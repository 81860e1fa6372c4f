/* The checks against cross-site requests (see request_gate.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "host/request_gate.h"

bool ss__host_is_json_request(struct MHD_Connection *c)
{
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    static const char json[] = "application/json";
    if (!ct)
        return false;
    ct += strspn(ct, " \t");
    if (strncasecmp(ct, json, sizeof(json) - 1) != 0)
        return false;
    char after = ct[sizeof(json) - 1];
    return after == '\0' || after == ';' || after == ' ' || after == '\t';
}

bool ss__host_origin_is_own(struct MHD_Connection *c, bool tls)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (!origin)
        return true; /* not a browser's cross-site request: CLI clients send none */
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!host)
        return false;
    const char *scheme = tls ? "https://" : "http://";
    size_t slen = strlen(scheme);
    return strncasecmp(origin, scheme, slen) == 0 && strcasecmp(origin + slen, host) == 0;
}

bool ss__host_host_is_local_name(struct MHD_Connection *c)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!host)
        return true; /* HTTP/1.0 clients may send none; a browser always does */
    char name[64];
    size_t len;
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        if (!end || (end[1] != '\0' && end[1] != ':'))
            return false;
        len = (size_t)(end - host - 1);
        host++;
    } else {
        len = strcspn(host, ":");
    }
    if (len == 0 || len >= sizeof(name))
        return false;
    memcpy(name, host, len);
    name[len] = '\0';
    unsigned char addr[sizeof(struct in6_addr)];
    return strcasecmp(name, "localhost") == 0 || inet_pton(AF_INET, name, addr) == 1 ||
           inet_pton(AF_INET6, name, addr) == 1;
}
