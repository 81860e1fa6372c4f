/*
 * A program of the kind a user writes, built by check_pkgconfig.py with
 * nothing but `pkg-config --cflags --libs syncstream` (no _FILE_OFFSET_BITS,
 * no include path of our dependencies) against the shared library. Prints
 * "ok" when the library it runs with agrees with the headers and keeps a line.
 */
#include <stdio.h>
#include <string.h>

#include <syncstream.h>

int main(void)
{
    if (ss_version_number() != SS_VERSION_NUMBER || strcmp(ss_version(), SS_VERSION_STRING) != 0) {
        fprintf(stderr, "headers %s, library %s\n", SS_VERSION_STRING, ss_version());
        return 1;
    }
    ss_linebuf *lb;
    int rc = ss_linebuf_new(&lb, NULL);
    if (rc < 0) {
        fprintf(stderr, "ss_linebuf_new: %s\n", ss_strerror(rc));
        return 1;
    }
    ss_records set = SS_RECORDS_INIT;
    rc = ss_linebuf_write(lb, "one line\n", 9);
    if (rc == 0)
        rc = ss_linebuf_read(lb, SS_READ_ALL, &set);
    int ok = rc == 1 && set.items[0].len == 8 && memcmp(set.items[0].text, "one line", 8) == 0;
    if (!ok)
        fprintf(stderr, "the line read back differs (%d: %s)\n", rc, rc < 0 ? ss_strerror(rc) : "");
    ss_records_clear(&set);
    ss_linebuf_free(lb);
    if (ok)
        printf("ok %s\n", ss_version());
    return ok ? 0 : 1;
}
