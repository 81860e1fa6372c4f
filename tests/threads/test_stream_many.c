/*
 * test_stream_many.c: 1000 streams on one loop, through a transport written
 * here against the public interface (transport.h) over socketpairs: every
 * stream gets its own bytes, answers, and ends; several threads drive the
 * streams at once.
 */
#include <fcntl.h>
#include <sys/resource.h>

#include "stream_test.h"

#define STREAMS 1000
#define THREADS 4

/* ---- a user's transport: one end of a socketpair ---- */

typedef struct pair_end {
    int fd;
} pair_end;

static int pair_fds(void *impl, ss_transport_fd *ret, size_t max)
{
    pair_end *p = impl;
    if (max < 1)
        return 0;
    ret[0] = (ss_transport_fd){p->fd, SS_TRANSPORT_READ | SS_TRANSPORT_WRITE};
    return 1;
}

static ssize_t pair_read(void *impl, void *buf, size_t n, int *ret_chan)
{
    pair_end *p = impl;
    *ret_chan = SS_CHAN_OUT;
    ssize_t r = read(p->fd, buf, n);
    return r >= 0 ? r : errno == EAGAIN ? -EAGAIN : -errno;
}

static ssize_t pair_write(void *impl, const void *buf, size_t n)
{
    pair_end *p = impl;
    ssize_t r = send(p->fd, buf, n, MSG_NOSIGNAL);
    return r >= 0 ? r : errno == EAGAIN ? -EAGAIN : -errno;
}

static void pair_close(void *impl)
{
    pair_end *p = impl;
    close(p->fd);
    free(p);
}

static const ss_transport_ops pair_ops = {
    .kind = "pair",
    .fds = pair_fds,
    .read = pair_read,
    .write = pair_write,
    .close = pair_close,
};

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
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
        pair_end *p = malloc(sizeof(*p));
        assert_non_null(p);
        p->fd = sv[0];
        f->dev[i] = sv[1];
        ss_transport t = {&pair_ops, p};
        char name[16];
        snprintf(name, sizeof(name), "dev-%d", i);
        ss_stream_opts so = {.name = name, .read_cap = 4096};
        assert_int_equal(ss_stream_new(&f->s[i], f->loop, &t, &so), 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thousand_streams_one_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
