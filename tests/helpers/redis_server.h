/*
 * A real redis-server for the Redis store's tests, started and stopped by the
 * test: its own directory (config, append-only file, log) and a free port of
 * 127.0.0.1. Stopping it keeps the directory, so starting it again brings
 * back everything it had stored (appendonly yes, appendfsync always): a Redis
 * restart with its persisted data.
 */
#ifndef SS_TEST_REDIS_SERVER_H
#define SS_TEST_REDIS_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct ss_test_redis {
    char dir[64]; /* the temporary directory */
    int port;     /* on 127.0.0.1, kept across restarts */
    pid_t pid;    /* 0 while stopped */
} ss_test_redis;

/* Start a new server in a new directory. Returns 0, or -1 after printing why. */
int ss_test_redis_start(ss_test_redis *r);

/* Stop it (SIGTERM: Redis syncs its files and exits), waiting for the exit.
 * The directory stays. */
void ss_test_redis_stop(ss_test_redis *r);

/* Start it again on the same port with the same directory. Returns 0 or -1. */
int ss_test_redis_restart(ss_test_redis *r);

/* Stop it and remove its directory. */
void ss_test_redis_remove(ss_test_redis *r);

/* redis://127.0.0.1:PORT/key into out (size n). Returns out. */
char *ss_test_redis_uri(const ss_test_redis *r, const char *key, char *out, size_t n);

#endif
