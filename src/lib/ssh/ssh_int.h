/*
 * ss__ssh: one SSH connection running one command, on libssh (internal).
 *
 * ss__ssh_open() connects, checks the host key, authenticates and starts the
 * command, blocking (each step bounded by the connect timeout). From then on
 * every call is non-blocking and meant for an event loop: poll
 * ss__ssh_fd() for ss__ssh_events(), then call ss__ssh_pump(), which moves
 * what the socket holds in both directions. Arriving stdout and stderr bytes
 * are handed over by libssh as each packet is decoded and staged in two
 * bounded buffers (ss__ssh_stdout(), ss__ssh_stderr()) that the caller
 * empties; both are always drained together, so a command writing megabytes
 * to stderr never stalls its stdout. While a staging buffer is full, libssh
 * keeps the rest and stops widening the channel's window: the server stops
 * sending (backpressure), nothing is dropped.
 *
 * Staged bytes stay readable after the connection breaks; the error
 * (SS_ECONNLOST) is reported by ss__ssh_pump() and ss__ssh_write() from then
 * on, and ss__ssh_error() holds a sentence for the user.
 *
 * Not thread-safe: one thread at a time (the stream's I/O thread).
 */
#ifndef SS_SSH_INT_H
#define SS_SSH_INT_H

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <syncstream/ssh.h>
#include <syncstream/transport.h>

#include "util/buf.h"

/* What each staging buffer holds at most before backpressure sets in. */
#define SS__SSH_STAGE_CAP (512u * 1024u)

typedef struct ss__ssh {
    ssh_session session;
    ssh_channel channel;
    ssh_event event;
    struct ssh_channel_callbacks_struct callbacks; /* must outlive the channel */
    struct ssh_counter_struct received;            /* socket bytes in and out */
    ss__buf out;                                   /* staged stdout */
    ss__buf err;                                   /* staged stderr */
    bool exited;                                   /* exit_info is final */
    ss_ssh_exit exit_info;
    int fd;        /* the socket handed to libssh, or -1 */
    ino_t fd_ino;  /* and its inode */
    int error;     /* first fatal error, or 0 */
    char why[256]; /* a sentence about it */
    /* dead-peer detection */
    int keepalive_ms; /* < 0: off */
    int keepalive_max;
    uint64_t seen_in;   /* received.in_bytes when last looked */
    int64_t last_rx_ms; /* when something last arrived */
    int missed;         /* keepalives sent since then */
} ss__ssh;

/*
 * Connect, verify the host key, authenticate and start the command (see
 * syncstream/ssh.h for the rules). Blocking. On success *ret is the
 * connection (free with ss__ssh_close()). On failure returns -EINVAL (bad
 * options), SS_EHOSTUNKNOWN, SS_EHOSTKEY, SS_EHOSTREVOKED, SS_EAUTH,
 * -ECONNREFUSED, -ETIMEDOUT (connect or handshake), SS_ENOHOST or SS_ERESOLVE
 * (name not resolved), another errno of connect(2), SS_ECONNLOST (broken during the
 * handshake), -ENOENT (identity unreadable), -EIO (the server refused the
 * channel or command, or known_hosts could not be read or written) or
 * -ENOMEM, and writes a sentence into why (if not NULL).
 */
int ss__ssh_open(ss__ssh **ret, const ss_ssh_opts *opts, char *why, size_t why_len);

/* Close the channel, disconnect, free. Accepts NULL. */
void ss__ssh_close(ss__ssh *s);

/* The socket to poll, and the events to poll it for (POLLIN, plus POLLOUT
 * while libssh holds bytes the socket did not take yet). */
int ss__ssh_fd(const ss__ssh *s);
short ss__ssh_events(const ss__ssh *s);

/* Move bytes both ways without blocking: decode what arrived into the
 * staging buffers, send what libssh holds. Returns 0, or the connection's
 * error once it broke (staged bytes stay readable). */
int ss__ssh_pump(ss__ssh *s);

/* The staged bytes of stdout and stderr. The caller takes bytes from the
 * front with ss__buf_take() and calls ss__ssh_pump() again: bytes libssh
 * kept while the buffer was full then move in. */
static inline ss__buf *ss__ssh_stdout(ss__ssh *s)
{
    return &s->out;
}
static inline ss__buf *ss__ssh_stderr(ss__ssh *s)
{
    return &s->err;
}

/* True when the remote side will send no more stdout or stderr: it sent EOF
 * (or closed the channel) and libssh holds nothing more; staged bytes may
 * remain. */
bool ss__ssh_ended(const ss__ssh *s);

/* Queue up to n bytes for the command's stdin. Returns how many were taken
 * (0 while the server's window is shut: poll and try again), or the
 * connection's error. */
ssize_t ss__ssh_write(ss__ssh *s, const void *p, size_t n);

/* Bytes taken by ss__ssh_write() that libssh has not handed to the socket. */
bool ss__ssh_write_pending(const ss__ssh *s);

/* Close the command's stdin (send EOF). Returns 0 or the connection's error. */
int ss__ssh_send_eof(ss__ssh *s);

/* How the command ended: 0 and *ret once the server reported it (or closed
 * the channel without saying), -EAGAIN before. */
int ss__ssh_exit(const ss__ssh *s, ss_ssh_exit *ret);

/* Dead-peer detection, called after every poll with the monotonic time in
 * ms: sends keepalives after quiet intervals, and returns SS_ECONNLOST once
 * keepalive_count_max of them went unanswered (0 otherwise). *ret_next_ms is
 * how long until it wants to be called again (-1: never). */
int ss__ssh_timer(ss__ssh *s, int64_t now_ms, int *ret_next_ms);

/* Poll the socket for up to timeout_ms (negative: no limit), then pump and
 * run the timer. Returns 0 or the connection's error. For callers without
 * an event loop of their own (tests, the benchmark). */
int ss__ssh_wait(ss__ssh *s, int timeout_ms);

/* ss_transport_open_uri()'s ssh://: the URI's host, port, user and command
 * with every other setting at its default (ssh-agent and the default keys,
 * known_hosts strictly), timeout_ms as the connect timeout (negative: none). */
int ss__transport_ssh_uri(ss_transport *ret, const char *uri, int timeout_ms);

/* A sentence about the last error, "" if none. */
const char *ss__ssh_error(const ss__ssh *s);

/* What the marker lines of a known_hosts file say (known_hosts.c); libssh
 * 0.10 skips them. Zero it before the first file: each file adds to it. */
typedef struct ss__kh_marks {
    char revoked_file[256]; /* where the key is marked @revoked */
    int revoked_line;       /* 0: not revoked */
    char ca_file[256];      /* the first @cert-authority line seen */
    int ca_line;            /* 0: none */
} ss__kh_marks;

/* Read the known_hosts file at path for "@revoked" lines listing the key
 * (key_type as "ssh-ed25519", key_b64 its base64 text), whatever their host
 * patterns, and for "@cert-authority" lines. A missing file has no marks.
 * Returns 0, or a negative errno when the file cannot be read. */
int ss__known_hosts_marks(const char *path, const char *key_type, const char *key_b64,
                          ss__kh_marks *m);

#endif
