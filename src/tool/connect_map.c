/*
 * connect_map.c: the line-ending maps of a live session, named as tio names
 * them (--map ICRNL,ONLCRNL). "I" maps act on what the device sends before it
 * is shown, "O" maps on what is typed before it goes to the device. Each byte
 * is mapped once, by what it was, so ICRNL and INLCR together swap CR and NL.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "connect.h"

static const struct {
    const char *name;
    unsigned bit;
} maps[] = {
    {"ICRNL", CONNECT_MAP_ICRNL},   {"IGNCR", CONNECT_MAP_IGNCR},
    {"INLCR", CONNECT_MAP_INLCR},   {"INLCRNL", CONNECT_MAP_INLCRNL},
    {"OCRNL", CONNECT_MAP_OCRNL},   {"ODELBS", CONNECT_MAP_ODELBS},
    {"OIGNCR", CONNECT_MAP_OIGNCR}, {"ONLCRNL", CONNECT_MAP_ONLCRNL},
    {"OLTU", CONNECT_MAP_OLTU},
};

int connect_map_parse(const char *list, unsigned *maps_inout)
{
    const char *p = list;
    unsigned add = 0;
    for (;;) {
        size_t len = strcspn(p, ",");
        size_t i = 0;
        while (i < sizeof(maps) / sizeof(maps[0]) &&
               !(strlen(maps[i].name) == len && strncasecmp(p, maps[i].name, len) == 0))
            i++;
        if (i == sizeof(maps) / sizeof(maps[0]))
            return -EINVAL;
        add |= maps[i].bit;
        if (!p[len])
            break;
        p += len + 1;
    }
    *maps_inout |= add;
    return 0;
}

size_t connect_map_apply(unsigned m, bool in, const char *src, size_t n, char *dst)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (in && c == '\r') {
            if (m & CONNECT_MAP_IGNCR)
                continue;
            if (m & CONNECT_MAP_ICRNL)
                c = '\n';
        } else if (in && c == '\n') {
            if (m & CONNECT_MAP_INLCRNL)
                dst[k++] = '\r';
            else if (m & CONNECT_MAP_INLCR)
                c = '\r';
        } else if (!in && c == '\r') {
            if (m & CONNECT_MAP_OIGNCR)
                continue;
            if (m & CONNECT_MAP_OCRNL)
                c = '\n';
        } else if (!in && c == '\n') {
            if (m & CONNECT_MAP_ONLCRNL)
                dst[k++] = '\r';
        } else if (!in && c == 0x7f && (m & CONNECT_MAP_ODELBS)) {
            c = '\b';
        } else if (!in && (m & CONNECT_MAP_OLTU)) {
            c = (char)toupper((unsigned char)c);
        }
        dst[k++] = c;
    }
    return k;
}
