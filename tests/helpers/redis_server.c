/* The test's redis-server: see redis_server.h. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
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

/* The configuration file of r's directory, into path (128 bytes). */
static char *config_path(const ss_test_redis *r, char *path)
{
    snprintf(path, 128, "%s/redis.conf", r->dir);
    return path;
}

static int write_config(void *ctx)
{
    const ss_test_redis *r = ctx;
    char path[128];
    return ss_test_daemon_write(config_path(r, path),
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
}

static pid_t spawn(void *ctx)
{
    const ss_test_redis *r = ctx;
    char conf[128];
    config_path(r, conf);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    ss_test_daemon_child(NULL); /* Redis logs to its file */
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
    if (ss_test_daemon_dir(r->dir, "redis") < 0)
        return -1;
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
    ss_test_daemon_rmdir(r->dir);
}

char *ss_test_redis_uri(const ss_test_redis *r, const char *key, char *out, size_t n)
{
    snprintf(out, n, "redis://127.0.0.1:%d/%s", r->port, key);
    return out;
}
