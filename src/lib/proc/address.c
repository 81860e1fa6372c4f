/*
 * A connected mirror's address: "@NAME/SECRET", the abstract AF_UNIX socket
 * the buffer listens on and the secret a mirror must present. An abstract
 * socket needs no file to clean up and vanishes with its buffer; any process
 * may connect to one, hence the secret (and the buffer's check that the peer
 * runs as the same user).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "proc/mirror_int.h"
#include "util/hex.h"

int ss__mirror_parse_address(const char *address, struct sockaddr_un *ret_sa, socklen_t *ret_len,
                             unsigned char secret[SS__MIRROR_SECRET])
{
    if (!address || address[0] != '@')
        return -EINVAL;
    const char *slash = strchr(address, '/');
    size_t name_len = slash ? (size_t)(slash - address - 1) : 0;
    /* sun_path[0] is the abstract namespace's NUL */
    if (name_len == 0 || name_len >= sizeof(ret_sa->sun_path) ||
        strlen(slash + 1) != 2 * SS__MIRROR_SECRET)
        return -EINVAL;
    for (size_t i = 0; i < SS__MIRROR_SECRET; i++) {
        int hi = ss__hex_lower(slash[1 + 2 * i]), lo = ss__hex_lower(slash[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        secret[i] = (unsigned char)(hi << 4 | lo);
    }
    memset(ret_sa, 0, sizeof(*ret_sa));
    ret_sa->sun_family = AF_UNIX;
    memcpy(ret_sa->sun_path + 1, address + 1, name_len);
    *ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + name_len);
    return 0;
}
