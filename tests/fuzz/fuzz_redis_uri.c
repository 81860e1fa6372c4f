/*
 * Fuzz target for the Redis store's address parser (src/lib/host/redis_uri.c):
 * whatever the text, parsing never reads out of bounds, and what it accepts is
 * sane: a non-empty host, a port in 1..65535, a key of 1..200 allowed bytes;
 * the pieces rebuild a URI that parses to the same pieces; and the key prefix
 * of the store's other keys holds the same Cluster hash tag as the key.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "host/redis_uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The part Redis Cluster hashes: the first non-empty {tag}, else all. */
static void hashed(const char *key, char *out, size_t n)
{
    const char *open = strchr(key, '{');
    const char *close = open ? strchr(open + 1, '}') : NULL;
    if (close && close > open + 1)
        snprintf(out, n, "%.*s", (int)(close - open - 1), open + 1);
    else
        snprintf(out, n, "%s", key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    ss__redis_uri u;
    if (ss__redis_uri_parse(text, &u) == 0) {
        size_t key_len = strlen(u.key);
        if (!u.host[0] || u.port == 0 || key_len == 0 || key_len > SS__REDIS_KEY_MAX ||
            strspn(u.key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:{}-") !=
                key_len)
            abort();
        char again[SS__REDIS_HOST_MAX + SS__REDIS_KEY_MAX + 32];
        bool v6 = strchr(u.host, ':') != NULL;
        snprintf(again, sizeof(again), "redis://%s%s%s:%u/%s", v6 ? "[" : "", u.host, v6 ? "]" : "",
                 u.port, u.key);
        ss__redis_uri v;
        if (ss__redis_uri_parse(again, &v) != 0 || strcmp(u.host, v.host) != 0 ||
            u.port != v.port || strcmp(u.key, v.key) != 0)
            abort();
        char tag[SS__REDIS_KEY_MAX + 3], meta[SS__REDIS_KEY_MAX + 16];
        char h1[SS__REDIS_KEY_MAX + 16], h2[SS__REDIS_KEY_MAX + 16];
        ss__redis_key_tag(u.key, tag, sizeof(tag));
        snprintf(meta, sizeof(meta), "%s:meta", tag);
        hashed(u.key, h1, sizeof(h1));
        hashed(meta, h2, sizeof(h2));
        if (strcmp(h1, h2) != 0)
            abort(); /* the script's keys would be in different slots */
    }
    free(text);
    return 0;
}
