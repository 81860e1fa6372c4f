/*
 * test_stream_many.c: 1000 streams on one loop, through a user's transport
 * (pair_transport.h) over socketpairs: every stream gets its own bytes,
 * answers, and ends; several threads drive the streams at once. Streams made
 * and freed by several threads on one shared loop.
 */
#include <sys/resource.h>

#include "pair_transport.h"
#include "stream_test.h"

#define STREAMS 1000
#define THREADS 4

typedef struct fixture {
    ss_stream_loop *loop;
    ss_stream *s[STREAMS];
    int dev[STREAMS]; /* the other end: the "device" */
} fixture;

typedef struct worker {
    fixture *f;
    int first, step;
    int bad;
} worker;

/* Each worker drives its share of the streams: the device speaks, the stream
 * answers, the device hears the answer. */
static void *drive(void *arg)
{
    worker *w = arg;
    char msg[64], *line;
    size_t len;
    for (int i = w->first; i < STREAMS; i += w->step) {
        int n = snprintf(msg, sizeof(msg), "hello %d\n", i);
        send_all(w->f->dev[i], msg, (size_t)n);
    }
    for (int i = w->first; i < STREAMS; i += w->step) {
        ss_stream *s = w->f->s[i];
        char want[64];
        snprintf(want, sizeof(want), "hello %d", i);
        if (ss_stream_read_line(s, 10000, &line, &len, NULL) != 0) {
            w->bad++;
            continue;
        }
        w->bad += strcmp(line, want) != 0;
        free(line);
        int n = snprintf(msg, sizeof(msg), "answer %d\n", i);
        w->bad += ss_stream_write(s, msg, (size_t)n, 10000, NULL) != 0;
    }
    return NULL;
}

static void test_thousand_streams_one_loop(void **state)
{
    (void)state;
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < 4 * STREAMS && rl.rlim_max >= 4 * STREAMS) {
        rl.rlim_cur = 4 * STREAMS;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(ss_stream_loop_new(&f->loop), 0);
    for (int i = 0; i < STREAMS; i++) {
        char name[16];
        snprintf(name, sizeof(name), "dev-%d", i);
        ss_stream_opts so = {.name = name, .read_cap = 4096};
        f->s[i] = pair_stream(f->loop, &so, &f->dev[i], NULL);
    }

    pthread_t threads[THREADS];
    worker ws[THREADS];
    for (int t = 0; t < THREADS; t++) {
        ws[t] = (worker){.f = f, .first = t, .step = THREADS};
        assert_int_equal(pthread_create(&threads[t], NULL, drive, &ws[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        assert_int_equal(ws[t].bad, 0);
    }

    /* every device hears its answer; then it hangs up and its stream ends */
    for (int i = 0; i < STREAMS; i++) {
        char want[64], got[64] = {0};
        int n = snprintf(want, sizeof(want), "answer %d\n", i);
        size_t have = 0;
        struct pollfd pfd = {.fd = f->dev[i], .events = POLLIN};
        while (have < (size_t)n && poll(&pfd, 1, 10000) > 0) {
            ssize_t r = read(f->dev[i], got + have, (size_t)n - have);
            if (r <= 0)
                break;
            have += (size_t)r;
        }
        assert_string_equal(got, want);
        close(f->dev[i]);
    }
    char buf[8];
    for (int i = 0; i < STREAMS; i++) {
        char name[16];
        snprintf(name, sizeof(name), "dev-%d", i);
        assert_string_equal(ss_stream_name(f->s[i]), name);
        assert_int_equal(ss_stream_read(f->s[i], buf, sizeof(buf), 10000, NULL), SS_EEOF);
    }
    for (int i = 0; i < STREAMS; i++)
        ss_stream_free(f->s[i]);
    ss_stream_loop_free(f->loop);
    free(f);
}

/* Streams made and freed at once by several threads on one loop: a close
 * lands while the loop walks a batch of touched streams holding that stream,
 * which queues it again; the loop must not let go of it (and the caller free
 * it) while it is still queued. fds() takes 2 ms to widen that window. */
static void *churn(void *arg)
{
    ss_stream_loop *loop = arg;
    pair_knobs k = {.slow_fds = true};
    for (int round = 0; round < 500; round++) {
        int dev;
        ss_stream *s = pair_stream(loop, NULL, &dev, &k);
        ss_stream_free(s);
        close(dev);
    }
    return NULL;
}

static void test_close_while_loop_walks_touched(void **state)
{
    (void)state;
    ss_stream_loop *loop;
    assert_int_equal(ss_stream_loop_new(&loop), 0);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, churn, loop), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    ss_stream_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thousand_streams_one_loop),
        cmocka_unit_test(test_close_while_loop_walks_touched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
