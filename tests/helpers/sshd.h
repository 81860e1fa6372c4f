/*
 * A real OpenSSH server for the SSH tests, started and stopped by the test.
 *
 * ss_test_sshd_start() makes a temporary directory with a fresh host key, a
 * user key (ed25519, no passphrase) listed in authorized_keys, a known_hosts
 * file that lists the host key, a password for the login user and an
 * sshd_config of its own, then runs Debian's /usr/sbin/sshd -D -e on a free
 * port of 127.0.0.1 and waits until it answers with its banner.
 *
 * It needs root, as CI has: the login user is root, and the password is set
 * only inside a private mount namespace in which sshd sees a copy of
 * /etc/shadow (bind-mounted over it), so the machine's accounts are never
 * changed. sshd's log is DIR/sshd.log.
 */
#ifndef SS_TEST_SSHD_H
#define SS_TEST_SSHD_H

#include <stdbool.h>
#include <sys/types.h>

#include <syncstream/ssh.h>

typedef struct ss_test_sshd {
    char dir[64];          /* the temporary directory */
    int port;              /* on 127.0.0.1 */
    pid_t pid;             /* the listening sshd */
    pid_t agent_pid;       /* ssh-agent, once ss_test_sshd_agent() started it */
    const char *user;      /* the login user */
    char password[32];     /* the login user's password (for this sshd only) */
    char user_key[128];    /* private key listed in authorized_keys */
    char other_key[128];   /* a private key the server does not know */
    char known_hosts[128]; /* lists this server's host key */
    char host_pub[128];    /* the host key's public half */
    char agent_sock[128];  /* ssh-agent's socket */
} ss_test_sshd;

/* Start a server. Returns 0, or -1 after printing why on stderr. */
int ss_test_sshd_start(ss_test_sshd *d);

/* Stop the server and every session it started, remove the directory. */
void ss_test_sshd_stop(ss_test_sshd *d);

/* Send sig to every process of the server's sessions (not the listener):
 * SIGKILL kills the remote end mid-stream, SIGSTOP silences it. Returns how
 * many processes were signalled. */
int ss_test_sshd_signal_sessions(ss_test_sshd *d, int sig);

/* Start ssh-agent on d->agent_sock holding d->user_key. Returns 0 or -1. */
int ss_test_sshd_agent(ss_test_sshd *d);

/* Write a known_hosts file at path that lists a freshly made key, not the
 * server's, for 127.0.0.1 on the server's port (a changed host key).
 * Returns 0 or -1. */
int ss_test_sshd_wrong_known_hosts(ss_test_sshd *d, const char *path);

/* Write a known_hosts file at path whose first line (after a comment) is
 * "MARKER * KEY" with this server's host key (marker "@revoked" or
 * "@cert-authority"), followed, when plain, by the ordinary line listing the
 * same key for 127.0.0.1 on the server's port. Returns 0 or -1. */
int ss_test_sshd_marked_known_hosts(ss_test_sshd *d, const char *path, const char *marker,
                                    bool plain);

/* One server for a whole cmocka group: the group setup starts it, the group
 * teardown stops it. */
extern ss_test_sshd ss_test_server;
int ss_test_sshd_group_setup(void **state);
int ss_test_sshd_group_teardown(void **state);

/* Options for a key login (d->user_key) to d, known_hosts checked against
 * d->known_hosts, running command. */
ss_ssh_opts ss_test_sshd_opts(const ss_test_sshd *d, const char *command);

/* dir/name into out (size n). Returns out. */
char *ss_test_sshd_path(const ss_test_sshd *d, const char *name, char *out, size_t n);

#endif
