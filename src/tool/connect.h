/*
 * connect.h: what the parts of `syncstream connect` share (cmd_connect.c:
 * options; connect_script.c: --send / --expect steps; connect_pump.c: a live
 * session).
 */
#ifndef SS_TOOL_CONNECT_H
#define SS_TOOL_CONNECT_H

#include <stdbool.h>
#include <stddef.h>

#include <syncstream.h>

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
    int timeout_ms; /* -1: not given */
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
} connect_opts;

/* Turn \n \r \t \e \\ \xHH into their bytes. *ret is malloc'ed. Returns 0,
 * -EINVAL for another escape, -ENOMEM. */
int connect_unescape(const char *in, char **ret, size_t *ret_len);

/* Run the steps in order; returns the exit status. */
int connect_script(ss_stream *s, const connect_opts *o);

/* A live session: standard input to the stream, the stream to standard output,
 * until the stream ends (or Ctrl-] when interactive: stdin a terminal, put in
 * raw mode meanwhile). Returns the exit status. */
int connect_pump(ss_stream *s, const connect_opts *o, bool interactive);

/* Make the transport of an ssh:// URI with the SSH options (connect_ssh.c),
 * printing why it cannot. interactive asks for a remote terminal. Returns
 * TOOL_EXIT_OK, or the exit status to end with. */
int connect_open_ssh(const connect_opts *o, bool interactive, ss_transport *ret);

/* Copy the stream's separate error channel to our standard error. */
void connect_copy_stderr(ss_stream *s);

#endif
