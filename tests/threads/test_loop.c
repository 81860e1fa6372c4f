/*
 * test_loop.c: the public loop (syncstream/loop.h). Streams, a process
 * collector with real children and a capture on one threaded loop: one
 * thread for all of them, every byte delivered; one object freed while the
 * others go on; the loop freed before its objects; an external loop driven
 * from here through its fd, its timeout and ss_loop_run_ready() (from two
 * threads at once too); the errors.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "pair_transport.h"
#include "proc_test.h"
#include "stream_test.h"

#define WAIT_MS 20000
#define STREAMS 3

/* Threads of this process now (/proc/self/task). */
static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* The device sends a line, the stream reads it and answers, the device hears
 * the answer. */
static void echo_round(ss_stream *s, int dev, int i)
{
    char msg[64], want[64], got[64];
    int n = snprintf(msg, sizeof(msg), "ping %d\n", i);
    send_all(dev, msg, (size_t)n);
    char *line = NULL;
    size_t len;
    assert_int_equal(ss_stream_read_line(s, WAIT_MS, &line, &len, NULL), 0);
    snprintf(want, sizeof(want), "ping %d", i);
    assert_string_equal(line, want);
    free(line);
    n = snprintf(msg, sizeof(msg), "pong %d\n", i);
    assert_int_equal(ss_stream_write(s, msg, (size_t)n, WAIT_MS, NULL), 0);
    read_exact(dev, got, (size_t)n);
    assert_memory_equal(got, msg, (size_t)n);
}

static ss_procbuf *procbuf_on(ss_loop *loop, int grace_ms)
{
    ss_procbuf *pb = NULL;
    ss_procbuf_opts o = {.loop = loop, .term_grace_ms = grace_ms};
    assert_int_equal(ss_procbuf_new(&pb, &o), 0);
    return pb;
}

static int spawn_sh(ss_procbuf *pb, const char *name, const char *script)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    ss_spawn_opts o = {.argv = argv, .name = name, .flags = SS_PROC_NULL_STDIN};
    int id = -1;
    assert_int_equal(ss_procbuf_spawn(pb, &o, &id), 0);
    return id;
}

/* The texts of src's records, joined by '|'. */
static void records_of(ss_linebuf *lb, const char *src, char *out, size_t size)
{
    ss_records set = {0};
    assert_true(ss_linebuf_read(lb, SS_READ_ALL, &set) >= 0);
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < set.count; i++) {
        const ss_record *r = &set.items[i];
        if (strcmp(r->source, src) == 0)
            off += (size_t)snprintf(out + off, size - off, "%s%.*s", off ? "|" : "", (int)r->len,
                                    r->text);
    }
    ss_records_clear(&set);
}

/* Capture a fresh fd into lb on loop, write lines to it, end the capture. */
static void capture_lines(ss_loop *loop, ss_linebuf *lb)
{
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    ss_capture *cap = NULL;
    assert_int_equal(
        ss_capture_begin(&cap, lb, fd, &(ss_capture_opts){.source = "cap", .loop = loop}), 0);
    assert_int_equal(write(fd, "one\ntwo\nthree", 13), 13);
    assert_int_equal(ss_capture_end(cap), 0);
    close(fd);
    char got[128];
    records_of(lb, "cap", got, sizeof(got));
    assert_string_equal(got, "one|two|three");
}

static void test_one_thread_serves_all(void **state)
{
    (void)state;
    int before = count_threads();
    ss_loop *loop = NULL;
    assert_int_equal(ss_loop_new(&loop, 0), 0);
    assert_int_equal(count_threads(), before + 1);

    ss_stream *s[STREAMS];
    int dev[STREAMS];
    for (int i = 0; i < STREAMS; i++)
        s[i] = pair_stream(loop, NULL, &dev[i], NULL);
    ss_procbuf *pb = procbuf_on(loop, 0);
    ss_linebuf *lb = NULL;
    assert_int_equal(ss_linebuf_new(&lb, NULL), 0);
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    ss_capture *cap = NULL;
    assert_int_equal(
        ss_capture_begin(&cap, lb, fd, &(ss_capture_opts){.source = "cap", .loop = loop}), 0);
    spawn_sh(pb, "kid", "echo out; echo err >&2; exit 3");

    /* every object is up, and the loop's thread is the only one they have */
    assert_int_equal(count_threads(), before + 1);
    for (int i = 0; i < STREAMS; i++)
        echo_round(s[i], dev[i], i);
    assert_int_equal(write(fd, "captured\n", 9), 9);
    assert_wait_all(pb);
    assert_int_equal(count_threads(), before + 1);

    assert_int_equal(ss_capture_end(cap), 0);
    char got[256];
    records_of(lb, "cap", got, sizeof(got));
    assert_string_equal(got, "captured");
    records_of(ss_procbuf_linebuf(pb), "kid", got, sizeof(got));
    assert_string_equal(got, "out|err|exited with status 3");

    ss_procbuf_free(pb);
    for (int i = 0; i < STREAMS; i++) {
        ss_stream_free(s[i]);
        close(dev[i]);
    }
    ss_loop_free(loop);
    assert_int_equal(count_threads(), before);
    ss_linebuf_free(lb);
    close(fd);
}

/* A device that sends a line every few ms until told to stop, so that the
 * freed stream's fd is busy while it leaves the loop. */
typedef struct chatter {
    int dev;
    atomic_bool stop;
} chatter;

static void *chatter_main(void *arg)
{
    chatter *c = arg;
    while (!atomic_load(&c->stop)) {
        if (send(c->dev, "noise\n", 6, MSG_NOSIGNAL) < 0)
            break;
        usleep(1000);
    }
    return NULL;
}

static void test_free_one_others_go_on(void **state)
{
    (void)state;
    ss_loop *loop = NULL;
    assert_int_equal(ss_loop_new(&loop, 0), 0);
    ss_stream *s[STREAMS];
    int dev[STREAMS];
    for (int i = 0; i < STREAMS; i++)
        s[i] = pair_stream(loop, NULL, &dev[i], NULL);
    ss_procbuf *pb = procbuf_on(loop, 0);
    spawn_sh(pb, "first", "echo one");
    assert_wait_all(pb);

    for (int round = 0; round < 20; round++) {
        chatter c = {.dev = dev[0]};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, chatter_main, &c), 0);
        usleep(2000);
        ss_stream_free(s[0]);
        atomic_store(&c.stop, true);
        pthread_join(th, NULL);
        close(dev[0]);
        /* the others go on, and so does a new one in the freed one's place */
        echo_round(s[1], dev[1], round);
        echo_round(s[2], dev[2], round);
        s[0] = pair_stream(loop, NULL, &dev[0], NULL);
        echo_round(s[0], dev[0], round);
    }

    /* a collector freed with a child running leaves the streams alone */
    spawn_sh(pb, "sleeper", "exec sleep 60");
    ss_procbuf_free(pb);
    for (int i = 0; i < STREAMS; i++)
        echo_round(s[i], dev[i], 100 + i);
    /* and a new collector on the same loop works */
    pb = procbuf_on(loop, 0);
    spawn_sh(pb, "second", "echo two");
    assert_wait_all(pb);
    char got[128];
    records_of(ss_procbuf_linebuf(pb), "second", got, sizeof(got));
    assert_string_equal(got, "two|exited with status 0");
    ss_linebuf *lb = NULL;
    assert_int_equal(ss_linebuf_new(&lb, NULL), 0);
    capture_lines(loop, lb);
    echo_round(s[1], dev[1], 200);

    ss_procbuf_free(pb);
    for (int i = 0; i < STREAMS; i++) {
        ss_stream_free(s[i]);
        close(dev[i]);
    }
    ss_loop_free(loop);
    ss_linebuf_free(lb);
}

/* The program's reference goes first: the objects keep the loop running. */
static void test_loop_freed_first(void **state)
{
    (void)state;
    int before = count_threads();
    ss_loop *loop = NULL;
    assert_int_equal(ss_loop_new(&loop, 0), 0);
    int dev;
    ss_stream *s = pair_stream(loop, NULL, &dev, NULL);
    ss_procbuf *pb = procbuf_on(loop, 0);
    ss_loop_free(loop);
    assert_int_equal(count_threads(), before + 1);
    echo_round(s, dev, 1);
    spawn_sh(pb, "kid", "echo late");
    assert_wait_all(pb);
    ss_stream_free(s);
    close(dev);
    assert_int_equal(count_threads(), before + 1);
    ss_procbuf_free(pb); /* the last reference: the thread ends */
    assert_int_equal(count_threads(), before);
}

/* Drive an external loop until done() says so, as a program's loop would:
 * poll its fd for its timeout, then run what is ready. */
static void drive_until(ss_loop *loop, bool (*done)(void *), void *arg)
{
    int64_t end = ss__test_now_ns() + (int64_t)WAIT_MS * 1000000;
    int fd = ss_loop_fd(loop);
    assert_true(fd >= 0);
    while (!done(arg)) {
        assert_true(ss__test_now_ns() < end);
        int t = ss_loop_timeout_ms(loop);
        assert_true(t >= -1);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        /* bounded here; a program's loop may sleep for t itself */
        poll(&p, 1, t < 0 || t > 100 ? 100 : t);
        assert_int_equal(ss_loop_run_ready(loop), 0);
    }
}

typedef struct ext_state {
    ss_stream *s;
    ss_procbuf *pb;
    char line[64];
} ext_state;

static bool got_line(void *arg)
{
    ext_state *e = arg;
    char *line = NULL;
    size_t len;
    /* timeout 0: this thread drives the loop, so nothing comes while it waits */
    int rc = ss_stream_read_line(e->s, 0, &line, &len, NULL);
    if (rc != 0)
        return false;
    snprintf(e->line, sizeof(e->line), "%s", line);
    free(line);
    return true;
}

static bool children_done(void *arg)
{
    ext_state *e = arg;
    return ss_procbuf_running(e->pb) == 0;
}

/* The stubborn child has ignored SIGTERM (it says so once it has). */
static bool stubborn_ready(void *arg)
{
    ext_state *e = arg;
    char recs[128];
    records_of(ss_procbuf_linebuf(e->pb), "stubborn", recs, sizeof(recs));
    return strcmp(recs, "ready") == 0;
}

static void test_external_loop(void **state)
{
    (void)state;
    int before = count_threads();
    ss_loop *loop = NULL;
    assert_int_equal(ss_loop_new(&loop, SS_LOOP_EXTERNAL), 0);
    assert_int_equal(count_threads(), before);
    assert_int_equal(ss_loop_timeout_ms(loop), -1);

    int dev;
    ext_state e = {.s = pair_stream(loop, NULL, &dev, NULL), .pb = procbuf_on(loop, 0)};
    send_str(dev, "hello\n");
    drive_until(loop, got_line, &e);
    assert_string_equal(e.line, "hello");
    /* a write queued from here reaches the device once the loop runs */
    assert_int_equal(ss_stream_write(e.s, "back\n", 5, 0, NULL), 0);
    spawn_sh(e.pb, "kid", "echo from the child");
    drive_until(loop, children_done, &e);
    char got[5];
    read_exact(dev, got, 5);
    assert_memory_equal(got, "back\n", 5);
    char recs[128];
    records_of(ss_procbuf_linebuf(e.pb), "kid", recs, sizeof(recs));
    assert_string_equal(recs, "from the child|exited with status 0");
    /* no thread was ever started for them */
    assert_int_equal(count_threads(), before);

    /* A stop's grace period is a timer: the loop's timeout says when it is
     * due, and the SIGKILL comes from the turn run then. */
    ss_procbuf_free(e.pb);
    e.pb = procbuf_on(loop, 300);
    spawn_sh(e.pb, "stubborn", "trap '' TERM; echo ready; exec sleep 60");
    drive_until(loop, stubborn_ready, &e);
    assert_int_equal(ss_procbuf_stop(e.pb), 0);
    int t = ss_loop_timeout_ms(loop);
    assert_true(t >= 0 && t <= 300);
    drive_until(loop, children_done, &e);
    records_of(ss_procbuf_linebuf(e.pb), "stubborn", recs, sizeof(recs));
    assert_string_equal(recs, "ready|killed by signal 9 (SIGKILL)");

    /* freeing and a capture need no driving: they run the turns they need */
    ss_linebuf *lb = NULL;
    assert_int_equal(ss_linebuf_new(&lb, NULL), 0);
    capture_lines(loop, lb);
    ss_stream_free(e.s);
    close(dev);
    ss_procbuf_free(e.pb);
    ss_loop_free(loop);
    ss_linebuf_free(lb);
}

typedef struct runner {
    ss_loop *loop;
    atomic_bool stop;
    int bad;
} runner;

static void *run_main(void *arg)
{
    runner *r = arg;
    while (!atomic_load(&r->stop))
        r->bad += ss_loop_run_ready(r->loop) != 0;
    return NULL;
}

/* Two threads run turns at once (they take turns); a third uses the stream. */
static void test_external_two_runners(void **state)
{
    (void)state;
    ss_loop *loop = NULL;
    assert_int_equal(ss_loop_new(&loop, SS_LOOP_EXTERNAL), 0);
    int dev;
    ss_stream *s = pair_stream(loop, NULL, &dev, NULL);
    runner r[2] = {{.loop = loop}, {.loop = loop}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, run_main, &r[i]), 0);
    /* others drive the loop: a blocking read works from here */
    for (int i = 0; i < 50; i++)
        echo_round(s, dev, i);
    ss_stream_free(s);
    close(dev);
    for (int i = 0; i < 2; i++) {
        atomic_store(&r[i].stop, true);
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].bad, 0);
    }
    ss_loop_free(loop);
}

static void test_errors(void **state)
{
    (void)state;
    ss_loop *loop = NULL;
    assert_int_equal(ss_loop_new(NULL, 0), -EINVAL);
    assert_int_equal(ss_loop_new(&loop, 1u << 5), -EINVAL);
    assert_null(loop);
    assert_int_equal(ss_loop_fd(NULL), -EINVAL);
    assert_int_equal(ss_loop_timeout_ms(NULL), -EINVAL);
    assert_int_equal(ss_loop_run_ready(NULL), -EINVAL);
    ss_loop_free(NULL);
    /* a threaded loop is not driven from outside */
    assert_int_equal(ss_loop_new(&loop, 0), 0);
    assert_int_equal(ss_loop_fd(loop), -EINVAL);
    assert_int_equal(ss_loop_timeout_ms(loop), -EINVAL);
    assert_int_equal(ss_loop_run_ready(loop), -EINVAL);
    ss_loop_free(loop);
    /* the older names are the same loop */
    ss_stream_loop *old = NULL;
    assert_int_equal(ss_stream_loop_new(&old), 0);
    int dev;
    ss_stream *s = pair_stream(old, NULL, &dev, NULL);
    echo_round(s, dev, 0);
    ss_stream_loop_free(old);
    ss_stream_free(s);
    close(dev);
}

static void *nothing(void *arg)
{
    return arg;
}

int main(void)
{
    /* a device closed under a stream must not kill the test */
    signal(SIGPIPE, SIG_IGN);
    /* ThreadSanitizer starts a thread of its own with the first thread: let
     * it, before the counts */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, nothing, NULL), 0);
    pthread_join(th, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_thread_serves_all), cmocka_unit_test(test_free_one_others_go_on),
        cmocka_unit_test(test_loop_freed_first),      cmocka_unit_test(test_external_loop),
        cmocka_unit_test(test_external_two_runners),  cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
