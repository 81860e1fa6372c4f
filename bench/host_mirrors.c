/* What the host-mode benchmarks share: see host_mirrors.h. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host_mirrors.h"

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_make_line(char *buf, int mirror, long i)
{
    int n = snprintf(buf, BENCH_LINE_LEN, "mirror %d line %09ld ", mirror, i);
    memset(buf + n, 'x', (size_t)(BENCH_LINE_LEN - 1 - n));
    buf[BENCH_LINE_LEN - 1] = '\n';
}

pid_t bench_start_server(const ss_host_server_opts *opts, int *ret_port)
{
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        ss_host_server *srv;
        int rc = ss_host_server_new(&srv, opts);
        int port = rc < 0 ? -1 : ss_host_server_port(srv);
        if (write(fds[1], &port, sizeof(port)) != sizeof(port) || rc < 0)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    int port = -1;
    if (pid > 0 && (read(fds[0], &port, sizeof(port)) != sizeof(port) || port < 0)) {
        bench_stop_server(pid);
        pid = -1;
    }
    close(fds[0]);
    *ret_port = port;
    return pid;
}

void bench_stop_server(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

int bench_run_mirror(const char *url, int id, long lines)
{
    return bench_run_mirror_after(url, id, lines, -1, -1);
}

int bench_run_mirror_after(const char *url, int id, long lines, int ready_fd, int go_fd)
{
    char src[16];
    snprintf(src, sizeof(src), "m%d", id);
    ss_host_mirror *m;
    /* The run counts until the last line is acknowledged, however long. */
    if (ss_host_mirror_new(&m, url, &(ss_host_mirror_opts){.source = src, .close_timeout_ms = -1}) <
        0)
        return 1;
    char c = 0;
    if (ready_fd >= 0 && (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 0))
        return 1;
    char line[BENCH_LINE_LEN];
    for (long i = 0; i < lines; i++) {
        bench_make_line(line, id, i);
        if (ss_host_mirror_write(m, line, BENCH_LINE_LEN) < 0)
            return 1;
    }
    int rc = ss_host_mirror_close(m);
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    ss_host_mirror_free(m);
    return rc < 0 || st.records_sent != (uint64_t)lines ? 1 : 0;
}

double bench_run_procs(int n, int (*fn)(int i, void *ctx), void *ctx)
{
    pid_t pids[64];
    if (n > 64)
        return -1;
    double t0 = bench_now_s();
    int bad = 0;
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            _exit(fn(i, ctx));
        bad |= pids[i] < 0;
    }
    for (int i = 0; i < n; i++) {
        int status;
        if (pids[i] < 0)
            continue;
        waitpid(pids[i], &status, 0);
        bad |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    return bad ? -1 : bench_now_s() - t0;
}
