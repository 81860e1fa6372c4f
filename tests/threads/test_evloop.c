/*
 * test_evloop.c: the library's one event loop (src/lib/util/evloop.h) on its
 * own thread: fd callbacks for the mask asked, an fd with mask 0 out of epoll
 * (a hang-up on it wakes nobody), timers armed, re-armed and cancelled from
 * another thread, hooks on every turn, added and removed while it runs, and
 * the last turn of a stop; a loop driven from outside.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "test.h"
#include "util/clock.h"
#include "util/evloop.h"

#define WAIT_MS 10000

typedef struct state {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int reads, writes, turns, fired[2];
    char last;
} state;

static state st;

static void state_reset(void)
{
    pthread_mutex_lock(&st.mu);
    st.reads = st.writes = st.turns = st.fired[0] = st.fired[1] = 0;
    st.last = 0;
    pthread_mutex_unlock(&st.mu);
}

/* Wait until *counter reaches at least n (bounded); returns its value. */
static int wait_for(const int *counter, int n)
{
    struct timespec deadline = ss__deadline_after_ms(WAIT_MS);
    pthread_mutex_lock(&st.mu);
    while (*counter < n && pthread_cond_timedwait(&st.cond, &st.mu, &deadline) == 0) {
    }
    int v = *counter;
    pthread_mutex_unlock(&st.mu);
    return v;
}

static int read_value(const int *counter)
{
    pthread_mutex_lock(&st.mu);
    int v = *counter;
    pthread_mutex_unlock(&st.mu);
    return v;
}

static void bump(int *counter)
{
    pthread_mutex_lock(&st.mu);
    (*counter)++;
    pthread_cond_broadcast(&st.cond);
    pthread_mutex_unlock(&st.mu);
}

/* The watchers outlive every turn (a turn may still name one just
 * unwatched), and their callbacks touch only what arg points at: the fd
 * belongs to the thread that sets the watcher. */
static ss__evio rd, wr;
static int rd_fd;

static void on_io(ss__evio *io, unsigned events)
{
    if (io == &rd && (events & SS__EV_READ)) {
        char c = 0;
        if (read(rd_fd, &c, 1) == 1) {
            pthread_mutex_lock(&st.mu);
            st.last = c;
            pthread_mutex_unlock(&st.mu);
        }
        bump(&st.reads);
    }
    if (io == &wr && (events & SS__EV_WRITE))
        bump(&st.writes);
}

static int on_turn(ss__evhook *h);

static ss__evloop *loop;

/* Wait for the turn under way to end: a later one cannot name a watcher
 * unwatched before. */
static void settle(void)
{
    int before = read_value(&st.turns);
    ss__evloop_wake(loop);
    assert_true(wait_for(&st.turns, before + 1) > before);
}

static int on_turn(ss__evhook *h)
{
    (void)h;
    bump(&st.turns);
    return -1;
}

static void on_timer(ss__evtimer *t)
{
    bump(&st.fired[(intptr_t)t->arg]);
}

static ss__evhook hook = {.fn = on_turn};

static int setup(void **unused)
{
    (void)unused;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&st.mu, NULL);
    pthread_cond_init(&st.cond, &ca);
    pthread_condattr_destroy(&ca);
    state_reset();
    if (ss__evloop_new(&loop) < 0)
        return -1;
    ss__evloop_add_hook(loop, &hook);
    return ss__evloop_start(loop) < 0 ? -1 : 0;
}

static int teardown(void **unused)
{
    (void)unused;
    ss__evloop_stop(loop);
    ss__evloop_free(loop);
    pthread_cond_destroy(&st.cond);
    pthread_mutex_destroy(&st.mu);
    return 0;
}

/* A fresh state and a pipe whose read end rd watches. */
static void watch_pipe(int p[2])
{
    state_reset();
    assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    rd_fd = p[0];
    ss__evio_init(&rd, on_io, NULL);
    assert_int_equal(ss__evio_set(loop, &rd, p[0], SS__EV_READ), 0);
}

/* A byte written to a watched pipe reaches the callback; writable is
 * reported only once asked for. */
static void test_fd_callbacks(void **unused)
{
    (void)unused;
    int p[2];
    watch_pipe(p);
    ss__evio_init(&wr, on_io, NULL);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(wait_for(&st.reads, 1), 1);
    pthread_mutex_lock(&st.mu);
    assert_int_equal(st.last, 'x');
    pthread_mutex_unlock(&st.mu);
    assert_int_equal(read_value(&st.writes), 0);

    assert_int_equal(ss__evio_set(loop, &wr, p[1], SS__EV_WRITE), 0);
    assert_true(wait_for(&st.writes, 1) >= 1);

    ss__evio_set(loop, &rd, -1, 0);
    ss__evio_set(loop, &wr, -1, 0);
    settle();
    close(p[0]);
    close(p[1]);
}

/* A watcher with mask 0 is out of epoll: the hang-up of its pipe (which
 * epoll reports whatever was asked) wakes no callback, while turns go on. */
static void test_mask_zero_leaves_epoll(void **unused)
{
    (void)unused;
    int p[2];
    watch_pipe(p);
    assert_int_equal(ss__evio_set(loop, &rd, p[0], 0), 0);
    close(p[1]);
    for (int i = 1; i <= 3; i++) {
        int before = read_value(&st.turns);
        ss__evloop_wake(loop);
        assert_true(wait_for(&st.turns, before + 1) > before);
    }
    assert_int_equal(read_value(&st.reads), 0);

    /* watched again, the hang-up is reported */
    assert_int_equal(ss__evio_set(loop, &rd, p[0], SS__EV_READ), 0);
    assert_true(wait_for(&st.reads, 1) >= 1);
    ss__evio_set(loop, &rd, -1, 0);
    settle();
    close(p[0]);
}

/* Timers armed from this thread: a cancelled one never runs, a re-armed one
 * runs once, at its new instant, after a cancelled one's would have come. */
static void test_timers(void **unused)
{
    (void)unused;
    state_reset();
    ss__evtimer cancelled, kept;
    ss__evtimer_init(&cancelled, on_timer, (void *)(intptr_t)0);
    ss__evtimer_init(&kept, on_timer, (void *)(intptr_t)1);
    int64_t now = ss__mono_ms();
    ss__evtimer_set(loop, &cancelled, now + 20);
    ss__evtimer_set(loop, &kept, now + 10000000);
    ss__evtimer_cancel(loop, &cancelled);
    /* re-armed earlier: the sleeping loop must see the new instant */
    ss__evtimer_set(loop, &kept, now + 60);
    assert_int_equal(wait_for(&st.fired[1], 1), 1);
    assert_true(ss__mono_ms() >= now + 60);
    assert_int_equal(read_value(&st.fired[0]), 0);

    /* due at once */
    ss__evtimer_set(loop, &kept, 0);
    assert_int_equal(wait_for(&st.fired[1], 2), 2);
    assert_int_equal(read_value(&st.fired[0]), 0);
}

/* A stop lets the hooks run once more: work queued before it is done. */
static void test_stop_runs_hooks(void **unused)
{
    (void)unused;
    ss__evloop *l;
    assert_int_equal(ss__evloop_new(&l), 0);
    state_reset();
    ss__evhook h = {.fn = on_turn};
    ss__evloop_add_hook(l, &h);
    assert_int_equal(ss__evloop_start(l), 0);
    ss__evloop_stop(l);
    assert_true(read_value(&st.turns) >= 1);
    int after = read_value(&st.turns);
    ss__evloop_wake(l);
    assert_int_equal(read_value(&st.turns), after);
    ss__evloop_free(l);
}

static int on_extra(ss__evhook *h)
{
    bump(&st.fired[(intptr_t)h->arg]);
    return -1;
}

/* Hooks come and go while the loop runs: one added runs on the next turns,
 * one removed never runs again once the removal returns; a pass runs the
 * hooks after the call. */
static void test_hooks_while_running(void **unused)
{
    (void)unused;
    state_reset();
    ss__evhook extra = {.fn = on_extra, .arg = (void *)(intptr_t)0};
    ss__evloop_add_hook(loop, &extra);
    assert_true(wait_for(&st.fired[0], 1) >= 1);
    int before = read_value(&st.fired[0]);
    assert_int_equal(ss__evloop_pass(loop), 0);
    assert_true(read_value(&st.fired[0]) > before);

    ss__evloop_remove_hook(loop, &extra);
    int after = read_value(&st.fired[0]);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ss__evloop_pass(loop), 0);
    assert_int_equal(read_value(&st.fired[0]), after);
    /* the loop's own hook went on all along */
    assert_true(read_value(&st.turns) >= 5);
    /* a hook not on the loop: nothing */
    ss__evloop_remove_hook(loop, &extra);
}

/* A loop never started is driven from here: its fd says when a turn has
 * work, its timeout when a timer is due, and each turn runs without sleeping
 * (and is refused on a started loop). */
static void test_driven_from_outside(void **unused)
{
    (void)unused;
    state_reset();
    assert_int_equal(ss__evloop_run_ready(loop), -EINVAL);
    ss__evloop *l;
    assert_int_equal(ss__evloop_new(&l), 0);
    ss__evhook extra = {.fn = on_extra, .arg = (void *)(intptr_t)0};
    ss__evloop_add_hook(l, &extra);
    struct pollfd p = {.fd = ss__evloop_fd(l), .events = POLLIN};
    /* the add woke it: a turn has work */
    assert_int_equal(poll(&p, 1, 0), 1);
    assert_int_equal(ss__evloop_run_ready(l), 0);
    assert_int_equal(read_value(&st.fired[0]), 1);
    assert_int_equal(poll(&p, 1, 0), 0);
    assert_int_equal(ss__evloop_timeout_ms(l), -1);

    ss__evtimer t;
    ss__evtimer_init(&t, on_timer, (void *)(intptr_t)1);
    ss__evtimer_set(l, &t, ss__mono_ms() + 50);
    int ms = ss__evloop_timeout_ms(l);
    assert_true(ms >= 0 && ms <= 50);
    while (read_value(&st.fired[1]) == 0) {
        poll(&p, 1, ss__evloop_timeout_ms(l));
        assert_int_equal(ss__evloop_run_ready(l), 0);
    }
    assert_int_equal(ss__evloop_timeout_ms(l), -1);
    /* a pass on it is a turn run here */
    int before = read_value(&st.fired[0]);
    assert_int_equal(ss__evloop_pass(l), 0);
    assert_int_equal(read_value(&st.fired[0]), before + 1);
    ss__evloop_remove_hook(l, &extra);
    ss__evloop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_callbacks),
        cmocka_unit_test(test_mask_zero_leaves_epoll),
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_stop_runs_hooks),
        cmocka_unit_test(test_hooks_while_running),
        cmocka_unit_test(test_driven_from_outside),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
