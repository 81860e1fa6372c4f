/*
 * Hex digits, for the parsers that read them: JSON's \uXXXX escapes (either
 * case), and the log file's CRCs and \x escapes and mirror addresses, which
 * are written in lowercase only and read back only as written.
 */
#ifndef SS_UTIL_HEX_H
#define SS_UTIL_HEX_H

/* The value of the lowercase hex digit c, or -1. */
static inline int ss__hex_lower(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The value of the hex digit c in either case, or -1. */
static inline int ss__hex_any(int c)
{
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : ss__hex_lower(c);
}

/* The value of the 4 hex digits (either case) at p, or -1. */
static inline long ss__hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = ss__hex_any((unsigned char)p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

#endif
