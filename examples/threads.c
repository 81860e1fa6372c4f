/*
 * Several threads write into one ss_linebuf at once, each through its own
 * writer, some lines in several pieces; the main thread follows the buffer live
 * with a cursor and prints every record as it arrives, then the final state.
 *
 *     build/examples/example_threads [THREADS] [LINES]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <syncstream.h>

/* Print a record's text; the further lines of a grouped record are indented. */
static void print_text(const ss_record *r)
{
    for (size_t i = 0; i < r->len; i++) {
        putchar(r->text[i]);
        if (r->text[i] == '\n')
            fputs("                          ", stdout);
    }
    putchar('\n');
}

typedef struct worker {
    ss_linebuf *lb;
    int id;
    int lines;
} worker;

static void *work(void *arg)
{
    worker *wk = arg;
    char name[16], piece[64];
    snprintf(name, sizeof(name), "worker-%d", wk->id);
    ss_writer *w;
    if (ss_writer_new(&w, wk->lb, name, 0) < 0)
        return NULL;
    for (int i = 1; i <= wk->lines; i++) {
        /* A line written in three pieces: other threads' writes never land in
         * the middle of it, because the partial line belongs to this writer. */
        int n = snprintf(piece, sizeof(piece), "step %d of %d", i, wk->lines);
        ss_writer_write(w, piece, (size_t)n);
        ss_writer_write(w, " ... ", 5);
        ss_writer_write(w, "done\n", 5);
        nanosleep(&(struct timespec){.tv_nsec = 2000000L * (wk->id + 1)}, NULL);
    }
    ss_writer_append(w, SS_KIND_WARNING, "finished\nall steps", 18);
    ss_writer_close(w);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    int lines = argc > 2 ? atoi(argv[2]) : 5;
    if (threads < 1 || threads > 64 || lines < 1) {
        fprintf(stderr, "usage: %s [THREADS 1-64] [LINES >= 1]\n", argv[0]);
        return 2;
    }

    ss_linebuf *lb;
    int rc = ss_linebuf_new(&lb, &(ss_linebuf_opts){.maxlen = 10});
    if (rc < 0) {
        fprintf(stderr, "example_threads: %s\n", ss_strerror(rc));
        return 1;
    }
    pthread_t th[64];
    worker wk[64];
    for (int i = 0; i < threads; i++) {
        wk[i] = (worker){lb, i, lines};
        pthread_create(&th[i], NULL, work, &wk[i]);
    }

    /* Live tail: every record exactly once, in order, as soon as it is stored. */
    printf("live, as the %d threads write:\n", threads);
    ss_records set = SS_RECORDS_INIT;
    uint64_t cursor = 0;
    int expected = threads * (lines + 1);
    for (int seen = 0; seen < expected;) {
        if (ss_linebuf_follow(lb, cursor, 0, 5000, &set) < 0)
            break;
        for (size_t i = 0; i < set.count; i++) {
            const ss_record *r = &set.items[i];
            printf("  #%-3llu %-9s %-7s ", (unsigned long long)r->seq, r->source,
                   ss_kind_name(r->kind));
            print_text(r);
        }
        seen += (int)(set.count + set.missed);
        cursor = set.cursor;
    }
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);

    ss_linebuf_stats st;
    ss_linebuf_get_stats(lb, &st);
    ss_linebuf_read(lb, SS_READ_ALL, &set);
    printf("\nthe buffer now (maxlen %zu): the newest %zu records\n", st.maxlen, set.count);
    for (size_t i = 0; i < set.count; i++) {
        printf("  #%-3llu %-9s %-7s ", (unsigned long long)set.items[i].seq, set.items[i].source,
               ss_kind_name(set.items[i].kind));
        print_text(&set.items[i]);
    }
    printf("\n%llu records written, %llu stored, %llu rotated out\n",
           (unsigned long long)st.written, (unsigned long long)st.stored,
           (unsigned long long)st.shed);
    ss_records_clear(&set);
    ss_linebuf_free(lb);
    return 0;
}
