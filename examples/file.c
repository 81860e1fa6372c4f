/*
 * file.c: several processes write one log file; one of them follows it.
 *
 *     example_file PATH [WRITERS]
 *
 * Forks WRITERS processes (3 by default), each with its own ss_filebuf on
 * PATH, writing a few lines in pieces and one grouped warning; the parent
 * follows the file live and prints each record as it arrives, then the file's
 * state. Run it twice on the same PATH: the numbering goes on. Look at PATH with
 * `less` or `grep` afterwards: it is plain text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <syncstream.h>

#define LINES 5

static void writer(const char *path, int id)
{
    char source[24];
    snprintf(source, sizeof(source), "writer-%d", id);
    ss_filebuf *fb;
    int rc = ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.maxlen = 100, .source = source});
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", path, ss_strerror(rc));
        _exit(1);
    }
    for (int i = 0; i < LINES; i++) {
        char line[80];
        int n = snprintf(line, sizeof(line), "%s, line %d\n", source, i);
        /* in two pieces: the first half waits in this process until the second
         * ends the line, so other writers' lines never land inside it */
        ss_filebuf_write(fb, line, (size_t)n / 2);
        usleep(1000 * (unsigned)(id + 1));
        ss_filebuf_write(fb, line + n / 2, (size_t)n - (size_t)n / 2);
    }
    const char warning[] = "disk nearly full\n/var at 97%";
    ss_filebuf_append(fb, SS_KIND_WARNING, warning, sizeof(warning) - 1);
    ss_filebuf_free(fb);
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH [WRITERS]\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    int writers = argc > 2 ? atoi(argv[2]) : 3;

    ss_filebuf *fb;
    int rc = ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.maxlen = 100});
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", path, ss_strerror(rc));
        return 1;
    }
    ss_filebuf_stats st;
    ss_filebuf_get_stats(fb, &st);
    uint64_t cursor = st.last_seq; /* follow from here: only the new records */

    for (int i = 0; i < writers; i++)
        if (fork() == 0)
            writer(path, i);

    ss_records set = SS_RECORDS_INIT;
    int expected = writers * (LINES + 1), seen = 0;
    while (seen < expected && ss_filebuf_follow(fb, cursor, 0, 5000, &set) > 0) {
        for (size_t i = 0; i < set.count; i++)
            printf("%llu %s %s: %s\n", (unsigned long long)set.items[i].seq, set.items[i].source,
                   ss_kind_name(set.items[i].kind), set.items[i].text);
        seen += (int)set.count;
        cursor = set.cursor;
    }
    while (wait(NULL) > 0) {
    }
    ss_filebuf_get_stats(fb, &st);
    printf("%d records seen; the file keeps %zu of at most %zu, newest seq %llu\n", seen, st.count,
           st.maxlen, (unsigned long long)st.last_seq);
    ss_records_clear(&set);
    ss_filebuf_free(fb);
    return seen == expected ? 0 : 1;
}
