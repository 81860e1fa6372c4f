/*
 * test_proc.c: process mode, spawned commands. Stdout and stderr records, the exit
 * record, argv/envp/cwd, PATH lookup errors, a pseudo-terminal, stdin handling, and
 * exec'ed mirrors (tests/integration/mirror_child.c through SS_MIRROR_CHANNEL).
 */
#include <limits.h>
#include <sys/stat.h>

#include "proc_test.h"

static void test_stdout_stderr_exit_status(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    char *argv[] = {"/bin/sh", "-c", "echo out1; echo err1 >&2; echo out2; exit 3", NULL};

    int id = proc_spawn(pb, "shell", 0, argv);
    assert_wait_all(pb);
    assert_int_equal(ss_procbuf_running(pb), 0);
    proc_read_all(pb, &set);

    const ss_record *out1 = find_one(&set, "shell", "out1");
    const ss_record *out2 = find_one(&set, "shell", "out2");
    const ss_record *err1 = find_one(&set, "shell", "err1");
    assert_true(out1->seq < out2->seq);
    assert_int_equal(out1->flags & (SS_REC_STDERR | SS_REC_EXIT), 0);
    assert_int_equal(out2->flags & (SS_REC_STDERR | SS_REC_EXIT), 0);
    assert_int_equal(out1->kind, SS_KIND_LINE);
    assert_true(err1->flags & SS_REC_STDERR);
    assert_int_equal(err1->flags & SS_REC_EXIT, 0);

    /* 3 output records and the exit record, nothing else */
    size_t *idx;
    assert_int_equal(by_source(&set, "shell", &idx), 4);
    free(idx);
    const ss_record *ex = exit_record(&set, "shell");
    assert_int_equal(ex->kind, SS_KIND_ERROR);
    assert_true(rec_contains(ex, "exited with status 3"));
    /* every record of the child carries its id + 1: output, stderr, exit */
    assert_int_equal(out1->producer, (uint32_t)id + 1);
    assert_int_equal(err1->producer, (uint32_t)id + 1);
    assert_int_equal(ex->producer, (uint32_t)id + 1);

    ss_child_status st = child_status(pb, id);
    assert_true(st.pid > 0);
    assert_string_equal(st.name, "shell");
    assert_true(st.finished);
    assert_true(st.exited);
    assert_int_equal(st.exit_code, 3);
    assert_int_equal(st.term_signal, 0);

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* Success is a plain line; a trailing unterminated line is delivered; the default
 * name is argv[0]'s base name; ids count up. */
static void test_success_and_default_name(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    char *ok[] = {"/bin/sh", "-c", "echo fine; printf 'no newline'", NULL};
    char *echo[] = {"echo", "from PATH", NULL};

    int id0 = proc_spawn(pb, NULL, 0, ok);
    int id1 = proc_spawn(pb, "second", 0, echo);
    assert_int_not_equal(id0, id1);
    assert_wait_all(pb);
    proc_read_all(pb, &set);

    find_one(&set, "sh", "fine");
    /* no byte lost: the unterminated tail becomes a record when the child ends */
    find_one(&set, "sh", "no newline");
    const ss_record *ex = exit_record(&set, "sh");
    assert_int_equal(ex->kind, SS_KIND_LINE);
    assert_true(rec_contains(ex, "exited with status 0"));
    assert_int_equal(ex->flags & SS_REC_STDERR, 0);

    /* each child's records carry its own id + 1 */
    assert_int_equal(find_one(&set, "sh", "fine")->producer, (uint32_t)id0 + 1);
    assert_int_equal(find_one(&set, "second", "from PATH")->producer, (uint32_t)id1 + 1);
    assert_int_equal(exit_record(&set, "second")->producer, (uint32_t)id1 + 1);
    assert_true(rec_contains(exit_record(&set, "second"), "exited with status 0"));

    ss_child_status st = child_status(pb, id0);
    assert_string_equal(st.name, "sh");
    assert_true(st.finished && st.exited);
    assert_int_equal(st.exit_code, 0);
    assert_false(st.mirror_closed);
    st = child_status(pb, id1);
    assert_true(st.finished && st.exited);

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

static void test_argv_envp_cwd(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    char tmp_real[PATH_MAX], cwd[PATH_MAX];
    assert_non_null(realpath("/tmp", tmp_real));
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(setenv("SS_TEST_PARENT_ONLY", "inherited", 1), 0);

    const char *script =
        "echo \"FOO=$FOO\"; pwd; echo \"arg=$1\"; echo \"parent=$SS_TEST_PARENT_ONLY\"";
    char *argv[] = {"sh", "-c", (char *)script, "sh", "an arg  with spaces", NULL};
    char *envp[] = {"FOO=bar", "PATH=/usr/bin:/bin", NULL};
    ss_spawn_opts so = {.argv = argv, .envp = envp, .cwd = "/tmp", .name = "custom"};
    assert_int_equal(ss_procbuf_spawn(pb, &so, NULL), 0);
    /* envp NULL: the parent's environment; cwd NULL: the parent's directory */
    ss_spawn_opts inherit = {.argv = argv, .name = "inherit"};
    assert_int_equal(ss_procbuf_spawn(pb, &inherit, NULL), 0);
    assert_wait_all(pb);
    proc_read_all(pb, &set);

    find_one(&set, "custom", "FOO=bar");
    find_one(&set, "custom", tmp_real);
    find_one(&set, "custom", "arg=an arg  with spaces");
    find_one(&set, "custom", "parent=");
    assert_int_equal(exit_record(&set, "custom")->kind, SS_KIND_LINE);

    find_one(&set, "inherit", "parent=inherited");
    find_one(&set, "inherit", cwd);

    unsetenv("SS_TEST_PARENT_ONLY");
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

static void test_spawn_errors(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    int id = 12345;

    char *missing[] = {"ss-no-such-program-4711", NULL};
    ss_spawn_opts so = {.argv = missing};
    assert_int_equal(ss_procbuf_spawn(pb, &so, &id), -ENOENT);
    char *missing_abs[] = {"/nonexistent/dir/prog", NULL};
    so.argv = missing_abs;
    assert_int_equal(ss_procbuf_spawn(pb, &so, &id), -ENOENT);
    /* exists, not executable */
    char *not_exec[] = {"/etc/passwd", NULL};
    so.argv = not_exec;
    assert_int_equal(ss_procbuf_spawn(pb, &so, &id), -EACCES);
    ss_spawn_opts no_argv = {.argv = NULL};
    assert_int_equal(ss_procbuf_spawn(pb, &no_argv, &id), -EINVAL);
    char *empty[] = {NULL};
    no_argv.argv = empty;
    assert_int_equal(ss_procbuf_spawn(pb, &no_argv, &id), -EINVAL);
    assert_int_equal(ss_procbuf_spawn(pb, NULL, &id), -EINVAL);

    assert_int_equal(id, 12345); /* written only on success */
    assert_int_equal(ss_procbuf_running(pb), 0);
    assert_int_equal(ss_procbuf_wait(pb, 0), 0);
    assert_int_equal(ss_procbuf_child(pb, 0, &(ss_child_status){0}), -ENOENT);
    assert_int_equal(ss_procbuf_child(pb, -1, &(ss_child_status){0}), -ENOENT);
    proc_read_all(pb, &set);
    assert_int_equal(set.count, 0);
    assert_int_equal(count_children(false), 0);

    /* the buffer still works after the failures */
    char *echo[] = {"echo", "still fine", NULL};
    so = (ss_spawn_opts){.argv = echo, .name = "after"};
    assert_int_equal(ss_procbuf_spawn(pb, &so, &id), 0);
    assert_wait_all(pb);
    proc_read_all(pb, &set);
    find_one(&set, "after", "still fine");

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* A working directory that does not exist: refused, or a child that fails visibly. */
static void test_bad_cwd(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    char *argv[] = {"sh", "-c", "echo should not run", NULL};
    ss_spawn_opts so = {.argv = argv, .cwd = "/nonexistent/dir", .name = "bad-cwd"};
    int id = -1;

    int r = ss_procbuf_spawn(pb, &so, &id);
    assert_wait_all(pb);
    proc_read_all(pb, &set);
    if (r < 0) {
        assert_int_equal(set.count, 0);
    } else {
        assert_int_equal(r, 0);
        assert_false(any_contains(&set, "bad-cwd", "should not run"));
        assert_int_equal(exit_record(&set, "bad-cwd")->kind, SS_KIND_ERROR);
        ss_child_status st = child_status(pb, id);
        assert_true(st.finished);
        assert_false(st.exited && st.exit_code == 0);
    }
    assert_int_equal(count_children(false), 0);
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

static void test_bad_options(void **state)
{
    (void)state;
    ss_procbuf *pb = NULL;
    ss_procbuf_opts opts = {.buf = {.path = "/tmp/ss-proc-not-supported.ring"}};
    assert_int_equal(ss_procbuf_new(&pb, &opts), -EINVAL);
    assert_null(pb);
    assert_int_equal(access("/tmp/ss-proc-not-supported.ring", F_OK), -1);
    ss_procbuf_opts bad_buf = {.buf = {.max_line = (size_t)1 << 40}};
    assert_int_equal(ss_procbuf_new(&pb, &bad_buf), -EINVAL);
    assert_null(pb);
    ss_procbuf_free(NULL);
    assert_int_equal(ss_mirror_close(NULL), 0);
    assert_int_equal(ss_mirror_close_error(NULL, "x", 1), 0);

    /* NULL options: every default */
    assert_int_equal(ss_procbuf_new(&pb, NULL), 0);
    assert_int_equal(ss_linebuf_maxlen(ss_procbuf_linebuf(pb)), SS_LINEBUF_DEFAULT_MAXLEN);
    ss_procbuf_free(pb);
}

static void test_pty(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    char *argv[] = {"sh", "-c", "if test -t 1; then echo tty; else echo notty; fi; echo merged >&2",
                    NULL};

    ss_spawn_opts pty = {.argv = argv, .name = "pty", .flags = SS_PROC_PTY};
    ss_spawn_opts pipes = {.argv = argv, .name = "pipes"};
    assert_int_equal(ss_procbuf_spawn(pb, &pty, NULL), 0);
    assert_int_equal(ss_procbuf_spawn(pb, &pipes, NULL), 0);
    assert_wait_all(pb);
    proc_read_all(pb, &set);

    /* the terminal's "\r\n" ends the line: no '\r' left in the text */
    find_one(&set, "pty", "tty");
    find_one(&set, "pty", "merged");
    assert_true(rec_contains(exit_record(&set, "pty"), "exited with status 0"));

    find_one(&set, "pipes", "notty");
    assert_true(find_one(&set, "pipes", "merged")->flags & SS_REC_STDERR);

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/*
 * SS_PROC_NULL_STDIN: `cat` reads /dev/null and ends at once. Without it, cat reads
 * our stdin, which the test makes a pipe held open (so a broken flag hangs cat and
 * the bounded wait fails) and then feeds and closes.
 */
static void test_stdin(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    char *cat[] = {"cat", NULL};
    int p[2];

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    int saved_stdin = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 10);
    assert_true(saved_stdin >= 0);
    assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
    close(p[0]);

    ss_spawn_opts null_in = {.argv = cat, .name = "null-cat", .flags = SS_PROC_NULL_STDIN};
    int r_null = ss_procbuf_spawn(pb, &null_in, NULL);
    int r_wait = r_null == 0 ? ss_procbuf_wait(pb, PROC_WAIT_MS) : r_null;

    ss_spawn_opts inherit = {.argv = cat, .name = "our-cat"};
    int r_inh = ss_procbuf_spawn(pb, &inherit, NULL);
    ssize_t w = write(p[1], "fed through stdin\n", 18);
    close(p[1]);

    /* stdin back before any assertion can end the test */
    assert_int_equal(dup2(saved_stdin, STDIN_FILENO), STDIN_FILENO);
    close(saved_stdin);
    assert_int_equal(r_null, 0);
    assert_int_equal(r_wait, 0);
    assert_int_equal(r_inh, 0);
    assert_int_equal(w, 18);
    assert_wait_all(pb);
    proc_read_all(pb, &set);

    size_t *idx;
    assert_int_equal(by_source(&set, "null-cat", &idx), 1); /* only its exit record */
    free(idx);
    assert_int_equal(exit_record(&set, "null-cat")->kind, SS_KIND_LINE);
    find_one(&set, "our-cat", "fed through stdin");
    assert_int_equal(exit_record(&set, "our-cat")->kind, SS_KIND_LINE);

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* A child writes many lines on stdout and stderr: none lost, each stream in order. */
static void test_spawn_volume(void **state)
{
    (void)state;
    enum { LINES = 3000 };
    ss_procbuf *pb = proc_new(2 * LINES + 10, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    char *argv[] = {"sh", "-c",
                    "i=0; while [ $i -lt 3000 ]; do echo \"o $i\"; echo \"e $i\" >&2; "
                    "i=$((i+1)); done",
                    NULL};

    proc_spawn(pb, "loud", 0, argv);
    assert_wait_all(pb);
    proc_read_all(pb, &set);
    int next_o = 0, next_e = 0;
    for (size_t i = 0; i < set.count; i++) {
        const ss_record *r = &set.items[i];
        if (r->flags & SS_REC_EXIT)
            continue;
        char c;
        int n, used = 0;
        assert_int_equal(sscanf(r->text, "%c %d%n", &c, &n, &used), 2);
        assert_int_equal((size_t)used, r->len);
        if (c == 'o') {
            assert_int_equal(r->flags & SS_REC_STDERR, 0);
            assert_int_equal(n, next_o++);
        } else {
            assert_int_equal(c, 'e');
            assert_true(r->flags & SS_REC_STDERR);
            assert_int_equal(n, next_e++);
        }
    }
    assert_int_equal(next_o, LINES);
    assert_int_equal(next_e, LINES);
    exit_record(&set, "loud");
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* --- exec'ed mirrors (mirror_child.c) --- */

static void test_exec_mirror(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    char *argv[] = {(char *)proc_mirror_child(), "lines", NULL};

    int id = proc_spawn(pb, "exec-mirror", SS_PROC_MIRROR, argv);
    assert_wait_all(pb);
    proc_read_all(pb, &set);

    const ss_record *l1 = find_one(&set, "exec-mirror", "exec line 1");
    const ss_record *l2 = find_one(&set, "exec-mirror", "exec line 2, in pieces");
    const ss_record *warn = find_one(&set, "exec-mirror", "careful\nwith details");
    const ss_record *tail = find_one(&set, "exec-mirror", "tail sent by close");
    assert_true(l1->seq < l2->seq && l2->seq < warn->seq && warn->seq < tail->seq);
    assert_int_equal(l1->kind, SS_KIND_LINE);
    assert_int_equal(warn->kind, SS_KIND_WARNING);
    assert_int_equal(l1->flags & (SS_REC_STDERR | SS_REC_EXIT), 0);
    /* its ordinary stdout is still read */
    find_one(&set, "exec-mirror", "plain stdout");
    const ss_record *ex = exit_record(&set, "exec-mirror");
    assert_int_equal(ex->kind, SS_KIND_LINE);
    assert_true(rec_contains(ex, "exited with status 0"));

    ss_child_status st = child_status(pb, id);
    assert_true(st.finished && st.exited);
    assert_int_equal(st.exit_code, 0);
    assert_true(st.mirror_closed);

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* The child names its mirror records itself; a caller's envp still gets the channel. */
static void test_exec_mirror_source_and_envp(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    char *argv[] = {(char *)proc_mirror_child(), "lines", "own-source", NULL};
    char *envp[] = {"PATH=/usr/bin:/bin", "SS_TEST_MARK=envp-honoured", NULL};

    ss_spawn_opts so = {.argv = argv, .envp = envp, .name = "given", .flags = SS_PROC_MIRROR};
    int id = -1;
    assert_int_equal(ss_procbuf_spawn(pb, &so, &id), 0);
    assert_wait_all(pb);
    proc_read_all(pb, &set);

    /* the child names its mirror's records; the child itself keeps its name */
    find_one(&set, "own-source", "exec line 1");
    assert_string_equal(child_status(pb, id).name, "given");
    assert_int_equal(find_one(&set, "own-source", "careful\nwith details")->kind, SS_KIND_WARNING);
    find_one(&set, "given", "plain stdout");
    find_one(&set, "given", "mark=envp-honoured");
    exit_record(&set, "given");
    assert_true(child_status(pb, id).mirror_closed);

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* ss_mirror_open_env() errors, as the child reports them on stdout. */
static void test_exec_mirror_open_errors(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    char *argv[] = {(char *)proc_mirror_child(), "open", NULL};
    char *no_var[] = {"PATH=/usr/bin:/bin", NULL};
    char *garbage[] = {"SS_MIRROR_CHANNEL=garbage", NULL};
    char *bad_fds[] = {"SS_MIRROR_CHANNEL=900,901,65536", NULL};
    char want[64];

    ss_spawn_opts so = {.argv = argv, .envp = no_var, .name = "no-var"};
    assert_int_equal(ss_procbuf_spawn(pb, &so, NULL), 0);
    so = (ss_spawn_opts){.argv = argv, .envp = garbage, .name = "garbage"};
    assert_int_equal(ss_procbuf_spawn(pb, &so, NULL), 0);
    so = (ss_spawn_opts){.argv = argv, .envp = bad_fds, .name = "bad-fds"};
    assert_int_equal(ss_procbuf_spawn(pb, &so, NULL), 0);
    assert_wait_all(pb);
    proc_read_all(pb, &set);

    snprintf(want, sizeof(want), "open_env %d", -ENOENT);
    find_one(&set, "no-var", want);
    snprintf(want, sizeof(want), "open_env %d", -EINVAL);
    find_one(&set, "garbage", want);
    snprintf(want, sizeof(want), "open_env %d", -EBADF);
    find_one(&set, "bad-fds", want);

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/*
 * "every fd is O_CLOEXEC": a spawned command inherits nothing beyond 0..2 but its
 * mirror channel, and once the mirror is open, not even that (a program the
 * command starts must not hold the channel open and keep the command running).
 */
static void test_no_fd_inherited(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    char *argv[] = {(char *)proc_mirror_child(), "fds", NULL};

    /* children already running hold fds in the parent: none may leak to the next */
    char *sleeper[] = {"sleep", "1000", NULL};
    ss_spawn_opts bg = {.argv = sleeper, .name = "bg", .flags = SS_PROC_NULL_STDIN};
    assert_int_equal(ss_procbuf_spawn(pb, &bg, NULL), 0);
    bg.flags |= SS_PROC_MIRROR;
    assert_int_equal(ss_procbuf_spawn(pb, &bg, NULL), 0);

    proc_spawn(pb, "plain", 0, argv);
    proc_spawn(pb, "on-pty", SS_PROC_PTY, argv);
    proc_spawn(pb, "mirrored", SS_PROC_MIRROR, argv);
    /* wait for the three, while the sleepers run on */
    ss_linebuf *lb = ss_procbuf_linebuf(pb);
    for (;;) {
        ss_linebuf_stats st;
        assert_int_equal(ss_linebuf_get_stats(lb, &st), 0);
        proc_read_all(pb, &set);
        int exits = 0;
        for (size_t i = 0; i < set.count; i++)
            exits += (set.items[i].flags & SS_REC_EXIT) != 0;
        if (exits >= 3)
            break;
        assert_int_equal(ss_linebuf_wait(lb, st.last_seq, PROC_WAIT_MS), 0);
    }
    proc_read_all(pb, &set);
    /* what this process itself lets its programs inherit (a shell may pass some) */
    char ours[512], want[600];
    inheritable_fds(ours, sizeof(ours), -1, -1);
    snprintf(want, sizeof(want), "inheritable fds:%s", ours);
    find_one(&set, "plain", want);
    find_one(&set, "on-pty", want);
    /* the mirror's channel takes fds 3 and 4 */
    inheritable_fds(ours, sizeof(ours), 3, 4);
    snprintf(want, sizeof(want), "inheritable fds:%s", ours);
    find_one(&set, "mirrored", want);
    assert_int_equal(exit_record(&set, "mirrored")->kind, SS_KIND_LINE);

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* An exec'ed mirror that exits without closing its mirror: reported as an error. */
static void test_exec_mirror_not_closed(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    ss_records set = SS_RECORDS_INIT;
    char *argv[] = {(char *)proc_mirror_child(), "noclose", NULL};

    int id = proc_spawn(pb, "careless", SS_PROC_MIRROR, argv);
    assert_wait_all(pb);
    proc_read_all(pb, &set);
    find_one(&set, "careless", "sent before exit");
    const ss_record *ex = exit_record(&set, "careless");
    assert_int_equal(ex->kind, SS_KIND_ERROR);
    assert_true(rec_contains(ex, "exited with status 0"));
    assert_true(rec_contains(ex, "did not close its mirror"));
    ss_child_status st = child_status(pb, id);
    assert_false(st.mirror_closed);
    assert_true(st.exited);
    assert_int_equal(st.exit_code, 0);

    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* Flow control: a reader slower than the children, with a buffer far smaller
 * than their output, still sees every line exactly once, in order. */
static void test_flow_control_loses_nothing(void **state)
{
    (void)state;
    ss_procbuf *pb = NULL;
    ss_procbuf_opts opts = {.buf = {.maxlen = 64}, .flow_control = true};
    assert_int_equal(ss_procbuf_new(&pb, &opts), 0);
    char *argv[] = {"/bin/sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line$i; i=$((i+1)); done",
                    NULL};
    for (int k = 0; k < 3; k++)
        assert_int_equal(ss_procbuf_spawn(pb, &(ss_spawn_opts){.argv = argv, .name = "p"}, NULL),
                         0);

    ss_linebuf *lb = ss_procbuf_linebuf(pb);
    ss_records set = SS_RECORDS_INIT;
    uint64_t cursor = 0;
    int lines = 0, exits = 0;
    while (exits < 3) {
        int n = ss_linebuf_follow(lb, cursor, 16, PROC_WAIT_MS, &set);
        assert_true(n > 0);
        assert_int_equal(set.missed, 0);
        for (size_t i = 0; i < set.count; i++) {
            if (set.items[i].flags & SS_REC_EXIT)
                exits++;
            else
                lines++;
        }
        cursor = set.cursor;
        assert_int_equal(ss_procbuf_consumed(pb, cursor), 0);
    }
    assert_int_equal(lines, 3 * 3000);
    ss_linebuf_stats st;
    assert_int_equal(ss_linebuf_get_stats(lb, &st), 0);
    /* rotated out after they were read, never before */
    assert_int_equal(st.written, 3 * 3000 + 3);
    assert_wait_all(pb);
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* An exec'ed mirror opens its channel whatever max_line the parent has, up
 * to the line buffer's own limit (above 1 MiB here). */
static void test_exec_mirror_large_max_line(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 2u << 20, 0);
    char *argv[] = {(char *)proc_mirror_child(), "lines", NULL};
    int id = proc_spawn(pb, "big-lines", SS_PROC_MIRROR, argv);
    assert_wait_all(pb);
    ss_records set = SS_RECORDS_INIT;
    proc_read_all(pb, &set);
    find_one(&set, "big-lines", "exec line 1");
    assert_true(child_status(pb, id).mirror_closed);
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* A stop reaches a child stopped by job control: SIGCONT follows SIGTERM, so
 * it dies of SIGTERM long before the grace period ends. */
static void test_stop_continues_stopped_child(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 600000);
    char *argv[] = {"/bin/sh", "-c", "kill -STOP $$; echo continued", NULL};
    int id = proc_spawn(pb, "stopped", SS_PROC_NULL_STDIN, argv);
    ss_child_status st = child_status(pb, id);
    char path[64], stat[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)st.pid);
    bool stopped = false;
    for (int i = 0; i < 2000 && !stopped; i++) {
        FILE *f = fopen(path, "r");
        if (f && fgets(stat, sizeof(stat), f)) {
            const char *end = strrchr(stat, ')');
            stopped = end && end[2] == 'T';
        }
        if (f)
            fclose(f);
        if (!stopped)
            usleep(10000);
    }
    assert_true(stopped);
    assert_int_equal(ss_procbuf_stop(pb), 0);
    assert_wait_all(pb);
    st = child_status(pb, id);
    assert_int_equal(st.term_signal, SIGTERM);
    ss_procbuf_free(pb);
}

/* Follow pb to the end of n exit records, consuming as it goes; returns the
 * lines seen (missed lines fail the test). */
static int follow_all(ss_procbuf *pb, int exits_wanted, size_t batch)
{
    ss_linebuf *lb = ss_procbuf_linebuf(pb);
    ss_records set = SS_RECORDS_INIT;
    uint64_t cursor = 0;
    int lines = 0, exits = 0;
    while (exits < exits_wanted) {
        int n = ss_linebuf_follow(lb, cursor, batch, PROC_WAIT_MS, &set);
        assert_true(n > 0);
        assert_int_equal(set.missed, 0);
        for (size_t i = 0; i < set.count; i++) {
            if (set.items[i].flags & SS_REC_EXIT)
                exits++;
            else
                lines++;
        }
        cursor = set.cursor;
        assert_int_equal(ss_procbuf_consumed(pb, cursor), 0);
    }
    ss_records_clear(&set);
    return lines;
}

/* Flow control also bounds bytes: long lines in a small byte budget are not
 * rotated out unread. */
static void test_flow_control_long_lines(void **state)
{
    (void)state;
    ss_procbuf *pb = NULL;
    ss_procbuf_opts opts = {.buf = {.maxlen = 1000, .max_line = 8192, .max_bytes = 256 * 1024},
                            .flow_control = true};
    assert_int_equal(ss_procbuf_new(&pb, &opts), 0);
    char *argv[] = {"/bin/sh", "-c",
                    "i=0; s=$(printf '%4000s' x); while [ $i -lt 600 ]; do echo \"$i$s\"; "
                    "i=$((i+1)); done",
                    NULL};
    assert_int_equal(ss_procbuf_spawn(pb, &(ss_spawn_opts){.argv = argv}, NULL), 0);
    assert_int_equal(follow_all(pb, 1, 4), 600);
    assert_wait_all(pb);
    ss_procbuf_free(pb);
}

/* A small buffer still moves; too small a one is refused. */
static void test_flow_control_small_buffer(void **state)
{
    (void)state;
    ss_procbuf *pb = NULL;
    ss_procbuf_opts tiny = {.buf = {.maxlen = 8}, .flow_control = true};
    assert_int_equal(ss_procbuf_new(&pb, &tiny), -EINVAL);
    ss_procbuf_opts small = {.buf = {.maxlen = 16}, .flow_control = true};
    assert_int_equal(ss_procbuf_new(&pb, &small), 0);
    char *argv[] = {"/bin/sh", "-c", "seq 1 200", NULL};
    for (int k = 0; k < 10; k++)
        assert_int_equal(ss_procbuf_spawn(pb, &(ss_spawn_opts){.argv = argv}, NULL), 0);
    assert_int_equal(follow_all(pb, 10, 3), 2000);
    assert_wait_all(pb);
    ss_procbuf_free(pb);
}

/* A reset forgets the records it clears: a reader that never read them is not
 * waited for. */
static void test_flow_control_reset(void **state)
{
    (void)state;
    ss_procbuf *pb = NULL;
    ss_procbuf_opts opts = {.buf = {.maxlen = 64}, .flow_control = true};
    assert_int_equal(ss_procbuf_new(&pb, &opts), 0);
    char *fill[] = {"/bin/sh", "-c", "seq 1 52", NULL};
    assert_int_equal(ss_procbuf_spawn(pb, &(ss_spawn_opts){.argv = fill}, NULL), 0);
    assert_wait_all(pb);
    assert_int_equal(ss_procbuf_reset(pb), 0);
    char *hi[] = {"/bin/sh", "-c", "seq 1 100", NULL};
    assert_int_equal(ss_procbuf_spawn(pb, &(ss_spawn_opts){.argv = hi}, NULL), 0);
    ss_linebuf *lb = ss_procbuf_linebuf(pb);
    ss_linebuf_stats st;
    assert_int_equal(ss_linebuf_get_stats(lb, &st), 0);
    /* follow from the reset on */
    ss_records set = SS_RECORDS_INIT;
    uint64_t cursor = st.last_seq;
    int lines = 0;
    for (bool done = false; !done;) {
        assert_true(ss_linebuf_follow(lb, cursor, 0, PROC_WAIT_MS, &set) > 0);
        for (size_t i = 0; i < set.count; i++) {
            if (set.items[i].flags & SS_REC_EXIT)
                done = true;
            else
                lines++;
        }
        cursor = set.cursor;
        ss_procbuf_consumed(pb, cursor);
    }
    assert_int_equal(lines, 100);
    ss_records_clear(&set);
    assert_wait_all(pb);
    ss_procbuf_free(pb);
}

/* On a pty the child has a controlling terminal: /dev/tty opens. */
static void test_pty_controlling_terminal(void **state)
{
    (void)state;
    ss_procbuf *pb = proc_new(100, 0, 0);
    char *argv[] = {"/bin/sh", "-c", ": </dev/tty && echo ctty", NULL};
    assert_int_equal(ss_procbuf_spawn(pb,
                                      &(ss_spawn_opts){.argv = argv,
                                                       .name = "tty",
                                                       .flags = SS_PROC_PTY | SS_PROC_NULL_STDIN},
                                      NULL),
                     0);
    assert_wait_all(pb);
    ss_records set = SS_RECORDS_INIT;
    size_t n = proc_read_all(pb, &set);
    assert_true(n >= 2);
    assert_true(rec_is(&set.items[0], "ctty"));
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

/* A mirror record as large as the buffer allows arrives whole, even with more
 * frames behind it in the same read. */
static void test_mirror_large_record(void **state)
{
    (void)state;
    ss_procbuf *pb = NULL;
    ss_procbuf_opts opts = {.buf = {.maxlen = 100, .max_line = 4096, .max_bytes = 1 << 20}};
    assert_int_equal(ss_procbuf_new(&pb, &opts), 0);
    size_t big = (1u << 20) - 64;
    ss_mirror *m = NULL;
    pid_t pid = ss_procbuf_fork(pb, "big", 0, &m, NULL);
    assert_true(pid >= 0);
    if (pid == 0) {
        char *text = malloc(big);
        if (!text)
            _exit(3);
        memset(text, 'e', big);
        int rc = ss_mirror_close_error(m, text, big);
        _exit(rc == 0 ? 0 : 4);
    }
    assert_wait_all(pb);
    ss_records set = SS_RECORDS_INIT;
    size_t n = proc_read_all(pb, &set);
    assert_int_equal(n, 2);
    assert_int_equal(set.items[0].kind, SS_KIND_ERROR);
    assert_int_equal(set.items[0].len, big);
    assert_true(rec_is(&set.items[1], "exited with status 0"));
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdout_stderr_exit_status),
        cmocka_unit_test(test_success_and_default_name),
        cmocka_unit_test(test_argv_envp_cwd),
        cmocka_unit_test(test_spawn_errors),
        cmocka_unit_test(test_bad_cwd),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_pty),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_spawn_volume),
        cmocka_unit_test(test_exec_mirror),
        cmocka_unit_test(test_exec_mirror_source_and_envp),
        cmocka_unit_test(test_exec_mirror_open_errors),
        cmocka_unit_test(test_exec_mirror_not_closed),
        cmocka_unit_test(test_no_fd_inherited),
        cmocka_unit_test(test_flow_control_loses_nothing),
        cmocka_unit_test(test_flow_control_long_lines),
        cmocka_unit_test(test_flow_control_small_buffer),
        cmocka_unit_test(test_flow_control_reset),
        cmocka_unit_test(test_pty_controlling_terminal),
        cmocka_unit_test(test_mirror_large_record),
        cmocka_unit_test(test_exec_mirror_large_max_line),
        cmocka_unit_test(test_stop_continues_stopped_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
