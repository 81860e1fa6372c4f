/*
 * host/redis_conn.h: the Redis store's connections, on hiredis.
 *
 * A pool of blocking connections for commands, each used by one thread at a
 * time, (re)connected on demand: a connection that failed is dropped and the
 * next user dials again, so the store recovers by itself when Redis comes back.
 * Scripts are loaded on every new connection and run by their SHA1 (EVALSHA),
 * loaded again if Redis forgot them.
 *
 * Errors are negative errno values: -ECONNREFUSED (cannot connect),
 * -ECONNRESET (the connection broke), -ETIMEDOUT (no answer in time), -EIO
 * (Redis answered with an error, e.g. out of memory, a read-only replica, a
 * MOVED redirection), -ENOMEM, SS_ECLOSED (the pool was shut down).
 */
#ifndef SS_HOST_REDIS_CONN_H
#define SS_HOST_REDIS_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "host/redis_scripts.h"
#include "host/redis_uri.h"

#define SS__REDIS_POOL 8
#define SS__REDIS_CONNECT_MS 1000
#define SS__REDIS_COMMAND_MS 5000

typedef struct ss__redis_conn {
    redisContext *ctx; /* NULL while not connected */
    bool busy;
} ss__redis_conn;

typedef struct ss__redis_pool {
    ss__redis_uri uri;
    pthread_mutex_t mu;
    pthread_cond_t freed;
    ss__redis_conn conns[SS__REDIS_POOL];
    char sha[SS__RS_COUNT][41]; /* each script's SHA1, "" until loaded */
    bool closed;
} ss__redis_pool;

/* Connect to uri; command_ms > 0 bounds every later reply, 0 waits for ever
 * (for XREAD BLOCK). Returns 0 with *ret connected (TCP keepalive on), or an
 * error above. */
int ss__redis_connect(const ss__redis_uri *uri, int command_ms, redisContext **ret);

/* The error of a context whose command returned NULL. */
int ss__redis_ctx_error(const redisContext *ctx);

void ss__redis_pool_init(ss__redis_pool *p, const ss__redis_uri *uri);

/* Take a connected connection, sleeping while all are in use. Returns 0, a
 * connection error or SS_ECLOSED. */
int ss__redis_pool_take(ss__redis_pool *p, ss__redis_conn **ret);

/* Give it back; broken (the last call returned a connection error) drops it. */
void ss__redis_pool_give(ss__redis_pool *p, ss__redis_conn *c, bool broken);

/* Wake every taker with SS_ECLOSED from now on. */
void ss__redis_pool_shutdown(ss__redis_pool *p);

/* Disconnect everything (no connection may be taken). */
void ss__redis_pool_done(ss__redis_pool *p);

/* Whether err means the connection cannot be used again. */
bool ss__redis_broken(int err);

/*
 * Run script id with the four store keys and argc arguments (lengths in lens)
 * on connection c. Returns 0 with *ret (freed by the caller with
 * freeReplyObject), or an error above.
 */
int ss__redis_eval(ss__redis_pool *p, ss__redis_conn *c, ss__redis_script_id id,
                   const char *const keys[4], int argc, const char *const *argv, const size_t *lens,
                   redisReply **ret);

/* Run one command (argv NUL-terminated strings). Returns 0 with *ret, or an
 * error above (an error reply is -EIO). */
int ss__redis_command(redisContext *ctx, int argc, const char *const *argv, redisReply **ret);

#endif
