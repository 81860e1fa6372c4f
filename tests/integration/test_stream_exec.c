/*
 * test_stream_exec.c: the exec transport (a program on a pseudo-terminal or on
 * pipes: prompts, stderr kept apart, exit status, killing on close, SIGCHLD
 * ignored), and the bridge of a stream's lines into a line buffer or a
 * callback.
 */
#include <signal.h>
#include <sys/wait.h>

#include "stream_test.h"

static ss_stream *exec_stream(char *const argv[], unsigned flags, const ss_stream_opts *o)
{
    ss_transport t;
    assert_int_equal(ss_transport_exec(&t, argv, flags), 0);
    ss_stream *s = NULL;
    assert_int_equal(ss_stream_new(&s, NULL, &t, o), 0);
    return s;
}

/* Read to the end of the stream (bounded: 10 s per read). */
static void read_to_eof(ss_stream *s)
{
    char buf[256];
    ssize_t n;
    while ((n = ss_stream_read(s, buf, sizeof(buf), 10000, NULL)) > 0)
        ;
    assert_int_equal(n, SS_EEOF);
}

static const char prompt_script[] = "printf 'Name? '; read name; echo \"Hello, $name\"; exit 3";

static void test_pty_program_prompts(void **state)
{
    (void)state;
    char *argv[] = {"/bin/sh", "-c", (char *)prompt_script, NULL};
    ss_stream *s = exec_stream(argv, SS_EXEC_PTY, NULL);
    assert_string_equal(ss_stream_name(s), "exec");
    char *out;
    size_t len;
    assert_int_equal(ss_stream_read_until(s, "Name? ", 6, 10000, &out, &len, NULL), 0);
    free(out);
    int status;
    assert_int_equal(ss_stream_exit_status(s, &status), -EAGAIN);
    assert_int_equal(ss_stream_write(s, "Bob\n", 4, 1000, NULL), 0);
    /* the terminal echoes what was typed, then the answer */
    assert_int_equal(ss_stream_read_until(s, "Hello, Bob", 10, 10000, &out, &len, NULL), 0);
    assert_non_null(strstr(out, "Bob\r\n"));
    free(out);
    read_to_eof(s);
    assert_int_equal(ss_stream_exit_status(s, &status), 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3);
    ss_stream_free(s);
}

static void test_pty_noecho(void **state)
{
    (void)state;
    char *argv[] = {"/bin/sh", "-c", (char *)prompt_script, NULL};
    ss_stream *s = exec_stream(argv, SS_EXEC_PTY | SS_EXEC_NOECHO, NULL);
    ss_pattern pats[] = {{.text = "Name\\? ", .kind = SS_PATTERN_REGEX}};
    ss_stream_match m = {0};
    assert_int_equal(ss_stream_expect(s, pats, 1, 10000, &m, NULL), 0);
    ss_stream_match_clear(&m);
    assert_int_equal(ss_stream_write(s, "Ann\n", 4, 1000, NULL), 0);
    char *line;
    size_t len;
    assert_int_equal(ss_stream_read_line(s, 10000, &line, &len, NULL), 0);
    assert_string_equal(line, "Hello, Ann\r");
    free(line);
    ss_stream_free(s);
}

static void test_pipes_stderr_apart(void **state)
{
    (void)state;
    char *argv[] = {"/bin/sh", "-c",
                    "echo out; echo err >&2; read x; echo \"got $x\"; echo bye >&2", NULL};
    ss_stream *s = exec_stream(argv, 0, NULL);
    char *line, *err = NULL;
    size_t len, elen = 0;
    assert_int_equal(ss_stream_read_line(s, 10000, &line, &len, NULL), 0);
    assert_string_equal(line, "out");
    free(line);
    assert_int_equal(ss_stream_write(s, "yes\n", 4, 1000, NULL), 0);
    assert_int_equal(ss_stream_read_line(s, 10000, &line, &len, NULL), 0);
    assert_string_equal(line, "got yes");
    free(line);
    read_to_eof(s);
    assert_int_equal(ss_stream_take_stderr(s, &err, &elen), 0);
    assert_string_equal(err, "err\nbye\n");
    free(err);
    assert_int_equal(ss_stream_take_stderr(s, &err, &elen), 0);
    assert_null(err);
    assert_int_equal(elen, 0);
    int status;
    assert_int_equal(ss_stream_exit_status(s, &status), 0);
    assert_int_equal(WEXITSTATUS(status), 0);
    ss_stream_free(s);
}

static void test_write_to_a_program_that_quit(void **state)
{
    (void)state;
    char *argv[] = {"/bin/sh", "-c", "exec 0<&-; echo closed; sleep 5", NULL};
    ss_stream *s = exec_stream(argv, 0, NULL);
    char *line;
    size_t len;
    assert_int_equal(ss_stream_read_line(s, 10000, &line, &len, NULL), 0);
    free(line);
    /* no SIGPIPE: an error, with what was not sent in the payload */
    ss_stream_payload pl = {0};
    int rc = 0;
    for (int i = 0; i < 1000 && rc == 0; i++)
        rc = ss_stream_write(s, "data\n", 5, 1000, &pl);
    assert_int_equal(rc, -EPIPE);
    assert_true(pl.unsent_len >= 5);
    ss_stream_payload_clear(&pl);
    /* close kills the program still running (sleep 5) at once */
    ss_stream_close(s);
    ss_stream_free(s);
}

/* The end of the program's input: stdin shut on pipes, ^D on a pty. */
static void test_shutdown_write(void **state)
{
    (void)state;
    char *argv[] = {"cat", NULL};
    for (int pty = 0; pty < 2; pty++) {
        ss_stream *s = exec_stream(argv, pty ? SS_EXEC_PTY | SS_EXEC_NOECHO : 0, NULL);
        assert_int_equal(ss_stream_write(s, "abc\n", 4, 1000, NULL), 0);
        assert_int_equal(ss_stream_shutdown_write(s, 10000, NULL), 0);
        /* cat saw the end of its input, so it ends, and so does the stream */
        char *out;
        size_t len;
        ss_stream_payload pl = {0};
        assert_int_equal(ss_stream_read_until(s, "never", 5, 10000, &out, &len, &pl), SS_EEOF);
        assert_string_equal(pl.read, pty ? "abc\r\n" : "abc\n");
        assert_int_equal(ss_stream_write(s, "x", 1, 0, &pl), -EPIPE);
        assert_string_equal(pl.unsent, "x");
        ss_stream_payload_clear(&pl);
        int status;
        assert_int_equal(ss_stream_exit_status(s, &status), 0);
        assert_int_equal(WEXITSTATUS(status), 0);
        ss_stream_free(s);
    }
}

static void test_exec_errors(void **state)
{
    (void)state;
    ss_transport t;
    char *missing[] = {"/nonexistent/program", NULL};
    assert_int_equal(ss_transport_exec(&t, missing, 0), -ENOENT);
    char *argv[] = {"true", NULL};
    assert_int_equal(ss_transport_exec(&t, argv, 1u << 9), -EINVAL);
    assert_int_equal(ss_transport_exec(&t, NULL, 0), -EINVAL);
    /* a stream whose creation fails still closes its transport */
    assert_int_equal(ss_transport_exec(&t, argv, 0), 0);
    ss_stream *s = NULL;
    ss_stream_opts bad = {.line_sep = ""};
    assert_int_equal(ss_stream_new(&s, NULL, &t, &bad), -EINVAL);
}

/* ---- the bridge ---- */

static void test_bridge_into_linebuf(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    assert_int_equal(ss_linebuf_new(&lb, NULL), 0);
    char *argv[] = {"/bin/sh", "-c",
                    "read go; printf 'boot 1\\nboot 2\\n'; echo oops >&2; printf partial", NULL};
    ss_stream_opts so = {.name = "board-7"};
    ss_stream *s = exec_stream(argv, 0, &so);
    ss_bridge_opts bo = {.linebuf = lb, .only = true};
    assert_int_equal(ss_stream_bridge(s, &bo), 0);
    assert_int_equal(ss_stream_bridge(s, &bo), -EBUSY);
    assert_int_equal(ss_stream_write(s, "\n", 1, 1000, NULL), 0);
    read_to_eof(s);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 4);
    int seen_out = 0, seen_err = 0;
    for (size_t i = 0; i < set.count; i++) {
        assert_string_equal(set.items[i].source, "board-7");
        if (set.items[i].flags & SS_REC_STDERR) {
            assert_string_equal(set.items[i].text, "oops");
            seen_err++;
        } else {
            seen_out++;
        }
    }
    assert_int_equal(seen_out, 3);
    assert_int_equal(seen_err, 1);
    ss_records_clear(&set);
    ss_stream_free(s);
    ss_linebuf_free(lb);
}

typedef struct lines {
    char text[8][32];
    uint32_t flags[8];
    int n;
} lines;

static int on_line(void *ctx, const char *source, ss_kind kind, uint32_t flags, const char *text,
                   size_t len)
{
    lines *l = ctx;
    (void)kind;
    if (strcmp(source, "exec") != 0)
        return -1;
    if (l->n < 8) {
        l->flags[l->n] = flags;
        snprintf(l->text[l->n++], sizeof(l->text[0]), "%.*s", (int)len, text);
    }
    return 0;
}

static void test_bridge_callback_and_reads(void **state)
{
    (void)state;
    char *argv[] = {"/bin/sh", "-c", "read go; printf 'one\\ntwo\\n'", NULL};
    ss_stream *s = exec_stream(argv, 0, NULL);
    lines l = {0};
    ss_bridge_opts bo = {.on_line = on_line, .ctx = &l};
    assert_int_equal(ss_stream_bridge(s, &bo), 0);
    ss_bridge_opts both = {.on_line = on_line, .linebuf = (ss_linebuf *)1};
    assert_int_equal(ss_stream_bridge(s, &both), -EINVAL);
    assert_int_equal(ss_stream_write(s, "\n", 1, 1000, NULL), 0);
    /* not only: the stream's own reads see every byte too */
    char *out;
    size_t len;
    assert_int_equal(ss_stream_read_until(s, "two\n", 4, 10000, &out, &len, NULL), 0);
    assert_string_equal(out, "one\ntwo\n");
    free(out);
    read_to_eof(s);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.text[0], "one");
    assert_string_equal(l.text[1], "two");
    ss_stream_free(s);
}

/* Closing a stream kills a program still running; its status (SIGKILL) is
 * still known afterwards. */
static void test_exit_status_after_close(void **state)
{
    (void)state;
    char *argv[] = {"sleep", "30", NULL};
    ss_stream *s = exec_stream(argv, 0, NULL);
    int status = 0;
    assert_int_equal(ss_stream_exit_status(s, &status), -EAGAIN);
    ss_stream_close(s);
    assert_int_equal(ss_stream_exit_status(s, &status), 0);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    ss_stream_free(s);
}

/* An application that ignores SIGCHLD has its children reaped by the kernel:
 * the stream still ends (it does not wait on the pidfd for ever), and the
 * status is reported as lost. */
static void test_sigchld_ignored(void **state)
{
    (void)state;
    struct sigaction old, ign = {.sa_handler = SIG_IGN};
    assert_int_equal(sigaction(SIGCHLD, &ign, &old), 0);
    char *argv[] = {"echo", "hi", NULL};
    ss_stream *s = exec_stream(argv, 0, NULL);
    char *out;
    size_t len;
    assert_int_equal(ss_stream_read_until(s, "hi\n", 3, 10000, &out, &len, NULL), 0);
    free(out);
    char buf[8];
    assert_int_equal(ss_stream_read(s, buf, sizeof(buf), 10000, NULL), SS_EEOF);
    int status;
    assert_int_equal(ss_stream_exit_status(s, &status), -ECHILD);
    ss_stream_free(s);
    assert_int_equal(sigaction(SIGCHLD, &old, NULL), 0);
}

/* A bridge with only takes stderr too: nobody takes it from the stream, and
 * more of it than the read buffer holds must not stop stdout. */
static void test_bridge_only_with_much_stderr(void **state)
{
    (void)state;
    char *argv[] = {"/bin/sh", "-c", "printf '%0100d\\n' 0 >&2; sleep 0.2; echo done", NULL};
    ss_stream_opts o = {.read_cap = 16};
    ss_stream *s = exec_stream(argv, 0, &o);
    lines l = {0};
    ss_bridge_opts bo = {.on_line = on_line, .ctx = &l, .only = true};
    assert_int_equal(ss_stream_bridge(s, &bo), 0);
    read_to_eof(s);
    assert_int_equal(l.n, 2);
    assert_true(l.flags[0] & SS_REC_STDERR);
    assert_string_equal(l.text[1], "done");
    char *err;
    size_t len;
    assert_int_equal(ss_stream_take_stderr(s, &err, &len), 0);
    assert_int_equal(len, 0);
    ss_stream_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pty_program_prompts),
        cmocka_unit_test(test_pty_noecho),
        cmocka_unit_test(test_pipes_stderr_apart),
        cmocka_unit_test(test_write_to_a_program_that_quit),
        cmocka_unit_test(test_shutdown_write),
        cmocka_unit_test(test_exec_errors),
        cmocka_unit_test(test_bridge_into_linebuf),
        cmocka_unit_test(test_bridge_callback_and_reads),
        cmocka_unit_test(test_exit_status_after_close),
        cmocka_unit_test(test_sigchld_ignored),
        cmocka_unit_test(test_bridge_only_with_much_stderr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
