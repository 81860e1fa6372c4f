/*
 * capture.c: redirect a file descriptor into an ss_linebuf (see syncstream/capture.h).
 *
 * begin() puts the write end of a pipe on the fd; a reader on the library's
 * event loop (util/evloop.h; a thread of its own, or a shared ss_loop) moves
 * the pipe's bytes into an ss_writer (and, with tee, on to the saved original
 * fd). end() puts the original back, then waits for a turn of the loop, which
 * drains what is left in the pipe (the hook below), and takes the capture off
 * the loop. The loop sleeps in epoll_wait; it never polls on a timer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <syncstream/capture.h>
#include <syncstream/common.h>

#include "loop/loop_int.h"
#include "util/evloop.h"

#define CAPTURE_CHUNK (64u * 1024u)

struct ss_capture {
    int fd;          /* the captured fd */
    int fd_flags;    /* its FD_* flags before begin(), restored by end() */
    int saved;       /* a copy of the original open file behind fd */
    int rd, wr;      /* the pipe; wr is also dup'ed onto fd */
    ss_loop *loop;   /* the reader's loop (a reference) */
    ss__evloop *ev;  /* its core */
    ss__evio io;     /* rd on it */
    ss__evhook hook; /* the last drain, once ending is set */
    atomic_bool ending;
    bool tee;     /* reader thread only, after start */
    int err;      /* first storing error; reader thread only until joined */
    ss_writer *w; /* reader thread only, after start; NULL once drained */
    char buf[CAPTURE_CHUNK];
};

static int retry_dup(int from, int to, int fd_flags)
{
    int r;

    /* dup2() clears FD_CLOEXEC on the target; dup3() lets us keep the fd's own flag.
     * Linux may fail dup2/dup3 with EBUSY while another thread is opening a file
     * onto the same number; that race is transient. */
    do {
        r = dup3(from, to, (fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0);
    } while (r < 0 && (errno == EINTR || errno == EBUSY));
    return r < 0 ? -errno : 0;
}

static void close_fd(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* Write all of data to the original destination; a failure ends the tee. */
static void tee_out(ss_capture *cap, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(cap->saved, data, len);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* The original may be non-blocking (its file status flags are shared
             * with whoever set them): sleep until it takes more. */
            struct pollfd p = {.fd = cap->saved, .events = POLLOUT};
            if (poll(&p, 1, -1) < 0 && errno != EINTR) {
                cap->tee = false;
                return;
            }
        } else {
            /* The destination is gone (EPIPE, ENOSPC...). The bytes are still
             * stored in the buffer, so nothing is lost from the record. */
            cap->tee = false;
            return;
        }
    }
}

/*
 * Read once from the pipe (at most max bytes) and store what came. Returns the
 * number of bytes read, 0 at EOF, -EAGAIN when the pipe is empty, or another
 * negative errno from read().
 */
static ssize_t pump(ss_capture *cap, size_t max)
{
    ssize_t n;

    do {
        n = read(cap->rd, cap->buf, max < sizeof(cap->buf) ? max : sizeof(cap->buf));
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    if (n > 0) {
        if (cap->tee)
            tee_out(cap, cap->buf, (size_t)n);
        int r = ss_writer_write(cap->w, cap->buf, (size_t)n);
        /* After a storing error (the buffer was closed) keep reading anyway, so
         * that writers to the fd never block on a full pipe. */
        if (r < 0 && cap->err == 0)
            cap->err = r;
    }
    return n;
}

/* The pipe is readable (loop thread): at most SS__EV_BUDGET reads, the loop's
 * fairness rule. */
static void pipe_ready(ss__evio *io, unsigned events)
{
    (void)events;
    ss_capture *cap = io->arg;
    for (int i = 0; i < SS__EV_BUDGET; i++) {
        ssize_t n = pump(cap, SIZE_MAX);
        /* At EOF (every write end closed, e.g. the fd was closed by the user) or
         * on a read error, stop watching the pipe: a hang-up would fire forever. */
        if (n == 0 || (n < 0 && n != -EAGAIN)) {
            if (n < 0 && cap->err == 0)
                cap->err = (int)n;
            ss__evio_set(cap->ev, io, -1, 0);
            return;
        }
        if (n < (ssize_t)sizeof(cap->buf))
            return;
    }
}

/* Each turn: once end() has asked, the last drain, then the writer closes. */
static int drain_hook(ss__evhook *h)
{
    ss_capture *cap = h->arg;
    if (!cap->w || !atomic_load(&cap->ending))
        return -1;
    /* end() restored the fd and flushed stdio before asking, so every byte
     * written before end() is in the pipe now. Read exactly what is there: a
     * child that still holds the old fd and writes without pause cannot keep
     * end() from returning. */
    int avail = 0;
    if (cap->io.mask && ioctl(cap->rd, FIONREAD, &avail) == 0) {
        size_t left = (size_t)avail;
        while (left > 0) {
            ssize_t n = pump(cap, left);
            if (n <= 0)
                break;
            left -= (size_t)n;
        }
    }
    ss__evio_set(cap->ev, &cap->io, -1, 0);
    int r = ss_writer_close(cap->w);
    cap->w = NULL;
    if (r < 0 && cap->err == 0)
        cap->err = r;
    return -1;
}

/* Ask for the last drain and wait for a turn to run it; then leave the loop,
 * which may go on serving other objects. */
static void stop_reader(ss_capture *cap)
{
    atomic_store(&cap->ending, true);
    ss__evloop_pass(cap->ev);
    ss__evloop_remove_hook(cap->ev, &cap->hook);
}

static void capture_free(ss_capture *cap)
{
    close_fd(cap->saved);
    close_fd(cap->rd);
    close_fd(cap->wr);
    ss__loop_unref(cap->loop);
    ss_writer_close(cap->w);
    free(cap);
}

int ss_capture_begin(ss_capture **ret, ss_linebuf *lb, int fd, const ss_capture_opts *opts)
{
    static const ss_capture_opts no_opts;
    char source[SS_SOURCE_MAX];
    int pipefd[2];
    int r;

    if (!ret || !lb)
        return -EINVAL;
    if (!opts)
        opts = &no_opts;
    if (fd < 0)
        return -EBADF;
    int fd_flags = fcntl(fd, F_GETFD);
    if (fd_flags < 0)
        return -errno;

    ss_capture *cap = calloc(1, sizeof(*cap));
    if (!cap)
        return -ENOMEM;
    cap->fd = fd;
    cap->fd_flags = fd_flags;
    cap->tee = opts->tee;
    cap->saved = cap->rd = cap->wr = -1;

    if (opts->source) {
        r = ss_writer_new(&cap->w, lb, opts->source, opts->rec_flags);
    } else {
        snprintf(source, sizeof(source), "fd%d", fd);
        r = ss_writer_new(&cap->w, lb, source, opts->rec_flags);
    }
    if (r < 0)
        goto out_free;

    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        r = -errno;
        goto out_free;
    }
    cap->rd = pipefd[0];
    cap->wr = pipefd[1];
    /* Only the read end is non-blocking (for the final drain): the write end becomes
     * the fd, whose writers, children included, expect ordinary blocking writes. */
    if (fcntl(cap->rd, F_SETFL, O_NONBLOCK) < 0) {
        r = -errno;
        goto out_free;
    }
    cap->saved = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (cap->saved < 0) {
        r = -errno;
        goto out_free;
    }
    r = ss__loop_take(opts->loop, &cap->loop);
    if (r < 0)
        goto out_free;
    cap->ev = cap->loop->ev;

    /* Text already in a stdio buffer was written before begin(): it goes to the
     * original destination, not into the capture. */
    fflush(NULL);

    /* A loop's thread runs with every signal blocked, so a tee to a closed
     * pipe fails with EPIPE instead of killing the process. */
    ss__evio_init(&cap->io, pipe_ready, cap);
    cap->hook = (ss__evhook){.fn = drain_hook, .arg = cap};
    ss__evloop_add_hook(cap->ev, &cap->hook);
    r = ss__evio_set(cap->ev, &cap->io, cap->rd, SS__EV_READ);
    if (r < 0)
        goto out_stop_thread;

    r = retry_dup(cap->wr, fd, fd_flags);
    if (r < 0)
        goto out_stop_thread;

    *ret = cap;
    return 0;

out_stop_thread:
    /* Nothing reached the pipe yet; the loop's turn finds it empty and closes the
     * writer (an empty partial line stores nothing). */
    stop_reader(cap);
out_free:
    capture_free(cap);
    return r;
}

int ss_capture_end(ss_capture *cap)
{
    if (!cap)
        return 0;

    fflush(NULL);
    int r_dup = retry_dup(cap->saved, cap->fd, cap->fd_flags);
    /* With the fd restored, our wr is the last write end in this process; closing
     * it lets the pipe reach EOF unless a child still holds a copy. */
    close(cap->wr);
    cap->wr = -1;
    stop_reader(cap);

    int r = cap->err ? cap->err : r_dup;
    capture_free(cap);
    return r;
}
