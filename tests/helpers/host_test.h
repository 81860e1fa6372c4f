/*
 * Helpers for the host-mode client tests: real servers in child processes on
 * 127.0.0.1, started and stopped by the test, on free ports.
 */
#ifndef SS_HOST_TEST_H
#define SS_HOST_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

typedef struct test_server {
    pid_t pid;
    int port;
    char url[128]; /* http://127.0.0.1:PORT/sync-stream */
    char base[96]; /* http://127.0.0.1:PORT */
} test_server;

/* A port nobody listens on now (the kernel's pick for an ephemeral bind). */
static inline int test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static inline void test_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Whether something accepts connections on 127.0.0.1:port. */
static inline bool test_port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/*
 * Run argv (a server that will listen on s->port, which the caller put in
 * argv) and wait up to 15 s for it to accept connections. Its standard output
 * goes to /dev/null. Returns 0 or -1.
 */
static inline int test_server_run(test_server *s, char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&s->pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
    snprintf(s->url, sizeof(s->url), "%s/sync-stream", s->base);
    for (int i = 0; i < 1500; i++) {
        if (test_port_open(s->port))
            return 0;
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return -1;
        }
        test_sleep_ms(10);
    }
    return -1;
}

/* Kill the server (SIGKILL: as abrupt as a crash) and reap it. */
static inline void test_server_kill(test_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

/*
 * A Python stand-in server: the script named by the environment variable
 * script_env (set by the meson test), with extra arguments, on port (0: a free
 * one).
 */
static inline int test_python_server_start(test_server *s, const char *script_env, int port,
                                           const char *const *extra)
{
    const char *py = getenv("SS_TEST_PYTHON");
    const char *script = getenv(script_env);
    if (!py || !script)
        return -1;
    s->port = port ? port : test_free_port();
    char portarg[16];
    snprintf(portarg, sizeof(portarg), "%d", s->port);
    char *argv[16] = {(char *)py, (char *)script, "--port", portarg};
    int n = 4;
    for (; extra && *extra && n < 15; extra++)
        argv[n++] = (char *)*extra;
    argv[n] = NULL;
    return test_server_run(s, argv);
}

/* The base-protocol stand-in (tests/host/base_server.py). */
static inline int test_base_server_start(test_server *s, int port, int maxlen)
{
    char maxarg[16];
    snprintf(maxarg, sizeof(maxarg), "%d", maxlen);
    const char *const extra[] = {"--maxlen", maxarg, NULL};
    return test_python_server_start(s, "SS_TEST_BASE_SERVER", port, extra);
}

/*
 * Our server, `syncstream serve` (the tool named by SS_TEST_SYNCSTREAM), on
 * port (0: a free one), with extra options (NULL-terminated, may be NULL).
 */
static inline int test_ext_server_start(test_server *s, int port, const char *const *extra)
{
    const char *tool = getenv("SS_TEST_SYNCSTREAM");
    if (!tool)
        return -1;
    s->port = port ? port : test_free_port();
    char listen[48];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", s->port);
    char *argv[24] = {(char *)tool, "serve", "--listen", listen};
    int n = 4;
    for (; extra && *extra && n < 23; extra++)
        argv[n++] = (char *)*extra;
    argv[n] = NULL;
    return test_server_run(s, argv);
}

#endif
