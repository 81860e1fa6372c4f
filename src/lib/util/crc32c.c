#include <stdbool.h>
#include <string.h>

#include "util/crc32c.h"

#define POLY 0x82f63b78u /* reflected Castagnoli polynomial */

static uint32_t table[256];
static bool use_hw;

/* Filled once, before main(): no locking needed afterwards. */
__attribute__((constructor)) static void crc32c_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[i] = c;
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t crc_table(uint32_t c, const unsigned char *p, size_t len)
{
    while (len--)
        c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c, const unsigned char *p,
                                                         size_t len)
{
    uint64_t c64 = c;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = __builtin_ia32_crc32di(c64, v);
        p += 8;
        len -= 8;
    }
    c = (uint32_t)c64;
    while (len--)
        c = __builtin_ia32_crc32qi(c, *p++);
    return c;
}
#endif

uint32_t ss__crc32c_portable(const void *data, size_t len)
{
    return ~crc_table(0xffffffffu, data, len);
}

uint32_t ss__crc32c_extend(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
#if defined(__x86_64__)
    if (use_hw)
        return ~crc_hw(~crc, p, len);
#endif
    return ~crc_table(~crc, p, len);
}

uint32_t ss__crc32c(const void *data, size_t len)
{
    return ss__crc32c_extend(0, data, len);
}
