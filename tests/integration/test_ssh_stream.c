/*
 * ss_stream over the ssh transport, against a real OpenSSH sshd on 127.0.0.1
 * (tests/helpers/ss_test_server.h): the stream's calls, stderr apart, the exit status,
 * errors with their payload, the bridge, 100 MiB without loss.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sshd.h"
#include "test.h"

static ss_stream *open_stream(const ss_ssh_opts *o)
{
    ss_transport t;
    char why[256] = "";
    int rc = ss_transport_ssh(&t, o, why, sizeof(why));
    if (rc != 0)
        fail_msg("ss_transport_ssh: %s: %s", ss_strerror(rc), why);
    ss_stream *s = NULL;
    assert_int_equal(ss_stream_new(&s, NULL, &t, NULL), 0);
    assert_string_equal(ss_stream_name(s), "ssh");
    return s;
}

/* Read everything to the end of the stream into a malloc'ed string. */
static char *read_all(ss_stream *s, size_t *ret_len)
{
    size_t cap = 1 << 16, len = 0;
    char *all = malloc(cap + 1);
    ssize_t n;
    while ((n = ss_stream_read(s, all + len, cap - len, 20000, NULL)) > 0) {
        len += (size_t)n;
        if (len == cap)
            all = realloc(all, (cap *= 2) + 1);
    }
    assert_int_equal(n, SS_EEOF);
    all[len] = '\0';
    *ret_len = len;
    return all;
}

static void test_read_until_and_exit(void **state)
{
    ss_ssh_opts o =
        ss_test_sshd_opts(&ss_test_server, "echo step 1; echo Completed.; echo rest; exit 4");
    ss_stream *s = open_stream(&o);
    char *got;
    size_t len;
    assert_int_equal(ss_stream_read_until(s, "Completed.", 10, 20000, &got, &len, NULL), 0);
    assert_string_equal(got, "step 1\nCompleted.");
    free(got);
    char *rest = read_all(s, &len);
    assert_string_equal(rest, "\nrest\n");
    free(rest);
    int status;
    assert_int_equal(ss_stream_exit_status(s, &status), 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 4);
    ss_stream_free(s);
}

static void test_killed_by_signal(void **state)
{
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "kill -KILL $$");
    ss_stream *s = open_stream(&o);
    size_t len;
    free(read_all(s, &len));
    int status;
    assert_int_equal(ss_stream_exit_status(s, &status), 0);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    ss_stream_free(s);
}

/* Written bytes reach the command's stdin and come back, in order; shutting
 * the writing side down ends the command's input. */
static void test_stdin_round_trip(void **state)
{
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "cat");
    ss_stream *s = open_stream(&o);
    for (int i = 0; i < 100; i++) {
        char line[32];
        int n = snprintf(line, sizeof(line), "ping %d\n", i);
        assert_int_equal(ss_stream_write(s, line, (size_t)n, 5000, NULL), 0);
        char *got;
        size_t len;
        assert_int_equal(ss_stream_read_until(s, "\n", 1, 20000, &got, &len, NULL), 0);
        assert_int_equal(len, (size_t)n);
        assert_memory_equal(got, line, len);
        free(got);
    }
    /* Then a block larger than any SSH window. */
    size_t total = 4u << 20;
    char *big = malloc(total);
    for (size_t i = 0; i < total; i++)
        big[i] = (char)('A' + i % 23);
    assert_int_equal(ss_stream_write(s, big, total, 20000, NULL), 0);
    char *back = malloc(total);
    size_t got = 0;
    while (got < total) {
        ssize_t n = ss_stream_read(s, back + got, total - got, 20000, NULL);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_memory_equal(back, big, total);
    /* The end of the input (the channel's EOF) ends cat. */
    assert_int_equal(ss_stream_shutdown_write(s, 20000, NULL), 0);
    size_t len;
    char *rest = read_all(s, &len);
    assert_int_equal(len, 0);
    free(rest);
    int status;
    assert_int_equal(ss_stream_exit_status(s, &status), 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(ss_stream_write(s, "x", 1, 0, NULL), -EPIPE);
    free(big);
    free(back);
    ss_stream_free(s);
}

/* stderr goes to the stream's error channel, never into the read buffer. */
static void test_stderr_apart(void **state)
{
    ss_ssh_opts o = ss_test_sshd_opts(
        &ss_test_server, "echo out; echo err >&2; head -c 3000000 /dev/zero >&2; echo end");
    ss_stream *s = open_stream(&o);
    size_t len;
    char *out = read_all(s, &len);
    assert_string_equal(out, "out\nend\n");
    free(out);
    char *err;
    assert_int_equal(ss_stream_take_stderr(s, &err, &len), 0);
    assert_int_equal(len, 4 + 3000000);
    assert_memory_equal(err, "err\n", 4);
    free(err);
    ss_stream_free(s);
}

static void test_errors_when_connecting(void **state)
{
    ss_transport t;
    char why[256];
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "true");
    o.identity = NULL;
    o.password = "wrong";
    assert_int_equal(ss_transport_ssh(&t, &o, why, sizeof(why)), SS_EAUTH);

    char path[128];
    ss_test_sshd_path(&ss_test_server, "stream_wrong_known_hosts", path, sizeof(path));
    assert_int_equal(ss_test_sshd_wrong_known_hosts(&ss_test_server, path), 0);
    o = ss_test_sshd_opts(&ss_test_server, "true");
    o.known_hosts = path;
    assert_int_equal(ss_transport_ssh(&t, &o, why, sizeof(why)), SS_EHOSTKEY);

    ss_test_sshd_path(&ss_test_server, "stream_no_known_hosts", path, sizeof(path));
    o.known_hosts = path;
    assert_int_equal(ss_transport_ssh(&t, &o, why, sizeof(why)), SS_EHOSTUNKNOWN);
}

static int has_line_80(void *ctx, const char *data, size_t len, size_t *ret_consume)
{
    *ret_consume = 0;
    return memmem(data, len, "line 80\n", 8) != NULL;
}

/* ss_transport_open_uri() hands ssh:// to the ssh transport, with strict
 * host keys: this server is in no default known_hosts. */
static void test_open_uri(void **state)
{
    char uri[128];
    snprintf(uri, sizeof(uri), "ssh://%s@127.0.0.1:%d/echo hi", ss_test_server.user,
             ss_test_server.port);
    ss_transport t;
    assert_int_equal(ss_transport_open_uri(&t, uri, 10000), SS_EHOSTUNKNOWN);
    assert_int_equal(ss_transport_open_uri(&t, "ssh://u:pw@127.0.0.1/x", 10000), -EINVAL);
}

/* sshd killed mid-stream: the read fails with SS_ECONNLOST and the payload
 * holds what had arrived; the stream still has every byte. */
static void test_killed_mid_stream(void **state)
{
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server,
                                      "echo ready; i=0; while :; do echo \"line $i\"; i=$((i+1)); "
                                      "sleep 0.001; done");
    ss_stream *s = open_stream(&o);
    char *got;
    size_t len;
    assert_int_equal(ss_stream_read_until(s, "line 50\n", 8, 20000, &got, &len, NULL), 0);
    free(got);
    /* Let more lines arrive, unread, before the kill. */
    assert_int_equal(ss_stream_check(s, has_line_80, NULL, 20000, NULL), 0);
    assert_true(ss_test_sshd_signal_sessions(&ss_test_server, SIGKILL) > 0);
    ss_stream_payload p = {0};
    int rc = ss_stream_read_until(s, "never printed", 13, 20000, &got, &len, &p);
    assert_int_equal(rc, SS_ECONNLOST);
    /* The payload starts where the read_until above stopped, lines whole and in order. */
    assert_non_null(p.read);
    assert_true(p.read_len > 0);
    assert_memory_equal(p.read, "line 51\n", 8);
    long expect = 51;
    for (char *line = p.read; line < p.read + p.read_len;) {
        char *nl = memchr(line, '\n', (size_t)(p.read + p.read_len - line));
        if (!nl)
            break;
        char want[32];
        int n = snprintf(want, sizeof(want), "line %ld", expect++);
        assert_int_equal(nl - line, n);
        assert_memory_equal(line, want, (size_t)n);
        line = nl + 1;
    }
    ss_stream_payload_clear(&p);
    /* The error stays; the bytes are still in the stream. */
    assert_true(ss_stream_ready(s) > 0);
    assert_int_equal(ss_stream_write(s, "x", 1, 1000, NULL), SS_ECONNLOST);
    ss_stream_free(s);
}

/* A stopped server is found dead by the stream's keepalives (tick()). */
static void test_dead_peer(void **state)
{
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "echo started; sleep 60");
    o.keepalive_interval_ms = 200;
    o.keepalive_count_max = 2;
    ss_stream *s = open_stream(&o);
    char *got;
    size_t len;
    assert_int_equal(ss_stream_read_until(s, "started\n", 8, 20000, &got, &len, NULL), 0);
    free(got);
    /* Quiet but answering: no error within a second. */
    assert_int_equal(ss_stream_read(s, &(char){0}, 1, 1000, NULL), -ETIMEDOUT);
    assert_true(ss_test_sshd_signal_sessions(&ss_test_server, SIGSTOP) > 0);
    int rc = (int)ss_stream_read(s, &(char){0}, 1, 20000, NULL);
    ss_test_sshd_signal_sessions(&ss_test_server, SIGKILL);
    ss_test_sshd_signal_sessions(&ss_test_server, SIGCONT);
    assert_int_equal(rc, SS_ECONNLOST);
    ss_stream_free(s);
}

/* Remote lines into a line buffer, stderr lines flagged, tagged with the name. */
static void test_bridge(void **state)
{
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "echo one; echo two >&2; printf three");
    ss_transport t;
    assert_int_equal(ss_transport_ssh(&t, &o, NULL, 0), 0);
    ss_stream *s;
    assert_int_equal(ss_stream_new(&s, NULL, &t, &(ss_stream_opts){.name = "box"}), 0);
    ss_linebuf *lb;
    assert_int_equal(ss_linebuf_new(&lb, &(ss_linebuf_opts){.maxlen = 100}), 0);
    assert_int_equal(ss_stream_bridge(s, &(ss_bridge_opts){.linebuf = lb, .only = true}), 0);
    ss_records set = SS_RECORDS_INIT;
    uint64_t cursor = 0;
    size_t seen = 0;
    bool out1 = false, err2 = false, out3 = false;
    for (int i = 0; i < 100 && seen < 3; i++) {
        int n = ss_linebuf_follow(lb, cursor, 0, 200, &set);
        for (int k = 0; k < n; k++, seen++) {
            ss_record *r = &set.items[k];
            assert_string_equal(r->source, "box");
            out1 |= strcmp(r->text, "one") == 0 && !(r->flags & SS_REC_STDERR);
            err2 |= strcmp(r->text, "two") == 0 && (r->flags & SS_REC_STDERR);
            out3 |= strcmp(r->text, "three") == 0 && !(r->flags & SS_REC_STDERR);
        }
        if (n > 0)
            cursor = set.cursor;
    }
    assert_true(out1 && err2 && out3);
    ss_records_clear(&set);
    ss_stream_free(s);
    ss_linebuf_free(lb);
}

/* 100 MiB of remote output through the stream, every byte checked. */
static void test_100mib(void **state)
{
    static const char line[] = "0123456789abcdefghijklmnopqrstuvwxyz\n";
    const size_t total = 100u << 20, period = sizeof(line) - 1;
    ss_ssh_opts o = ss_test_sshd_opts(
        &ss_test_server, "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 104857600");
    ss_stream *s = open_stream(&o);
    static char buf[1 << 18];
    size_t got = 0, bad = 0;
    ssize_t n;
    while ((n = ss_stream_read(s, buf, sizeof(buf), 30000, NULL)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            bad += buf[i] != line[(got + (size_t)i) % period];
        got += (size_t)n;
    }
    assert_int_equal(n, SS_EEOF);
    assert_int_equal(got, total);
    assert_int_equal(bad, 0);
    int status;
    assert_int_equal(ss_stream_exit_status(s, &status), 0);
    assert_int_equal(status, 0);
    ss_stream_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_until_and_exit),
        cmocka_unit_test(test_killed_by_signal),
        cmocka_unit_test(test_stdin_round_trip),
        cmocka_unit_test(test_stderr_apart),
        cmocka_unit_test(test_errors_when_connecting),
        cmocka_unit_test(test_open_uri),
        cmocka_unit_test(test_bridge),
        cmocka_unit_test(test_killed_mid_stream),
        cmocka_unit_test(test_dead_peer),
        cmocka_unit_test(test_100mib),
    };
    return cmocka_run_group_tests(tests, ss_test_sshd_group_setup, ss_test_sshd_group_teardown);
}
