/*
 * The exec transport: a local program on a pseudo-terminal (pexpect's spawn)
 * or on pipes. End of stream comes once its output is closed and it has been
 * reaped (its pidfd says when), so the exit status is known by then.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <syncstream/common.h>
#include <syncstream/transport.h>

#include "util/spawn.h"

extern char **environ;

typedef struct exec_t {
    pid_t pid;
    int pidfd;
    bool pty;
    int out;       /* the pty's master, or stdout's read end; -1 once ended */
    int err;       /* stderr's read end; -1 without or once ended */
    int in;        /* the master again, or our end of stdin (a socket); -1 once ended */
    bool err_next; /* take turns between stdout and stderr */
    bool exited;
    bool status_lost; /* reaped by someone else (SIGCHLD ignored, a reaper) */
    int status;
} exec_t;

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int exec_fds(void *impl, ss_transport_fd *ret, size_t max)
{
    exec_t *e = impl;
    size_t n = 0;
    if (e->out >= 0 && n < max)
        ret[n++] = (ss_transport_fd){e->out, SS_TRANSPORT_READ | (e->pty ? SS_TRANSPORT_WRITE : 0)};
    if (!e->pty && e->in >= 0 && n < max)
        ret[n++] = (ss_transport_fd){e->in, SS_TRANSPORT_WRITE};
    if (e->err >= 0 && n < max)
        ret[n++] = (ss_transport_fd){e->err, SS_TRANSPORT_READ};
    /* output all read: wait for the exit itself */
    if (e->out < 0 && e->err < 0 && !e->exited && n < max)
        ret[n++] = (ss_transport_fd){e->pidfd, SS_TRANSPORT_READ};
    return (int)n;
}

static bool reap(exec_t *e)
{
    if (e->exited)
        return true;
    pid_t r = waitpid(e->pid, &e->status, WNOHANG);
    if (r == e->pid) {
        e->exited = true;
    } else if (r < 0 && errno == ECHILD) {
        /* Our own child, so it has ended and was reaped elsewhere: the
         * kernel (SIGCHLD ignored) or the application's own waitpid(). */
        e->exited = true;
        e->status_lost = true;
    }
    return e->exited;
}

static ssize_t exec_read(void *impl, void *buf, size_t n, int *ret_chan)
{
    exec_t *e = impl;
    for (int i = 0; i < 2; i++) {
        bool err = e->err_next ^ (i == 1);
        int *fd = err ? &e->err : &e->out;
        if (*fd < 0)
            continue;
        ssize_t r = read(*fd, buf, n);
        if (r > 0) {
            e->err_next = !err;
            *ret_chan = err ? SS_CHAN_ERR : SS_CHAN_OUT;
            return r;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        /* 0, or EIO from a pty whose every slave is closed: this output ended */
        if (r < 0 && errno != EIO)
            return -errno;
        if (e->pty)
            e->in = -1; /* the same fd */
        close_fd(fd);
    }
    if (e->out < 0 && e->err < 0)
        return reap(e) ? 0 : -EAGAIN;
    return -EAGAIN;
}

static ssize_t exec_write(void *impl, const void *buf, size_t n)
{
    exec_t *e = impl;
    if (e->in < 0)
        return -EPIPE;
    ssize_t r = e->pty ? write(e->in, buf, n) : send(e->in, buf, n, MSG_NOSIGNAL);
    if (r >= 0)
        return r;
    if (errno == EAGAIN || errno == EINTR)
        return -EAGAIN;
    /* a pty gives EIO once the program is gone */
    return errno == EIO ? -EPIPE : -errno;
}

static int exec_status(void *impl, int *ret)
{
    exec_t *e = impl;
    if (!reap(e))
        return -EAGAIN;
    if (e->status_lost)
        return -ECHILD;
    *ret = e->status;
    return 0;
}

static int exec_shutdown_write(void *impl)
{
    exec_t *e = impl;
    if (e->in < 0)
        return -EPIPE;
    /* shut down, not closed: the fd may still be in the loop's epoll */
    if (!e->pty)
        return shutdown(e->in, SHUT_WR) < 0 ? -errno : 0;
    /* a pty has no end of its input: its line discipline's end-of-file
     * character (^D, after the line so far) is what a program reads as one */
    struct termios tio;
    if (tcgetattr(e->in, &tio) < 0)
        return -errno;
    char eof = (char)tio.c_cc[VEOF];
    return write(e->in, &eof, 1) == 1 ? 0 : -errno;
}

static void exec_stop(void *impl)
{
    exec_t *e = impl;
    if (reap(e))
        return;
    /* the program's own group (session on a pty): its children go too */
    kill(-e->pid, SIGKILL);
    pid_t r;
    while ((r = waitpid(e->pid, &e->status, 0)) < 0 && errno == EINTR)
        ;
    e->exited = true;
    e->status_lost = r < 0;
}

static void exec_close(void *impl)
{
    exec_t *e = impl;
    exec_stop(e);
    close_fd(&e->out);
    close_fd(&e->err);
    if (!e->pty)
        close_fd(&e->in);
    close_fd(&e->pidfd);
    free(e);
}

static const ss_transport_ops exec_ops = {
    .kind = "exec",
    .fds = exec_fds,
    .read = exec_read,
    .write = exec_write,
    .exit_status = exec_status,
    .shutdown_write = exec_shutdown_write,
    .close = exec_close,
    .stop = exec_stop,
};

static int nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

/* The pty, its master non-blocking, its echo off when asked. */
static int open_pty(int pair[2], char *name, size_t size, bool noecho)
{
    int rc = ss__open_pty(pair, name, size);
    if (rc == 0 && noecho) {
        struct termios tio;
        if (tcgetattr(pair[1], &tio) < 0)
            return -errno;
        tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        if (tcsetattr(pair[1], TCSANOW, &tio) < 0)
            return -errno;
    }
    return rc < 0 ? rc : nonblock(pair[0]);
}

int ss_transport_exec(ss_transport *ret, char *const argv[], unsigned flags)
{
    if (!ret || !argv || !argv[0] || (flags & ~(unsigned)(SS_EXEC_PTY | SS_EXEC_NOECHO)))
        return -EINVAL;
    exec_t *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->pty = flags & SS_EXEC_PTY;
    e->out = e->err = e->in = e->pidfd = -1;
    /* [0] ours, [1] the child's */
    int outp[2] = {-1, -1}, errp[2] = {-1, -1}, inp[2] = {-1, -1};
    char name[64];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    pthread_mutex_lock(&ss__child_fds_lock);
    int rc = ss__spawn_attr(&attr, e->pty);
    if (rc == 0 && e->pty) {
        rc = open_pty(outp, name, sizeof(name), flags & SS_EXEC_NOECHO);
        if (rc == 0)
            rc = -posix_spawn_file_actions_addopen(&fa, 0, name, O_RDWR, 0);
        if (rc == 0)
            rc = -posix_spawn_file_actions_adddup2(&fa, 0, 1);
        if (rc == 0)
            rc = -posix_spawn_file_actions_adddup2(&fa, 0, 2);
    } else if (rc == 0) {
        /* stdin is a socket so that writing to a program that quit is EPIPE
         * (MSG_NOSIGNAL), never a SIGPIPE in the caller's process */
        if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, inp) < 0)
            rc = -errno;
        if (rc == 0)
            rc = -posix_spawn_file_actions_adddup2(&fa, inp[1], 0);
        if (rc == 0)
            rc = -posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
        if (rc == 0)
            rc = -posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
        if (rc == 0 && ((rc = nonblock(outp[0])) == 0) && ((rc = nonblock(errp[0])) == 0))
            rc = nonblock(inp[0]);
    }
    if (rc == 0)
        rc = -posix_spawnp(&e->pid, argv[0], &fa, &attr, argv, environ);
    if (rc == 0) {
        e->pidfd = pidfd_open(e->pid, 0);
        if (e->pidfd < 0 && errno == ESRCH) {
            /* it has already ended and been reaped elsewhere (SIGCHLD ignored) */
            e->exited = true;
            e->status_lost = true;
        } else if (e->pidfd < 0) {
            rc = -errno;
            kill(-e->pid, SIGKILL);
            waitpid(e->pid, NULL, 0);
        }
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close_fd(&outp[1]);
    close_fd(&errp[1]);
    close_fd(&inp[1]);
    pthread_mutex_unlock(&ss__child_fds_lock);
    if (rc < 0) {
        close_fd(&outp[0]);
        close_fd(&errp[0]);
        close_fd(&inp[0]);
        free(e);
        return rc;
    }
    e->out = outp[0];
    e->err = errp[0];
    e->in = e->pty ? outp[0] : inp[0];
    *ret = (ss_transport){&exec_ops, e};
    return 0;
}
