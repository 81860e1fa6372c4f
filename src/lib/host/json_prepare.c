/* The pre-scan of POST bodies (see json_prepare.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "host/json_prepare.h"
#include "util/hex.h"

/* The value of 4 hex digits at p (n bytes available), or -1. */
static long hex4(const char *p, size_t n)
{
    return n < 4 ? -1 : ss__hex4(p);
}

static bool is_high(long u)
{
    return u >= 0xD800 && u <= 0xDBFF;
}

static bool is_low(long u)
{
    return u >= 0xDC00 && u <= 0xDFFF;
}

/* At body[i] is the 'u' of an escape inside a string: replace a lone surrogate
 * by U+FFFD. Returns the index of the escape's last byte (a valid pair: of its
 * second escape). */
static size_t fix_escape(char *body, size_t len, size_t i)
{
    long u = hex4(body + i + 1, len - i - 1);
    if (u < 0 || (!is_high(u) && !is_low(u)))
        return i;
    if (is_high(u) && len - i - 1 >= 10 && body[i + 5] == '\\' && body[i + 6] == 'u' &&
        is_low(hex4(body + i + 7, len - i - 7)))
        return i + 10;
    body[i + 1] = 'F';
    body[i + 2] = 'F';
    body[i + 3] = 'F';
    body[i + 4] = 'D';
    return i + 4;
}

int ss__host_json_prepare(char *body, size_t len, char *why, size_t why_size)
{
    /* Every value but the first follows one of , : [ { outside a string. */
    size_t values = 1;
    unsigned depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = body[i];
        if (in_string) {
            if (c == '"')
                in_string = false;
            else if (c == '\\' && i + 1 < len && body[++i] == 'u')
                i = fix_escape(body, len, i);
            continue;
        }
        switch (c) {
        case '"':
            in_string = true;
            break;
        case '[':
        case '{':
            if (++depth > SS__HOST_JSON_MAX_DEPTH) {
                snprintf(why, why_size, "the JSON is nested more than %d deep",
                         SS__HOST_JSON_MAX_DEPTH);
                return -EINVAL;
            }
            values++;
            break;
        case ']':
        case '}':
            if (depth > 0)
                depth--;
            break;
        case ',':
        case ':':
            values++;
            break;
        default:
            break;
        }
        if (values > SS__HOST_JSON_MAX_VALUES) {
            snprintf(why, why_size, "the JSON has more than %d values", SS__HOST_JSON_MAX_VALUES);
            return -EINVAL;
        }
    }
    return 0;
}
