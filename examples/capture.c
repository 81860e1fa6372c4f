/*
 * capture.c: capture the stdout of a few threads into an ss_linebuf.
 *
 * Between ss_capture_begin() and ss_capture_end(), whatever the threads print
 * with printf() becomes records of the buffer instead of reaching the terminal.
 * Afterwards the records are listed on stderr with their source and sequence
 * number. Run it and note that nothing appears on stdout.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include <syncstream.h>

#define NTHREADS 3
#define LINES 4

static void *worker(void *arg)
{
    int id = *(const int *)arg;

    for (int i = 0; i < LINES; i++) {
        /* stdio locks the FILE for each call, and the capture keeps every line
         * whole: lines of different threads interleave, their bytes never do. */
        printf("worker %d says hello #%d\n", id, i);
    }
    return NULL;
}

int main(void)
{
    ss_linebuf *lb;
    ss_capture *cap;
    ss_records recs = SS_RECORDS_INIT;
    pthread_t th[NTHREADS];
    int ids[NTHREADS];
    int r;

    /* Room for every line: with the default maxlen (1000) the oldest would rotate
     * out only after a thousand records. */
    r = ss_linebuf_new(&lb, NULL);
    if (r < 0) {
        fprintf(stderr, "ss_linebuf_new: %s\n", ss_strerror(r));
        return 1;
    }

    /* From here on, stdout is a pipe read by the capture's own thread. */
    r = ss_capture_begin(&cap, lb, STDOUT_FILENO, &(ss_capture_opts){.source = "stdout"});
    if (r < 0) {
        fprintf(stderr, "ss_capture_begin: %s\n", ss_strerror(r));
        ss_linebuf_free(lb);
        return 1;
    }

    int started = 0;
    for (; started < NTHREADS; started++) {
        ids[started] = started;
        if (pthread_create(&th[started], NULL, worker, &ids[started]) != 0)
            break;
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    printf("main: done, and this last line has no newline");

    /* end() flushes stdio, restores stdout and waits until every byte written so
     * far is a record; the unterminated last line becomes a record too. */
    r = ss_capture_end(cap);
    if (r < 0)
        fprintf(stderr, "ss_capture_end: %s\n", ss_strerror(r));

    r = ss_linebuf_read(lb, SS_READ_ALL, &recs);
    if (r < 0) {
        fprintf(stderr, "ss_linebuf_read: %s\n", ss_strerror(r));
    } else {
        for (size_t i = 0; i < recs.count; i++) {
            const ss_record *rec = &recs.items[i];
            fprintf(stderr, "%4llu [%s] %.*s\n", (unsigned long long)rec->seq, rec->source,
                    (int)rec->len, rec->text);
        }
    }

    ss_records_clear(&recs);
    ss_linebuf_free(lb);
    return 0;
}
