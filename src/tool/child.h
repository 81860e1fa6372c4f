/*
 * child.h: a command whose output a subcommand forwards somewhere (`send`,
 * `file write`): started with its standard output and standard error on two
 * pipes, and its end told as `run` tells it, in an exit record and in the
 * tool's own exit status.
 *
 * Thread safety: none needed (the tool starts and reaps its command from one
 * thread).
 */
#ifndef SS_TOOL_CHILD_H
#define SS_TOOL_CHILD_H

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
