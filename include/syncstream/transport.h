/*
 * syncstream/transport.h: what moves an ss_stream's bytes. A transport is a
 * small table of functions over the caller's own state; the stream's I/O
 * thread calls them, so a user can plug in any byte source (a USB bulk
 * endpoint, a test double, a protocol library) without touching the stream.
 *
 * The built-in transports (made by the constructors below, used through the
 * same table): a TCP client and the one connection accepted by a listener,
 * a serial port (termios) that reopens a USB adapter that went away and came
 * back, and a local program on a pseudo-terminal or on pipes.
 *
 * The contract, for whoever writes a transport:
 *  - Every function is called with the stream's lock held, by one thread at a
 *    time, so a transport needs no locking of its own. read(), tick() and
 *    fds() run on the I/O thread; write() and shutdown_write() may also run on
 *    a caller's thread (a write straight into an idle transport). Only read(),
 *    tick() and next_event() may close or replace a descriptor that fds()
 *    gave: the loop takes it out of epoll right after them, before any other
 *    fd can reuse its number.
 *  - No function may block: file descriptors are non-blocking, and "not now"
 *    is -EAGAIN. The loop learns when to call again from fds() (epoll) and,
 *    for timed work (a keepalive, a reopen attempt), from timeout_ms().
 *  - fds() is asked again after every call, so a transport may change its
 *    descriptors at any time (a serial port reopened under another fd).
 *  - read() says which channel its bytes came from: SS_CHAN_OUT (the stream's
 *    bytes), SS_CHAN_ERR (a separate error stream: an SSH channel's or a
 *    program's stderr, kept apart by the stream), or an event (SS_CHAN_DOWN,
 *    SS_CHAN_UP) whose bytes are a sentence saying what happened; better,
 *    events go through next_event(), which does not depend on the read
 *    buffer's room. While down, write() returns -EAGAIN and the stream keeps
 *    the unsent bytes.
 *  - End of stream is read() returning 0, once everything is delivered; a
 *    transport with an exit status (a program, a remote command) makes it
 *    known through exit_status() no later than that.
 */
#ifndef SYNCSTREAM_TRANSPORT_H
#define SYNCSTREAM_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a descriptor is watched for (ss_transport_fd.events). */
enum {
    /* readable: the loop calls read(); watched only while the stream's read
     * buffer has room, which is how backpressure reaches the peer */
    SS_TRANSPORT_READ = 1u << 0,
    /* writable: the loop calls write(); watched only while bytes wait */
    SS_TRANSPORT_WRITE = 1u << 1,
    /* writable, whatever the stream has queued: the transport holds bytes of
     * its own that the descriptor did not take yet (an SSH library's packets:
     * data it accepted, window adjustments, keepalives); while it is, the
     * loop calls flush() */
    SS_TRANSPORT_FLUSH = 1u << 2,
};

/* The channel of the bytes read() returned. */
enum {
    SS_CHAN_OUT = 0,  /* the stream's bytes */
    SS_CHAN_ERR = 1,  /* a separate error stream (stderr) */
    SS_CHAN_DOWN = 2, /* event: the device or peer went away; text says why */
    SS_CHAN_UP = 3,   /* event: it is back (a serial port reopened) */
};

/* At most this many descriptors per transport. */
#define SS_TRANSPORT_MAX_FDS 4

typedef struct ss_transport_fd {
    int fd;
    unsigned events; /* SS_TRANSPORT_READ and/or SS_TRANSPORT_WRITE */
} ss_transport_fd;

typedef struct ss_transport_ops {
    const char *kind; /* "tcp", "serial", "exec"...: the default stream name */

    /* The descriptors to watch now, at most max of them. Returns how many. */
    int (*fds)(void *impl, ss_transport_fd *ret, size_t max);

    /* Read at most n bytes into buf and set *ret_chan. Returns the count (> 0),
     * 0 at end of stream, -EAGAIN when nothing can be read now, or another
     * negative errno, which ends the stream with that error. */
    ssize_t (*read)(void *impl, void *buf, size_t n, int *ret_chan);

    /* Send at most n bytes. Returns the count (> 0), -EAGAIN, or a negative
     * errno, which ends the stream with that error. */
    ssize_t (*write)(void *impl, const void *buf, size_t n);

    /* Optional (NULL): milliseconds until tick() is due, or -1 for never. */
    int (*timeout_ms)(void *impl);

    /* Optional: timed work (a keepalive probe, a reopen attempt). Returns 0, or
     * a negative errno (a dead peer) that ends the stream with that error. */
    int (*tick)(void *impl);

    /* Optional: 0 and *ret set to a waitpid()-style status once the program at
     * the other end has ended; -EAGAIN before; another negative errno when it
     * ended with its status unknown (-ECHILD: reaped by someone else). */
    int (*exit_status)(void *impl, int *ret);

    /* Release everything (close fds, end a child). Called exactly once. */
    void (*close)(void *impl);

    /* Optional (NULL), last so that tables written before it still compile:
     * send what the transport holds of its own (see SS_TRANSPORT_FLUSH).
     * Called whenever the loop services the stream. Returns 0, or a negative
     * errno that ends the stream. */
    int (*flush)(void *impl);

    /* Optional, after flush for the same reason: tell the peer no more bytes
     * will come (TCP's FIN, closing a program's stdin, an SSH channel's EOF);
     * called once every queued byte was written. Reading goes on. Returns 0 or
     * a negative errno. */
    int (*shutdown_write)(void *impl);

    /* Optional, last for the same reason: end the other side now (kill and
     * reap a program still running), so that exit_status() then says how it
     * ended. Called by ss_stream_close() on the caller's thread, after the
     * loop has let go of the stream and just before close(). */
    void (*stop)(void *impl);

    /* Optional, after stop for the same reason: take the oldest event the
     * transport holds. Returns its channel (SS_CHAN_DOWN or SS_CHAN_UP) with
     * its sentence in text (NUL-terminated, cut to size), or 0 when there is
     * none. Called on the I/O thread every time the loop services the stream,
     * whatever room its read buffer has (read() is not called while it is
     * full, so events that come through read() wait for room); it may close
     * or replace a descriptor, as read() and tick() may. */
    int (*next_event)(void *impl, char *text, size_t size);

    /* Optional, after next_event for the same reason: set one of the
     * transport's out-of-band lines (SS_LINE_*) on or off, at once, without
     * waiting (ss_stream_set_line()). Returns 0, -ENOTSUP for a line it does
     * not have, -ENOTCONN while the device is away, or a negative errno. */
    int (*set_line)(void *impl, int line, bool on);
} ss_transport_ops;

/* The out-of-band lines of a serial port (ss_stream_set_line()). */
enum {
    SS_LINE_BREAK = 1, /* the transmit line held at space: a BREAK while on */
    SS_LINE_DTR = 2,   /* Data Terminal Ready */
    SS_LINE_RTS = 3,   /* Request To Send */
};

/* A transport: its functions and its state. Handed to ss_stream_new(), which
 * takes ownership (it calls ops->close(impl) when done, also when it fails). */
typedef struct ss_transport {
    const ss_transport_ops *ops;
    void *impl;
} ss_transport;

/* ---- TCP ---------------------------------------------------------------- */

typedef struct ss_tcp_opts {
    int connect_timeout_ms; /* 0: 10 s; negative: no limit */
    /* TCP keepalive: idle seconds before the first probe; 0 means off. Probes
     * then go every keepalive_interval_s (0: 5) and keepalive_count (0: 3)
     * unanswered ones end the connection with -ETIMEDOUT. */
    int keepalive_idle_s;
    int keepalive_interval_s;
    int keepalive_count;
} ss_tcp_opts;

/*
 * ss_transport_tcp_connect - connect to host:port (a name, an IPv4 or an IPv6
 * address; every address the name resolves to is tried in turn, within one
 * overall connect timeout). TCP_NODELAY is set: a stream sends what it is given.
 *
 * Thread-safe; blocks for at most the connect timeout. opts may be NULL. On
 * success *ret is a transport to hand to ss_stream_new(). Errors: -EINVAL, a
 * negative errno of the last address tried (-ECONNREFUSED, -ETIMEDOUT...),
 * SS_ENOHOST (the resolver does not know the name) or SS_ERESOLVE (the name
 * service failed or did not answer), -ENOMEM.
 */
int ss_transport_tcp_connect(ss_transport *ret, const char *host, const char *port,
                             const ss_tcp_opts *opts);

typedef struct ss_tcp_listener ss_tcp_listener;

/*
 * ss_tcp_listener_new - listen on host:port (NULL host: every IPv6 and IPv4
 * address; port "0": a free port, see ss_tcp_listener_port()).
 *
 * On success *ret is freed with ss_tcp_listener_free(). Errors: -EINVAL,
 * SS_ENOHOST or SS_ERESOLVE (host does not resolve), a negative errno from
 * socket/bind/listen.
 */
int ss_tcp_listener_new(ss_tcp_listener **ret, const char *host, const char *port);

/* ss_tcp_listener_port - the port listened on (the one chosen for "0"). */
int ss_tcp_listener_port(const ss_tcp_listener *l);

/*
 * ss_tcp_listener_accept - wait for one connection, at most timeout_ms
 * (negative: no limit), and make it a transport. opts (may be NULL) gives the
 * keepalive. Returns 0, -ETIMEDOUT, or a negative errno from accept.
 */
int ss_tcp_listener_accept(ss_tcp_listener *l, int timeout_ms, const ss_tcp_opts *opts,
                           ss_transport *ret);

/* ss_tcp_listener_free - stop listening. Accepts NULL. */
void ss_tcp_listener_free(ss_tcp_listener *l);

/* ---- Serial ports -------------------------------------------------------- */

typedef enum ss_parity {
    SS_PARITY_NONE = 0,
    SS_PARITY_EVEN = 1,
    SS_PARITY_ODD = 2,
} ss_parity;

typedef struct ss_serial_opts {
    /* 0: 115200; any rate from 1 to 100000000: one that is not a standard
     * B* rate is set through Linux's termios2 (BOTHER), 250000 or 74880 as
     * well as 9600, and the driver makes the nearest rate it can */
    unsigned baud;
    unsigned data_bits; /* 0: 8; 5 to 8 */
    ss_parity parity;
    unsigned stop_bits; /* 0: 1; 1 or 2 */
    bool rtscts;        /* hardware flow control */
    bool xonxoff;       /* software flow control */
    /* When the device goes away (a USB adapter pulled: read fails, or a
     * hang-up), try to open the same path again every reopen_ms (0: 200 ms)
     * until it is back; give a path under /dev/serial/by-id/, which names the
     * adapter whatever ttyUSBn it gets. Negative: do not reopen, the stream
     * ends with the error. */
    int reopen_ms;
} ss_serial_opts;

/*
 * ss_transport_serial_open - open a serial port (raw mode, no echo, no line
 * discipline processing, CLOCAL) with the given settings.
 *
 * Thread-safe. opts may be NULL. Errors: -EINVAL (a baud rate out of range,
 * bits or parity), a negative errno from open or tcsetattr (-ENOENT,
 * -EACCES, -ENOTTY for a file that is not a terminal), -ENOMEM.
 */
int ss_transport_serial_open(ss_transport *ret, const char *path, const ss_serial_opts *opts);

/* ---- Local programs ------------------------------------------------------ */

enum {
    /* Run the program on a pseudo-terminal (as pexpect's spawn): its stdin,
     * stdout and stderr are the terminal, which is its controlling terminal,
     * so prompts that read /dev/tty work. Without it: three pipes, and stderr
     * is the stream's separate error channel (ss_stream_take_stderr()). */
    SS_EXEC_PTY = 1u << 0,
    /* On a pty: turn its echo off, so that what is written is not read back. */
    SS_EXEC_NOECHO = 1u << 1,
};

/*
 * ss_transport_exec - run argv[0] (searched in PATH) with argv, in its own
 * process group (its own session on a pty). Its exit status is
 * ss_stream_exit_status(); closing the stream kills (SIGKILL) the group of a
 * program still running, and reaps it.
 *
 * Thread-safe. Errors: -EINVAL, a negative errno from posix_spawn (-ENOENT for
 * a program not found), -ENOMEM.
 */
int ss_transport_exec(ss_transport *ret, char *const argv[], unsigned flags);

/*
 * ss_transport_open_uri - make a transport from a URI, as `syncstream connect`
 * does:
 *     tcp://HOST:PORT          (an IPv6 address in brackets: tcp://[::1]:7)
 *     serial:PATH?baud=115200&data=8&parity=none|even|odd&stop=1&rtscts=1&xonxoff=1
 *     telnet://HOST:PORT       (a telnet server: IAC IAC for a byte 255 both ways,
 *                              BINARY asked for, other options refused)
 *     rfc2217://HOST:PORT?baud=9600&data=8&parity=none&stop=1&rtscts=0
 *                              (a remote serial port, RFC 2217, as ser2net serves
 *                              one: the settings given, and only those, are asked
 *                              for and each answer checked before this returns;
 *                              ss_stream_set_line() sends BREAK, DTR and RTS)
 *     exec:COMMAND             (run by /bin/sh -c on a pseudo-terminal)
 *     exec-pipe:COMMAND        (the same on pipes, stderr kept apart)
 *     ssh://[USER@]HOST[:PORT][/COMMAND]  (syncstream/ssh.h: ssh-agent and the
 *                              default keys, known_hosts checked strictly;
 *                              ss_transport_ssh() takes every other setting)
 * timeout_ms bounds a TCP or SSH connect, and rfc2217://'s wait for the
 * server's answers (negative: none).
 *
 * Thread-safe. Errors: -EINVAL for a URI that does not parse (unknown scheme,
 * bad or missing port, an unknown, repeated or out-of-range serial setting:
 * ss_transport_uri_check() says which), then as the constructor above it
 * calls (SS_ENOHOST or SS_ERESOLVE for a host name that does not resolve);
 * for rfc2217:// also -EPROTONOSUPPORT (the server refuses RFC 2217),
 * SS_EREJECTED (it answered a setting with another value: a rate it cannot
 * make), -ETIMEDOUT (no answer in time), SS_ECONNLOST (it closed).
 */
int ss_transport_open_uri(ss_transport *ret, const char *uri, int timeout_ms);

/*
 * ss_transport_uri_check - parse a URI of ss_transport_open_uri() without
 * opening anything, to tell a user what is wrong with it, or to name its host
 * in a message (a name that does not resolve).
 *
 * Thread-safe; no I/O. Returns 0 when ss_transport_open_uri() accepts the
 * URI, with the host of a tcp://, telnet://, rfc2217:// or ssh:// URI in host
 * ("" for the other kinds; host may be NULL, a longer name is cut to
 * host_size - 1 bytes).
 * Returns -EINVAL with a sentence in why (may be NULL; cut to why_len - 1
 * bytes) naming the part that is wrong, the value given and what is allowed
 * ("serial setting baud=0: not a rate from 1 to 100000000");
 * -ENOMEM.
 */
int ss_transport_uri_check(const char *uri, char *host, size_t host_size, char *why,
                           size_t why_len);

#ifdef __cplusplus
}
#endif

#endif
