/*
 * connect_view.c: what a session shows or logs of the bytes that arrive:
 * each line stamped with its time (--timestamps) and, for a log, ANSI escape
 * sequences left out (--log-strip). Bytes go out in the order they came;
 * only whole stamps and whole sequences are added or removed.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "connect.h"
#include "print.h"

static void put(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static int64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void stamp(connect_view *v)
{
    char text[TOOL_TIME_MAX + 32];
    int n;
    if (v->stamps == CONNECT_TS_DELTA) {
        /* the time since the line before: what a boot log is read for */
        int64_t t = now_ns(CLOCK_MONOTONIC);
        int64_t d = v->last_ns ? t - v->last_ns : 0;
        v->last_ns = t;
        n = snprintf(text, sizeof(text), "[+%lld.%06lld] ", (long long)(d / 1000000000),
                     (long long)(d % 1000000000 / 1000));
    } else {
        char iso[TOOL_TIME_MAX];
        n = snprintf(text, sizeof(text), "[%s] ", tool_format_time(iso, now_ns(CLOCK_REALTIME)));
    }
    if (n > 0)
        put(v->fd, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

/* ESC [ parameters final (CSI), ESC ] ... BEL or ESC \ (OSC), ESC and one
 * more byte otherwise. */
enum { TEXT, ESC, CSI, OSC, OSC_ESC };

static bool strip_byte(connect_view *v, unsigned char c)
{
    switch (v->esc) {
    case ESC:
        v->esc = c == '[' ? CSI : c == ']' ? OSC : TEXT;
        return true;
    case CSI:
        if (c >= 0x40 && c <= 0x7e)
            v->esc = TEXT;
        return true;
    case OSC:
        if (c == 0x07)
            v->esc = TEXT;
        else if (c == 0x1b)
            v->esc = OSC_ESC;
        return true;
    case OSC_ESC:
        v->esc = c == '\\' ? TEXT : OSC;
        return true;
    default:
        if (c == 0x1b) {
            v->esc = ESC;
            return true;
        }
        return false;
    }
}

void connect_view_write(connect_view *v, const char *p, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (v->strip && strip_byte(v, (unsigned char)p[i])) {
            put(v->fd, p + start, i - start);
            start = i + 1;
            continue;
        }
        if (v->stamps && v->line_start) {
            put(v->fd, p + start, i - start);
            start = i;
            stamp(v);
        }
        v->line_start = p[i] == '\n';
    }
    put(v->fd, p + start, n - start);
}
