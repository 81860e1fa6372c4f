/*
 * libevent drives the library: a stream over a program and a spawned child,
 * served on an external ss_loop (SS_LOOP_EXTERNAL, no thread of the
 * library's) from libevent's callbacks, as libcurl's multi_socket is.
 *
 *     build/examples/example_libevent_loop
 *
 * The program answers each line it reads; the child prints a line and exits.
 * Prints what both said, then exits 0; 1 if anything failed or took more than
 * 10 seconds.
 */
#include <event2/event.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <syncstream.h>

typedef struct app {
    struct event_base *base;
    ss_loop *loop;
    struct event *watch; /* the loop's fd is readable */
    struct event *timer; /* the loop's timeout */
    ss_stream *s;
    ss_procbuf *pb;
    int answers;
    bool child_done;
    int status;
} app;

/* Take what has arrived: with timeout 0, since this thread drives the loop
 * (nothing would arrive while it waited). */
static void take_output(app *a)
{
    char *line;
    size_t len;
    while (a->answers < 2 && ss_stream_read_line(a->s, 0, &line, &len, NULL) == 0) {
        printf("stream: %s\n", line);
        free(line);
        a->answers++;
    }
    if (!a->child_done && ss_procbuf_running(a->pb) == 0) {
        a->child_done = true;
        ss_records set = {0};
        if (ss_linebuf_read(ss_procbuf_linebuf(a->pb), SS_READ_ALL, &set) < 0)
            a->status = 1;
        for (size_t i = 0; i < set.count; i++)
            printf("child: %.*s\n", (int)set.items[i].len, set.items[i].text);
        ss_records_clear(&set);
    }
    if (a->answers == 2 && a->child_done)
        event_base_loopbreak(a->base);
}

/* Arm the timer for the loop's next due work (none: -1). */
static int arm_timer(app *a)
{
    int ms = ss_loop_timeout_ms(a->loop);
    if (ms < 0)
        return evtimer_del(a->timer);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return evtimer_add(a->timer, &tv);
}

/* Run what is ready, then arm the timer again. */
static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    app *a = arg;
    if (ss_loop_run_ready(a->loop) < 0 || arm_timer(a) < 0)
        a->status = 1;
    take_output(a);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    app *a = arg;
    fprintf(stderr, "timed out\n");
    a->status = 1;
    event_base_loopbreak(a->base);
}

int main(void)
{
    /* turns run on this thread: a program that closed its stdin must make
     * a write fail with EPIPE, not kill us */
    signal(SIGPIPE, SIG_IGN);
    app a = {0};
    int rc = ss_loop_new(&a.loop, SS_LOOP_EXTERNAL);
    if (rc < 0) {
        fprintf(stderr, "loop: %s\n", ss_strerror(rc));
        return 1;
    }

    /* a program that answers each line */
    char *echo[] = {"/bin/sh", "-c", "while read -r l; do echo \"you said $l\"; done", NULL};
    ss_transport t;
    if ((rc = ss_transport_exec(&t, echo, 0)) < 0 ||
        (rc = ss_stream_new(&a.s, a.loop, &t, NULL)) < 0) {
        fprintf(stderr, "stream: %s\n", ss_strerror(rc));
        return 1;
    }
    /* a child whose output and exit are collected */
    if ((rc = ss_procbuf_new(&a.pb, &(ss_procbuf_opts){.loop = a.loop})) < 0) {
        fprintf(stderr, "procbuf: %s\n", ss_strerror(rc));
        return 1;
    }
    char *child[] = {"/bin/sh", "-c", "echo hello from the child", NULL};
    ss_spawn_opts so = {.argv = child, .name = "child", .flags = SS_PROC_NULL_STDIN};
    if ((rc = ss_procbuf_spawn(a.pb, &so, NULL)) < 0) {
        fprintf(stderr, "spawn: %s\n", ss_strerror(rc));
        return 1;
    }
    /* queued now, sent by a turn libevent runs */
    if ((rc = ss_stream_write(a.s, "hello\nbye\n", 10, 0, NULL)) < 0) {
        fprintf(stderr, "write: %s\n", ss_strerror(rc));
        return 1;
    }

    a.base = event_base_new();
    a.watch = event_new(a.base, ss_loop_fd(a.loop), EV_READ | EV_PERSIST, on_ready, &a);
    a.timer = evtimer_new(a.base, on_ready, &a);
    struct event *deadline = evtimer_new(a.base, on_deadline, &a);
    struct timeval ten = {10, 0};
    if (!a.base || !a.watch || !a.timer || !deadline || event_add(a.watch, NULL) < 0 ||
        arm_timer(&a) < 0 || evtimer_add(deadline, &ten) < 0) {
        fprintf(stderr, "libevent setup failed\n");
        return 1;
    }
    event_base_dispatch(a.base);

    /* freeing runs the turns it needs itself: libevent has stopped */
    event_free(deadline);
    event_free(a.timer);
    event_free(a.watch);
    event_base_free(a.base);
    ss_stream_free(a.s);
    ss_procbuf_free(a.pb);
    ss_loop_free(a.loop);
    return a.status;
}
