/*
 * Fuzz target for the ssh:// URI parser (src/lib/ssh/uri.c): whatever the
 * text, parsing never reads out of bounds, and what it accepts is sane: a
 * non-empty host without brackets, a port in 0..65535, a user without ':',
 * and the pieces rebuild a URI that parses to the same pieces.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream.h>

#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    ss_ssh_opts o = {0};
    char *storage = NULL;
    if (ss_ssh_parse_uri(text, &o, &storage) == 0) {
        if (!o.host || !o.host[0] || strpbrk(o.host, "[]/") || o.port < 0 || o.port > 65535 ||
            (o.user && (!o.user[0] || strchr(o.user, ':'))) || (o.command && !o.command[0]))
            abort();
        /* Rebuild and parse again: the same pieces come back. */
        size_t n = strlen(o.host) + (o.user ? strlen(o.user) : 0) +
                   (o.command ? strlen(o.command) : 0) + 32;
        char *again = malloc(n);
        if (!again)
            abort();
        bool v6 = strchr(o.host, ':') != NULL;
        snprintf(again, n, "ssh://%s%s%s%s%s", o.user ? o.user : "", o.user ? "@" : "",
                 v6 ? "[" : "", o.host, v6 ? "]" : "");
        if (o.port)
            snprintf(again + strlen(again), n - strlen(again), ":%d", o.port);
        if (o.command)
            snprintf(again + strlen(again), n - strlen(again), "/%s", o.command);
        ss_ssh_opts p = {0};
        char *storage2 = NULL;
        if (ss_ssh_parse_uri(again, &p, &storage2) != 0 || !same(o.host, p.host) ||
            o.port != p.port || !same(o.user, p.user) || !same(o.command, p.command))
            abort();
        free(storage2);
        free(again);
        free(storage);
    }
    free(text);
    return 0;
}
