/*
 * The consoles of several remote hosts collected into one ordered record:
 * one ss_stream per host over the ssh transport, all on one I/O thread, each
 * bridged into the same ss_linebuf (thread mode's buffer), tagged with its
 * host. The main thread follows the buffer and prints every line as
 * "[source] text" until every remote command has ended.
 *
 *     example_ssh_consoles [-i KEY] [-k KNOWN_HOSTS] [-a] URI...
 *
 * URI is ssh://USER@HOST[:PORT]/COMMAND, e.g.
 *     example_ssh_consoles -i ~/.ssh/id_ed25519 \
 *         'ssh://pi@rack-1/journalctl -f' 'ssh://pi@rack-2/journalctl -f'
 * -a accepts (and records) unknown host keys. Without -i, ssh-agent and the
 * default keys are used. stderr lines are marked "(stderr)".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <syncstream.h>

#define MAX_HOSTS 16

int main(int argc, char **argv)
{
    const char *identity = NULL, *known_hosts = NULL;
    bool accept_new = false;
    int c;
    while ((c = getopt(argc, argv, "i:k:a")) != -1) {
        if (c == 'i')
            identity = optarg;
        else if (c == 'k')
            known_hosts = optarg;
        else if (c == 'a')
            accept_new = true;
        else
            return 2;
    }
    int hosts = argc - optind;
    if (hosts < 1 || hosts > MAX_HOSTS) {
        fprintf(stderr, "usage: %s [-i KEY] [-k KNOWN_HOSTS] [-a] ssh://USER@HOST/COMMAND...\n",
                argv[0]);
        return 2;
    }

    ss_linebuf *lb;
    ss_stream_loop *loop;
    if (ss_linebuf_new(&lb, &(ss_linebuf_opts){.maxlen = 100000}) < 0 ||
        ss_stream_loop_new(&loop) < 0)
        return 1;
    ss_stream *streams[MAX_HOSTS] = {0};
    int rc = 0;
    for (int i = 0; i < hosts; i++) {
        ss_ssh_opts o = {
            .identity = identity, .known_hosts = known_hosts, .accept_unknown_hostkey = accept_new};
        char *storage, why[256] = "";
        ss_transport t;
        if ((rc = ss_ssh_parse_uri(argv[optind + i], &o, &storage)) < 0) {
            fprintf(stderr, "%s: not an ssh:// URI\n", argv[optind + i]);
            break;
        }
        rc = ss_transport_ssh(&t, &o, why, sizeof(why));
        if (rc == 0) /* each stream is named after its host */
            rc = ss_stream_new(&streams[i], loop, &t, &(ss_stream_opts){.name = o.host});
        if (rc == 0)
            rc = ss_stream_bridge(streams[i], &(ss_bridge_opts){.linebuf = lb, .only = true});
        free(storage);
        if (rc < 0) {
            fprintf(stderr, "%s: %s%s%s\n", argv[optind + i], ss_strerror(rc), why[0] ? ": " : "",
                    why);
            break;
        }
    }

    /* Follow the shared buffer until every stream has ended (or failed): a
     * read that must not wait says which (its bytes all went to the bridge). */
    uint64_t cursor = 0;
    ss_records set = SS_RECORDS_INIT;
    for (bool running = rc == 0, last = false; running || !last;) {
        last = !running;
        int n = ss_linebuf_follow(lb, cursor, 0, last ? 0 : 500, &set);
        for (int k = 0; k < n; k++)
            printf("[%s]%s %s\n", set.items[k].source,
                   set.items[k].flags & SS_REC_STDERR ? " (stderr)" : "", set.items[k].text);
        if (n > 0) {
            cursor = set.cursor;
            fflush(stdout);
            continue;
        }
        running = false;
        for (int i = 0; i < hosts && streams[i]; i++) {
            char byte;
            running |= ss_stream_read(streams[i], &byte, 1, 0, NULL) == -ETIMEDOUT;
        }
    }
    ss_records_clear(&set);
    for (int i = 0; i < hosts; i++)
        ss_stream_free(streams[i]);
    ss_stream_loop_free(loop);
    ss_linebuf_free(lb);
    return rc < 0 ? 1 : 0;
}
