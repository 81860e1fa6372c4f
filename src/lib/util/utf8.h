/* UTF-8 validation shared by the library's modules. */
#ifndef SS_UTIL_UTF8_H
#define SS_UTIL_UTF8_H

#include <stddef.h>

/*
 * ss__utf8_seq_len - the length (1 to 4) of the valid UTF-8 sequence at s, which
 * has n >= 1 bytes, or 0 when the byte at s does not start one. RFC 3629: no
 * overlong form, no surrogate, nothing above U+10FFFF (jansson's rules too).
 */
static inline size_t ss__utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* the range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

#endif
