/*
 * Adding children to a process buffer: ss_procbuf_spawn (posix_spawn, with
 * pipes or a pseudo-terminal) and ss_procbuf_fork (a mirror child).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <syncstream/common.h>
#include <syncstream/proc.h>

#include "proc/mirror_int.h"
#include "proc/procbuf_int.h"
#include "util/spawn.h"

extern char **environ;

/* The fds a spawned mirror finds its channel and stop page on. */
#define CHILD_MIRROR_FD 3
#define CHILD_STOP_FD 4

/* The fds of one child being made: [0] the parent's end, [1] the child's. */
typedef struct child_fds {
    int out[2], err[2], mirror[2];
    char pty_name[64]; /* the pty's slave, when there is one */
} child_fds;

static void close_pair(int pair[2])
{
    for (int i = 0; i < 2; i++) {
        if (pair[i] >= 0)
            close(pair[i]);
        pair[i] = -1;
    }
}

static void close_all(child_fds *f)
{
    close_pair(f->out);
    close_pair(f->err);
    close_pair(f->mirror);
}

/* Keep the child's ends above 4: the spawn actions put fds on 0..4, and must
 * not overwrite a source before they use it. */
static int lift(int *fd)
{
    if (*fd > CHILD_STOP_FD)
        return 0;
    int moved = fcntl(*fd, F_DUPFD_CLOEXEC, CHILD_STOP_FD + 1);
    if (moved < 0)
        return -errno;
    close(*fd);
    *fd = moved;
    return 0;
}

static int open_fds(child_fds *f, unsigned flags, bool mirror)
{
    int rc = 0;
    if (flags & SS_PROC_PTY)
        rc = ss__open_pty(f->out, f->pty_name, sizeof(f->pty_name));
    else if (pipe2(f->out, O_CLOEXEC) < 0 || pipe2(f->err, O_CLOEXEC) < 0)
        rc = -errno;
    if (rc == 0 && mirror && pipe2(f->mirror, O_CLOEXEC) < 0)
        rc = -errno;
    if (rc < 0)
        close_all(f);
    return rc;
}

/* The environment with SS_MIRROR_CHANNEL set to our values; the strings are
 * the caller's but for var, the array is malloc'ed. */
static char **mirror_env(char *const *envp, char *var)
{
    size_t n = 0;
    while (envp[n])
        n++;
    char **env = malloc((n + 2) * sizeof(*env));
    if (!env)
        return NULL;
    size_t k = 0;
    size_t prefix = strlen(SS_MIRROR_ENV "=");
    for (size_t i = 0; i < n; i++)
        if (strncmp(envp[i], SS_MIRROR_ENV "=", prefix) != 0)
            env[k++] = envp[i];
    env[k++] = var;
    env[k] = NULL;
    return env;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int build_actions(posix_spawn_file_actions_t *fa, const child_fds *f, int stopfd,
                         const ss_spawn_opts *o)
{
    bool pty = o->flags & SS_PROC_PTY;
    int rc = 0;
    if (pty) {
        /* Opened by name in the child, after its setsid and without
         * O_NOCTTY, the slave becomes its controlling terminal: /dev/tty
         * works (password prompts) and a hang-up reaches it. */
        rc = posix_spawn_file_actions_addopen(fa, 1, f->pty_name, O_RDWR, 0);
        if (rc == 0)
            rc = posix_spawn_file_actions_adddup2(fa, 1, 2);
        if (rc == 0 && !(o->flags & SS_PROC_NULL_STDIN))
            rc = posix_spawn_file_actions_adddup2(fa, 1, 0);
    } else {
        rc = posix_spawn_file_actions_adddup2(fa, f->out[1], 1);
        if (rc == 0)
            rc = posix_spawn_file_actions_adddup2(fa, f->err[1], 2);
    }
    if (rc == 0 && (o->flags & SS_PROC_NULL_STDIN))
        rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0 && f->mirror[1] >= 0)
        rc = posix_spawn_file_actions_adddup2(fa, f->mirror[1], CHILD_MIRROR_FD);
    if (rc == 0 && f->mirror[1] >= 0)
        rc = posix_spawn_file_actions_adddup2(fa, stopfd, CHILD_STOP_FD);
    if (rc == 0 && o->cwd)
        rc = posix_spawn_file_actions_addchdir_np(fa, o->cwd);
    return -rc;
}

int ss_procbuf_spawn(ss_procbuf *pb, const ss_spawn_opts *o, int *ret_id)
{
    if (!pb || !o || !o->argv || !o->argv[0] ||
        (o->flags & ~(unsigned)(SS_PROC_PTY | SS_PROC_MIRROR | SS_PROC_NULL_STDIN)))
        return -EINVAL;
    int rc = ss__procbuf_check_open(pb);
    if (rc < 0)
        return rc;

    child_fds f = {{-1, -1}, {-1, -1}, {-1, -1}, ""};
    bool mirror = o->flags & SS_PROC_MIRROR;
    pthread_mutex_lock(&ss__child_fds_lock);
    rc = open_fds(&f, o->flags, mirror);
    if (rc < 0) {
        pthread_mutex_unlock(&ss__child_fds_lock);
        return rc;
    }
    int *lifted[] = {&f.out[1], &f.err[1], &f.mirror[1]};
    for (size_t i = 0; i < 3 && rc == 0; i++)
        if (*lifted[i] >= 0)
            rc = lift(lifted[i]);

    char var[64];
    snprintf(var, sizeof(var), "%s=%d,%d,%zu", SS_MIRROR_ENV, CHILD_MIRROR_FD, CHILD_STOP_FD,
             pb->max_line);
    char *const *envp = o->envp ? o->envp : environ;
    char **env = NULL;
    if (rc == 0 && mirror && !(env = mirror_env(envp, var)))
        rc = -ENOMEM;

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    pid_t pid = -1;
    if (rc == 0) {
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&attr);
        rc = build_actions(&fa, &f, pb->stopfd, o);
        if (rc == 0)
            rc = ss__spawn_attr(&attr, o->flags & SS_PROC_PTY);
        if (rc == 0)
            rc = -posix_spawnp(&pid, o->argv[0], &fa, &attr, o->argv, env ? env : envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
    }
    free(env);
    if (rc < 0) {
        close_all(&f);
        pthread_mutex_unlock(&ss__child_fds_lock);
        return rc;
    }
    /* the child has its copies; ours would hide its end of file */
    close(f.out[1]);
    if (f.err[1] >= 0)
        close(f.err[1]);
    if (f.mirror[1] >= 0)
        close(f.mirror[1]);
    pthread_mutex_unlock(&ss__child_fds_lock);
    const char *name = o->name ? o->name : base_name(o->argv[0]);
    return ss__procbuf_add_child(pb, pid, name, f.out[0], f.err[0], f.mirror[0], o->flags, ret_id);
}

/* In the forked child: put the capture pipes on fds 1 and 2, line-buffered so
 * that lines arrive as they are printed. glibc only resets a used stream's
 * buffer pointers when setvbuf is given a buffer, so it gets one: with NULL,
 * puts() would go on filling the old buffer without flushing at "\n". */
static void child_redirect(const child_fds *f)
{
    static char stdout_buf[BUFSIZ];
    if (f->out[1] >= 0 && dup2(f->out[1], STDOUT_FILENO) >= 0)
        setvbuf(stdout, stdout_buf, _IOLBF, sizeof(stdout_buf));
    if (f->err[1] >= 0)
        dup2(f->err[1], STDERR_FILENO);
}

pid_t ss_procbuf_fork(ss_procbuf *pb, const char *name, unsigned flags, ss_mirror **ret_mirror,
                      int *ret_id)
{
    if (!pb || !ret_mirror ||
        (flags & ~(unsigned)(SS_PROC_CAPTURE_STDOUT | SS_PROC_CAPTURE_STDERR)))
        return -EINVAL;
    int rc = ss__procbuf_check_open(pb);
    if (rc < 0)
        return rc;

    /* Made here, not in the child: after fork() only the forking thread is left,
     * and a lock another thread held (an allocator's, in some runtimes) stays
     * held in the child. A failure is also reported here, with no child made. */
    ss_mirror *m;
    rc = ss__mirror_new(&m, -1, pb->stop_flag, pb->max_line, 0);
    if (rc < 0)
        return rc;
    child_fds f = {{-1, -1}, {-1, -1}, {-1, -1}, ""};
    pthread_mutex_lock(&ss__child_fds_lock);
    if (pipe2(f.mirror, O_CLOEXEC) < 0 ||
        ((flags & SS_PROC_CAPTURE_STDOUT) && pipe2(f.out, O_CLOEXEC) < 0) ||
        ((flags & SS_PROC_CAPTURE_STDERR) && pipe2(f.err, O_CLOEXEC) < 0)) {
        rc = -errno;
        close_all(&f);
        pthread_mutex_unlock(&ss__child_fds_lock);
        ss__mirror_free(m);
        return rc;
    }
    /* Output still in stdio buffers would otherwise be written twice, once by
     * each process. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        close_all(&f);
        pthread_mutex_unlock(&ss__child_fds_lock);
        ss__mirror_free(m);
        return rc;
    }
    if (pid == 0) {
        child_redirect(&f);
        int sock = f.mirror[1];
        f.mirror[1] = -1;
        close_all(&f);
        /* this process's copy, held by the thread that is now its only one:
         * release it, so that the child may start children of its own */
        pthread_mutex_unlock(&ss__child_fds_lock);
        /* a write to a vanished parent then fails with EPIPE instead of
         * killing the child */
        signal(SIGPIPE, SIG_IGN);
        setpgid(0, 0);
        ss__mirror_set_fd(m, sock);
        *ret_mirror = m;
        return 0;
    }
    ss__mirror_free(m);
    /* also here, so that the group exists whichever process runs first */
    setpgid(pid, pid);
    close(f.mirror[1]);
    if (f.out[1] >= 0)
        close(f.out[1]);
    if (f.err[1] >= 0)
        close(f.err[1]);
    pthread_mutex_unlock(&ss__child_fds_lock);
    rc = ss__procbuf_add_child(pb, pid, name ? name : "child", f.out[0], f.err[0], f.mirror[0],
                               flags | SS__PROC_FORKED, ret_id);
    return rc < 0 ? rc : pid;
}
