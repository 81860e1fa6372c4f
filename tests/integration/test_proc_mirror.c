/*
 * test_proc_mirror.c: process mode, forked mirrors (ss_procbuf_fork). Long lines
 * from concurrent children never mix and are never lost; warnings and errors stay
 * one record; close and close_error; stdout/stderr capture; a child killed mid-line
 * or mid-record keeps what it completed and is reported with its signal.
 *
 * A forked child uses only the mirror API and ends with _exit(): it never returns
 * into cmocka. A child that reports a failure does so through its exit code.
 */
#include <pthread.h>
#include <sys/wait.h>

#include "proc_test.h"

#define KIB 1024u

/* Fork a mirror child; in the child, run body(m, arg) and _exit with its result. */
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
    assert_true(pid > 0);
    return pid;
}

static int write_str(ss_mirror *m, const char *s)
{
    return ss_mirror_write(m, s, strlen(s));
}

/* --- long lines from concurrent children --- */

#define NCHILD 8
#define NLINES 16
#define LONG_LINE (100u * KIB) /* bytes of text, the newline not included */

/* The fill byte of child c's line i: uniform within a line, different between
 * neighbours, so a record holding bytes of two lines cannot pass the check. */
static char fill_of(int c, int i)
{
    return (char)('a' + (c * 7 + i * 3) % 26);
}

struct long_arg {
    int child;
    int go_fd;    /* all children start together when this pipe closes... */
    int go_wr_fd; /* ...so each child closes its copy of the write end */
};

/* Line i: "c<child> l<i> " then the fill up to LONG_LINE bytes, then "\n". Odd lines
 * are written in several pieces of odd sizes (the line assembler in the child must
 * join them); even lines in one write. A warning after line 5, an error after 11. */
static int long_lines_body(ss_mirror *m, void *p)
{
    struct long_arg *a = p;
    char c;
    close(a->go_wr_fd);
    if (read(a->go_fd, &c, 1) != 0)
        return 10;
    char *line = malloc(LONG_LINE + 1);
    if (line == NULL)
        return 11;
    for (int i = 0; i < NLINES; i++) {
        int head = snprintf(line, LONG_LINE, "c%d l%d ", a->child, i);
        memset(line + head, fill_of(a->child, i), LONG_LINE - (size_t)head);
        line[LONG_LINE] = '\n';
        if (i % 2 == 0) {
            if (ss_mirror_write(m, line, LONG_LINE + 1) != 0)
                return 12;
        } else {
            static const size_t cuts[] = {1, 3, 4093, 40000, 777};
            size_t off = 0;
            for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
                if (ss_mirror_write(m, line + off, cuts[k]) != 0)
                    return 13;
                off += cuts[k];
            }
            if (ss_mirror_write(m, line + off, LONG_LINE + 1 - off) != 0)
                return 14;
        }
        char text[96];
        if (i == 5) {
            int n = snprintf(text, sizeof(text), "warning from c%d\n  second line", a->child);
            if (ss_mirror_append(m, SS_KIND_WARNING, text, (size_t)n) != 0)
                return 15;
        }
        if (i == 11) {
            int n = snprintf(text, sizeof(text), "error from c%d\nTraceback:\n  here", a->child);
            if (ss_mirror_append(m, SS_KIND_ERROR, text, (size_t)n) != 0)
                return 16;
        }
    }
    free(line);
    return ss_mirror_close(m) == 0 ? 0 : 17;
}

/* Check one long line record of child c: returns its index. */
static int check_long_line(const ss_record *r, int c)
{
    int rc, i, used = 0;
    assert_int_equal(r->kind, SS_KIND_LINE);
    assert_int_equal(r->flags & (SS_REC_CONTINUED | SS_REC_STDERR | SS_REC_EXIT), 0);
    assert_int_equal(r->len, LONG_LINE);
    assert_int_equal(sscanf(r->text, "c%d l%d %n", &rc, &i, &used), 2);
    assert_int_equal(rc, c);
    assert_true(i >= 0 && i < NLINES);
    char f = fill_of(c, i);
    for (size_t k = (size_t)used; k < r->len; k++)
        if (r->text[k] != f)
            fail_msg("c%d line %d mixed at byte %zu: '%c' instead of '%c'", c, i, k, r->text[k], f);
    return i;
}

static void test_long_lines_concurrent(void **state)
{
    (void)state;
    /* every record fits: NCHILD * (NLINES + warning + error + exit) */
    ss_procbuf *pb = proc_new(NCHILD * (NLINES + 3) + 10, 256 * KIB, 0);
    ss_records set = SS_RECORDS_INIT;
    int go[2], ids[NCHILD];
    struct long_arg args[NCHILD];
    char name[NCHILD][16];

    assert_int_equal(pipe2(go, O_CLOEXEC), 0);
    for (int c = 0; c < NCHILD; c++) {
        snprintf(name[c], sizeof(name[c]), "c%d", c);
        args[c] = (struct long_arg){.child = c, .go_fd = go[0], .go_wr_fd = go[1]};
        fork_child(pb, name[c], 0, long_lines_body, &args[c], &ids[c]);
    }
    close(go[1]); /* go */
    close(go[0]);
    assert_wait_all(pb);
    proc_read_all(pb, &set);

    ss_linebuf_stats stats;
    assert_int_equal(ss_linebuf_get_stats(ss_procbuf_linebuf(pb), &stats), 0);
    assert_int_equal(stats.shed, 0);
    assert_int_equal(stats.cut, 0);
    assert_int_equal(set.count, NCHILD * (NLINES + 3));

    for (int c = 0; c < NCHILD; c++) {
        size_t *idx;
        size_t n = by_source(&set, name[c], &idx);
        assert_int_equal(n, NLINES + 3);
        /* per-child order: lines 0..5, warning, lines 6..11, error, 12..15, exit */
        int line = 0;
        for (size_t k = 0; k + 1 < n; k++) {
            const ss_record *r = &set.items[idx[k]];
            char want[96];
            if (k == 6) {
                snprintf(want, sizeof(want), "warning from c%d\n  second line", c);
                assert_true(rec_is(r, want));
                assert_int_equal(r->kind, SS_KIND_WARNING);
                assert_int_equal(r->flags & SS_REC_EXIT, 0);
            } else if (k == 13) {
                snprintf(want, sizeof(want), "error from c%d\nTraceback:\n  here", c);
                assert_true(rec_is(r, want));
                assert_int_equal(r->kind, SS_KIND_ERROR);
                assert_int_equal(r->flags & SS_REC_EXIT, 0);
            } else {
                assert_int_equal(check_long_line(r, c), line);
                line++;
            }
        }
        assert_int_equal(line, NLINES);
        const ss_record *ex = exit_record(&set, name[c]);
        assert_ptr_equal(ex, &set.items[idx[n - 1]]);
        assert_int_equal(ex->kind, SS_KIND_LINE);
        assert_true(rec_contains(ex, "exited with status 0"));
        free(idx);

        ss_child_status st = child_status(pb, ids[c]);
        assert_string_equal(st.name, name[c]);
        assert_true(st.finished && st.exited);
        assert_int_equal(st.exit_code, 0);
        assert_true(st.mirror_closed);
    }
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* --- close, close_error, not closing --- */

static int close_body(ss_mirror *m, void *arg)
{
    (void)arg;
    if (write_str(m, "first\nsecond\r\nno newline, sent by close") != 0)
        return 10;
    return ss_mirror_close(m) == 0 ? 0 : 11;
}

static int close_error_body(ss_mirror *m, void *arg)
{
    (void)arg;
    if (write_str(m, "before the error\npartial then error") != 0)
        return 10;
    static const char err[] = "Traceback (most recent call last):\n  boom\nValueError: x";
    return ss_mirror_close_error(m, err, sizeof(err) - 1) == 0 ? 0 : 11;
}

static int no_close_body(ss_mirror *m, void *arg)
{
    (void)arg;
    if (write_str(m, "sent\nkept only in the child") != 0)
        return 10;
    return 0; /* _exit without ss_mirror_close */
}

static void test_close_variants(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    int id_close, id_err, id_none;

    fork_child(pb, "closer", 0, close_body, NULL, &id_close);
    fork_child(pb, "thrower", 0, close_error_body, NULL, &id_err);
    fork_child(pb, "forgetter", 0, no_close_body, NULL, &id_none);
    assert_wait_all(pb);
    proc_read_all(pb, &set);

    size_t *idx;
    /* clean close: the partial line is sent, the end is a plain line */
    assert_int_equal(by_source(&set, "closer", &idx), 4);
    assert_true(rec_is(&set.items[idx[0]], "first"));
    assert_true(rec_is(&set.items[idx[1]], "second"));
    assert_true(rec_is(&set.items[idx[2]], "no newline, sent by close"));
    free(idx);
    const ss_record *ex = exit_record(&set, "closer");
    assert_int_equal(ex->kind, SS_KIND_LINE);
    assert_true(rec_contains(ex, "exited with status 0"));
    ss_child_status st = child_status(pb, id_close);
    assert_true(st.mirror_closed);
    assert_true(st.exited);
    assert_int_equal(st.exit_code, 0);

    /* close_error: the error is one record, of kind error, after the partial line */
    assert_int_equal(by_source(&set, "thrower", &idx), 4);
    assert_true(rec_is(&set.items[idx[0]], "before the error"));
    assert_true(rec_is(&set.items[idx[1]], "partial then error"));
    const ss_record *err = &set.items[idx[2]];
    assert_true(rec_is(err, "Traceback (most recent call last):\n  boom\nValueError: x"));
    assert_int_equal(err->kind, SS_KIND_ERROR);
    assert_int_equal(err->flags & SS_REC_EXIT, 0);
    free(idx);
    ex = exit_record(&set, "thrower");
    assert_true(rec_contains(ex, "exited with status 0"));
    assert_false(rec_contains(ex, "did not close"));
    st = child_status(pb, id_err);
    /* close_error closes the mirror too */
    assert_true(st.mirror_closed);
    assert_true(st.exited);
    assert_int_equal(st.exit_code, 0);

    /* no close: the complete line is kept, the exit is an error saying so */
    assert_int_equal(by_source(&set, "forgetter", &idx), 2);
    assert_true(rec_is(&set.items[idx[0]], "sent"));
    free(idx);
    ex = exit_record(&set, "forgetter");
    assert_int_equal(ex->kind, SS_KIND_ERROR);
    assert_true(rec_contains(ex, "exited with status 0"));
    assert_true(rec_contains(ex, "did not close its mirror"));
    st = child_status(pb, id_none);
    assert_false(st.mirror_closed);
    assert_true(st.exited);

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* A mirror child ending with a failure code: the exit record is an error. */
static int fail_body(ss_mirror *m, void *arg)
{
    (void)arg;
    write_str(m, "about to fail\n");
    ss_mirror_close(m);
    return 7;
}

static void test_mirror_exit_code(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    int id;

    pid_t pid = fork_child(pb, "failing", 0, fail_body, NULL, &id);
    assert_wait_all(pb);
    proc_read_all(pb, &set);
    find_one(&set, "failing", "about to fail");
    const ss_record *ex = exit_record(&set, "failing");
    assert_int_equal(ex->kind, SS_KIND_ERROR);
    assert_true(rec_contains(ex, "exited with status 7"));
    ss_child_status st = child_status(pb, id);
    assert_int_equal(st.pid, pid);
    assert_true(st.exited);
    assert_int_equal(st.exit_code, 7);
    assert_true(st.mirror_closed);
    /* reaped by the library */
    assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* --- stdout/stderr capture in a forked child --- */

static int capture_body(ss_mirror *m, void *arg)
{
    (void)arg;
    printf("from printf %d\n", 1);
    fprintf(stderr, "from stderr\n");
    printf("stdout tail without newline");
    fflush(stdout);
    fflush(stderr);
    if (write_str(m, "via mirror\n") != 0)
        return 10;
    return ss_mirror_close(m) == 0 ? 0 : 11;
}

static void test_capture_stdio(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;

    fork_child(pb, "both", SS_PROC_CAPTURE_STDOUT | SS_PROC_CAPTURE_STDERR, capture_body, NULL,
               NULL);
    assert_wait_all(pb);
    proc_read_all(pb, &set);

    const ss_record *r = find_one(&set, "both", "from printf 1");
    assert_int_equal(r->flags & SS_REC_STDERR, 0);
    r = find_one(&set, "both", "from stderr");
    assert_true(r->flags & SS_REC_STDERR);
    find_one(&set, "both", "stdout tail without newline");
    assert_int_equal(find_one(&set, "both", "via mirror")->flags & SS_REC_STDERR, 0);
    const ss_record *ex = exit_record(&set, "both");
    assert_int_equal(ex->kind, SS_KIND_LINE);
    size_t *idx;
    assert_int_equal(by_source(&set, "both", &idx), 5);
    free(idx);

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* Only stdout captured: stderr stays ours (nothing of it becomes a record). */
static int capture_stdout_only_body(ss_mirror *m, void *arg)
{
    (void)arg;
    printf("captured stdout\n");
    fflush(stdout);
    /* stderr is the test's own: a short note appears in the test log */
    fprintf(stderr, "[ note     ] uncaptured stderr of a mirror child\n");
    return ss_mirror_close(m) == 0 ? 0 : 11;
}

static void test_capture_stdout_only(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;

    fork_child(pb, "outonly", SS_PROC_CAPTURE_STDOUT, capture_stdout_only_body, NULL, NULL);
    assert_wait_all(pb);
    proc_read_all(pb, &set);
    find_one(&set, "outonly", "captured stdout");
    assert_false(any_contains(&set, "outonly", "uncaptured stderr"));
    exit_record(&set, "outonly");
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* --- killed children --- */

struct kill_arg {
    int ready_fd;
};

/* Complete lines, then a partial line; tell the parent, then wait to be killed. */
static int killed_mid_line_body(ss_mirror *m, void *p)
{
    struct kill_arg *a = p;
    char line[32];
    for (int i = 0; i < 10; i++) {
        int n = snprintf(line, sizeof(line), "complete %d\n", i);
        if (ss_mirror_write(m, line, (size_t)n) != 0)
            return 10;
    }
    if (write_str(m, "partial, never ended") != 0)
        return 11;
    if (write(a->ready_fd, "r", 1) != 1)
        return 12;
    for (;;)
        pause();
}

static void test_killed_mid_line(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    int ready[2], id;

    assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
    struct kill_arg arg = {.ready_fd = ready[1]};
    pid_t pid = fork_child(pb, "victim", 0, killed_mid_line_body, &arg, &id);
    close(ready[1]);
    read_ready(ready[0], 1);
    close(ready[0]);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_wait_all(pb);
    proc_read_all(pb, &set);

    size_t *idx;
    size_t n = by_source(&set, "victim", &idx);
    /* ten lines and the exit; the partial line lived in the child (it may have been
     * sent, as a record of its own, but never mixed with anything) */
    assert_true(n == 11 || n == 12);
    for (int i = 0; i < 10; i++) {
        char want[32];
        snprintf(want, sizeof(want), "complete %d", i);
        assert_true(rec_is(&set.items[idx[i]], want));
    }
    if (n == 12)
        assert_true(rec_is(&set.items[idx[10]], "partial, never ended"));
    free(idx);
    const ss_record *ex = exit_record(&set, "victim");
    assert_int_equal(ex->kind, SS_KIND_ERROR);
    assert_true(rec_contains(ex, "SIGKILL") || rec_contains(ex, "signal 9"));

    ss_child_status st = child_status(pb, id);
    assert_true(st.finished);
    assert_false(st.exited);
    assert_int_equal(st.term_signal, SIGKILL);
    assert_false(st.mirror_closed);
    assert_int_equal(count_children(false), 0);

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

#define BIG_LINE (150u * KIB)

/* Long lines forever, each in one write: the kill lands in the middle of sending a
 * record. What arrived is whole; a cut record never becomes a record. */
static int killed_mid_record_body(ss_mirror *m, void *p)
{
    struct kill_arg *a = p;
    char *line = malloc(BIG_LINE + 1);
    if (line == NULL)
        return 10;
    for (int i = 0;; i++) {
        int head = snprintf(line, BIG_LINE, "big %d ", i);
        memset(line + head, 'a' + i % 26, BIG_LINE - (size_t)head);
        line[BIG_LINE] = '\n';
        if (ss_mirror_write(m, line, BIG_LINE + 1) != 0)
            return 11;
        if (i == 2 && write(a->ready_fd, "r", 1) != 1)
            return 12;
    }
}

static void test_killed_mid_record(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        ss_procbuf *pb = proc_new(1000, 256 * KIB, 0);
        ss_records set = SS_RECORDS_INIT;
        int ready[2], id;

        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        struct kill_arg arg = {.ready_fd = ready[1]};
        pid_t pid = fork_child(pb, "big", 0, killed_mid_record_body, &arg, &id);
        close(ready[1]);
        read_ready(ready[0], 1);
        close(ready[0]);
        sleep_ms(round * 3);
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_wait_all(pb);
        proc_read_all(pb, &set);

        size_t *idx;
        size_t n = by_source(&set, "big", &idx);
        /* A record cut by the kill may be reported, as an error record of its own,
         * just before the exit record: explicit, not a silent loss. */
        if (n >= 2 && set.items[idx[n - 2]].kind == SS_KIND_ERROR) {
            assert_true(rec_contains(&set.items[idx[n - 2]], "ended inside a record"));
            idx[n - 2] = idx[n - 1];
            n--;
        }
        assert_true(n >= 4); /* three lines were sent before "ready", then the exit */
        for (size_t k = 0; k + 1 < n; k++) {
            const ss_record *r = &set.items[idx[k]];
            int i, used = 0;
            assert_int_equal(r->flags & (SS_REC_CONTINUED | SS_REC_EXIT), 0);
            assert_int_equal(r->len, BIG_LINE);
            assert_int_equal(sscanf(r->text, "big %d %n", &i, &used), 1);
            assert_int_equal(i, (int)k);
            for (size_t b = (size_t)used; b < r->len; b++)
                if (r->text[b] != 'a' + i % 26)
                    fail_msg("record %d is not whole at byte %zu", i, b);
        }
        free(idx);
        const ss_record *ex = exit_record(&set, "big");
        assert_int_equal(ex->kind, SS_KIND_ERROR);
        assert_true(rec_contains(ex, "SIGKILL") || rec_contains(ex, "signal 9"));
        assert_int_equal(child_status(pb, id).term_signal, SIGKILL);

        ss_records_clear(&set);
        ss_procbuf_free(pb);
    }
}

/* A child that dies by a signal of its own. SIGUSR1, because cmocka and the
 * sanitizers catch the crash signals (SIGSEGV would come back as SIGABRT). */
static int crash_body(ss_mirror *m, void *arg)
{
    (void)arg;
    write_str(m, "before the crash\n");
    signal(SIGUSR1, SIG_DFL);
    raise(SIGUSR1);
    return 10;
}

static void test_crashed_child(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    int id;

    fork_child(pb, "crasher", 0, crash_body, NULL, &id);
    assert_wait_all(pb);
    proc_read_all(pb, &set);
    find_one(&set, "crasher", "before the crash");
    const ss_record *ex = exit_record(&set, "crasher");
    assert_int_equal(ex->kind, SS_KIND_ERROR);
    assert_true(rec_contains(ex, "SIGUSR1") || rec_contains(ex, "signal 10"));
    ss_child_status st = child_status(pb, id);
    assert_false(st.exited);
    assert_int_equal(st.term_signal, SIGUSR1);

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* --- fds --- */

/* Report the fds an exec'ed program would inherit, through the mirror. */
static int fds_body(ss_mirror *m, void *arg)
{
    (void)arg;
    char line[512];
    int n = snprintf(line, sizeof(line), "inheritable:");
    inheritable_fds(line + n, sizeof(line) - (size_t)n, -1, -1);
    size_t len = strlen(line);
    line[len] = '\n';
    if (ss_mirror_write(m, line, len + 1) != 0)
        return 10;
    return ss_mirror_close(m) == 0 ? 0 : 11;
}

/* A forked child inherits every fd of the parent, but the library's own (other
 * children's channels, the collector's fds, its mirror socket) are close-on-exec,
 * so a program it execs gets none of them. */
static void test_forked_fds_cloexec(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    char *sleeper[] = {"sleep", "1000", NULL};
    ss_spawn_opts bg = {.argv = sleeper, .name = "bg", .flags = SS_PROC_NULL_STDIN};
    assert_int_equal(ss_procbuf_spawn(pb, &bg, NULL), 0);
    char ours[512], want[600];
    inheritable_fds(ours, sizeof(ours), -1, -1);
    snprintf(want, sizeof(want), "inheritable:%s", ours);

    int id;
    fork_child(pb, "fds", SS_PROC_CAPTURE_STDOUT | SS_PROC_CAPTURE_STDERR, fds_body, NULL, &id);
    for (bool done = false; !done;) {
        ss_linebuf_stats st;
        assert_int_equal(ss_linebuf_get_stats(ss_procbuf_linebuf(pb), &st), 0);
        done = child_status(pb, id).finished;
        if (!done)
            assert_int_equal(ss_linebuf_wait(ss_procbuf_linebuf(pb), st.last_seq, PROC_WAIT_MS), 0);
    }
    proc_read_all(pb, &set);
    /* 1 and 2 are the capture pipes, on purpose inheritable; nothing else is new */
    find_one(&set, "fds", want);
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* --- concurrent forks --- */

#define RACE_ROUNDS 40

struct forker {
    ss_procbuf *pb;
    int go_fd, go_wr_fd;
    int ids[RACE_ROUNDS];
    int failed;
};

static int hold_body(ss_mirror *m, void *p)
{
    struct forker *f = p;
    char c;
    close(f->go_wr_fd);
    int r = read(f->go_fd, &c, 1) == 0 ? 0 : 10;
    ss_mirror_close(m);
    return r;
}

/* Forks children that live until the test ends. */
static void *fork_holders(void *p)
{
    struct forker *f = p;
    for (int i = 0; i < RACE_ROUNDS; i++) {
        ss_mirror *m = NULL;
        pid_t pid = ss_procbuf_fork(f->pb, "holder", 0, &m, &f->ids[i]);
        if (pid == 0)
            _exit(m ? hold_body(m, f) : 99);
        if (pid < 0)
            f->failed++;
    }
    return NULL;
}

/* Forks children that end at once. */
static void *fork_quick(void *p)
{
    struct forker *f = p;
    for (int i = 0; i < RACE_ROUNDS; i++) {
        ss_mirror *m = NULL;
        pid_t pid = ss_procbuf_fork(f->pb, "quick", 0, &m, &f->ids[i]);
        if (pid == 0)
            _exit(m && ss_mirror_close(m) == 0 ? 0 : 99);
        if (pid < 0)
            f->failed++;
    }
    return NULL;
}

/*
 * ss_procbuf_fork from two threads at once: a child forked by one thread must not
 * inherit the other thread's child's end of its channel, or that child would stay
 * "running" until the first one ends. The holders live on; every quick child must
 * finish regardless.
 */
static void test_concurrent_forks(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(1000, 0, 0);
    int go[2];
    assert_int_equal(pipe2(go, O_CLOEXEC), 0);
    struct forker holders = {.pb = pb, .go_fd = go[0], .go_wr_fd = go[1]};
    struct forker quick = {.pb = pb};
    pthread_t th[2];

    flush_before_fork();
    assert_int_equal(pthread_create(&th[0], NULL, fork_holders, &holders), 0);
    assert_int_equal(pthread_create(&th[1], NULL, fork_quick, &quick), 0);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    assert_int_equal(holders.failed, 0);
    assert_int_equal(quick.failed, 0);

    /* all quick children finish while the holders still run */
    ss_linebuf *lb = ss_procbuf_linebuf(pb);
    for (int i = 0; i < RACE_ROUNDS; i++) {
        while (!child_status(pb, quick.ids[i]).finished) {
            ss_linebuf_stats st;
            assert_int_equal(ss_linebuf_get_stats(lb, &st), 0);
            if (child_status(pb, quick.ids[i]).finished)
                break;
            int r = ss_linebuf_wait(lb, st.last_seq, PROC_WAIT_MS);
            if (r != 0) {
                ss_child_status qs = child_status(pb, quick.ids[i]);
                fail_msg("quick child %d (id %d, pid %d) not finished while the holders run "
                         "(exited: %d, exit code %d: its channel is held open elsewhere)",
                         i, quick.ids[i], (int)qs.pid, qs.exited, qs.exit_code);
            }
        }
    }
    assert_int_equal(ss_procbuf_running(pb), RACE_ROUNDS);
    close(go[1]);
    close(go[0]);
    assert_wait_all(pb);
    for (int i = 0; i < RACE_ROUNDS; i++) {
        ss_child_status st = child_status(pb, holders.ids[i]);
        assert_true(st.exited);
        assert_int_equal(st.exit_code, 0);
        assert_true(st.mirror_closed);
    }
    ss_procbuf_free(pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_lines_concurrent), cmocka_unit_test(test_close_variants),
        cmocka_unit_test(test_mirror_exit_code),      cmocka_unit_test(test_capture_stdio),
        cmocka_unit_test(test_capture_stdout_only),   cmocka_unit_test(test_killed_mid_line),
        cmocka_unit_test(test_killed_mid_record),     cmocka_unit_test(test_crashed_child),
        cmocka_unit_test(test_forked_fds_cloexec),    cmocka_unit_test(test_concurrent_forks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
