/*
 * tool.h: what the parts of the syncstream command-line tool share.
 *
 * The tool is the only code in the project that prints or exits. Each subcommand
 * is a function that parses its own arguments and returns an exit status; main()
 * dispatches to it and is the only caller of exit (by returning from main). Error
 * messages all go through tool_fail() / tool_usage() so they share one style:
 *
 *     syncstream: <message>
 *
 * on stderr.
 */
#ifndef SS_TOOL_H
#define SS_TOOL_H

#include <stdio.h>

/*
 * Exit statuses. This is the one list; the man page (EXIT STATUS) and
 * `syncstream --help` document the same values. A new subcommand that needs a
 * new status adds it here and in both documents.
 */
enum {
    TOOL_EXIT_OK = 0,         /* success */
    TOOL_EXIT_FAILURE = 1,    /* runtime failure: unreadable file, bad file, write error */
    TOOL_EXIT_USAGE = 2,      /* usage error: unknown command or option, bad argument */
    TOOL_EXIT_JOB_FAILED = 3, /* run: at least one of the commands failed */
    TOOL_EXIT_TIMEOUT = 4,    /* connect: an expectation was not met in time */
    TOOL_EXIT_EOF = 5,        /* connect: the stream ended before an expectation was met */
    TOOL_EXIT_STOPPED = 6,    /* send: a stop was requested by the server's reader */
    /* send, file write: COMMAND's own status is the tool's (a shell's 126 and
     * 127 when it cannot be started) */
    TOOL_EXIT_CANNOT_RUN = 126, /* send, file write: COMMAND exists but cannot run */
    TOOL_EXIT_NOT_FOUND = 127,  /* send, file write: no such COMMAND */
    /* run, send, read, file: interrupted by a signal, which is added: 130 for SIGINT, 143 for
     * SIGTERM (what a shell reports for a program killed by that signal). */
    TOOL_EXIT_SIGNAL_BASE = 128,
    TOOL_EXIT_INTERRUPTED = 130,
};

/* One subcommand: its name, a one-line summary for `syncstream --help`, the full
 * help text for `syncstream help NAME` / `syncstream NAME --help`, and the function
 * that runs it. run() gets argv[0] == name and returns a TOOL_EXIT_* status. */
typedef struct tool_cmd {
    const char *name;
    const char *summary;
    const char *help;
    int (*run)(int argc, char **argv);
} tool_cmd;

/* The program name used in every message. */
#define TOOL_NAME "syncstream"

/*
 * tool_fail - print "syncstream: <formatted message>" and a newline on stderr.
 * Returns TOOL_EXIT_FAILURE so a caller can write `return tool_fail(...)`.
 */
int tool_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * tool_usage - as tool_fail, then a hint naming the help to read:
 * "Try 'syncstream CMD --help'." (or 'syncstream --help' when cmd is NULL).
 * Returns TOOL_EXIT_USAGE.
 */
int tool_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * tool_finish_output - flush stdout and report a write error (a full disk, a
 * closed pipe with SIGPIPE ignored) as a failure. Returns status unchanged when
 * the output was written, TOOL_EXIT_FAILURE otherwise.
 */
int tool_finish_output(int status);

/*
 * tool_parse_count - parse a non-negative decimal integer (digits only, no sign,
 * no spaces); a value above SIZE_MAX gives SIZE_MAX. Returns 0 and sets *ret,
 * or -1.
 */
int tool_parse_count(const char *s, size_t *ret);

/*
 * tool_option_error - report what getopt_long() complained about (it returned
 * '?' or ':', c; use opterr = 0 and an optstring starting with ':') as a usage
 * error naming the option as the user wrote it: "unknown option '--bogus'",
 * "option '-n' needs an argument", "option '--json' takes no argument". cmd is
 * the subcommand, NULL for the top level. Returns TOOL_EXIT_USAGE.
 */
int tool_option_error(const char *cmd, char **argv, int c);

/* The one operand a subcommand takes after its options, and how to talk about it. */
typedef struct tool_operand {
    const char *cmd;      /* the subcommand, whose help the usage hint names: "file" */
    const char *prefix;   /* what the messages start with: "file write"; NULL: cmd */
    const char *name;     /* the operand in messages: "URL" */
    const char *question; /* asked when it is missing: "which server?" */
    const char *too_many; /* added to the message when there are more; NULL: nothing */
} tool_operand;

/*
 * tool_one_operand - the one operand argv[first] of argv[first..end), for a
 * command that takes exactly one. None is a usage error "PREFIX: QUESTION NAME
 * is missing", more "PREFIX: one NAME only, got 'SECOND' too". Returns
 * TOOL_EXIT_OK and sets *ret, or TOOL_EXIT_USAGE.
 */
int tool_one_operand(const tool_operand *op, char **argv, int first, int end, const char **ret);

/*
 * tool_default_source - the records' source when --source is not given, as
 * `file write` and `send` pick it: the last part of the command's name,
 * command[0], or without a command (standard input) this machine's host name,
 * stored in host (size bytes; "" when it has none or it does not fit). Returns
 * a pointer into command[0] or host, or "".
 */
const char *tool_default_source(char *const *command, char *host, size_t size);

/* Host-mode clients (host_args.c). */
typedef struct ss_host_reader ss_host_reader;

/* Room for a bearer token and its terminator. */
#define TOOL_TOKEN_MAX 1024

/*
 * tool_host_token - with a token_file, read the bearer token from its first
 * line (surrounding white space removed) into buf and point *ret at it; without,
 * set *ret to NULL. On a failure prints why, as "CMD: ...", and returns
 * TOOL_EXIT_FAILURE; else TOOL_EXIT_OK.
 */
int tool_host_token(const char *cmd, const char *token_file, char *buf, size_t size,
                    const char **ret);

/*
 * tool_host_reader - open a reader of url with the token of token_file and
 * the certificate authorities of ca_file (either may be NULL). Returns TOOL_EXIT_OK and *ret, or
 * prints why and returns TOOL_EXIT_USAGE (not an http(s) URL) or TOOL_EXIT_FAILURE.
 */
int tool_host_reader(const char *cmd, const char *url, const char *token_file, const char *ca_file,
                     ss_host_reader **ret);

/*
 * tool_host_fail - report a failed request: "CMD: URL: ERROR: what the server
 * said". Returns TOOL_EXIT_FAILURE.
 */
int tool_host_fail(const char *cmd, const char *url, int err, const char *said);

/* The options every host-mode client takes, for its getopt_long() table, and
 * what they set. Their short letters are reserved: 't', 'C', 'h'. */
#define TOOL_HOST_LONG_OPTIONS                                                                     \
    {"token-file", required_argument, NULL, 't'}, {"cacert", required_argument, NULL, 'C'},        \
        {"help", no_argument, NULL, 'h'}
typedef struct tool_host_args {
    const char *token_file; /* -t, --token-file; NULL without */
    const char *ca_file;    /* --cacert; NULL without */
} tool_host_args;

/*
 * tool_host_option - handle what getopt_long() returned, c, when it is not one
 * of the command's own options: a shared host option is stored in *a; -h prints
 * help; anything else is reported as by tool_option_error(). Returns -1 to go on
 * parsing, or the exit status the command returns now.
 */
int tool_host_option(const char *cmd, const char *help, int c, char **argv, tool_host_args *a);

/*
 * tool_host_mirror - open a mirror of url with opts and the token and
 * certificate authorities of host (send, connect --send-to). Returns
 * TOOL_EXIT_OK and *ret, or prints why as "CMD: ..." and returns
 * TOOL_EXIT_USAGE (not an http(s) URL) or TOOL_EXIT_FAILURE.
 */
typedef struct ss_host_mirror ss_host_mirror;
typedef struct ss_host_mirror_opts ss_host_mirror_opts;
int tool_host_mirror(const char *cmd, const char *url, const tool_host_args *host,
                     const ss_host_mirror_opts *opts, ss_host_mirror **ret);

/*
 * tool_host_mirror_unsent - after ss_host_mirror_close() of m failed with err,
 * say why on stderr ("CMD: N lines not delivered to URL: ...") and print the
 * lines that were not delivered, so none is lost silently.
 */
void tool_host_mirror_unsent(const char *cmd, ss_host_mirror *m, const char *url, int err);

/* Subcommands (cmd_*.c). */
int cmd_inspect(int argc, char **argv);
extern const char cmd_inspect_help[];
int cmd_run(int argc, char **argv);
extern const char cmd_run_help[];
int cmd_serve(int argc, char **argv);
extern const char cmd_serve_help[];
int cmd_connect(int argc, char **argv);
extern const char cmd_connect_help[];
int cmd_send(int argc, char **argv);
extern const char cmd_send_help[];
int cmd_read(int argc, char **argv);
extern const char cmd_read_help[];
int cmd_stop(int argc, char **argv);
extern const char cmd_stop_help[];
int cmd_file(int argc, char **argv);
extern const char cmd_file_help[];

#endif
