/*
 * A daemon for the tests (redis-server, sshd, ser2net), started on a free
 * port of 127.0.0.1 in a temporary directory of its own and waited for until
 * it answers: what redis_server.c, sshd.c and ser2net.c share. The daemon's
 * own harness says how to configure it for a port, how to start it and how to
 * tell that it answers.
 */
#ifndef SS_TEST_DAEMON_H
#define SS_TEST_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct ss_test_daemon {
    /* Write the configuration for the port just chosen (the harness keeps it
     * in ctx: see ss_test_daemon_start). Returns 0 or -1. */
    int (*configure)(void *ctx);
    /* Start the daemon. Returns its pid, or -1. */
    pid_t (*spawn)(void *ctx);
    /* True once the daemon pid answers on its port (and it is that one). */
    bool (*answers)(void *ctx, pid_t pid);
    int timeout_ms; /* how long it may take to answer */
} ss_test_daemon;

/* Make the daemon's directory /tmp/ss-NAME-XXXXXX, its path into dir. Returns
 * 0, or -1 after printing why (dir then ""). */
int ss_test_daemon_dir(char dir[64], const char *name);

/* Remove that directory and everything in it (nothing when dir is ""). */
void ss_test_daemon_rmdir(const char *dir);

/* Write the file path (created or emptied, mode 0600) from printf's fmt: a
 * daemon's configuration. Returns 0 or -1. */
__attribute__((format(printf, 2, 3))) int ss_test_daemon_write(const char *path, const char *fmt,
                                                               ...);

/* In a forked child, before it execs the daemon: it dies with the test
 * (PR_SET_PDEATHSIG, SIGKILL), reads /dev/null and writes to the file log
 * (appended; /dev/null when log is NULL), so it never holds the test's output
 * open, which the test runner waits for to close. */
void ss_test_daemon_child(const char *log);

/* A socket connected to port of 127.0.0.1, or -1: whether a daemon accepts. */
int ss_test_daemon_connect(int port);

/* A port of 127.0.0.1 that nothing listened on a moment ago, or -1. */
int ss_test_free_port(void);

void ss_test_sleep_ms(int ms);

/* Start d and wait until it answers. Returns 0 and *pid; or -1, with the
 * daemon reaped (it exited, or was killed after timeout_ms) and *pid 0. */
int ss_test_daemon_run(const ss_test_daemon *d, void *ctx, pid_t *pid);

/* On a free port (stored in *port, which ctx's configure reads), configure and
 * run d. Another program may take the port before the daemon binds it, so a
 * few ports are tried. Returns 0 and *pid, or -1. */
int ss_test_daemon_start(const ss_test_daemon *d, void *ctx, int *port, pid_t *pid);

/* Send *pid sig, wait up to timeout_ms for it to exit, then SIGKILL it; reap
 * it and set *pid to 0. Nothing when *pid is 0. */
void ss_test_daemon_stop(pid_t *pid, int sig, int timeout_ms);

#endif
