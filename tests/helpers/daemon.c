/* Test daemons on a free loopback port: see daemon.h. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define POLL_MS 50

void ss_test_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int ss_test_daemon_dir(char dir[64], const char *name)
{
    snprintf(dir, 64, "/tmp/ss-%s-XXXXXX", name);
    if (mkdtemp(dir))
        return 0;
    perror("mkdtemp");
    dir[0] = '\0';
    return -1;
}

void ss_test_daemon_rmdir(const char *dir)
{
    if (!dir[0])
        return;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

int ss_test_daemon_write(const char *path, const char *fmt, ...)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    return fclose(f) == 0 && n >= 0 ? 0 : -1;
}

void ss_test_daemon_child(const char *log)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)
                  : open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (in >= 0 && out >= 0) {
        dup2(in, STDIN_FILENO);
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
    }
}

int ss_test_daemon_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

int ss_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

int ss_test_daemon_run(const ss_test_daemon *d, void *ctx, pid_t *pid)
{
    *pid = d->spawn(ctx);
    if (*pid < 0) {
        *pid = 0;
        return -1;
    }
    for (int waited = 0; waited < d->timeout_ms; waited += POLL_MS) {
        int status;
        if (waitpid(*pid, &status, WNOHANG) == *pid) {
            *pid = 0;
            return -1; /* exited: the port was taken meanwhile, or it cannot run */
        }
        if (d->answers(ctx, *pid))
            return 0;
        ss_test_sleep_ms(POLL_MS);
    }
    ss_test_daemon_stop(pid, SIGKILL, 0);
    return -1;
}

int ss_test_daemon_start(const ss_test_daemon *d, void *ctx, int *port, pid_t *pid)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        *port = ss_test_free_port();
        if (*port < 0 || d->configure(ctx) != 0)
            return -1;
        if (ss_test_daemon_run(d, ctx, pid) == 0)
            return 0;
    }
    return -1;
}

void ss_test_daemon_stop(pid_t *pid, int sig, int timeout_ms)
{
    if (*pid <= 0)
        return;
    kill(*pid, sig);
    for (int waited = 0; waited < timeout_ms; waited += POLL_MS) {
        int status;
        if (waitpid(*pid, &status, WNOHANG) == *pid) {
            *pid = 0;
            return;
        }
        ss_test_sleep_ms(POLL_MS);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = 0;
}
