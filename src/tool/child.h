/*
 * child.h: a command whose output a subcommand forwards somewhere (`send`,
 * `file write`): started with its standard output and standard error on two
 * pipes, both read as they come, and its end told as `run` tells it, in an
 * exit record and in the tool's own exit status.
 *
 * Thread safety: none needed (the tool starts and reaps its command from one
 * thread).
 */
#ifndef SS_TOOL_CHILD_H
#define SS_TOOL_CHILD_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include <syncstream/record.h>

/* Room for any exit record's text, terminator included. */
#define TOOL_EXIT_TEXT_MAX 64

/*
 * tool_child_spawn - start argv (searched in PATH) with its stdout on fds[0]'s
 * pipe and its stderr on fds[1]'s (the read ends, close-on-exec, are stored
 * there). The command gets an empty signal mask and the default dispositions
 * of SIGPIPE, SIGINT and SIGTERM, whatever the tool set for itself. Returns 0
 * or a negative errno (the command could not be started: -ENOENT...).
 */
int tool_child_spawn(char **argv, pid_t *ret_pid, int fds[2]);

/* How tool_child_pump hands on what it reads, and what else it watches. */
typedef struct tool_child_pump_opts {
    /* Called with each chunk read from fds[i] (0: standard output, 1:
     * standard error), as read() returned it: lines may be cut anywhere, and
     * the last one may have no line break. Returns 0 to go on; anything else
     * ends the pump, which returns it. */
    int (*on_output)(void *ctx, int i, const char *buf, size_t len);
    void *ctx;
    /* If not NULL, the pump ends (returning 0) once *stop is nonzero: a flag a
     * signal handler installed without SA_RESTART sets, so poll() wakes. */
    const volatile sig_atomic_t *stop;
    /* If not -1, polled too: when it is readable, on_wake(ctx) is called once
     * and reading goes on (the caller passes a signal on, say). */
    int wake_fd;
    void (*on_wake)(void *ctx);
} tool_child_pump_opts;

/*
 * tool_child_pump - read fds[0] and fds[1] (either may be -1: not read) as
 * their data comes until both are at end of file, or o->on_output returns
 * nonzero, or *o->stop is set. A read error counts as end of file, and an
 * interrupted poll() or read() is retried; a pipe that ends early leaves the
 * other one read on. The descriptors are never closed (standard input may be
 * one): the caller closes them. Returns 0, or what on_output returned.
 */
int tool_child_pump(const int fds[2], const tool_child_pump_opts *o);

/*
 * tool_child_exit_text - the exit record of a command that ended with wstatus
 * (from waitpid), worded as the records of `run`: "exited with status 0"
 * (kind line), "exited with status 2" or "killed by signal 9 (SIGKILL)" (kind
 * error). Writes the text into buf and returns its length; *ret_kind gets the
 * kind.
 */
size_t tool_child_exit_text(int wstatus, char buf[TOOL_EXIT_TEXT_MAX], ss_kind *ret_kind);

/*
 * tool_child_exit_status - the exit status a shell gives for wstatus: the
 * command's own status, or 128 + the signal that killed it.
 */
int tool_child_exit_status(int wstatus);

#endif
