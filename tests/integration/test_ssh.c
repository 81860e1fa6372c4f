/*
 * The SSH connection module (src/lib/ssh) against a real OpenSSH sshd on
 * 127.0.0.1, started by the group setup (tests/helpers/ss_test_server.h).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sshd.h"
#include "test.h"

#include "ssh/ssh_int.h"
#include "util/clock.h"

static ss__ssh *open_ok(const ss_ssh_opts *o)
{
    ss__ssh *s = NULL;
    char why[256];
    int rc = ss__ssh_open(&s, o, why, sizeof(why));
    if (rc != 0)
        fail_msg("ss__ssh_open: %s: %s", ss_strerror(rc), why);
    return s;
}

/* Move staged bytes into out and err (either may be NULL: counted only). */
static void take(ss__ssh *s, ss__buf *out, ss__buf *err, size_t *nout, size_t *nerr)
{
    ss__buf *src[2] = {ss__ssh_stdout(s), ss__ssh_stderr(s)};
    ss__buf *dst[2] = {out, err};
    size_t *count[2] = {nout, nerr};
    for (int i = 0; i < 2; i++) {
        if (!src[i]->len)
            continue;
        if (dst[i])
            assert_int_equal(ss__buf_append(dst[i], src[i]->data, src[i]->len), 0);
        if (count[i])
            *count[i] += src[i]->len;
        ss__buf_take(src[i], src[i]->len);
    }
}

/* Collect stdout and stderr until the command ended and its output is in,
 * or an error, or timeout_ms. Returns 0 or the error. */
static int collect(ss__ssh *s, ss__buf *out, ss__buf *err, int timeout_ms)
{
    int64_t deadline = ss__mono_ms() + timeout_ms;
    ss_ssh_exit ex;
    for (;;) {
        take(s, out, err, NULL, NULL);
        if (ss__ssh_ended(s) && ss__ssh_exit(s, &ex) == 0)
            return 0;
        int64_t left = deadline - ss__mono_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        int rc = ss__ssh_wait(s, (int)left);
        if (rc < 0) {
            take(s, out, err, NULL, NULL);
            return rc;
        }
    }
}

static void assert_buf_text(const ss__buf *b, const char *text)
{
    assert_int_equal(b->len, strlen(text));
    assert_memory_equal(b->data, text, b->len);
}

/* Run command; its stdout, stderr and exit status are exactly these. */
static void run_expect(const char *command, const char *out_text, const char *err_text, int status)
{
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, command);
    ss__ssh *s = open_ok(&o);
    ss__buf out, err;
    ss__buf_init(&out, 1 << 20);
    ss__buf_init(&err, 1 << 20);
    assert_int_equal(collect(s, &out, &err, 20000), 0);
    assert_buf_text(&out, out_text);
    assert_buf_text(&err, err_text);
    ss_ssh_exit ex;
    assert_int_equal(ss__ssh_exit(s, &ex), 0);
    assert_int_equal(ex.status, status);
    assert_string_equal(ex.signal, "");
    ss__buf_free(&out);
    ss__buf_free(&err);
    ss__ssh_close(s);
}

static void test_exec(void **state)
{
    run_expect("echo hello; echo world", "hello\nworld\n", "", 0);
}

static void test_stderr_apart(void **state)
{
    run_expect("echo out1; echo err1 >&2; echo out2; echo err2 >&2", "out1\nout2\n", "err1\nerr2\n",
               0);
}

static void test_exit_status(void **state)
{
    run_expect("echo bye; exit 7", "bye\n", "", 7);

    ss_ssh_opts k = ss_test_sshd_opts(&ss_test_server, "kill -TERM $$");
    ss__ssh *s = open_ok(&k);
    ss_ssh_exit ex;
    assert_int_equal(collect(s, NULL, NULL, 20000), 0);
    assert_int_equal(ss__ssh_exit(s, &ex), 0);
    assert_int_equal(ex.status, -1);
    assert_string_equal(ex.signal, "TERM");
    ss__ssh_close(s);
}

/* What is written reaches the command's stdin, EOF included. */
static void test_stdin_round_trip(void **state)
{
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "cat");
    ss__ssh *s = open_ok(&o);
    /* 3 MiB, more than any window, so writes must wait for the server. */
    size_t total = 3u << 20;
    char *data = malloc(total);
    for (size_t i = 0; i < total; i++)
        data[i] = (char)('a' + i % 26);
    size_t sent = 0;
    ss__buf out;
    ss__buf_init(&out, total);
    int64_t deadline = ss__mono_ms() + 60000;
    while (sent < total) {
        ssize_t n = ss__ssh_write(s, data + sent, total - sent);
        assert_true(n >= 0);
        sent += (size_t)n;
        take(s, &out, NULL, NULL, NULL);
        assert_true(ss__mono_ms() < deadline);
        if (n == 0 || ss__ssh_write_pending(s))
            assert_int_equal(ss__ssh_wait(s, 1000), 0);
    }
    while (ss__ssh_write_pending(s))
        assert_int_equal(ss__ssh_wait(s, 1000), 0);
    assert_int_equal(ss__ssh_send_eof(s), 0);
    assert_int_equal(collect(s, &out, NULL, 60000), 0);
    assert_int_equal(out.len, total);
    assert_memory_equal(out.data, data, total);
    ss_ssh_exit ex;
    assert_int_equal(ss__ssh_exit(s, &ex), 0);
    assert_int_equal(ex.status, 0);
    free(data);
    ss__buf_free(&out);
    ss__ssh_close(s);
}

/* Megabytes on stderr while stdout waits: both are drained, nothing stalls. */
static void test_stderr_flood(void **state)
{
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "head -c 8388608 /dev/zero >&2; echo done");
    ss__ssh *s = open_ok(&o);
    ss__buf out;
    ss__buf_init(&out, 1 << 20);
    size_t nerr = 0;
    int64_t deadline = ss__mono_ms() + 60000;
    ss_ssh_exit ex;
    while (!(ss__ssh_ended(s) && ss__ssh_exit(s, &ex) == 0)) {
        assert_true(ss__mono_ms() < deadline);
        assert_int_equal(ss__ssh_wait(s, 1000), 0);
        take(s, &out, NULL, NULL, &nerr);
    }
    take(s, &out, NULL, NULL, &nerr);
    assert_int_equal(nerr, 8388608);
    assert_buf_text(&out, "done\n");
    ss__buf_free(&out);
    ss__ssh_close(s);
}

/* 100 MiB of output, every byte checked against the pattern. */
static void test_100mib(void **state)
{
    static const char line[] = "0123456789abcdefghijklmnopqrstuvwxyz\n"; /* 37 bytes */
    const size_t total = 100u << 20, period = sizeof(line) - 1;
    ss_ssh_opts o = ss_test_sshd_opts(
        &ss_test_server, "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 104857600");
    ss__ssh *s = open_ok(&o);
    size_t got = 0, bad = 0;
    int64_t deadline = ss__mono_ms() + 240000;
    ss_ssh_exit ex;
    for (;;) {
        ss__buf *b = ss__ssh_stdout(s);
        for (size_t i = 0; i < b->len; i++)
            bad += b->data[i] != line[(got + i) % period];
        got += b->len;
        ss__buf_take(b, b->len);
        if (ss__ssh_ended(s) && ss__ssh_exit(s, &ex) == 0 && ss__ssh_stdout(s)->len == 0)
            break;
        assert_true(ss__mono_ms() < deadline);
        assert_int_equal(ss__ssh_wait(s, 1000), 0);
    }
    assert_int_equal(got, total);
    assert_int_equal(bad, 0);
    assert_int_equal(ss__ssh_stderr(s)->len, 0);
    assert_int_equal(ex.status, 0);
    ss__ssh_close(s);
}

static void test_password(void **state)
{
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "echo in");
    o.identity = NULL;
    o.password = "not-the-password";
    ss__ssh *s = NULL;
    char why[256];
    assert_int_equal(ss__ssh_open(&s, &o, why, sizeof(why)), SS_EAUTH);
    assert_null(s);
    assert_non_null(strstr(why, "authentication"));

    o.password = ss_test_server.password;
    s = open_ok(&o);
    ss__buf out;
    ss__buf_init(&out, 1024);
    assert_int_equal(collect(s, &out, NULL, 20000), 0);
    assert_buf_text(&out, "in\n");
    ss__buf_free(&out);
    ss__ssh_close(s);
}

static void test_unknown_key_file(void **state)
{
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "true");
    o.identity = ss_test_server.other_key;
    ss__ssh *s = NULL;
    assert_int_equal(ss__ssh_open(&s, &o, NULL, 0), SS_EAUTH);

    o.identity = "/nonexistent/key";
    assert_int_equal(ss__ssh_open(&s, &o, NULL, 0), -ENOENT);
}

static void test_agent(void **state)
{
    assert_int_equal(ss_test_sshd_agent(&ss_test_server), 0);
    assert_int_equal(setenv("SSH_AUTH_SOCK", ss_test_server.agent_sock, 1), 0);
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "echo agent");
    o.identity = NULL;
    ss__ssh *s = open_ok(&o);
    ss__buf out;
    ss__buf_init(&out, 1024);
    assert_int_equal(collect(s, &out, NULL, 20000), 0);
    assert_buf_text(&out, "agent\n");
    ss__buf_free(&out);
    ss__ssh_close(s);
    unsetenv("SSH_AUTH_SOCK");
}

static void test_unknown_host(void **state)
{
    char path[128];
    ss_test_sshd_path(&ss_test_server, "empty_known_hosts", path, sizeof(path));
    unlink(path);
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "true");
    o.known_hosts = path;
    ss__ssh *s = NULL;
    char why[256];
    assert_int_equal(ss__ssh_open(&s, &o, why, sizeof(why)), SS_EHOSTUNKNOWN);
    assert_non_null(strstr(why, "not in"));

    /* Accepted explicitly: recorded, and known from then on. */
    o.accept_unknown_hostkey = true;
    s = open_ok(&o);
    ss__ssh_close(s);
    o.accept_unknown_hostkey = false;
    s = open_ok(&o);
    ss__ssh_close(s);
}

static void test_changed_host_key(void **state)
{
    char path[128];
    ss_test_sshd_path(&ss_test_server, "wrong_known_hosts", path, sizeof(path));
    assert_int_equal(ss_test_sshd_wrong_known_hosts(&ss_test_server, path), 0);
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "true");
    o.known_hosts = path;
    o.accept_unknown_hostkey = true; /* never overrides a changed key */
    ss__ssh *s = NULL;
    char why[256];
    assert_int_equal(ss__ssh_open(&s, &o, why, sizeof(why)), SS_EHOSTKEY);
    assert_non_null(strstr(why, "differs"));
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* A key marked @revoked is refused whatever else the file says (libssh skips
 * marker lines, so an ordinary line listing the same key made it pass) and
 * whatever the options (--accept-new-hostkey recorded it as trusted). */
static void test_revoked_host_key(void **state)
{
    char path[128], why[1024];
    ss__ssh *s = NULL;
    ss_test_sshd_path(&ss_test_server, "revoked_known_hosts", path, sizeof(path));
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "true");
    o.known_hosts = path;

    assert_int_equal(ss_test_sshd_marked_known_hosts(&ss_test_server, path, "@revoked", true), 0);
    assert_int_equal(ss__ssh_open(&s, &o, why, sizeof(why)), SS_EHOSTREVOKED);
    assert_null(s);
    assert_non_null(strstr(why, "REVOKED HOST KEY DETECTED"));
    assert_non_null(strstr(why, "line 2"));
    assert_non_null(strstr(why, "SHA256:"));

    assert_int_equal(ss_test_sshd_marked_known_hosts(&ss_test_server, path, "@revoked", false), 0);
    off_t before = file_size(path);
    o.accept_unknown_hostkey = true;
    assert_int_equal(ss__ssh_open(&s, &o, why, sizeof(why)), SS_EHOSTREVOKED);
    assert_int_equal(file_size(path), before); /* nothing recorded */
}

/* Host certificates are not checked: a @cert-authority line does not make a
 * host known, and the refusal says that it was not used. */
static void test_cert_authority_not_used(void **state)
{
    char path[128], why[1024];
    ss__ssh *s = NULL;
    ss_test_sshd_path(&ss_test_server, "ca_known_hosts", path, sizeof(path));
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "true");
    o.known_hosts = path;
    assert_int_equal(
        ss_test_sshd_marked_known_hosts(&ss_test_server, path, "@cert-authority", false), 0);
    assert_int_equal(ss__ssh_open(&s, &o, why, sizeof(why)), SS_EHOSTUNKNOWN);
    assert_non_null(strstr(why, "@cert-authority line of"));
    assert_non_null(strstr(why, "not supported"));
}

/* Host-key messages name the entry as known_hosts does: [host]:port off 22. */
static void test_host_key_messages_name_port(void **state)
{
    char path[128], why[1024], entry[64];
    ss__ssh *s = NULL;
    snprintf(entry, sizeof(entry), "[127.0.0.1]:%d", ss_test_server.port);
    ss_test_sshd_path(&ss_test_server, "missing_known_hosts", path, sizeof(path));
    unlink(path);
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "true");
    o.known_hosts = path;
    assert_int_equal(ss__ssh_open(&s, &o, why, sizeof(why)), SS_EHOSTUNKNOWN);
    if (!strstr(why, entry))
        fail_msg("'%s' does not name %s", why, entry);
    ss_test_sshd_path(&ss_test_server, "wrong_known_hosts", path, sizeof(path));
    assert_int_equal(ss_test_sshd_wrong_known_hosts(&ss_test_server, path), 0);
    assert_int_equal(ss__ssh_open(&s, &o, why, sizeof(why)), SS_EHOSTKEY);
    if (!strstr(why, entry))
        fail_msg("'%s' does not name %s", why, entry);
}

static void test_refused(void **state)
{
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "true");
    /* A port nobody listens on: sshd's own port + 1 is probed free first. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    o.port = ntohs(a.sin_port);
    close(fd);
    ss__ssh *s = NULL;
    assert_int_equal(ss__ssh_open(&s, &o, NULL, 0), -ECONNREFUSED);
}

/* A server that accepts but never speaks SSH: the handshake times out
 * (-ETIMEDOUT, not a lost connection); one that closes at once: SS_ECONNLOST.
 * No attempt, failed or not, leaves a descriptor open. */
static void test_not_ssh(void **state)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(l, 4), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
    int fds = count_fds();
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "true");
    o.port = ntohs(a.sin_port);
    o.connect_timeout_ms = 300;
    ss__ssh *s = NULL;
    char why[256];
    assert_int_equal(ss__ssh_open(&s, &o, why, sizeof(why)), -ETIMEDOUT);
    assert_non_null(strstr(why, "handshake"));
    assert_int_equal(count_fds(), fds);

    /* Accepted, then closed before a word: the handshake broke. */
    int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    assert_true(c >= 0);
    close(c);
    pid_t pid = fork();
    if (pid == 0) { /* a server that hangs up on everyone */
        for (int i = 0; i < 1; i++) {
            int k = accept(l, NULL, NULL);
            close(k);
        }
        _exit(0);
    }
    assert_int_equal(ss__ssh_open(&s, &o, why, sizeof(why)), SS_ECONNLOST);
    waitpid(pid, NULL, 0);
    close(l);
    assert_int_equal(count_fds(), fds - 1);

    /* A good connection opened and closed leaves nothing either. */
    ss_ssh_opts good = ss_test_sshd_opts(&ss_test_server, "true");
    s = open_ok(&good);
    assert_int_equal(collect(s, NULL, NULL, 20000), 0);
    ss__ssh_close(s);
    assert_int_equal(count_fds(), fds - 1);
}

/* sshd killed mid-stream: the error is a lost connection, and every byte
 * staged before it is still there, whole and in order. */
static void test_killed_mid_stream(void **state)
{
    ss_ssh_opts o =
        ss_test_sshd_opts(&ss_test_server, "i=0; while :; do echo \"line $i\"; i=$((i+1)); done");
    ss__ssh *s = open_ok(&o);
    ss__buf out;
    ss__buf_init(&out, 64u << 20);
    int64_t deadline = ss__mono_ms() + 30000;
    while (out.len < 100000) {
        assert_true(ss__mono_ms() < deadline);
        assert_int_equal(ss__ssh_wait(s, 1000), 0);
        take(s, &out, NULL, NULL, NULL);
    }
    assert_true(ss_test_sshd_signal_sessions(&ss_test_server, SIGKILL) > 0);
    int rc = collect(s, &out, NULL, 30000);
    assert_int_equal(rc, SS_ECONNLOST);
    assert_non_null(strstr(ss__ssh_error(s), "broke"));
    /* Every complete line is the next number. */
    size_t pos = 0;
    long expect = 0;
    while (pos < out.len) {
        char *nl = memchr(out.data + pos, '\n', out.len - pos);
        if (!nl)
            break;
        char want[32];
        int n = snprintf(want, sizeof(want), "line %ld", expect++);
        assert_int_equal(nl - (out.data + pos), n);
        assert_memory_equal(out.data + pos, want, (size_t)n);
        pos = (size_t)(nl - out.data) + 1;
    }
    assert_true(expect > 1000);
    /* Further calls report the same error. */
    assert_int_equal(ss__ssh_pump(s), SS_ECONNLOST);
    assert_int_equal(ss__ssh_write(s, "x", 1), SS_ECONNLOST);
    ss__buf_free(&out);
    ss__ssh_close(s);
}

/* A server that stops answering (stopped, not gone: TCP stays up) is found
 * dead after the configured number of unanswered keepalives. */
static void test_dead_peer(void **state)
{
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "echo started; sleep 60");
    o.keepalive_interval_ms = 200;
    o.keepalive_count_max = 2;
    ss__ssh *s = open_ok(&o);
    ss__buf out;
    ss__buf_init(&out, 1024);
    int64_t deadline = ss__mono_ms() + 20000;
    while (out.len < 8) {
        assert_true(ss__mono_ms() < deadline);
        assert_int_equal(ss__ssh_wait(s, 1000), 0);
        take(s, &out, NULL, NULL, NULL);
    }
    /* Alive while the server answers keepalives: a second of quiet output. */
    int64_t quiet = ss__mono_ms() + 1000;
    while (ss__mono_ms() < quiet)
        assert_int_equal(ss__ssh_wait(s, 100), 0);

    assert_true(ss_test_sshd_signal_sessions(&ss_test_server, SIGSTOP) > 0);
    int rc = 0;
    while (rc == 0 && ss__mono_ms() < deadline)
        rc = ss__ssh_wait(s, 1000);
    ss_test_sshd_signal_sessions(&ss_test_server, SIGKILL);
    ss_test_sshd_signal_sessions(&ss_test_server, SIGCONT);
    assert_int_equal(rc, SS_ECONNLOST);
    assert_non_null(strstr(ss__ssh_error(s), "keepalives"));
    assert_buf_text(&out, "started\n");
    ss__buf_free(&out);
    ss__ssh_close(s);
}

/* With a pty, stderr arrives merged into stdout. */
static void test_pty(void **state)
{
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, "tty; echo to-stderr >&2");
    o.pty = true;
    ss__ssh *s = open_ok(&o);
    ss__buf out, err;
    ss__buf_init(&out, 1 << 16);
    ss__buf_init(&err, 1 << 16);
    assert_int_equal(collect(s, &out, &err, 20000), 0);
    assert_int_equal(ss__buf_append(&out, "", 1), 0);
    assert_non_null(strstr(out.data, "/dev/pts/"));
    assert_non_null(strstr(out.data, "to-stderr"));
    assert_int_equal(err.len, 0);
    ss__buf_free(&out);
    ss__buf_free(&err);
    ss__ssh_close(s);
}

/* No command: the login shell reads commands from stdin. */
static void test_login_shell(void **state)
{
    ss_ssh_opts o = ss_test_sshd_opts(&ss_test_server, NULL);
    ss__ssh *s = open_ok(&o);
    const char *script = "echo shell-ok\nexit 3\n";
    size_t sent = 0;
    int64_t deadline = ss__mono_ms() + 20000;
    while (sent < strlen(script)) {
        ssize_t n = ss__ssh_write(s, script + sent, strlen(script) - sent);
        assert_true(n >= 0);
        sent += (size_t)n;
        assert_true(ss__mono_ms() < deadline);
        if (sent < strlen(script))
            assert_int_equal(ss__ssh_wait(s, 100), 0);
    }
    ss__buf out;
    ss__buf_init(&out, 1 << 16);
    assert_int_equal(collect(s, &out, NULL, 20000), 0);
    assert_int_equal(ss__buf_append(&out, "", 1), 0);
    assert_non_null(strstr(out.data, "shell-ok\n"));
    ss_ssh_exit ex;
    assert_int_equal(ss__ssh_exit(s, &ex), 0);
    assert_int_equal(ex.status, 3);
    ss__buf_free(&out);
    ss__ssh_close(s);
}

static void test_bad_options(void **state)
{
    ss__ssh *s = NULL;
    ss_ssh_opts o = {0};
    assert_int_equal(ss__ssh_open(&s, &o, NULL, 0), -EINVAL);
    o.host = "127.0.0.1";
    o.port = 70000;
    assert_int_equal(ss__ssh_open(&s, &o, NULL, 0), -EINVAL);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_exec),
        cmocka_unit_test(test_stderr_apart),
        cmocka_unit_test(test_exit_status),
        cmocka_unit_test(test_stdin_round_trip),
        cmocka_unit_test(test_stderr_flood),
        cmocka_unit_test(test_password),
        cmocka_unit_test(test_unknown_key_file),
        cmocka_unit_test(test_agent),
        cmocka_unit_test(test_unknown_host),
        cmocka_unit_test(test_changed_host_key),
        cmocka_unit_test(test_revoked_host_key),
        cmocka_unit_test(test_cert_authority_not_used),
        cmocka_unit_test(test_host_key_messages_name_port),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_not_ssh),
        cmocka_unit_test(test_pty),
        cmocka_unit_test(test_login_shell),
        cmocka_unit_test(test_killed_mid_stream),
        cmocka_unit_test(test_dead_peer),
        cmocka_unit_test(test_100mib),
    };
    return cmocka_run_group_tests(tests, ss_test_sshd_group_setup, ss_test_sshd_group_teardown);
}
