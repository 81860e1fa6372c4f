/*
 * host_server.c: run a host-mode server from C, and print what it gathered
 * when stopped.
 *
 *     example_host_server [ADDR:PORT]        (default 127.0.0.1:5000)
 *
 * Any sync-stream mirror can then post to http://ADDR:PORT/sync-stream, for
 * example from the shell:
 *
 *     curl -H 'Content-Type: application/json' -d '{"type":"str","data":{"value":"hello\n"}}'
 * http://127.0.0.1:5000/sync-stream
 *
 * and a browser shows the buffer live at http://ADDR:PORT/. Ctrl-C stops the
 * server; the records it holds are printed, oldest first.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include <syncstream.h>

int main(int argc, char **argv)
{
    /* Block the stop signals before the server's threads start, so that they
     * inherit the mask and sigwait() below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    ss_host_server *srv;
    ss_host_server_opts opts = {
        .listen = argc > 1 ? argv[1] : SS_HOST_DEFAULT_LISTEN,
        .maxlen = 1000,
    };
    int rc = ss_host_server_new(&srv, &opts);
    if (rc < 0) {
        fprintf(stderr, "cannot start the server on %s: %s\n", opts.listen, ss_strerror(rc));
        return 1;
    }
    fprintf(stderr, "serving on port %u; Ctrl-C to stop\n", ss_host_server_port(srv));

    int sig;
    sigwait(&stop, &sig);

    ss_records set = SS_RECORDS_INIT;
    int n = ss_host_server_read(srv, SS_READ_ALL, &set);
    for (int i = 0; i < n; i++)
        printf("%s [%s] %s\n", set.items[i].source[0] ? set.items[i].source : "-",
               ss_kind_name(set.items[i].kind), set.items[i].text);
    ss_records_clear(&set);
    ss_host_server_free(srv);
    return 0;
}
