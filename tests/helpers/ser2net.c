/* The test's ser2net on a socat pty pair: see ser2net.h. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "ser2net.h"

/* The child's output to a file of the directory (the test runner waits for
 * its own output to close), dying with the test. */
static void child_setup(const char *dir, const char *log)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, log);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && null >= 0) {
        dup2(null, 0);
        dup2(fd, 1);
        dup2(fd, 2);
    }
}

static int write_config(void *ctx)
{
    const ss_test_ser2net *s = ctx;
    char path[128];
    snprintf(path, sizeof(path), "%s/ser2net.yaml", s->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f,
            "connection: &test\n"
            "  accepter: %s,tcp,127.0.0.1,%d\n"
            "  connector: serialdev,%s,115200n81,local\n"
            "  options:\n"
            "    kickolduser: true\n",
            s->rfc2217 ? "telnet(rfc2217)" : "telnet", s->port, s->dev);
    return fclose(f) == 0 ? 0 : -1;
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
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)s->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
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
    snprintf(s->dir, sizeof(s->dir), "/tmp/ss-ser2net-XXXXXX");
    if (!mkdtemp(s->dir)) {
        perror("ser2net: mkdtemp");
        return -1;
    }
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
    if (s->dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "ser2net: could not remove %s\n", s->dir);
    }
}
