/* ssh://[USER@]HOST[:PORT][/COMMAND] into ss_ssh_opts (no I/O). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream/ssh.h>

#include "util/port.h"

int ss_ssh_parse_uri(const char *uri, ss_ssh_opts *o, char **ret_storage)
{
    static const char scheme[] = "ssh://";
    if (!uri || !o || !ret_storage || strncmp(uri, scheme, sizeof(scheme) - 1) != 0)
        return -EINVAL;
    char *copy = strdup(uri + sizeof(scheme) - 1);
    if (!copy)
        return -ENOMEM;

    /* The authority ends at the first '/'; the command is the rest, verbatim. */
    char *command = NULL;
    char *slash = strchr(copy, '/');
    if (slash) {
        *slash = '\0';
        command = slash[1] ? slash + 1 : NULL;
    }
    char *host = copy, *user = NULL;
    char *at = strrchr(copy, '@');
    if (at) {
        *at = '\0';
        user = copy;
        host = at + 1;
        /* A password in a URI ends up in shell history and ps: refused. */
        if (!user[0] || strchr(user, ':'))
            goto invalid;
    }
    int port = 0;
    char *port_text = NULL;
    if (host[0] == '[') { /* an IPv6 address */
        char *end = strchr(host, ']');
        if (!end || end == host + 1)
            goto invalid;
        *end = '\0';
        host++;
        if (end[1] == ':')
            port_text = end + 2;
        else if (end[1])
            goto invalid;
    } else {
        char *colon = strchr(host, ':');
        if (colon) {
            *colon = '\0';
            port_text = colon + 1;
        }
    }
    if (!host[0] || strpbrk(host, "[]"))
        goto invalid;
    if (port_text && (port = ss__parse_port(port_text, strlen(port_text))) < 0)
        goto invalid;

    o->host = host;
    o->port = port;
    o->user = user;
    o->command = command;
    *ret_storage = copy;
    return 0;
invalid:
    free(copy);
    return -EINVAL;
}
