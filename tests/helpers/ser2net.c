/* The test's ser2net on a socat pty pair: see ser2net.h. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "ser2net.h"

/* The child's output to a file of the directory. */
static void child_setup(const char *dir, const char *log)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, log);
    ss_test_daemon_child(path);
}

static int write_config(void *ctx)
{
    const ss_test_ser2net *s = ctx;
    char path[128];
    snprintf(path, sizeof(path), "%s/ser2net.yaml", s->dir);
    return ss_test_daemon_write(path,
                                "connection: &test\n"
                                "  accepter: %s,tcp,127.0.0.1,%d\n"
                                "  connector: serialdev,%s,115200n81,local\n"
                                "  options:\n"
                                "    kickolduser: true\n",
                                s->rfc2217 ? "telnet(rfc2217)" : "telnet", s->port, s->dev);
}

static pid_t spawn(void *ctx)
{
    const ss_test_ser2net *s = ctx;
    char conf[128];
    snprintf(conf, sizeof(conf), "%s/ser2net.yaml", s->dir);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    child_setup(s->dir, "ser2net.log");
    execl("/usr/sbin/ser2net", "ser2net", "-n", "-d", "-c", conf, (char *)NULL);
    _exit(127);
}

/* Our ser2net accepts on its port (the process checked alive by the caller). */
static bool answers(void *ctx, pid_t pid)
{
    const ss_test_ser2net *s = ctx;
    (void)pid;
    int fd = ss_test_daemon_connect(s->port);
    if (fd >= 0)
        close(fd);
    return fd >= 0;
}

static const ss_test_daemon ser2net_daemon = {write_config, spawn, answers, 10000};

static int start_socat(ss_test_ser2net *s)
{
    char a[200], b[200];
    snprintf(a, sizeof(a), "pty,raw,echo=0,link=%s", s->dev);
    snprintf(b, sizeof(b), "pty,raw,echo=0,link=%s", s->peer);
    s->socat = fork();
    if (s->socat < 0)
        return -1;
    if (s->socat == 0) {
        child_setup(s->dir, "socat.log");
        execlp("socat", "socat", "-d", "-d", a, b, (char *)NULL);
        _exit(127);
    }
    /* both links made: socat is ready (bounded: 10 s) */
    for (int i = 0; i < 200; i++) {
        if (access(s->dev, F_OK) == 0 && access(s->peer, F_OK) == 0)
            return 0;
        if (waitpid(s->socat, NULL, WNOHANG) == s->socat) {
            s->socat = 0;
            return -1;
        }
        ss_test_sleep_ms(50);
    }
    return -1;
}

int ss_test_ser2net_start(ss_test_ser2net *s, bool rfc2217)
{
    signal(SIGPIPE, SIG_IGN);
    memset(s, 0, sizeof(*s));
    s->rfc2217 = rfc2217;
    if (ss_test_daemon_dir(s->dir, "ser2net") < 0)
        return -1;
    snprintf(s->dev, sizeof(s->dev), "%s/dev", s->dir);
    snprintf(s->peer, sizeof(s->peer), "%s/peer", s->dir);
    if (start_socat(s) < 0) {
        fprintf(stderr, "ser2net: socat did not make its pty pair (see %s/socat.log)\n", s->dir);
        return -1;
    }
    if (ss_test_daemon_start(&ser2net_daemon, s, &s->port, &s->pid) < 0) {
        fprintf(stderr, "ser2net: ser2net did not start (see %s/ser2net.log)\n", s->dir);
        return -1;
    }
    return 0;
}

void ss_test_ser2net_stop(ss_test_ser2net *s)
{
    ss_test_daemon_stop(&s->pid, SIGTERM, 5000);
    ss_test_daemon_stop(&s->socat, SIGTERM, 5000);
    ss_test_daemon_rmdir(s->dir);
}
