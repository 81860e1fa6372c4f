/* The Redis store's connections: connect, a pool, commands and scripts. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <syncstream/common.h>

#include "host/redis_conn.h"

static struct timeval ms_to_tv(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

int ss__redis_ctx_error(const redisContext *ctx)
{
    if (!ctx)
        return -ENOMEM;
    switch (ctx->err) {
    case REDIS_ERR_OOM:
        return -ENOMEM;
    case REDIS_ERR_EOF:
        return -ECONNRESET;
    case REDIS_ERR_IO:
        /* A receive timeout shows as EAGAIN ("Resource temporarily
         * unavailable"); hiredis keeps only the text. */
        if (strstr(ctx->errstr, "temporarily") || strstr(ctx->errstr, "timed out"))
            return -ETIMEDOUT;
        return -ECONNRESET;
    default:
        return -ECONNRESET;
    }
}

bool ss__redis_broken(int err)
{
    return err == -ECONNRESET || err == -ETIMEDOUT || err == -ECONNREFUSED || err == -ENOMEM;
}

int ss__redis_connect(const ss__redis_uri *uri, int command_ms, redisContext **ret)
{
    redisContext *ctx =
        redisConnectWithTimeout(uri->host, uri->port, ms_to_tv(SS__REDIS_CONNECT_MS));
    if (!ctx)
        return -ENOMEM;
    if (ctx->err) {
        int rc = strstr(ctx->errstr, "timed out") ? -ETIMEDOUT : -ECONNREFUSED;
        redisFree(ctx);
        return rc;
    }
    if (redisEnableKeepAlive(ctx) != REDIS_OK ||
        (command_ms > 0 && redisSetTimeout(ctx, ms_to_tv(command_ms)) != REDIS_OK)) {
        redisFree(ctx);
        return -ECONNRESET;
    }
    *ret = ctx;
    return 0;
}

/*
 * One command and its reply. hiredis writes with write(), so a connection the
 * peer closed raises SIGPIPE, which would kill a program that did not ignore
 * it: the library blocks it in this thread meanwhile and takes back the one
 * it caused (the thread-safe way; SIG_IGN would change the whole process).
 */
static redisReply *command_argv(redisContext *ctx, int argc, const char **argv, const size_t *lens)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    redisReply *r = redisCommandArgv(ctx, argc, argv, lens);
    if (!was_pending) {
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE)) {
            struct timespec zero = {0};
            sigtimedwait(&pipe_set, NULL, &zero);
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}

int ss__redis_command(redisContext *ctx, int argc, const char *const *argv, redisReply **ret)
{
    size_t lens[8];
    if (argc > 8)
        return -EINVAL;
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    redisReply *r = command_argv(ctx, argc, (const char **)argv, lens);
    if (!r)
        return ss__redis_ctx_error(ctx);
    if (r->type == REDIS_REPLY_ERROR) {
        freeReplyObject(r);
        return -EIO;
    }
    *ret = r;
    return 0;
}

void ss__redis_pool_init(ss__redis_pool *p, const ss__redis_uri *uri)
{
    memset(p, 0, sizeof(*p));
    p->uri = *uri;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->freed, NULL);
}

/* Load every script on a new connection: Redis may have restarted and forgotten
 * them, and the SHA1s it answers are the names EVALSHA wants. */
static int load_scripts(ss__redis_pool *p, redisContext *ctx)
{
    for (int i = 0; i < SS__RS_COUNT; i++) {
        const char *argv[] = {"SCRIPT", "LOAD", ss__redis_scripts[i]};
        redisReply *r;
        int rc = ss__redis_command(ctx, 3, argv, &r);
        if (rc < 0)
            return rc;
        if (r->type != REDIS_REPLY_STRING || r->len != 40) {
            freeReplyObject(r);
            return -EIO;
        }
        pthread_mutex_lock(&p->mu);
        memcpy(p->sha[i], r->str, 41);
        pthread_mutex_unlock(&p->mu);
        freeReplyObject(r);
    }
    return 0;
}

/* Redis sends nothing unasked on a command connection: anything readable is
 * the end of the connection (Redis restarted, or closed an idle client).
 * Found before a command is sent, it costs the caller nothing but a new
 * connection; found after, it would cost a 503. */
static bool peer_gone(const redisContext *ctx)
{
    struct pollfd p = {.fd = ctx->fd, .events = POLLIN | POLLRDHUP};
    return poll(&p, 1, 0) != 0;
}

int ss__redis_pool_take(ss__redis_pool *p, ss__redis_conn **ret)
{
    ss__redis_conn *c = NULL;
    pthread_mutex_lock(&p->mu);
    while (!p->closed) {
        for (size_t i = 0; i < SS__REDIS_POOL && !c; i++)
            if (!p->conns[i].busy)
                c = &p->conns[i];
        if (c)
            break;
        pthread_cond_wait(&p->freed, &p->mu);
    }
    if (!c) {
        pthread_mutex_unlock(&p->mu);
        return SS_ECLOSED;
    }
    c->busy = true;
    pthread_mutex_unlock(&p->mu);

    if (c->ctx && peer_gone(c->ctx)) {
        redisFree(c->ctx);
        c->ctx = NULL;
    }
    if (!c->ctx) {
        int rc = ss__redis_connect(&p->uri, SS__REDIS_COMMAND_MS, &c->ctx);
        if (rc == 0 && (rc = load_scripts(p, c->ctx)) < 0) {
            redisFree(c->ctx);
            c->ctx = NULL;
        }
        if (rc < 0) {
            ss__redis_pool_give(p, c, false);
            return rc;
        }
    }
    *ret = c;
    return 0;
}

void ss__redis_pool_give(ss__redis_pool *p, ss__redis_conn *c, bool broken)
{
    if (broken && c->ctx) {
        redisFree(c->ctx);
        c->ctx = NULL;
    }
    pthread_mutex_lock(&p->mu);
    c->busy = false;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

void ss__redis_pool_shutdown(ss__redis_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->closed = true;
    pthread_cond_broadcast(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

void ss__redis_pool_done(ss__redis_pool *p)
{
    for (size_t i = 0; i < SS__REDIS_POOL; i++)
        if (p->conns[i].ctx)
            redisFree(p->conns[i].ctx);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->mu);
}

int ss__redis_eval(ss__redis_pool *p, ss__redis_conn *c, ss__redis_script_id id,
                   const char *const keys[4], int argc, const char *const *argv, const size_t *lens,
                   redisReply **ret)
{
    enum { HEAD = 7 }; /* EVALSHA SHA 4 KEY KEY KEY KEY */
    const char **av = malloc((size_t)(argc + HEAD) * sizeof(*av));
    size_t *al = malloc((size_t)(argc + HEAD) * sizeof(*al));
    char sha[41];
    int rc = av && al ? 0 : -ENOMEM;
    for (int attempt = 0; rc == 0; attempt++) {
        pthread_mutex_lock(&p->mu);
        memcpy(sha, p->sha[id], sizeof(sha));
        pthread_mutex_unlock(&p->mu);
        av[0] = "EVALSHA";
        av[1] = sha;
        av[2] = "4";
        for (int i = 0; i < 3; i++)
            al[i] = strlen(av[i]);
        for (int i = 0; i < 4; i++) {
            av[3 + i] = keys[i];
            al[3 + i] = strlen(keys[i]);
        }
        for (int i = 0; i < argc; i++) {
            av[HEAD + i] = argv[i];
            al[HEAD + i] = lens[i];
        }
        redisReply *r = command_argv(c->ctx, argc + HEAD, av, al);
        if (!r) {
            rc = ss__redis_ctx_error(c->ctx);
            break;
        }
        if (r->type != REDIS_REPLY_ERROR) {
            *ret = r;
            break;
        }
        /* SCRIPT FLUSH (or a failover to a replica that never saw the
         * scripts): load them again, once. */
        bool noscript = strncmp(r->str, "NOSCRIPT", 8) == 0;
        freeReplyObject(r);
        rc = -EIO;
        if (noscript && attempt == 0)
            rc = load_scripts(p, c->ctx);
        else
            break;
    }
    free(av);
    free(al);
    return rc;
}
