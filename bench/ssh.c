/*
 * bench_ssh: 100 MiB of remote output over SSH. A real OpenSSH sshd on
 * 127.0.0.1 (the tests' harness, so: run as root) serves a file of S MiB; each
 * row reads `cat FILE` to the end and throws the bytes away:
 *
 *   stream     ss_stream over the ssh transport, ss_stream_read() in 256 KiB
 *   libssh     the SSH module alone (src/lib/ssh), a poll() loop, no stream
 *   openssh    the OpenSSH client, `ssh -T ... cat FILE > /dev/null`, same cipher
 *   local      `cat FILE | wc -c` without SSH: what the machine's pipes allow
 *
 * Every row includes connecting and logging in (a few ms on loopback). Each
 * figure is the median of -r runs (default 3), the rows interleaved run by
 * run. Usage: bench_ssh [-s MIB] [-r RUNS]. See docs/benchmarks.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <syncstream.h>

#include "../tests/helpers/sshd.h"
#include "ssh/ssh_int.h"

enum { R_STREAM, R_LIBSSH, R_OPENSSH, R_LOCAL, ROWS };
static const char *row_names[ROWS] = {"ss_stream, ssh transport", "libssh module alone",
                                      "OpenSSH client (ssh)", "local cat into wc -c, no SSH"};

static ss_test_sshd g_sshd;
static char g_file[128], g_command[256], g_cipher[64] = "";
static size_t g_bytes;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_ssh: %s: %s\n", what, why);
    ss_test_sshd_stop(&g_sshd);
    exit(1);
}

static ss_ssh_opts opts(void)
{
    return ss_test_sshd_opts(&g_sshd, g_command);
}

static size_t run_libssh(void)
{
    ss_ssh_opts o = opts();
    ss__ssh *s;
    char why[256];
    int rc = ss__ssh_open(&s, &o, why, sizeof(why));
    if (rc < 0)
        die("libssh", why);
    if (!g_cipher[0])
        snprintf(g_cipher, sizeof(g_cipher), "%s", ssh_get_cipher_in(s->session));
    size_t got = 0;
    ss_ssh_exit ex;
    for (;;) {
        got += ss__ssh_stdout(s)->len;
        ss__buf_take(ss__ssh_stdout(s), ss__ssh_stdout(s)->len);
        ss__buf_take(ss__ssh_stderr(s), ss__ssh_stderr(s)->len);
        if (ss__ssh_ended(s) && ss__ssh_exit(s, &ex) == 0 && !ss__ssh_stdout(s)->len)
            break;
        if ((rc = ss__ssh_wait(s, 10000)) < 0)
            die("libssh", ss_strerror(rc));
    }
    ss__ssh_close(s);
    return got;
}

static size_t run_stream(void)
{
    ss_ssh_opts o = opts();
    ss_transport t;
    char why[256];
    int rc = ss_transport_ssh(&t, &o, why, sizeof(why));
    if (rc < 0)
        die("stream", why);
    ss_stream *st;
    if ((rc = ss_stream_new(&st, NULL, &t, NULL)) < 0)
        die("ss_stream_new", ss_strerror(rc));
    static char buf[256 * 1024];
    size_t got = 0;
    ssize_t n;
    while ((n = ss_stream_read(st, buf, sizeof(buf), 30000, NULL)) > 0)
        got += (size_t)n;
    if (n != SS_EEOF)
        die("ss_stream_read", ss_strerror((int)n));
    ss_stream_free(st);
    return got;
}

/* Run sh -c cmd; its stdout (a byte count) is returned. */
static size_t run_shell(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        die("popen", cmd);
    unsigned long long n = 0;
    if (fscanf(p, "%llu", &n) != 1)
        n = 0;
    if (pclose(p) != 0)
        die("command failed", cmd);
    return (size_t)n;
}

static size_t run_openssh(void)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "ssh -T -o BatchMode=yes -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes "
             "-c %s -i %s -p %d %s@127.0.0.1 '%s' | wc -c",
             g_sshd.known_hosts, g_cipher, g_sshd.user_key, g_sshd.port, g_sshd.user, g_command);
    return run_shell(cmd);
}

static size_t run_local(void)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "%s | wc -c", g_command);
    return run_shell(cmd);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int runs = 3, mib = 100, c;
    while ((c = getopt(argc, argv, "s:r:")) != -1) {
        if (c == 's')
            mib = atoi(optarg);
        else if (c == 'r')
            runs = atoi(optarg);
        else
            return 2;
    }
    if (runs < 1 || runs > 50 || mib < 1)
        return 2;
    g_bytes = (size_t)mib << 20;
    if (ss_test_sshd_start(&g_sshd) != 0)
        return 1;
    ss_test_sshd_path(&g_sshd, "payload", g_file, sizeof(g_file));
    char make[512];
    snprintf(make, sizeof(make), "head -c %zu /dev/urandom > %s", g_bytes, g_file);
    if (system(make) != 0)
        die("cannot make", g_file);
    snprintf(g_command, sizeof(g_command), "cat %s", g_file);

    double *t[ROWS];
    for (int r = 0; r < ROWS; r++)
        t[r] = calloc((size_t)runs, sizeof(double));
    run_libssh(); /* warm the page cache, learn the cipher */
    for (int i = 0; i < runs; i++) {
        for (int r = 0; r < ROWS; r++) {
            double t0 = now_s();
            size_t got = r == R_STREAM    ? run_stream()
                         : r == R_LIBSSH  ? run_libssh()
                         : r == R_OPENSSH ? run_openssh()
                                          : run_local();
            t[r][i] = now_s() - t0;
            if (got != g_bytes) {
                char why[96];
                snprintf(why, sizeof(why), "%zu bytes instead of %zu", got, g_bytes);
                die(row_names[r], why);
            }
        }
    }
    double med[ROWS];
    for (int r = 0; r < ROWS; r++) {
        qsort(t[r], (size_t)runs, sizeof(double), cmp_double);
        med[r] = t[r][runs / 2];
    }
    printf("bench_ssh: %d MiB of `cat FILE` from sshd on 127.0.0.1, cipher %s, median of %d "
           "runs, %ld CPUs, every byte counted\n\n",
           mib, g_cipher, runs, sysconf(_SC_NPROCESSORS_ONLN));
    printf("| reader | seconds | MB/s | vs OpenSSH client |\n| --- | ---: | ---: | ---: |\n");
    for (int r = 0; r < ROWS; r++)
        printf("| %s | %.3f | %.0f | %.2fx |\n", row_names[r], med[r],
               (double)g_bytes / med[r] / 1e6, med[R_OPENSSH] / med[r]);
    for (int r = 0; r < ROWS; r++)
        free(t[r]);
    ss_test_sshd_stop(&g_sshd);
    return 0;
}
