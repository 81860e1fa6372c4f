/*
 * test_proc_stop.c: process mode, the end of children. Stop (mirrors see
 * SS_ESTOPPED, commands get SIGTERM then SIGKILL, new children are refused), force
 * stop waking a blocked waiter, reset, many short-lived children without zombies or
 * fd growth, and free with children still running.
 *
 * A forked child uses only the mirror API and ends with _exit(): it never returns
 * into cmocka. It reports how things went through its exit code.
 */
#include <limits.h>
#include <pthread.h>
#include <sys/wait.h>

#include "proc_test.h"

#define EXIT_SAW_STOP 42

static pid_t fork_child(ss_procbuf *pb, const char *name, unsigned flags,
                        int (*body)(ss_mirror *m, void *arg), void *arg, int *ret_id)
{
    ss_mirror *m = NULL;
    flush_before_fork();
    pid_t pid = ss_procbuf_fork(pb, name, flags, &m, ret_id);
    if (pid == 0) {
        if (m == NULL)
            _exit(99);
        _exit(body(m, arg));
    }
    if (pid <= 0)
        fail_msg("ss_procbuf_fork: %d (%s)", (int)pid, ss_strerror((int)pid));
    return pid;
}

struct sync_arg {
    int ready_fd; /* the child writes one byte here when ready */
    int go_fd;    /* ...then reads here until EOF (the parent closes the write end) */
    int go_wr_fd; /* the child's copy of the write end, closed first */
    int id;
};

static int wait_go(struct sync_arg *a)
{
    char c;
    close(a->go_wr_fd);
    if (write(a->ready_fd, "r", 1) != 1)
        return -1;
    return read(a->go_fd, &c, 1) == 0 ? 0 : -1;
}

/* --- stop --- */

/* Write a line and a partial line, say ready, wait until the parent has stopped,
 * then write once more: that write must be refused with SS_ESTOPPED, and the close
 * must still be accepted (sending the partial line). */
static int next_write_body(ss_mirror *m, void *p)
{
    struct sync_arg *a = p;
    char line[32];
    int n = snprintf(line, sizeof(line), "before stop %d\npartial %d", a->id, a->id);
    if (ss_mirror_write(m, line, (size_t)n) != 0)
        return 10;
    if (wait_go(a) != 0)
        return 11;
    int r = ss_mirror_write(m, "after stop\n", 11);
    if (ss_mirror_close(m) != 0)
        return 14;
    return r == SS_ESTOPPED ? EXIT_SAW_STOP : r == 0 ? 12 : 13;
}

static void test_stop_next_write(void **state)
{
    (void)state;
    enum { N = 4 };
    /* a long grace: these children end on their own, well before SIGKILL */
    ss_procbuf *pb = proc_new(100, 0, 10000);
    ss_records set = SS_RECORDS_INIT;
    int ready[2], go[2], ids[N];
    struct sync_arg args[N];
    char name[N][16];

    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    assert_int_equal(pipe2(go, O_CLOEXEC), 0);
    for (int i = 0; i < N; i++) {
        snprintf(name[i], sizeof(name[i]), "m%d", i);
        args[i] =
            (struct sync_arg){.ready_fd = ready[1], .go_fd = go[0], .go_wr_fd = go[1], .id = i};
        fork_child(pb, name[i], 0, next_write_body, &args[i], &ids[i]);
    }
    read_ready(ready[0], N);
    assert_int_equal(ss_procbuf_stop(pb), 0);
    close(go[1]);
    assert_wait_all(pb);
    proc_read_all(pb, &set);

    for (int i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof(want), "before stop %d", i);
        find_one(&set, name[i], want);
        snprintf(want, sizeof(want), "partial %d", i);
        find_one(&set, name[i], want);
        assert_false(any_contains(&set, name[i], "after stop"));
        ss_child_status st = child_status(pb, ids[i]);
        assert_true(st.finished);
        assert_true(st.exited);
        assert_int_equal(st.exit_code, EXIT_SAW_STOP);
        assert_true(st.mirror_closed);
        assert_true(rec_contains(exit_record(&set, name[i]), "exited with status 42"));
    }
    /* no new children until reset */
    char *echo[] = {"echo", "refused", NULL};
    ss_spawn_opts so = {.argv = echo};
    int id = 777;
    assert_int_equal(ss_procbuf_spawn(pb, &so, &id), SS_ESTOPPED);
    assert_int_equal(id, 777);
    flush_before_fork();
    ss_mirror *m = NULL;
    pid_t pid = ss_procbuf_fork(pb, "refused", 0, &m, &id);
    if (pid == 0)
        _exit(0); /* must not happen; never return into cmocka from a child */
    assert_int_equal(pid, SS_ESTOPPED);
    assert_int_equal(id, 777);
    assert_int_equal(ss_procbuf_running(pb), 0);

    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* Loop writing until a write fails: exit 42 on SS_ESTOPPED. */
static int loop_body(ss_mirror *m, void *p)
{
    struct sync_arg *a = p;
    char line[48];
    signal(SIGTERM, SIG_IGN);
    for (unsigned n = 0;; n++) {
        int len = snprintf(line, sizeof(line), "loop %d %u\n", a->id, n);
        int r = ss_mirror_write(m, line, (size_t)len);
        if (r != 0) {
            ss_mirror_close(m);
            return r == SS_ESTOPPED ? EXIT_SAW_STOP : 10;
        }
        if (n == 100 && write(a->ready_fd, "r", 1) != 1)
            return 11;
    }
}

/* Mirrors writing as fast as they can, forked and exec'ed, all see the stop. */
static void test_stop_looping_mirrors(void **state)
{
    (void)state;
    enum { N = 4 };
    ss_procbuf *pb = proc_new(500, 0, 10000);
    ss_linebuf *lb = ss_procbuf_linebuf(pb);
    ss_records set = SS_RECORDS_INIT;
    int ready[2], ids[N];
    struct sync_arg args[N];
    char name[N][16];

    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    for (int i = 0; i < N; i++) {
        snprintf(name[i], sizeof(name[i]), "loop%d", i);
        args[i] = (struct sync_arg){.ready_fd = ready[1], .go_fd = -1, .go_wr_fd = -1, .id = i};
        fork_child(pb, name[i], 0, loop_body, &args[i], &ids[i]);
    }
    char *argv[] = {(char *)proc_mirror_child(), "stop", NULL};
    int exec_id = proc_spawn(pb, "exec-loop", SS_PROC_MIRROR, argv);
    read_ready(ready[0], N);
    /* and the exec'ed one has sent something */
    bool exec_seen = false;
    for (uint64_t cursor = 0; !exec_seen;) {
        assert_int_equal(ss_linebuf_follow(lb, cursor, 0, PROC_WAIT_MS, &set) > 0, true);
        for (size_t i = 0; i < set.count; i++)
            exec_seen |= strcmp(set.items[i].source, "exec-loop") == 0;
        cursor = set.cursor;
    }
    assert_int_equal(ss_procbuf_stop(pb), 0);
    assert_wait_all(pb);

    for (int i = 0; i < N; i++) {
        ss_child_status st = child_status(pb, ids[i]);
        assert_true(st.exited);
        assert_int_equal(st.exit_code, EXIT_SAW_STOP);
    }
    ss_child_status st = child_status(pb, exec_id);
    assert_true(st.exited);
    assert_int_equal(st.exit_code, EXIT_SAW_STOP);
    /* the lines written before the stop were collected, whole */
    proc_read_all(pb, &set);
    for (size_t i = 0; i < set.count; i++) {
        const ss_record *r = &set.items[i];
        if (r->flags & SS_REC_EXIT)
            continue;
        int c, used = 0;
        unsigned n;
        if (strcmp(r->source, "exec-loop") == 0) {
            assert_int_equal(sscanf(r->text, "ready %u%n", &n, &used), 1);
        } else {
            assert_int_equal(sscanf(r->text, "loop %d %u%n", &c, &n, &used), 2);
            assert_true(c >= 0 && c < N);
        }
        assert_int_equal((size_t)used, r->len);
    }
    close(ready[0]);
    close(ready[1]);
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* Ignore SIGTERM (or not), say ready, then sleep until killed, never writing to the
 * mirror (so it never sees the stop). */
static int pause_body(ss_mirror *m, void *p)
{
    struct sync_arg *a = p;
    (void)m;
    signal(SIGTERM, a->id ? SIG_IGN : SIG_DFL);
    if (write(a->ready_fd, "r", 1) != 1)
        return 10;
    for (;;)
        pause();
}

static void assert_killed_by(ss_procbuf *pb, const ss_records *set, int id, const char *name,
                             int sig)
{
    ss_child_status st = child_status(pb, id);
    assert_string_equal(st.name, name);
    assert_true(st.finished);
    assert_false(st.exited);
    if (st.term_signal != sig)
        fail_msg("%s: killed by signal %d, expected %d", name, st.term_signal, sig);
    const ss_record *ex = exit_record(set, name);
    assert_int_equal(ex->kind, SS_KIND_ERROR);
    char num[32];
    snprintf(num, sizeof(num), "signal %d", sig);
    assert_true(rec_contains(ex, sig == SIGKILL ? "SIGKILL" : "SIGTERM") || rec_contains(ex, num));
}

/*
 * Stop with a short grace period. Commands without a mirror get SIGTERM at once (a
 * command that ignores it, SIGKILL at the end of the grace); mirrors are asked
 * cooperatively, never with SIGTERM, so those that do not write and do not end get
 * SIGKILL at the end of the grace.
 */
static void test_stop_signals(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 200);
    ss_records set = SS_RECORDS_INIT;
    int ready[2], polite_id, stubborn_id;
    char *sleeper[] = {"sleep", "1000", NULL};
    char *shell[] = {"sh", "-c", "echo started; exec sleep 1000", NULL};
    /* an ignored signal stays ignored across exec: sleep itself ignores SIGTERM */
    char *deaf[] = {"sh", "-c", "trap '' TERM; echo deaf; exec sleep 1000", NULL};
    char *mirror_cmd[] = {"sh", "-c", "echo mirrored; exec sleep 1000", NULL};
    char *exec_mirror[] = {(char *)proc_mirror_child(), "pause", NULL};

    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    int sleep_id = proc_spawn(pb, "sleeper", SS_PROC_NULL_STDIN, sleeper);
    int shell_id = proc_spawn(pb, "shell", SS_PROC_NULL_STDIN, shell);
    int deaf_id = proc_spawn(pb, "deaf", SS_PROC_NULL_STDIN, deaf);
    int mcmd_id = proc_spawn(pb, "mirror-cmd", SS_PROC_NULL_STDIN | SS_PROC_MIRROR, mirror_cmd);
    int emir_id = proc_spawn(pb, "exec-mirror", SS_PROC_NULL_STDIN | SS_PROC_MIRROR, exec_mirror);
    struct sync_arg polite = {.ready_fd = ready[1], .id = 0};
    struct sync_arg stubborn = {.ready_fd = ready[1], .id = 1};
    fork_child(pb, "polite", 0, pause_body, &polite, &polite_id);
    fork_child(pb, "stubborn", 0, pause_body, &stubborn, &stubborn_id);
    read_ready(ready[0], 2);
    /* the shells have run up to their exec (the trap is set); the exec'ed mirror
     * has sent its line */
    ss_linebuf *lb = ss_procbuf_linebuf(pb);
    for (uint64_t cursor = 0; cursor < 4;) {
        assert_int_equal(ss_linebuf_wait(lb, cursor, PROC_WAIT_MS), 0);
        ss_linebuf_stats st;
        assert_int_equal(ss_linebuf_get_stats(lb, &st), 0);
        cursor = st.last_seq;
    }
    assert_int_equal(ss_procbuf_running(pb), 7);

    assert_int_equal(ss_procbuf_stop(pb), 0);
    assert_wait_all(pb);
    assert_int_equal(ss_procbuf_running(pb), 0);
    proc_read_all(pb, &set);

    find_one(&set, "shell", "started");
    find_one(&set, "deaf", "deaf");
    find_one(&set, "mirror-cmd", "mirrored");
    find_one(&set, "exec-mirror", "paused");
    assert_killed_by(pb, &set, sleep_id, "sleeper", SIGTERM);
    assert_killed_by(pb, &set, shell_id, "shell", SIGTERM);
    assert_killed_by(pb, &set, deaf_id, "deaf", SIGKILL);
    /* given a mirror channel but never opened it: a command without a mirror, or a
     * mirror; the header does not say which, so either signal will do */
    ss_child_status mst = child_status(pb, mcmd_id);
    assert_killed_by(pb, &set, mcmd_id, "mirror-cmd",
                     mst.term_signal == SIGTERM ? SIGTERM : SIGKILL);
    /* an open mirror is asked cooperatively, never sent SIGTERM */
    assert_killed_by(pb, &set, emir_id, "exec-mirror", SIGKILL);
    assert_killed_by(pb, &set, polite_id, "polite", SIGKILL);
    assert_killed_by(pb, &set, stubborn_id, "stubborn", SIGKILL);
    assert_int_equal(count_children(false), 0);

    /* refused until reset; reset clears the records and forgets the children */
    char *echo[] = {"echo", "after reset", NULL};
    ss_spawn_opts so = {.argv = echo, .name = "again"};
    assert_int_equal(ss_procbuf_spawn(pb, &so, NULL), SS_ESTOPPED);
    assert_int_equal(ss_procbuf_reset(pb), 0);
    size_t len = 99;
    assert_int_equal(ss_linebuf_len(ss_procbuf_linebuf(pb), &len), 0);
    assert_int_equal(len, 0);
    ss_child_status gone;
    assert_int_equal(ss_procbuf_child(pb, sleep_id, &gone), -ENOENT);
    assert_int_equal(ss_procbuf_child(pb, stubborn_id, &gone), -ENOENT);
    int id = -1;
    assert_int_equal(ss_procbuf_spawn(pb, &so, &id), 0);
    assert_wait_all(pb);
    proc_read_all(pb, &set);
    assert_int_equal(set.count, 2);
    find_one(&set, "again", "after reset");
    assert_int_equal(exit_record(&set, "again")->kind, SS_KIND_LINE);
    assert_true(child_status(pb, id).finished);

    close(ready[0]);
    close(ready[1]);
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* A negative grace: SIGKILL at once, even for a child that would obey SIGTERM. */
static void test_stop_negative_grace(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, -1);
    char *sleeper[] = {"sleep", "1000", NULL};
    int id = proc_spawn(pb, "sleeper", SS_PROC_NULL_STDIN, sleeper);
    assert_int_equal(ss_procbuf_stop(pb), 0);
    assert_wait_all(pb);
    assert_int_equal(child_status(pb, id).term_signal, SIGKILL);
    ss_procbuf_free(pb);
}

/* --- output held by a process that left the child's group --- */

/* The child exits at once; what it started leaves its process group (setsid),
 * says "ready <pid>" once the child has been reaped, and holds the output. */
static char *escaped_cmd[] = {"sh", "-c",
                              "setsid sh -c 'while kill -0 $0 2>/dev/null; do sleep 0.05; done; "
                              "echo ready $$; exec sleep 1000' $$ & exit 0",
                              NULL};

/* Wait for the "ready <pid>" line; returns the pid of the escaped process. */
static pid_t wait_escaped(ss_procbuf *pb)
{
    ss_linebuf *lb = ss_procbuf_linebuf(pb);
    ss_records set = SS_RECORDS_INIT;
    pid_t pid = 0;
    for (uint64_t cursor = 0; pid == 0;) {
        int n = ss_linebuf_follow(lb, cursor, 0, PROC_WAIT_MS, &set);
        assert_true(n > 0);
        for (size_t i = 0; i < set.count; i++)
            if (sscanf(set.items[i].text, "ready %d", &pid) == 1)
                break;
        cursor = set.cursor;
    }
    ss_records_clear(&set);
    assert_true(pid > 0);
    return pid;
}

/* The end of a child whose output was cut, and its line from before the cut. */
static void assert_cut(ss_procbuf *pb, int id)
{
    ss_records set = SS_RECORDS_INIT;
    ss_child_status st = child_status(pb, id);
    assert_true(st.finished);
    assert_true(st.output_cut);
    assert_true(st.exited);
    assert_int_equal(st.exit_code, 0);
    proc_read_all(pb, &set);
    assert_non_null(strstr(set.items[0].text, "ready "));
    const ss_record *er = exit_record(&set, "escaped");
    assert_string_equal(er->text, "exited with status 0; output held open by another process, cut");
    ss_records_clear(&set);
}

/* A stop must end such a child however long the linger (here: for ever):
 * SIGKILL cannot reach the holder, so its output is cut. */
static void test_stop_escaped_output(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 200);
    int id = proc_spawn(pb, "escaped", SS_PROC_NULL_STDIN, escaped_cmd);
    pid_t held_by = wait_escaped(pb);
    assert_int_equal(ss_procbuf_wait(pb, 0), -ETIMEDOUT);
    assert_int_equal(ss_procbuf_stop(pb), 0);
    assert_wait_all(pb);
    assert_cut(pb, id);
    kill(held_by, SIGKILL);
    ss_procbuf_free(pb);
}

/* Without a stop, linger_ms bounds the wait after the exit. */
static void test_linger(void **state)
{
    (void)state;
    ss_procbuf *pb = NULL;
    ss_procbuf_opts opts = {.buf = {.maxlen = 100}, .linger_ms = 100};
    assert_int_equal(ss_procbuf_new(&pb, &opts), 0);
    int id = proc_spawn(pb, "escaped", SS_PROC_NULL_STDIN, escaped_cmd);
    pid_t held_by = wait_escaped(pb);
    assert_wait_all(pb);
    assert_cut(pb, id);
    kill(held_by, SIGKILL);

    /* a child whose output closes in time is not cut */
    char *quick[] = {"sh", "-c", "(sleep 0.05; echo late) & exit 0", NULL};
    opts.linger_ms = 20000;
    ss_procbuf *pq = NULL;
    assert_int_equal(ss_procbuf_new(&pq, &opts), 0);
    id = proc_spawn(pq, "quick", SS_PROC_NULL_STDIN, quick);
    assert_wait_all(pq);
    assert_false(child_status(pq, id).output_cut);
    ss_records set = SS_RECORDS_INIT;
    proc_read_all(pq, &set);
    find_one(&set, "quick", "late");
    assert_string_equal(exit_record(&set, "quick")->text, "exited with status 0");
    ss_records_clear(&set);
    ss_procbuf_free(pq);
    ss_procbuf_free(pb);
}

/* --- force stop --- */

struct waiter {
    ss_procbuf *pb;
    int result;
};

static void *wait_forever(void *p)
{
    struct waiter *w = p;
    w->result = ss_procbuf_wait(w->pb, -1);
    return NULL;
}

/* Join th, failing (instead of hanging) if it does not end within the bound. */
static void join_bounded(pthread_t th)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += PROC_WAIT_MS / 1000;
    int r = pthread_timedjoin_np(th, NULL, &deadline);
    if (r != 0)
        fail_msg("the waiting thread did not return (%d)", r);
}

static void test_force_stop(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 200);
    char *sleeper[] = {"sleep", "1000", NULL};
    int ready[2];

    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    proc_spawn(pb, "sleeper", SS_PROC_NULL_STDIN, sleeper);
    struct sync_arg stubborn = {.ready_fd = ready[1], .id = 1};
    fork_child(pb, "stubborn", 0, pause_body, &stubborn, NULL);
    read_ready(ready[0], 1);
    assert_int_equal(ss_procbuf_wait(pb, 0), -ETIMEDOUT);

    pthread_t th;
    struct waiter w = {.pb = pb, .result = 1};
    assert_int_equal(pthread_create(&th, NULL, wait_forever, &w), 0);
    sleep_ms(100); /* let it block; the result is the same if it has not yet */
    assert_int_equal(ss_procbuf_force_stop(pb), 0);
    join_bounded(th);
    assert_int_equal(w.result, SS_ESTOPPED);
    /* every later wait returns at once, until reset */
    assert_int_equal(ss_procbuf_wait(pb, PROC_WAIT_MS), SS_ESTOPPED);
    assert_int_equal(ss_procbuf_wait(pb, -1), SS_ESTOPPED);

    /* the children are still stopped and collected */
    poll_until_idle(pb);
    assert_int_equal(count_children(false), 0);
    assert_int_equal(ss_procbuf_wait(pb, 0), SS_ESTOPPED);
    assert_int_equal(ss_procbuf_reset(pb), 0);
    assert_int_equal(ss_procbuf_wait(pb, 0), 0);

    char *echo[] = {"echo", "alive", NULL};
    proc_spawn(pb, "after", 0, echo);
    assert_wait_all(pb);
    ss_records set = SS_RECORDS_INIT;
    proc_read_all(pb, &set);
    find_one(&set, "after", "alive");
    ss_records_clear(&set);
    close(ready[0]);
    close(ready[1]);
    ss_procbuf_free(pb);
}

/* --- reset --- */

static int blocked_body(ss_mirror *m, void *p)
{
    struct sync_arg *a = p;
    if (ss_mirror_write(m, "kept\n", 5) != 0)
        return 10;
    if (wait_go(a) != 0)
        return 11;
    return ss_mirror_close(m) == 0 ? 0 : 12;
}

static void test_reset_busy(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    int ready[2], go[2], id;

    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    assert_int_equal(pipe2(go, O_CLOEXEC), 0);
    struct sync_arg arg = {.ready_fd = ready[1], .go_fd = go[0], .go_wr_fd = go[1]};
    fork_child(pb, "blocked", 0, blocked_body, &arg, &id);
    read_ready(ready[0], 1);
    assert_int_equal(ss_linebuf_wait(ss_procbuf_linebuf(pb), 0, PROC_WAIT_MS), 0);

    assert_int_equal(ss_procbuf_reset(pb), -EBUSY);
    /* a refused reset changes nothing */
    assert_int_equal(ss_procbuf_running(pb), 1);
    assert_false(child_status(pb, id).finished);
    proc_read_all(pb, &set);
    find_one(&set, "blocked", "kept");

    close(go[1]);
    assert_wait_all(pb);
    assert_int_equal(ss_procbuf_reset(pb), 0);
    proc_read_all(pb, &set);
    assert_int_equal(set.count, 0);
    ss_child_status gone;
    assert_int_equal(ss_procbuf_child(pb, id, &gone), -ENOENT);
    assert_int_equal(ss_procbuf_running(pb), 0);

    char *echo[] = {"echo", "fresh", NULL};
    int new_id = proc_spawn(pb, "fresh", 0, echo);
    assert_wait_all(pb);
    proc_read_all(pb, &set);
    assert_int_equal(set.count, 2);
    find_one(&set, "fresh", "fresh");
    assert_true(child_status(pb, new_id).exited);

    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* --- many children: no zombies, no fd growth --- */

static int short_body(ss_mirror *m, void *arg)
{
    (void)arg;
    if (ss_mirror_write(m, "short\n", 6) != 0)
        return 10;
    return ss_mirror_close(m) == 0 ? 0 : 11;
}

static void test_many_children(void **state)
{
    (void)state;
    enum { BATCHES = 6, PER_BATCH = 50 };
    int fds_before = count_fds();
    ss_procbuf *pb = proc_new(1000, 0, 0);
    char *true_argv[] = {"true", NULL};
    char *echo_argv[] = {"sh", "-c", "echo short; echo err >&2", NULL};
    int fds_first = -1;
    int next_id = 0;

    for (int b = 0; b < BATCHES; b++) {
        int ids[PER_BATCH];
        for (int i = 0; i < PER_BATCH; i++) {
            switch (b % 3) {
            case 0:
                ids[i] = proc_spawn(pb, "true", SS_PROC_NULL_STDIN, true_argv);
                break;
            case 1:
                fork_child(pb, "short", 0, short_body, NULL, &ids[i]);
                break;
            default:
                ids[i] = proc_spawn(pb, i % 2 ? "pty" : "echo",
                                    SS_PROC_NULL_STDIN | (i % 2 ? SS_PROC_PTY : 0u), echo_argv);
                break;
            }
            assert_true(ids[i] >= next_id);
            next_id = ids[i] + 1;
        }
        assert_wait_all(pb);
        assert_int_equal(ss_procbuf_running(pb), 0);
        for (int i = 0; i < PER_BATCH; i++) {
            ss_child_status st = child_status(pb, ids[i]);
            assert_true(st.finished && st.exited);
            assert_int_equal(st.exit_code, 0);
        }
        /* reaped: no zombie, no child of ours left at all */
        assert_int_equal(count_children(true), 0);
        assert_int_equal(count_children(false), 0);
        /* the fds of finished children are all closed */
        if (fds_first < 0)
            fds_first = count_fds();
        else
            assert_int_equal(count_fds(), fds_first);
    }
    ss_linebuf_stats stats;
    assert_int_equal(ss_linebuf_get_stats(ss_procbuf_linebuf(pb), &stats), 0);
    /* every child's exit record, the mirrors' and the commands' lines */
    assert_int_equal(stats.written, BATCHES * PER_BATCH + 2 * PER_BATCH * 1 + 2 * PER_BATCH * 2);
    ss_procbuf_free(pb);
    assert_int_equal(count_fds(), fds_before);
}

/* --- free with children running --- */

static void test_free_running(void **state)
{
    (void)state;
    int fds_before = count_fds();
    ss_procbuf *pb = proc_new(100, 0, 0);
    char *sleeper[] = {"sleep", "1000", NULL};
    char *yes[] = {"yes", "flooding the pipe", NULL};
    int ready[2];
    pid_t pids[6];
    int n = 0;

    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    for (int i = 0; i < 2; i++)
        pids[n++] = child_status(pb, proc_spawn(pb, "sleeper", SS_PROC_NULL_STDIN, sleeper)).pid;
    /* output it does not stop writing: free must not wait for the end of it */
    pids[n++] = child_status(pb, proc_spawn(pb, "yes", SS_PROC_NULL_STDIN, yes)).pid;
    pids[n++] = child_status(pb, proc_spawn(pb, "yes-pty", SS_PROC_PTY, yes)).pid;
    struct sync_arg stubborn = {.ready_fd = ready[1], .id = 1};
    for (int i = 0; i < 2; i++)
        pids[n++] = fork_child(pb, "stubborn", 0, pause_body, &stubborn, NULL);
    read_ready(ready[0], 2);
    assert_int_equal(ss_linebuf_wait(ss_procbuf_linebuf(pb), 0, PROC_WAIT_MS), 0);
    assert_int_equal(ss_procbuf_running(pb), n);

    ss_procbuf_free(pb);
    for (int i = 0; i < n; i++) {
        /* neither running nor a zombie: gone */
        assert_int_equal(kill(pids[i], 0), -1);
        assert_int_equal(errno, ESRCH);
    }
    assert_int_equal(count_children(false), 0);
    close(ready[0]);
    close(ready[1]);
    assert_int_equal(count_fds(), fds_before);
}

/* Free right after starting children, before the collector saw anything. */
static void test_free_at_once(void **state)
{
    (void)state;
    int fds_before = count_fds();
    for (int round = 0; round < 10; round++) {
        ss_procbuf *pb = proc_new(100, 0, 0);
        char *sleeper[] = {"sleep", "1000", NULL};
        proc_spawn(pb, "sleeper", SS_PROC_NULL_STDIN, sleeper);
        fork_child(pb, "short", 0, short_body, NULL, NULL);
        ss_procbuf_free(pb);
        assert_int_equal(count_children(false), 0);
    }
    assert_int_equal(count_fds(), fds_before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_next_write),     cmocka_unit_test(test_stop_looping_mirrors),
        cmocka_unit_test(test_stop_signals),        cmocka_unit_test(test_stop_negative_grace),
        cmocka_unit_test(test_stop_escaped_output), cmocka_unit_test(test_linger),
        cmocka_unit_test(test_force_stop),          cmocka_unit_test(test_reset_busy),
        cmocka_unit_test(test_many_children),       cmocka_unit_test(test_free_running),
        cmocka_unit_test(test_free_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
