/* child.c: start a forwarded command, read its output, tell how it ended
 * (see child.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

int tool_child_pump(const int fds[2], const tool_child_pump_opts *o)
{
    char buf[64 * 1024];
    int fd[2] = {fds[0], fds[1]};
    int wake = o->wake_fd;
    int rc = 0;
    while (rc == 0 && (fd[0] >= 0 || fd[1] >= 0) && !(o->stop && *o->stop)) {
        struct pollfd p[3] = {{.fd = fd[0], .events = POLLIN},
                              {.fd = fd[1], .events = POLLIN},
                              {.fd = wake, .events = POLLIN}};
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break; /* as at end of file: what was read is kept */
        }
        if (p[2].revents) {
            o->on_wake(o->ctx);
            wake = -1;
        }
        for (int i = 0; i < 2 && rc == 0; i++) {
            if (!p[i].revents)
                continue;
            ssize_t n = read(fd[i], buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                fd[i] = -1;
            else
                rc = o->on_output(o->ctx, i, buf, (size_t)n);
        }
    }
    return rc;
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
