/*
 * connect.h: what the parts of `syncstream connect` share (cmd_connect.c:
 * options; connect_script.c: a --script or the --send / --expect steps;
 * connect_pump.c: a live session).
 */
#ifndef SS_TOOL_CONNECT_H
#define SS_TOOL_CONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <syncstream.h>

#include "connect_script.h"
#include "tool.h"

typedef enum connect_kind {
    CONNECT_SEND,
    CONNECT_EXPECT,
    CONNECT_EXPECT_RE,
} connect_kind;

typedef struct connect_step {
    connect_kind kind;
    const char *arg; /* as the user wrote it, for messages */
    char *text;      /* unescaped (a regex as written) */
    size_t len;
} connect_step;

typedef struct connect_opts {
    const char *uri;
    connect_step *steps;
    size_t nsteps;
    cs_script *script; /* --script FILE, parsed; NULL: the steps */
    int timeout_ms;    /* -1: not given */
    bool quiet;
    /* --save-payload: a failed step's payload goes whole to this file (the
     * unsent part to FILE.unsent) instead of an excerpt on stderr */
    const char *save_payload;
    /* ssh:// only */
    const char *identity;      /* --identity */
    const char *password_file; /* --password-file */
    const char *known_hosts;   /* --known-hosts */
    bool accept_new_hostkey;   /* --accept-new-hostkey */
    bool pty;                  /* --pty */
    unsigned maps;             /* --map: CONNECT_MAP_* of a live session */
    int escape;                /* --escape: the menu's key, a control character */
    int stamps;                /* --timestamps: CONNECT_TS_* */
    const char *log;           /* --log: append what arrives to this file */
    bool log_strip;            /* --log-strip */
    /* --share: serve the console to clients (connect_share.c) */
    const char *share;             /* tcp://ADDR:PORT, or NULL */
    const char *share_write_arg;   /* --share-write as given */
    const char *share_backlog_arg; /* --share-backlog as given */
    int share_write;               /* CONNECT_SHARE_*, set by connect_share_check() */
    size_t share_backlog;          /* lines, set by connect_share_check() */
    /* --token-file: with --share, the token clients must send; with a
     * tcp:// URI, the token to send as the first line */
    const char *token_file;
    const char *send_to;         /* --send-to: mirror the lines to this server URL */
    const char *source;          /* --source: their source; NULL: the URI */
    tool_host_args send_to_host; /* --send-to-token-file, --send-to-cacert */
    struct connect_sink *sink;   /* opened from send_to, or NULL */
} connect_opts;

/* --share-write: who of the clients writes to the device */
enum { CONNECT_SHARE_ONE, CONNECT_SHARE_ALL, CONNECT_SHARE_NONE };

/* A shared console (connect_share.c). */
typedef struct connect_share connect_share;

/* Check the --share options of o and fill share_write and share_backlog.
 * Returns TOOL_EXIT_OK or the usage error's status (said on stderr). */
int connect_share_check(connect_opts *o);

/* Listen on o->share and serve the console of dev to the clients that come,
 * saying on stderr where. Returns TOOL_EXIT_OK or the exit status. */
int connect_share_start(connect_share **ret, ss_stream *dev, const connect_opts *o);

/* n bytes the device sent: into the backlog and to every client. Never
 * blocks on a client. Thread-safe. */
void connect_share_feed(connect_share *sh, const char *p, size_t n);

/* Give the clients what is queued (2 s at most), close them, stop
 * listening and free sh. Accepts NULL. */
void connect_share_stop(connect_share *sh);

/* With --token-file and no --share: send the token's line to s first.
 * Returns TOOL_EXIT_OK or the exit status. */
int connect_share_send_token(ss_stream *s, const connect_opts *o);

/* Where the device's lines are mirrored as records (connect_sink.c). */
typedef struct connect_sink connect_sink;

/* Without o->send_to, *ret = NULL; else open the mirror, saying on stderr
 * why it cannot. Returns TOOL_EXIT_OK or the exit status. */
int connect_sink_open(connect_sink **ret, const connect_opts *o);

/* An ss_bridge_line_fn: one line of the device, queued for the server. ctx
 * is the sink (NULL: nothing). Called by one thread at a time. */
int connect_sink_line(void *ctx, const char *source, ss_kind kind, uint32_t flags, const char *text,
                      size_t len);

/* After the stream is freed (its last partial line bridged): deliver what
 * is queued, say on stderr what could not be, free k (NULL accepted).
 * Returns status, or 1 instead of 0 when lines were not delivered. */
int connect_sink_close(connect_sink *k, int status);

/* --timestamps */
enum { CONNECT_TS_NONE, CONNECT_TS_ISO, CONNECT_TS_DELTA };

/* Where a session's received bytes are shown or logged (connect_view.c). */
typedef struct connect_view {
    int fd;
    int stamps;      /* CONNECT_TS_*: each line starts with its time */
    bool strip;      /* leave out ANSI escape sequences */
    bool line_start; /* the next byte starts a line (true at first) */
    int esc;         /* where in an escape sequence the bytes are */
    int64_t last_ns; /* CLOCK_MONOTONIC of the last stamp (delta) */
} connect_view;

/* Write n bytes to v->fd as v says. Errors of the write are ignored: a
 * console is not stopped by a full disk or a closed terminal. */
void connect_view_write(connect_view *v, const char *p, size_t n);

/* tio's line-ending maps (connect_map.c). I: from the device, before it is
 * shown; O: typed, before it goes to the device. */
enum {
    CONNECT_MAP_ICRNL = 1u << 0,   /* CR shown as NL */
    CONNECT_MAP_IGNCR = 1u << 1,   /* CR not shown */
    CONNECT_MAP_INLCR = 1u << 2,   /* NL shown as CR */
    CONNECT_MAP_INLCRNL = 1u << 3, /* NL shown as CR NL */
    CONNECT_MAP_OCRNL = 1u << 4,   /* CR (Enter) sent as NL */
    CONNECT_MAP_ODELBS = 1u << 5,  /* DEL (Backspace) sent as BS */
    CONNECT_MAP_OIGNCR = 1u << 6,  /* CR not sent */
    CONNECT_MAP_ONLCRNL = 1u << 7, /* NL sent as CR NL */
    CONNECT_MAP_OLTU = 1u << 8,    /* lower case sent as upper case */
};

/* Add the maps of a comma-separated list of names (any case) to *maps_inout.
 * Returns 0, or -EINVAL for an unknown name (nothing added). */
int connect_map_parse(const char *list, unsigned *maps_inout);

/* Map n bytes of src into dst (room for 2 * n bytes): the I maps when in,
 * else the O maps. Returns the bytes written to dst. */
size_t connect_map_apply(unsigned maps, bool in, const char *src, size_t n, char *dst);

/* Run the script (o->script, else the steps as a script); returns the exit
 * status: the script's own, or that of the step that failed. */
int connect_script(ss_stream *s, const connect_opts *o);

/* Read and parse the script file at path into *ret, printing what is wrong
 * with it (FILE:LINE). Returns TOOL_EXIT_OK, or the exit status to end with. */
int connect_script_load(const char *path, cs_script **ret);

/* A live session: standard input to the stream, the stream to standard output,
 * until the stream ends (or Ctrl-] when interactive: stdin a terminal, put in
 * raw mode meanwhile). Returns the exit status. */
int connect_pump(ss_stream *s, const connect_opts *o, bool interactive);

/* Make the transport of an ssh:// URI with the SSH options (connect_ssh.c),
 * printing why it cannot. interactive asks for a remote terminal. Returns
 * TOOL_EXIT_OK, or the exit status to end with. */
int connect_open_ssh(const connect_opts *o, bool interactive, ss_transport *ret);

/* `connect --list`: print the serial ports, one a line: the device, its
 * driver, its /dev/serial/by-id/ names ("-": none). Returns the exit status. */
int connect_list(void);

/* The exit status of a session or script that ended with the program at the
 * other end (exec:, ssh://), as ssh(1) and a shell give it: its exit code, or
 * 128 + N when signal N killed it. A stream without a program (tcp://,
 * serial:) ended well: 0. */
int connect_program_status(ss_stream *s);

/* Copy the stream's separate error channel to our standard error. */
void connect_copy_stderr(ss_stream *s);

#endif
