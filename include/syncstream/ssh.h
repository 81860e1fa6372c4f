/*
 * syncstream/ssh.h: a command on a remote host over SSH (libssh), the settings
 * shared by the ssh transport of ss_stream and `syncstream connect ssh://...`.
 *
 * One connection runs one command on an exec channel (or the login shell when
 * no command is given). Its stdin is fed from what the caller writes, its
 * stdout and stderr are read together and kept apart, and its exit status is
 * reported when it ends.
 *
 * Host keys: the server's key is checked against known_hosts (the file in
 * ss_ssh_opts.known_hosts, ~/.ssh/known_hosts by default, and the system-wide
 * /etc/ssh/ssh_known_hosts). A key marked "@revoked" in either file (for any
 * host pattern) is always an error, checked first (SS_EHOSTREVOKED); a key
 * that differs from the recorded one is always an error (SS_EHOSTKEY); an
 * unknown host is an error (SS_EHOSTUNKNOWN) unless accept_unknown_hostkey is
 * set, which accepts the key and records it in known_hosts, as OpenSSH's
 * StrictHostKeyChecking=accept-new. Host certificates are not supported:
 * "@cert-authority" lines make no host known. The sentences name the host
 * as known_hosts does ("[host]:port" off port 22) with the key's fingerprint.
 *
 * Authentication, in this order, with the methods configured: the private key
 * file (identity), the password, then ssh-agent (SSH_AUTH_SOCK) and the
 * default keys in ~/.ssh when neither of the first two is given or use_agent
 * is set. Every method failing gives SS_EAUTH.
 *
 * ~/.ssh/config is not read: every setting comes from ss_ssh_opts.
 */
#ifndef SYNCSTREAM_SSH_H
#define SYNCSTREAM_SSH_H

#include <stdbool.h>
#include <stddef.h>

#include <syncstream/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ss_ssh_opts {
    const char *host;            /* name or address; required */
    int port;                    /* 0 means 22 */
    const char *user;            /* NULL means the current user's name */
    const char *command;         /* run on an exec channel; NULL or "" starts the
                                    login shell instead */
    const char *identity;        /* private key file (OpenSSH or PEM format), or NULL */
    const char *passphrase;      /* the identity's passphrase, or NULL */
    const char *password;        /* password authentication, or NULL */
    bool use_agent;              /* also try ssh-agent and the default keys when an
                                    identity or password is given */
    const char *known_hosts;     /* NULL means ~/.ssh/known_hosts */
    bool accept_unknown_hostkey; /* accept and record the key of an unknown
                                    host; a changed key is still refused */
    /* Ask for a pseudo-terminal. The remote side then merges stderr into
     * stdout (nothing arrives on stderr), translates line endings and echoes
     * input, as any terminal does. */
    bool pty;
    int connect_timeout_ms; /* each of: TCP connect, key exchange, login and
                               starting the command; 0 means 10000,
                               negative no limit */
    /* Dead-peer detection: after keepalive_interval_ms with nothing received,
     * a keepalive request (which the server must answer) is sent; after
     * keepalive_count_max such intervals in a row with no answer, the
     * connection is declared lost (SS_ECONNLOST). 0 means 15000 ms and 3;
     * a negative interval turns detection off. */
    int keepalive_interval_ms;
    int keepalive_count_max;
} ss_ssh_opts;

/* How a remote command ended. */
typedef struct ss_ssh_exit {
    int status;      /* 0..255, or -1 when the command was killed by a signal
                        or the server sent no status */
    char signal[32]; /* the signal's name without "SIG" ("KILL", "TERM"...)
                        when killed by one; "" otherwise */
} ss_ssh_exit;

/*
 * ss_ssh_parse_uri - read "ssh://[USER@]HOST[:PORT][/COMMAND]" into o->host,
 * o->port (0 when absent: 22), o->user (NULL when absent) and o->command
 * (NULL when absent or empty: the login shell); other fields are untouched.
 * HOST may be an IPv6 address in brackets. COMMAND is everything after the
 * first '/' following the host, taken verbatim (no percent-decoding), so
 * "ssh://pi@box/tail -f /var/log/syslog" runs that command line. A password
 * in the URI (USER:PASS@) is refused: give it another way.
 *
 * Thread-safe; no I/O. On success the strings point into *ret_storage, a
 * copy owned by the caller (free() it when o is no longer used). Returns 0,
 * -EINVAL (not ssh://, empty host or user, a password, a port outside
 * 1..65535, unbalanced brackets; o untouched) or -ENOMEM.
 */
int ss_ssh_parse_uri(const char *uri, ss_ssh_opts *o, char **ret_storage);

/*
 * ss_transport_ssh - connect, check the host key, log in and start the
 * command (see the top of this file), as a transport for ss_stream_new():
 * what the stream writes is the command's stdin, its stdout is the stream's
 * bytes, its stderr the stream's separate error channel
 * (ss_stream_take_stderr(); SS_REC_STDERR lines in a bridge), and its end is
 * ss_stream_exit_status() (a waitpid()-style status: an exit code, or the
 * signal that killed it; 255 when the server did not say). A broken
 * connection or a peer that stopped answering keepalives ends the stream
 * with SS_ECONNLOST, after every byte received before it.
 *
 * Thread-safe; blocks while connecting, each step bounded by
 * opts->connect_timeout_ms. why (may be NULL) receives a sentence about a
 * failure. On success *ret is the transport (ss_stream_new() takes it).
 * Errors: -EINVAL, SS_EHOSTUNKNOWN, SS_EHOSTKEY, SS_EHOSTREVOKED, SS_EAUTH,
 * -ECONNREFUSED, -ETIMEDOUT, SS_ENOHOST or SS_ERESOLVE (name not resolved),
 * another negative errno of connect(2) (-ENETUNREACH...), SS_ECONNLOST
 * (broken while connecting), -ENOENT (identity unreadable), -EIO (the server refused the
 * command, or a known_hosts file could not be read or written), -ENOMEM.
 */
int ss_transport_ssh(ss_transport *ret, const ss_ssh_opts *opts, char *why, size_t why_len);

#ifdef __cplusplus
}
#endif

#endif
