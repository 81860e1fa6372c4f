/* Test daemons on a free loopback port: see daemon.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
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
