/*
 * host_mirror.c: send a few lines to a host-mode server, then read them back.
 *
 *     syncstream serve &                      # or any sync-stream 1.2 server
 *     ./example_host_mirror http://127.0.0.1:5000/sync-stream
 *
 * The mirror queues each completed line and a background thread sends them in
 * batches; if the server is down for a while the lines wait and go out, in
 * order and once each, when it is back. Whatever could not be delivered in the
 * end is handed back, never dropped.
 */
#include <stdio.h>
#include <string.h>

#include <syncstream.h>

int main(int argc, char **argv)
{
    const char *url = argc > 1 ? argv[1] : "http://127.0.0.1:5000/sync-stream";
    ss_host_mirror *m;
    int rc = ss_host_mirror_new(
        &m, url, &(ss_host_mirror_opts){.source = "example", .close_timeout_ms = 5000});
    if (rc < 0) {
        fprintf(stderr, "mirror: %s\n", ss_strerror(rc));
        return 1;
    }
    for (int i = 1; i <= 3; i++) {
        char line[64];
        int n = snprintf(line, sizeof(line), "step %d of 3 done\n", i);
        if ((rc = ss_host_mirror_write(m, line, (size_t)n)) < 0)
            break; /* SS_ESTOPPED: a reader asked every mirror to stop */
    }
    ss_host_mirror_append(m, SS_KIND_WARNING, "disk nearly full\n/var at 97%", 28);
    rc = ss_host_mirror_close(m);
    if (rc < 0) {
        ss_records unsent = SS_RECORDS_INIT;
        int n = ss_host_mirror_unsent(m, &unsent);
        fprintf(stderr, "not delivered (%s): %d records\n", ss_strerror(rc), n);
        for (size_t i = 0; i < unsent.count; i++)
            fprintf(stderr, "  %s\n", unsent.items[i].text);
        ss_records_clear(&unsent);
        ss_host_mirror_free(m);
        return 1;
    }
    ss_host_mirror_free(m);

    ss_host_reader *r = NULL;
    ss_records set = SS_RECORDS_INIT;
    if (ss_host_reader_new(&r, url, NULL) < 0 || (rc = ss_host_reader_read(r, 4, &set)) < 0) {
        fprintf(stderr, "reader: %s %s\n", ss_strerror(rc), ss_host_reader_message(r));
        ss_host_reader_free(r);
        return 1;
    }
    for (size_t i = 0; i < set.count; i++)
        printf("%s: %s\n", ss_kind_name(set.items[i].kind), set.items[i].text);
    ss_records_clear(&set);
    ss_host_reader_free(r);
    return 0;
}
