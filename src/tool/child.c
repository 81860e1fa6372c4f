/* child.c: start a forwarded command, tell how it ended (see child.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "tool.h"

extern char **environ;

int tool_child_spawn(char **argv, pid_t *ret_pid, int fds[2])
{
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        return -errno;
    if (pipe2(err, O_CLOEXEC) < 0) {
        int e = -errno;
        close(out[0]);
        close(out[1]);
        return e;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
    /* The tool may block SIGINT and SIGTERM (taken by a signal thread) and
     * ignore SIGPIPE; the command gets what a shell would give it. */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawnp(ret_pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
        close(out[0]);
        close(err[0]);
        return -rc;
    }
    fds[0] = out[0];
    fds[1] = err[0];
    return 0;
}

size_t tool_child_exit_text(int wstatus, char buf[TOOL_EXIT_TEXT_MAX], ss_kind *ret_kind)
{
    int n;
    if (WIFEXITED(wstatus)) {
        n = snprintf(buf, TOOL_EXIT_TEXT_MAX, "exited with status %d", WEXITSTATUS(wstatus));
        *ret_kind = WEXITSTATUS(wstatus) == 0 ? SS_KIND_LINE : SS_KIND_ERROR;
    } else {
        int sig = WTERMSIG(wstatus);
        const char *abbrev = sigabbrev_np(sig);
        n = snprintf(buf, TOOL_EXIT_TEXT_MAX, "killed by signal %d (SIG%s)", sig,
                     abbrev ? abbrev : "?");
        *ret_kind = SS_KIND_ERROR;
    }
    return (size_t)n;
}

int tool_child_exit_status(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    return TOOL_EXIT_SIGNAL_BASE + WTERMSIG(wstatus);
}
