/* The test's redis-server: see redis_server.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "daemon.h"
#include "redis_server.h"

/* True once our server answers (not while it loads its data): the process
 * on the port must be ours, not another program that took it first. */
static bool answers(void *ctx, pid_t pid)
{
    const ss_test_redis *r = ctx;
    struct timeval tv = {.tv_sec = 1};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
    bool ok = false;
    if (c && !c->err) {
        redisReply *rep = redisCommand(c, "INFO server");
        char want[32];
        snprintf(want, sizeof(want), "\nprocess_id:%d\r", (int)pid);
        ok = rep && rep->type == REDIS_REPLY_STRING && strstr(rep->str, want);
        if (rep)
            freeReplyObject(rep);
        if (ok) {
            rep = redisCommand(c, "PING"); /* LOADING until its data is in */
            ok = rep && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;
            if (rep)
                freeReplyObject(rep);
        }
    }
    if (c)
        redisFree(c);
    return ok;
}

static int write_config(void *ctx)
{
    const ss_test_redis *r = ctx;
    char path[128];
    snprintf(path, sizeof(path), "%s/redis.conf", r->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f,
            "bind 127.0.0.1\n"
            "port %d\n"
            "dir %s\n"
            "logfile %s/redis.log\n"
            "daemonize no\n"
            "save \"\"\n"
            "appendonly yes\n"
            "appendfsync always\n"
            "protected-mode yes\n",
            r->port, r->dir, r->dir);
    return fclose(f) == 0 ? 0 : -1;
}

static pid_t spawn(void *ctx)
{
    const ss_test_redis *r = ctx;
    char conf[128];
    snprintf(conf, sizeof(conf), "%s/redis.conf", r->dir);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* Never outlive the test, and never hold its output open (the test
     * runner waits for it to close): Redis logs to its file. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    execlp("redis-server", "redis-server", conf, (char *)NULL);
    _exit(127);
}

/* Up to 20 s to load its data and answer. */
static const ss_test_daemon redis_daemon = {write_config, spawn, answers, 20000};

int ss_test_redis_start(ss_test_redis *r)
{
    /* A program on a port we took for free may close on us mid-write. */
    signal(SIGPIPE, SIG_IGN);
    memset(r, 0, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/ss-redis-XXXXXX");
    if (!mkdtemp(r->dir)) {
        fprintf(stderr, "redis: mkdtemp: %d\n", errno);
        return -1;
    }
    if (ss_test_daemon_start(&redis_daemon, r, &r->port, &r->pid) == 0)
        return 0;
    fprintf(stderr, "redis: redis-server did not start (see %s/redis.log)\n", r->dir);
    return -1;
}

void ss_test_redis_stop(ss_test_redis *r)
{
    ss_test_daemon_stop(&r->pid, SIGTERM, 20000);
}

int ss_test_redis_restart(ss_test_redis *r)
{
    ss_test_redis_stop(r);
    /* The port is ours to reuse: Redis listens with SO_REUSEADDR. */
    for (int attempt = 0; attempt < 20; attempt++) {
        if (ss_test_daemon_run(&redis_daemon, r, &r->pid) == 0)
            return 0;
        ss_test_sleep_ms(100);
    }
    fprintf(stderr, "redis: redis-server did not restart (see %s/redis.log)\n", r->dir);
    return -1;
}

void ss_test_redis_remove(ss_test_redis *r)
{
    ss_test_redis_stop(r);
    if (r->dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "redis: could not remove %s\n", r->dir);
    }
}

char *ss_test_redis_uri(const ss_test_redis *r, const char *key, char *out, size_t n)
{
    snprintf(out, n, "redis://127.0.0.1:%d/%s", r->port, key);
    return out;
}
