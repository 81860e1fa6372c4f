/*
 * make_ring: write a crash-survival ring file for the tool's tests, then die
 * without cleaning up.
 *
 *     make_ring PATH
 *
 * The buffer (maxlen 12, max_line 64, source "main") receives, in order:
 *   "filler 1" .. "filler 5"             5 lines (the first 3 are later shed)
 *   a warning of two lines               one record, kind warning
 *   an error of three lines              one record, kind error
 *   "bad utf8 \xff\xfe and \xc3( ..."   invalid UTF-8, a surrogate, an overlong form
 *   "nul\0byte"                          a NUL byte inside a line
 *   quote, backslash, tab, BEL           bytes JSON must escape
 *   "café ✓"                             valid multi-byte UTF-8
 *   a 150-byte line                      cut into pieces of at most 64 bytes
 *   "from the worker"                    via an ss_writer "worker", SS_REC_STDERR
 *   "prompt> "                           left as the partial line
 * That is 15 records or more (the long line gives at least 3), so at least 3
 * are shed by rotation. The process then leaves with _exit(), as a crash would:
 * no ss_linebuf_free(), no sync, no atexit handlers. tests/tool/test_tool.sh
 * checks what `syncstream inspect` makes of the file.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <syncstream.h>

static ss_linebuf *lb;

static void check(int r, const char *what)
{
    if (r < 0) {
        fprintf(stderr, "make_ring: %s: %s\n", what, ss_strerror(r));
        _exit(1);
    }
}

static void put(const char *s, size_t len)
{
    check(ss_linebuf_write(lb, s, len), "ss_linebuf_write");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_ring PATH\n");
        return 2;
    }

    ss_linebuf_opts opts = {
        .maxlen = 12,
        .max_line = 64,
        .max_bytes = 16384,
        .source = "main",
        .path = argv[1],
    };
    check(ss_linebuf_new(&lb, &opts), "ss_linebuf_new");

    for (int i = 1; i <= 5; i++) {
        char line[32];
        int n = snprintf(line, sizeof(line), "filler %d\n", i);
        put(line, (size_t)n);
    }

    static const char warning[] = "disk almost full\nsecond line of the warning\n";
    check(ss_linebuf_append(lb, SS_KIND_WARNING, warning, strlen(warning)), "append warning");
    static const char error[] =
        "Traceback (most recent call last):\n  File \"job.py\", line 1\nValueError: boom";
    check(ss_linebuf_append(lb, SS_KIND_ERROR, error, strlen(error)), "append error");

    static const char bad[] =
        "bad utf8 \xff\xfe and \xc3( surrogate \xed\xa0\x80 overlong \xc0\xaf \xe0\x80\xaf end\n";
    put(bad, sizeof(bad) - 1);
    static const char nul[] = "nul\0byte\n";
    put(nul, sizeof(nul) - 1);
    static const char esc[] = "quote \" backslash \\ tab \t bell \a end\n";
    put(esc, sizeof(esc) - 1);
    static const char utf8[] = "caf\xc3\xa9 \xe2\x9c\x93\n";
    put(utf8, sizeof(utf8) - 1);

    char longline[151];
    for (int i = 0; i < 150; i++)
        longline[i] = (char)('a' + i % 26);
    longline[150] = '\n';
    put(longline, sizeof(longline));

    ss_writer *w;
    check(ss_writer_new(&w, lb, "worker", SS_REC_STDERR), "ss_writer_new");
    check(ss_writer_write(w, "from the worker\n", 16), "ss_writer_write");
    check(ss_writer_close(w), "ss_writer_close");

    put("prompt> ", 8);

    /* Die like a crashed program: the ring is neither freed nor synced. */
    _exit(0);
}
