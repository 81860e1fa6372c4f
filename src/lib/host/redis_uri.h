/*
 * host/redis_uri.h: the --store address of a Redis store,
 * redis://HOST[:PORT]/KEY, parsed without I/O.
 *
 * HOST is a name, an IPv4 address or a bracketed IPv6 address ([::1], with an
 * optional %zone: [fe80::1%eth0]); PORT
 * defaults to 6379; KEY, the stream's key, is 1..200 bytes of
 * [A-Za-z0-9._:{}-]. The store's other keys are derived from KEY so that all of
 * them hash to one Redis Cluster slot (see ss__redis_key_tag).
 */
#ifndef SS_HOST_REDIS_URI_H
#define SS_HOST_REDIS_URI_H

#include <stddef.h>
#include <stdint.h>

#define SS__REDIS_HOST_MAX 255
#define SS__REDIS_KEY_MAX 200
#define SS__REDIS_DEFAULT_PORT 6379

typedef struct ss__redis_uri {
    char host[SS__REDIS_HOST_MAX + 1];
    uint16_t port;
    char key[SS__REDIS_KEY_MAX + 1];
} ss__redis_uri;

/* Parse uri (NUL-terminated) into *ret. Returns 0, or -EINVAL when it is not
 * redis://HOST[:PORT]/KEY as above (*ret then unspecified). */
int ss__redis_uri_parse(const char *uri, ss__redis_uri *ret);

/*
 * The prefix of the store's other keys, written to dst (size bytes, at least
 * SS__REDIS_KEY_MAX + 3): KEY itself when it already holds a Cluster hash tag
 * ("{...}" with something inside), else "{KEY}". Either way KEY and
 * PREFIX":meta" land in the same slot, so one script may touch them all.
 */
void ss__redis_key_tag(const char *key, char *dst, size_t size);

#endif
