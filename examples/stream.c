/*
 * threadedstream's README example in C: send a command, do other work while
 * the output piles up in the background, then read until "Completed." — and
 * on any error, show what had arrived (the error payload).
 *
 *     build/examples/example_stream              (a local shell plays the server)
 *     build/examples/example_stream HOST PORT    (a TCP server that runs commands)
 */
#include <stdio.h>
#include <stdlib.h>

#include <syncstream.h>

int main(int argc, char **argv)
{
    ss_transport t;
    int rc;
    if (argc == 3) {
        rc = ss_transport_tcp_connect(&t, argv[1], argv[2], NULL);
    } else {
        /* a stand-in for the remote side: reads the command, runs "it" */
        char *sh[] = {"/bin/sh", "-c",
                      "read cmd; echo \"running $cmd\"; for i in 1 2 3; do echo step $i; done;"
                      " echo Completed.; echo leftover",
                      NULL};
        rc = ss_transport_exec(&t, sh, 0);
    }
    if (rc < 0) {
        fprintf(stderr, "cannot connect: %s\n", ss_strerror(rc));
        return 1;
    }
    ss_stream *s;
    if ((rc = ss_stream_new(&s, NULL, &t, NULL)) < 0) {
        fprintf(stderr, "cannot start the stream: %s\n", ss_strerror(rc));
        return 1;
    }

    /* Send the command. The rest goes on in the background... */
    ss_stream_write(s, "bash long_script.sh\n", 20, 5000, NULL);

    /* ...and finally come back: read until "Completed." (at most a minute). */
    char *logs;
    size_t len;
    ss_stream_payload payload = {0};
    rc = ss_stream_read_until(s, "Completed.", 10, 60000, &logs, &len, &payload);
    if (rc == 0) {
        printf("%s\n", logs);
        free(logs);
    } else {
        printf("Got an error (%s). So far accumulated in the read buffer:\n%s\n", ss_strerror(rc),
               payload.read ? payload.read : "");
        ss_stream_payload_clear(&payload);
    }

    /* Clear the read buffer: we do not care about the remainder. */
    printf("(%zu bytes left unread)\n", ss_stream_consume(s));
    ss_stream_free(s);
    return rc == 0 ? 0 : 1;
}
