/*
 * ss_procbuf: the parent's side of process mode. A collector on the library's
 * event loop (util/evloop.h; a thread of its own, or a shared ss_loop) watches every child's
 * channels and pidfd; it turns raw output into records through one ss_writer
 * per channel, stores mirror frames as they are, reaps children as they exit
 * and stores an exit record for each. Its callbacks run under pb->mu.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <syncstream/common.h>
#include <syncstream/proc.h>

#include "linebuf/linebuf_int.h"
#include "proc/frame.h"
#include "proc/procbuf_int.h"
#include "util/clock.h"
#include "util/evloop.h"
#include "util/records.h"

#define DEFAULT_GRACE_MS 2000

static void set_stop_flag(ss_procbuf *pb, uint32_t v)
{
    atomic_store_explicit((_Atomic uint32_t *)pb->stop_flag, v, memory_order_relaxed);
}

/* The stored exit record of a finished child. */
static void store_exit_record(ss_procbuf *pb, ss__child *c)
{
    char text[160];
    ss_kind kind = SS_KIND_ERROR;
    int n;
    if (c->status_lost) {
        n = snprintf(text, sizeof(text), "ended; its status was collected elsewhere");
    } else if (WIFEXITED(c->wstatus)) {
        n = snprintf(text, sizeof(text), "exited with status %d", WEXITSTATUS(c->wstatus));
        if (WEXITSTATUS(c->wstatus) == 0)
            kind = SS_KIND_LINE;
    } else {
        int sig = WTERMSIG(c->wstatus);
        const char *abbrev = sigabbrev_np(sig);
        n = snprintf(text, sizeof(text), "killed by signal %d (SIG%s)", sig, abbrev ? abbrev : "?");
    }
    if (c->has_mirror && !c->mirror_closed) {
        n += snprintf(text + n, sizeof(text) - (size_t)n, "; it did not close its mirror");
        kind = SS_KIND_ERROR;
    }
    if (c->output_cut)
        n += snprintf(text + n, sizeof(text) - (size_t)n,
                      "; output held open by another process, cut");
    ss__linebuf_store(pb->lb, kind, SS_REC_EXIT, c->name, ss__child_producer(c),
                      ss__now_realtime_ns(), text, (size_t)n);
}

static void maybe_finish(ss_procbuf *pb, ss__child *c)
{
    if (c->finished || !c->exited || c->open_chans > 0)
        return;
    if (c->linger_at) {
        c->linger_at = 0;
        pb->nlinger--;
    }
    store_exit_record(pb, c);
    c->finished = true;
    pb->running--;
    pthread_cond_broadcast(&pb->changed);
}

static void close_chan(ss_procbuf *pb, ss__chan *ch)
{
    if (ch->fd < 0)
        return;
    if (ch->paused) {
        ch->paused = false;
        pb->npaused--;
    }
    ss__evio_set(pb->ev, &ch->io, -1, 0);
    close(ch->fd);
    ch->fd = -1;
    if (ch->w) {
        /* ends a last unterminated line */
        ss_writer_close(ch->w);
        ch->w = NULL;
    }
    ss__buf_free(&ch->in);
    if (ch->kind != SS__CHAN_PIDFD)
        ch->child->open_chans--;
}

/* Arm the linger timer for the earliest deadline of a child, or disarm it. */
static void arm_linger(ss_procbuf *pb)
{
    int64_t first = 0;
    for (size_t i = 0; i < pb->nchildren && pb->nlinger > 0; i++) {
        int64_t t = pb->children[i]->linger_at;
        if (t && (!first || t < first))
            first = t;
    }
    if (first)
        ss__evtimer_set(pb->ev, &pb->linger, first);
    else
        ss__evtimer_cancel(pb->ev, &pb->linger);
}

/*
 * Stop waiting for the output channels of c, which has exited: a process it
 * left behind (outside its process group, where no signal of ours reaches it)
 * may hold them open for ever. What they hold now is still read (FIONREAD
 * says how much), so nothing written before the cut is lost; then they close.
 */
static void cut_output(ss_procbuf *pb, ss__child *c)
{
    ss__chan *chans[] = {&c->out, &c->err, &c->mirror};
    /* cut once: a deadline left behind would keep the timer firing while
     * the channels drain */
    if (c->linger_at) {
        c->linger_at = 0;
        pb->nlinger--;
    }
    for (size_t k = 0; k < 3; k++) {
        ss__chan *ch = chans[k];
        if (ch->fd < 0 || ch->cut)
            continue;
        c->output_cut = true;
        int avail = 0;
        if (ioctl(ch->fd, FIONREAD, &avail) < 0 || avail <= 0) {
            close_chan(pb, ch);
        } else {
            ch->cut = true;
            ch->drain_left = (size_t)avail;
        }
    }
    maybe_finish(pb, c);
}

/* The linger timer fired: cut the output of every child whose time is up. */
static void linger_expired(ss_procbuf *pb)
{
    int64_t now = ss__mono_ms();
    for (size_t i = 0; i < pb->nchildren && pb->nlinger > 0; i++) {
        ss__child *c = pb->children[i];
        if (c->linger_at && c->linger_at <= now)
            cut_output(pb, c);
    }
    arm_linger(pb);
}

/* A problem with what a child sent becomes an error record of its own. */
static void store_problem(ss_procbuf *pb, ss__child *c, const char *what, int err)
{
    char text[160];
    int n = snprintf(text, sizeof(text), "%s: %s", what, ss_strerror(err));
    ss__linebuf_store(pb->lb, SS_KIND_ERROR, 0, c->name, ss__child_producer(c),
                      ss__now_realtime_ns(), text, (size_t)n);
}

/* One more mirror end: wake ss_procbuf_wait_ends(). */
static void count_end(ss_procbuf *pb, ss__child *c)
{
    c->open_end = false;
    pb->ends++;
    pthread_cond_broadcast(&pb->changed);
}

/* Store every whole frame at the start of data; returns the bytes consumed or
 * a negative error for a malformed stream. */
static long store_frames(ss_procbuf *pb, ss__child *c, const char *data, size_t len)
{
    size_t off = 0;
    for (;;) {
        ss__frame f;
        size_t used;
        /* a connection that has not shown the secret gets no room */
        bool stranger = c->connected && !c->authed;
        int rc = ss__frame_parse(data + off, len - off,
                                 stranger ? SS__MIRROR_SECRET : pb->max_payload, &f, &used);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return (long)off;
        off += used;
        if (stranger) {
            rc = f.type == SS__FRAME_HELLO ? ss__procbuf_hello(pb, c, &f) : SS_ECORRUPT;
            if (rc < 0)
                return rc;
            continue;
        }
        c->has_mirror = true;
        if (f.type != SS__FRAME_CLOSE)
            c->open_end = true;
        if (f.type == SS__FRAME_CLOSE) {
            c->mirror_closed = true;
            count_end(pb, c);
        } else if (f.type == SS__FRAME_SOURCE) {
            memset(c->mirror_source, 0, SS_SOURCE_MAX);
            memcpy(c->mirror_source, f.text, f.len < SS_SOURCE_MAX - 1 ? f.len : SS_SOURCE_MAX - 1);
        } else if (f.type == SS__FRAME_RECORD) {
            ss__linebuf_store(pb->lb, f.kind, f.flags, c->mirror_source, ss__child_producer(c),
                              f.time_ns, f.text, f.len);
        }
    }
}

/* A mirror channel is over: close it. A mirror that had not ended ends now
 * (its process died, or never called ss_mirror_end or ss_mirror_close). */
static void mirror_chan_over(ss_procbuf *pb, ss__chan *ch)
{
    ss__child *c = ch->child;
    bool lost = c->open_end && !c->detached;
    close_chan(pb, ch);
    if (lost)
        count_end(pb, c);
    if (c->connected)
        ss__procbuf_conn_gone(pb, c, lost);
    else
        maybe_finish(pb, c);
}

static void read_mirror(ss_procbuf *pb, ss__chan *ch, const char *data, size_t len)
{
    ss__child *c = ch->child;
    long used;
    int rc = 0;
    if (c->detached)
        return; /* a reset dropped it; its end of file frees it */
    if (ch->in.len == 0) {
        /* the common case: whole frames straight from the read buffer */
        used = store_frames(pb, c, data, len);
        if (used >= 0 && (size_t)used < len)
            rc = ss__buf_append(&ch->in, data + used, len - (size_t)used);
    } else {
        rc = ss__buf_append(&ch->in, data, len);
        used = rc < 0 ? 0 : store_frames(pb, c, ch->in.data, ch->in.len);
        if (used > 0)
            ss__buf_take(&ch->in, (size_t)used);
    }
    if (used < 0 || rc < 0) {
        if (!c->connected || c->authed)
            store_problem(pb, c, "bad data on the mirror channel, closed",
                          used < 0 ? (int)used : rc);
        mirror_chan_over(pb, ch);
    }
}

/*
 * Flow control: how many bytes of ch may be read now without rotating out a
 * record the reader has not consumed. Records: a byte read completes at most
 * one record (a line break, or a frame of 16 bytes or more). Arena bytes: a
 * raw byte takes at most 8 (an empty line is an 8-byte chunk), plus the
 * writer's partial line; a frame takes no more than its own size. A reserve
 * stays for the exit records and last lines of the running children, capped
 * so that a small buffer still moves.
 */
static size_t flow_room(ss_procbuf *pb, const ss__chan *ch)
{
    uint64_t records, bytes;
    ss__linebuf_room(pb->lb, pb->consumed, &records, &bytes);
    uint64_t maxlen = ss_linebuf_maxlen(pb->lb);
    uint64_t reserve = 3 * (uint64_t)pb->running + 8;
    if (reserve > maxlen / 2)
        reserve = maxlen / 2;
    records = records > reserve ? records - reserve : 0;
    uint64_t reserve_bytes = 256 * (uint64_t)pb->running + pb->max_line + 64;
    bytes = bytes > reserve_bytes ? bytes - reserve_bytes : 0;
    if (ch->kind == SS__CHAN_MIRROR)
        bytes = bytes > ch->in.len ? bytes - ch->in.len : 0;
    else
        bytes /= 8;
    uint64_t room = records < bytes ? records : bytes;
    return room < sizeof(pb->rbuf) ? (size_t)room : sizeof(pb->rbuf);
}

/* A paused channel is out of the loop's epoll (mask 0): see ss__evio_set. */
static void set_watched(ss_procbuf *pb, ss__chan *ch, bool watched)
{
    if (ch->paused != watched)
        return;
    ss__evio_set(pb->ev, &ch->io, ch->fd, watched ? SS__EV_READ : 0);
    if (watched)
        pb->npaused--;
    else
        pb->npaused++;
    ch->paused = !watched;
}

/* The child exited (its pidfd is readable): reap it. */
static void reap_child(ss_procbuf *pb, ss__chan *ch)
{
    ss__child *c = ch->child;
    pid_t r = waitpid(c->pid, &c->wstatus, WNOHANG);
    /* ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN, or a
     * waitpid(-1) elsewhere); its status is lost but its end is not. */
    if (r == c->pid || (r < 0 && errno == ECHILD)) {
        c->status_lost = r < 0;
        c->exited = true;
        close_chan(pb, ch);
        if (c->open_chans > 0 && (pb->kill_due || pb->linger_ms < 0)) {
            cut_output(pb, c);
        } else if (c->open_chans > 0 && pb->linger_ms > 0) {
            c->linger_at = ss__mono_ms() + pb->linger_ms;
            /* deadlines come in the order children exit: an armed
             * timer is due no later than this one */
            if (pb->nlinger++ == 0)
                arm_linger(pb);
        }
        maybe_finish(pb, c);
    }
}

/* One read from an output or mirror channel. Returns whether the read filled
 * what was asked, so that another may find more. */
static bool read_chan(ss_procbuf *pb, ss__chan *ch)
{
    ss__child *c = ch->child;
    size_t want = sizeof(pb->rbuf);
    if (pb->flow_control && (want = flow_room(pb, ch)) == 0) {
        set_watched(pb, ch, false);
        return false;
    }
    if (ch->cut && want > ch->drain_left)
        want = ch->drain_left;
    ssize_t n = read(ch->fd, pb->rbuf, want);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return false;
    if (n <= 0) {
        /* end of file; EIO is how a pty master says the same */
        if (ch->kind == SS__CHAN_MIRROR && ch->in.len > 0 && !c->detached &&
            (!c->connected || c->authed))
            store_problem(pb, c, "the mirror channel ended inside a record", SS_ECORRUPT);
        if (ch->kind == SS__CHAN_MIRROR) {
            mirror_chan_over(pb, ch);
        } else {
            close_chan(pb, ch);
            maybe_finish(pb, c);
        }
        return false;
    }
    if (ch->kind == SS__CHAN_MIRROR && c->connected) {
        /* a connected mirror is nobody's child, never cut; and read_mirror
         * may free it with its channel */
        read_mirror(pb, ch, pb->rbuf, (size_t)n);
        return false;
    }
    if (ch->kind == SS__CHAN_MIRROR)
        read_mirror(pb, ch, pb->rbuf, (size_t)n);
    else
        ss_writer_write(ch->w, pb->rbuf, (size_t)n);
    if (ch->fd >= 0 && ch->cut && (ch->drain_left -= (size_t)n) == 0) {
        close_chan(pb, ch);
        maybe_finish(pb, c);
    }
    return ch->fd >= 0 && (size_t)n == want;
}

/* A channel is ready (loop thread). At most SS__EV_BUDGET reads, the loop's
 * fairness rule: level-triggered epoll comes back for the rest, so a chatty
 * child cannot starve the others. */
static void chan_ready(ss__evio *io, unsigned events)
{
    (void)events;
    ss_procbuf *pb = io->arg;
    ss__chan *ch = (ss__chan *)((char *)io - offsetof(ss__chan, io));
    pthread_mutex_lock(&pb->mu);
    /* quit: a free took the channel off the loop after this turn began */
    if (!pb->quit && ch->fd >= 0 && ch->kind == SS__CHAN_PIDFD)
        reap_child(pb, ch);
    else if (!pb->quit)
        for (int i = 0; i < SS__EV_BUDGET && ch->fd >= 0 && read_chan(pb, ch); i++) {
        }
    pthread_mutex_unlock(&pb->mu);
}

/* Kill a child that will never be watched, and reap it at once. */
static void kill_and_reap(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

/* Signal a child's whole process group: a shell's own children (or any
 * grandchild still holding its output) must stop too, or the child never
 * finishes. The group outlives its leader while a member remains, and its id
 * cannot be reused meanwhile. */
static bool signal_group(const ss__child *c, int sig)
{
    bool empty = kill(-c->pid, sig) < 0 && errno == ESRCH;
    if (empty && !c->exited)
        kill(c->pid, sig); /* not yet in its own group: the fork's first instant */
    /* a child stopped by job control (SIGTTIN: it read the terminal from its
     * own group) would never see the SIGTERM */
    if (sig == SIGTERM && !empty)
        kill(-c->pid, SIGCONT);
    return empty;
}

/* Signal the children not finished yet. One that has exited and whose group
 * is empty waits only for a process that left the group (setsid): no signal
 * of ours reaches it, so its output is cut at once. */
static void signal_running(ss_procbuf *pb, int sig, bool mirrors_too)
{
    for (size_t i = 0; i < pb->nchildren; i++) {
        ss__child *c = pb->children[i];
        if (!c->finished && (mirrors_too || !c->has_mirror) && signal_group(c, sig) && c->exited)
            cut_output(pb, c);
    }
}

/* The stop's grace period is over: SIGKILL reached every process group, so
 * what still holds the output of a child that has exited escaped its group
 * (setsid) and would hold the stop up for ever. */
static void cut_exited(ss_procbuf *pb)
{
    for (size_t i = 0; i < pb->nchildren; i++) {
        ss__child *c = pb->children[i];
        if (c->exited && !c->finished)
            cut_output(pb, c);
    }
}

static void listen_ready(ss__evio *io, unsigned events)
{
    (void)events;
    ss_procbuf *pb = io->arg;
    pthread_mutex_lock(&pb->mu);
    if (!pb->quit)
        ss__procbuf_accept(pb);
    pthread_mutex_unlock(&pb->mu);
}

/* The stop's grace period may be over: SIGKILL. A reset, or a new stop with
 * a later end, may have come between the timer firing and this call. */
static void grace_over(ss__evtimer *t)
{
    ss_procbuf *pb = t->arg;
    pthread_mutex_lock(&pb->mu);
    if (!pb->quit && pb->grace_at && pb->grace_at <= ss__mono_ms()) {
        pb->grace_at = 0;
        pb->kill_due = true;
        signal_running(pb, SIGKILL, true);
        cut_exited(pb);
    }
    pthread_mutex_unlock(&pb->mu);
}

static void linger_over(ss__evtimer *t)
{
    ss_procbuf *pb = t->arg;
    pthread_mutex_lock(&pb->mu);
    /* a free cancelled the timer after this turn began: no new arming */
    if (!pb->quit)
        linger_expired(pb);
    pthread_mutex_unlock(&pb->mu);
}

int ss__procbuf_watch(ss_procbuf *pb, ss__evio *io, int fd)
{
    if (io == &pb->listen_io)
        ss__evio_init(io, listen_ready, pb);
    return ss__evio_set(pb->ev, io, fd, SS__EV_READ);
}

/* Move fd to a number >= 5, so that a spawned child's actions that put fds on
 * 0..4 never overwrite it before it is used. */
static int fd_above_4(int fd)
{
    if (fd < 0 || fd > 4)
        return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 5);
    close(fd);
    return moved;
}

int ss_procbuf_new(ss_procbuf **ret, const ss_procbuf_opts *opts)
{
    static const ss_procbuf_opts defaults;
    if (!ret)
        return -EINVAL;
    if (!opts)
        opts = &defaults;
    /* flow control keeps a reserve of records: too small a buffer would
     * leave no room to move */
    if (opts->buf.path || (opts->flow_control && opts->buf.maxlen && opts->buf.maxlen < 16))
        return -EINVAL;
    ss_procbuf *pb = calloc(1, sizeof(*pb));
    if (!pb)
        return -ENOMEM;
    pb->stopfd = pb->listenfd = -1;
    pb->line_flags = opts->buf.line_flags;
    pb->grace_ms = opts->term_grace_ms ? opts->term_grace_ms : DEFAULT_GRACE_MS;
    pb->linger_ms = opts->linger_ms;
    pb->flow_control = opts->flow_control;
    int rc = ss_linebuf_new(&pb->lb, &opts->buf);
    if (rc < 0)
        goto out_free;
    pb->max_line = pb->lb->defw.max_line;
    pb->max_payload = (size_t)pb->lb->ring.hdr->max_bytes;

    rc = ss__loop_take(opts->loop, &pb->loop);
    if (rc < 0)
        goto out_free;
    pb->ev = pb->loop->ev;
    ss__evtimer_init(&pb->grace, grace_over, pb);
    ss__evtimer_init(&pb->linger, linger_over, pb);
    pb->stopfd = fd_above_4(memfd_create("syncstream-stop", MFD_CLOEXEC));
    if (pb->stopfd < 0 || ftruncate(pb->stopfd, sizeof(uint32_t)) < 0) {
        rc = -errno;
        goto out_free;
    }
    pb->stop_flag = mmap(NULL, sizeof(uint32_t), PROT_READ | PROT_WRITE, MAP_SHARED, pb->stopfd, 0);
    if (pb->stop_flag == MAP_FAILED) {
        pb->stop_flag = NULL;
        rc = -errno;
        goto out_free;
    }

    pthread_mutex_init(&pb->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&pb->changed, &attr);
    pthread_condattr_destroy(&attr);
    *ret = pb;
    return 0;

out_free:
    if (pb->stop_flag)
        munmap(pb->stop_flag, sizeof(uint32_t));
    if (pb->stopfd >= 0)
        close(pb->stopfd);
    ss__loop_unref(pb->loop);
    ss_linebuf_free(pb->lb);
    free(pb);
    return rc;
}

void ss__procbuf_free_child(ss_procbuf *pb, ss__child *c)
{
    ss__chan *chans[] = {&c->out, &c->err, &c->mirror, &c->pidfd};
    for (size_t i = 0; i < 4; i++)
        close_chan(pb, chans[i]);
    free(c);
}

/* Take a child's channels off the loop; their fds stay open until it is freed. */
static void unwatch_child(ss_procbuf *pb, ss__child *c)
{
    ss__chan *chans[] = {&c->out, &c->err, &c->mirror, &c->pidfd};
    for (size_t i = 0; i < 4; i++)
        ss__evio_set(pb->ev, &chans[i]->io, -1, 0);
}

void ss_procbuf_free(ss_procbuf *pb)
{
    if (!pb)
        return;
    /* Off the loop first, which may go on serving other objects: no
     * callback of a later turn names this buffer, and one of the turn under
     * way sees quit and does nothing. */
    pthread_mutex_lock(&pb->mu);
    pb->quit = true;
    for (size_t i = 0; i < pb->nchildren; i++)
        unwatch_child(pb, pb->children[i]);
    for (size_t i = 0; i < pb->nconns; i++)
        unwatch_child(pb, pb->conns[i]);
    ss__evio_set(pb->ev, &pb->listen_io, -1, 0);
    ss__evtimer_cancel(pb->ev, &pb->grace);
    ss__evtimer_cancel(pb->ev, &pb->linger);
    pthread_mutex_unlock(&pb->mu);
    ss__evloop_sync(pb->ev);

    for (size_t i = 0; i < pb->nchildren; i++) {
        ss__child *c = pb->children[i];
        if (!c->finished)
            signal_group(c, SIGKILL);
        if (!c->exited) {
            while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR) {
            }
        }
        ss__procbuf_free_child(pb, c);
    }
    free(pb->children);
    for (size_t i = 0; i < pb->nconns; i++)
        ss__procbuf_free_child(pb, pb->conns[i]);
    free(pb->conns);
    if (pb->listenfd >= 0)
        close(pb->listenfd);
    munmap(pb->stop_flag, sizeof(uint32_t));
    ss__loop_unref(pb->loop);
    close(pb->stopfd);
    ss_linebuf_free(pb->lb);
    pthread_cond_destroy(&pb->changed);
    pthread_mutex_destroy(&pb->mu);
    free(pb);
}

ss_linebuf *ss_procbuf_linebuf(ss_procbuf *pb)
{
    return pb ? pb->lb : NULL;
}

int ss__procbuf_open_chan(ss_procbuf *pb, ss__child *c, ss__chan *ch, ss__chan_kind kind, int fd,
                          uint32_t rec_flags)
{
    ch->child = c;
    ch->kind = kind;
    ch->fd = -1;
    ss__evio_init(&ch->io, chan_ready, pb);
    /* one whole frame, and the rest of the read that completed it */
    ss__buf_init(&ch->in, SS__FRAME_HDR + pb->max_payload + sizeof(pb->rbuf));
    if (fd < 0)
        return 0;
    int rc = 0;
    if (kind == SS__CHAN_OUT || kind == SS__CHAN_ERR)
        rc = ss_writer_new(&ch->w, pb->lb, c->name, rec_flags);
    if (rc == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
        rc = -errno;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    ch->fd = fd;
    if (kind != SS__CHAN_PIDFD)
        c->open_chans++;
    return 0;
}

int ss__procbuf_add_child(ss_procbuf *pb, pid_t pid, const char *name, int out_fd, int err_fd,
                          int mirror_fd, unsigned flags, int *ret_id)
{
    int rc = -ENOMEM;
    ss__child *c = calloc(1, sizeof(*c));
    int pidfd = pidfd_open(pid, 0);
    if (pidfd < 0)
        rc = -errno;
    if (!c || pidfd < 0) {
        int fds[] = {out_fd, err_fd, mirror_fd, pidfd};
        for (size_t i = 0; i < 4; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        free(c);
        kill_and_reap(pid);
        return rc;
    }
    c->pid = pid;
    ss__source_copy(c->name, name);
    memcpy(c->mirror_source, c->name, SS_SOURCE_MAX);
    c->has_mirror = c->open_end = flags & SS__PROC_FORKED;
    ss__procbuf_open_chan(pb, c, &c->out, SS__CHAN_OUT, out_fd, 0);
    ss__procbuf_open_chan(pb, c, &c->err, SS__CHAN_ERR, err_fd, SS_REC_STDERR);
    ss__procbuf_open_chan(pb, c, &c->mirror, SS__CHAN_MIRROR, mirror_fd, 0);
    ss__procbuf_open_chan(pb, c, &c->pidfd, SS__CHAN_PIDFD, pidfd, 0);

    pthread_mutex_lock(&pb->mu);
    if (pb->nchildren == pb->cap) {
        size_t cap = pb->cap ? pb->cap * 2 : 16;
        ss__child **grown = realloc(pb->children, cap * sizeof(*grown));
        if (!grown) {
            pthread_mutex_unlock(&pb->mu);
            kill_and_reap(pid);
            ss__procbuf_free_child(pb, c);
            return -ENOMEM;
        }
        pb->children = grown;
        pb->cap = cap;
    }
    c->id = pb->id_base + (int)pb->nchildren;
    pb->children[pb->nchildren++] = c;
    /* the id is known only now, after the channels' writers were made */
    if (c->out.w)
        ss__writer_set_producer(c->out.w, ss__child_producer(c));
    if (c->err.w)
        ss__writer_set_producer(c->err.w, ss__child_producer(c));
    pb->running++;
    ss__chan *chans[] = {&c->out, &c->err, &c->mirror, &c->pidfd};
    for (size_t i = 0; i < 4; i++) {
        if (chans[i]->fd >= 0 && ss__procbuf_watch(pb, &chans[i]->io, chans[i]->fd) < 0)
            close_chan(pb, chans[i]);
    }
    /* a child added while a stop is in force is stopped like the others */
    if (pb->kill_due)
        signal_group(c, SIGKILL);
    else if (pb->stopping && !c->has_mirror)
        signal_group(c, SIGTERM);
    if (ret_id)
        *ret_id = c->id;
    pthread_mutex_unlock(&pb->mu);
    return 0;
}

int ss__procbuf_check_open(ss_procbuf *pb)
{
    pthread_mutex_lock(&pb->mu);
    int rc = pb->quit ? SS_ECLOSED : pb->stopping ? SS_ESTOPPED : 0;
    pthread_mutex_unlock(&pb->mu);
    return rc;
}

int ss_procbuf_wait(ss_procbuf *pb, int timeout_ms)
{
    if (!pb)
        return -EINVAL;
    struct timespec deadline;
    if (timeout_ms > 0)
        deadline = ss__deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&pb->mu);
    int rc = 0;
    while (!pb->forced && pb->running > 0) {
        if (timeout_ms == 0) {
            rc = -ETIMEDOUT;
            break;
        }
        int w = timeout_ms < 0 ? pthread_cond_wait(&pb->changed, &pb->mu)
                               : pthread_cond_timedwait(&pb->changed, &pb->mu, &deadline);
        if (w == ETIMEDOUT)
            timeout_ms = 0; /* look once more, then give up */
    }
    if (pb->forced)
        rc = SS_ESTOPPED;
    pthread_mutex_unlock(&pb->mu);
    return rc;
}

static void stop_locked(ss_procbuf *pb)
{
    if (pb->stopping)
        return;
    pb->stopping = true;
    set_stop_flag(pb, 1);
    if (pb->grace_ms < 0) {
        pb->kill_due = true;
        signal_running(pb, SIGKILL, true);
        return;
    }
    signal_running(pb, SIGTERM, false);
    pb->grace_at = ss__mono_ms() + pb->grace_ms;
    ss__evtimer_set(pb->ev, &pb->grace, pb->grace_at);
}

int ss_procbuf_stop(ss_procbuf *pb)
{
    if (!pb)
        return -EINVAL;
    pthread_mutex_lock(&pb->mu);
    stop_locked(pb);
    pthread_mutex_unlock(&pb->mu);
    return 0;
}

int ss_procbuf_force_stop(ss_procbuf *pb)
{
    if (!pb)
        return -EINVAL;
    pthread_mutex_lock(&pb->mu);
    stop_locked(pb);
    pb->forced = true;
    pthread_cond_broadcast(&pb->changed);
    pthread_mutex_unlock(&pb->mu);
    return 0;
}

int ss_procbuf_reset(ss_procbuf *pb)
{
    return ss_procbuf_reset_flags(pb, 0);
}

int ss_procbuf_reset_flags(ss_procbuf *pb, unsigned flags)
{
    if (!pb || (flags & ~(unsigned)SS_PROC_RESET_KEEP_RECORDS))
        return -EINVAL;
    pthread_mutex_lock(&pb->mu);
    if (pb->running > 0) {
        pthread_mutex_unlock(&pb->mu);
        return -EBUSY;
    }
    for (size_t i = 0; i < pb->nchildren; i++)
        ss__procbuf_free_child(pb, pb->children[i]);
    pb->id_base += (int)pb->nchildren;
    pb->nchildren = 0;
    ss__procbuf_detach_conns(pb);
    pb->stopping = pb->forced = pb->kill_due = false;
    set_stop_flag(pb, 0);
    pb->grace_at = 0;
    ss__evtimer_cancel(pb->ev, &pb->grace);
    /* Cleared under pb->mu, so that no new child's record is cleared with
     * them; and the cleared records no longer wait for the reader. */
    int rc = flags & SS_PROC_RESET_KEEP_RECORDS ? 0 : ss_linebuf_clear(pb->lb);
    ss_linebuf_stats st;
    if (ss_linebuf_get_stats(pb->lb, &st) == 0)
        pb->consumed = st.last_seq;
    pthread_mutex_unlock(&pb->mu);
    return rc;
}

int ss_procbuf_wait_ends(ss_procbuf *pb, uint64_t seen, int timeout_ms, uint64_t *ret_ends)
{
    if (!pb)
        return -EINVAL;
    struct timespec deadline;
    if (timeout_ms > 0)
        deadline = ss__deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&pb->mu);
    int rc = 0;
    while (!pb->forced && pb->ends <= seen) {
        if (timeout_ms == 0) {
            rc = -ETIMEDOUT;
            break;
        }
        int w = timeout_ms < 0 ? pthread_cond_wait(&pb->changed, &pb->mu)
                               : pthread_cond_timedwait(&pb->changed, &pb->mu, &deadline);
        if (w == ETIMEDOUT)
            timeout_ms = 0;
    }
    if (pb->forced)
        rc = SS_ESTOPPED;
    if (ret_ends)
        *ret_ends = pb->ends;
    pthread_mutex_unlock(&pb->mu);
    return rc;
}

int ss_procbuf_child(ss_procbuf *pb, int id, ss_child_status *ret)
{
    if (!pb || !ret)
        return -EINVAL;
    pthread_mutex_lock(&pb->mu);
    int rc = -ENOENT;
    if (id >= pb->id_base && (size_t)(id - pb->id_base) < pb->nchildren) {
        const ss__child *c = pb->children[id - pb->id_base];
        bool known = c->exited && !c->status_lost;
        *ret = (ss_child_status){
            .id = c->id,
            .pid = c->pid,
            .finished = c->finished,
            .exited = known && WIFEXITED(c->wstatus),
            .exit_code = known && WIFEXITED(c->wstatus) ? WEXITSTATUS(c->wstatus) : 0,
            .term_signal = known && WIFSIGNALED(c->wstatus) ? WTERMSIG(c->wstatus) : 0,
            .mirror_closed = c->mirror_closed,
            .output_cut = c->output_cut,
        };
        memcpy(ret->name, c->name, SS_SOURCE_MAX);
        rc = 0;
    }
    pthread_mutex_unlock(&pb->mu);
    return rc;
}

int ss_procbuf_consumed(ss_procbuf *pb, uint64_t cursor)
{
    if (!pb)
        return -EINVAL;
    pthread_mutex_lock(&pb->mu);
    if (pb->flow_control && cursor > pb->consumed) {
        pb->consumed = cursor;
        /* watch the paused channels again; the collector pauses them anew if
         * there is still no room */
        for (size_t i = 0; i < pb->nchildren && pb->npaused > 0; i++) {
            ss__child *c = pb->children[i];
            ss__chan *chans[] = {&c->out, &c->err, &c->mirror};
            for (size_t k = 0; k < 3; k++)
                if (chans[k]->paused)
                    set_watched(pb, chans[k], true);
        }
    }
    pthread_mutex_unlock(&pb->mu);
    return 0;
}

int ss_procbuf_running(ss_procbuf *pb)
{
    if (!pb)
        return -EINVAL;
    pthread_mutex_lock(&pb->mu);
    int n = pb->running;
    pthread_mutex_unlock(&pb->mu);
    return n;
}
