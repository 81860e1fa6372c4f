/*
 * syncstream/proc.h: process mode. Lines from many child processes gathered into
 * one buffer in the parent (sync-stream's LineProcBuffer / LineProcMirror in C).
 *
 * Three ways in:
 *  - spawn: ss_procbuf_spawn() runs a command with its stdout and stderr read
 *    by the parent (stderr records flagged SS_REC_STDERR), on pipes or on a
 *    pseudo-terminal (which merges stderr into stdout);
 *  - mirror: ss_procbuf_fork() forks a child that holds an ss_mirror, or a
 *    spawned command with SS_PROC_MIRROR finds its channel through the
 *    SS_MIRROR_CHANNEL environment variable (ss_mirror_open_env()). A mirror
 *    assembles lines in the child and sends whole records, framed, over its own
 *    pipe: a record of any length is never mixed with another child's;
 *  - connected mirror: ss_procbuf_listen() gives an address; a mirror in any
 *    process of the same user (not only a child: a process pool's worker, a
 *    program started by other means, this process) opens it with
 *    ss_mirror_connect(). Its records come over its own connection, framed as
 *    a child's. It is not a child: it is never signalled, reaped, counted by
 *    ss_procbuf_running() or waited for by ss_procbuf_wait(), and gets no exit
 *    record; a stop reaches it as it reaches a child's mirror. A connection
 *    that ends while its mirror has not ended stores an error record (flagged
 *    SS_REC_EXIT) saying so.
 *
 * The records land in an ss_linebuf owned by the process buffer: read them with
 * the ss_linebuf_* functions (read, read n, cursor reads, waits, len, maxlen,
 * clear, stats) on ss_procbuf_linebuf(). Each child's records have its name as
 * source. When a child has ended and its channels are drained, one more record
 * reports it, flagged SS_REC_EXIT: a line "exited with status 0" on success, an
 * error record otherwise ("exited with status 3", "killed by signal 9 (SIGKILL)",
 * with "; it did not close its mirror" when a mirror ended without closing).
 *
 * Every child leads its own process group (its own session on a pty), so a
 * stop reaches a shell's children too; a terminal's Ctrl-C therefore reaches
 * only the parent, which should stop the buffer (as `syncstream run` does).
 *
 * One background loop (a thread of its own, or the ss_loop of opts.loop,
 * shared with other objects: loop.h) collects every child's output, notices
 * exits through pidfds, and reaps every child: no zombies, and every fd is
 * O_CLOEXEC.
 * A child is finished when it has exited and every process holding its output
 * channels has closed them (so a grandchild still writing keeps it running),
 * or when they are cut: after opts.linger_ms, or at the end of a stop's grace
 * period. A cut adds "; output held open by another process, cut" to the exit
 * record.
 *
 * Thread safety: ss_procbuf_* functions are thread-safe, except that
 * ss_procbuf_free() must not race any other call. An ss_mirror belongs to the
 * child process that opened it and is used by one thread at a time.
 */
#ifndef SYNCSTREAM_PROC_H
#define SYNCSTREAM_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <syncstream/linebuf.h>
#include <syncstream/loop.h>
#include <syncstream/record.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ss_procbuf ss_procbuf;
typedef struct ss_mirror ss_mirror;

/* The environment variable through which an exec'ed child finds its mirror
 * channel: "PIPE_FD,STOP_FD,MAX_LINE". */
#define SS_MIRROR_ENV "SS_MIRROR_CHANNEL"

/* Room for an address of ss_procbuf_listen(), its NUL included. */
#define SS_MIRROR_ADDRESS_MAX 128

typedef struct ss_procbuf_opts {
    ss_linebuf_opts buf; /* the buffer's options (maxlen, max_line, policy...);
                            buf.path is not supported here and must be NULL */
    int term_grace_ms;   /* ss_procbuf_stop(): SIGTERM, then SIGKILL after this
                            long; 0 means 2000, negative means SIGKILL at once */
    /* Flow control for one reader that must see every record (a printer, a
     * shipper): the collector never stores more records than the buffer can
     * hold beyond the cursor reported with ss_procbuf_consumed(); while it is
     * that far ahead (in records or in bytes) it stops reading, the
     * children's pipes fill and their writes block, as they would on a
     * terminal. Nothing rotates out unread. Needs buf.maxlen >= 16 (or 0 for
     * the default). Without it (the default) the buffer rotates as ss_linebuf
     * does. */
    bool flow_control;
    /* How long the output channels of a child that has exited may stay open,
     * held by a process it left behind (a daemon, a background job that
     * inherited them), before they are cut: what they hold then is read, what
     * is written to them later is not, and the child finishes with
     * output_cut set. 0 (the default) waits as long as they are open; a
     * negative value cuts them when the child exits. Whatever this says,
     * once a stop's grace period is over the output of every child that has
     * exited is cut (SIGKILL cannot reach a process that left the child's
     * process group). */
    int linger_ms;
    /* The loop that collects the children's output (loop.h), shared with
     * other objects; the buffer holds a reference to it until it is freed.
     * NULL (the default): a loop with a thread of its own. */
    ss_loop *loop;
} ss_procbuf_opts;

/* Flags for ss_procbuf_spawn() and ss_procbuf_fork(). */
enum {
    SS_PROC_PTY = 1u << 0,            /* spawn: run on a pseudo-terminal (stdout and
                                         stderr merged, line-buffered by the child) */
    SS_PROC_MIRROR = 1u << 1,         /* spawn: also give the command a mirror channel
                                         through SS_MIRROR_CHANNEL; it counts as a
                                         mirror (for stop and its exit record) once
                                         it has sent something on it */
    SS_PROC_CAPTURE_STDOUT = 1u << 2, /* fork: the child's stdout becomes its records */
    SS_PROC_CAPTURE_STDERR = 1u << 3, /* fork: the child's stderr too (SS_REC_STDERR) */
    SS_PROC_NULL_STDIN = 1u << 4,     /* spawn: stdin from /dev/null (default: inherited;
                                         a child in its own process group that
                                         reads the parent's terminal is stopped
                                         by SIGTTIN, so use this flag then) */
};

typedef struct ss_spawn_opts {
    char *const *argv; /* argv[0] is looked up in PATH; NULL-terminated */
    char *const *envp; /* NULL: the parent's environment */
    const char *cwd;   /* NULL: the parent's working directory */
    const char *name;  /* source name of its records; NULL: argv[0]'s base name */
    unsigned flags;    /* SS_PROC_PTY, SS_PROC_MIRROR, SS_PROC_NULL_STDIN */
} ss_spawn_opts;

/* What is known about one child. */
typedef struct ss_child_status {
    int id; /* 0, 1, 2... in the order children were added; its records'
               producer (record.h) is id + 1 */
    pid_t pid;
    char name[SS_SOURCE_MAX];
    bool finished; /* exited and its channels drained; reported */
    bool exited;   /* ended with exit(); code in exit_code */
    int exit_code;
    int term_signal;    /* killed by this signal, else 0 */
    bool mirror_closed; /* a mirror child closed its mirror (ss_mirror_close
                           or ss_mirror_close_error) */
    bool output_cut;    /* its output was still held open by another
                           process after it exited and was cut (see
                           linger_ms); its exit record says so too */
} ss_child_status;

/*
 * ss_procbuf_new - create a process buffer and start its collector (on its own
 * thread, or on opts->loop). opts may be NULL. Returns 0, -EINVAL, -ENOMEM,
 * or a negative errno from epoll/eventfd/pthread_create.
 */
int ss_procbuf_new(ss_procbuf **ret, const ss_procbuf_opts *opts);

/*
 * ss_procbuf_free - kill (SIGKILL) and reap children still running, stop the
 * collector (a shared loop goes on serving its other objects), free
 * everything. The buffer returned by ss_procbuf_linebuf() is freed with it.
 * Accepts NULL.
 */
void ss_procbuf_free(ss_procbuf *pb);

/* ss_procbuf_linebuf - the buffer holding the records; owned by pb, valid until
 * ss_procbuf_free(). Never NULL for a valid pb. */
ss_linebuf *ss_procbuf_linebuf(ss_procbuf *pb);

/*
 * ss_procbuf_spawn - run a command as a child whose output becomes records.
 * On success *ret_id (may be NULL) is its id for ss_procbuf_child(). Returns 0,
 * -EINVAL, -ENOENT (not found in PATH), -EACCES, SS_ESTOPPED (a stop is in
 * force: reset first), SS_ECLOSED, or a negative errno from pipe/openpty/spawn.
 */
int ss_procbuf_spawn(ss_procbuf *pb, const ss_spawn_opts *opts, int *ret_id);

/*
 * ss_procbuf_fork - fork a mirror child, as fork() does.
 *
 * In the parent: returns the child's pid (> 0) and sets *ret_id (may be NULL).
 * In the child: returns 0 and sets *ret_mirror to an open mirror whose records
 * carry name as source; with SS_PROC_CAPTURE_STDOUT / _STDERR the child's fds 1
 * and 2 are already redirected to the parent. The child ignores SIGPIPE, so
 * that a write to a vanished parent returns -EPIPE rather than killing it. The child must only use
 * the mirror (not pb) and should end with ss_mirror_close() and exit() or _exit(). The mirror is
 * made before the fork, so the child allocates nothing until it writes; in a multi-threaded parent
 * its writes then rely on malloc being usable after fork(), as glibc's is (GCC 12's
 * AddressSanitizer runtime is not). Thread-safe: two threads may fork from one pb at once; neither
 * child inherits the other's channel. Errors (in the parent, no child made): as ss_procbuf_spawn(),
 * and -ENOMEM.
 */
pid_t ss_procbuf_fork(ss_procbuf *pb, const char *name, unsigned flags, ss_mirror **ret_mirror,
                      int *ret_id);

/*
 * ss_procbuf_wait - block until every child added so far has finished, or
 * timeout_ms passes (negative: no timeout). Returns 0, -ETIMEDOUT,
 * SS_ESTOPPED after ss_procbuf_force_stop(), or -EINVAL for a NULL pb.
 */
int ss_procbuf_wait(ss_procbuf *pb, int timeout_ms);

/*
 * ss_procbuf_stop - ask every child to stop. Mirrors are asked cooperatively:
 * the next write of every mirror returns SS_ESTOPPED. Spawned children without
 * a mirror get SIGTERM at once. Every child still running when the grace
 * period ends gets SIGKILL. Their output and exits are still collected. New
 * children are refused with SS_ESTOPPED until ss_procbuf_reset(). Returns 0
 * (-EINVAL for a NULL pb).
 */
int ss_procbuf_stop(ss_procbuf *pb);

/*
 * ss_procbuf_force_stop - ss_procbuf_stop(), and every ss_procbuf_wait() returns
 * SS_ESTOPPED at once, now and until ss_procbuf_reset(). Returns 0.
 */
int ss_procbuf_force_stop(ss_procbuf *pb);

/*
 * ss_procbuf_reset - make the buffer reusable after a stop: forget finished
 * children, drop every connected mirror (its later sends fail with -EPIPE)
 * and change the secret of the listening address (ss_procbuf_listen() gives
 * the new one; the old is refused), lift the stop, clear the records.
 * Returns 0, or -EBUSY while a child is still running (wait for it first).
 */
int ss_procbuf_reset(ss_procbuf *pb);

/* Flags for ss_procbuf_reset_flags(). */
enum {
    SS_PROC_RESET_KEEP_RECORDS = 1u << 0, /* do not clear the records */
};

/* ss_procbuf_reset_flags - ss_procbuf_reset() with flags (0 is the same);
 * -EINVAL for an unknown flag. */
int ss_procbuf_reset_flags(ss_procbuf *pb, unsigned flags);

/*
 * ss_procbuf_listen - open (once; later calls give the same) the socket that
 * connected mirrors reach, and write its address into ret_address (size at
 * least SS_MIRROR_ADDRESS_MAX): "@NAME/SECRET", an abstract AF_UNIX socket
 * and a random secret a mirror must present. Anyone who knows the address can
 * add records, so give it only to the processes meant to; a connection from
 * another user is refused whatever it sends. Returns 0, -EINVAL, or a negative
 * errno from socket/bind/listen/getrandom.
 */
int ss_procbuf_listen(ss_procbuf *pb, char *ret_address, size_t size);

/*
 * ss_procbuf_wait_ends - block until the buffer has counted more mirror ends
 * than seen, or timeout_ms passes (negative: no timeout); *ret_ends (may be
 * NULL) is then the count. A mirror end is an ss_mirror_end(), ss_mirror_close()
 * or ss_mirror_close_error() received, or a mirror channel (a child's or a
 * connection) that ended after records with no end since: a mirror process
 * that died counts too. The count never goes down, a reset included. Returns
 * 0, -ETIMEDOUT, SS_ESTOPPED while ss_procbuf_force_stop() is in force (at
 * once), -EINVAL.
 */
int ss_procbuf_wait_ends(ss_procbuf *pb, uint64_t seen, int timeout_ms, uint64_t *ret_ends);

/*
 * ss_procbuf_child - the status of child id. Returns 0, or -ENOENT for an
 * unknown id (or one forgotten by a reset).
 */
int ss_procbuf_child(ss_procbuf *pb, int id, ss_child_status *ret);

/*
 * ss_procbuf_consumed - with opts.flow_control, report that the reader has
 * handled every record up to seq cursor (the ss_records.cursor of its last
 * read); the collector reads again if it had stopped. Returns 0, -EINVAL.
 * Without flow control it does nothing.
 */
int ss_procbuf_consumed(ss_procbuf *pb, uint64_t cursor);

/* ss_procbuf_running - how many children have not finished yet, or -EINVAL
 * for a NULL pb. */
int ss_procbuf_running(ss_procbuf *pb);

/*
 * ss_mirror_open_env - in an exec'ed child spawned with SS_PROC_MIRROR, open
 * the mirror named by SS_MIRROR_CHANNEL. source names its records (NULL: the
 * name the parent gave the child). Returns 0, -ENOENT (no such variable),
 * -EINVAL (malformed), -EBADF, -ENOMEM.
 */
int ss_mirror_open_env(ss_mirror **ret, const char *source);

/*
 * ss_mirror_connect - open a connected mirror on address (ss_procbuf_listen()),
 * in any process of the buffer's user. Lines are cut and ended as the buffer's
 * options say. Waits at most timeout_ms (negative: no limit) for the buffer's
 * answer. Returns 0, -EINVAL (a malformed address), -ECONNREFUSED (no buffer
 * listens there: it is gone), -EACCES (the buffer refused the secret: the
 * address is from before a reset), -ETIMEDOUT, SS_ECORRUPT, -ENOMEM, or a
 * negative errno from socket/connect. The mirror ignores SIGPIPE on its own:
 * a send to a vanished buffer returns -EPIPE.
 */
int ss_mirror_connect(ss_mirror **ret, const char *address, int timeout_ms);

/*
 * ss_mirror_write - as ss_linebuf_write(), in the child: completed lines are
 * sent to the parent, the partial line stays here until a break or close.
 * Returns 0; SS_ESTOPPED when the parent asked to stop (nothing sent);
 * -EPIPE when the parent is gone (in an exec'ed child that does not ignore
 * SIGPIPE, the signal comes first, as for any pipe); -EINVAL.
 */
int ss_mirror_write(ss_mirror *m, const void *data, size_t len);

/* ss_mirror_new_line / ss_mirror_append: as their ss_linebuf counterparts. */
int ss_mirror_new_line(ss_mirror *m);
int ss_mirror_append(ss_mirror *m, ss_kind kind, const void *text, size_t len);

/*
 * ss_mirror_end - end one use of the mirror without closing it (sync-stream's
 * send_eof and send_error): send the partial line (if any), then, when
 * error_text is not NULL, error_text as one error record, then an end, which
 * the buffer counts (ss_procbuf_wait_ends()). The mirror stays open for more
 * writes and ends. A stop does not refuse it. Returns 0, -EINVAL, SS_ETOOBIG,
 * or the send error.
 */
int ss_mirror_end(ss_mirror *m, const void *error_text, size_t len);

/*
 * ss_mirror_close - send the partial line (if any) and a clean end, then free
 * the mirror. ss_mirror_close_error() ends the partial line, sends text as an
 * error record, then the end (sync-stream's close on an exception). Either way
 * the child counts as having closed its mirror (ss_child_status.mirror_closed).
 * A stop does not refuse a close. Accept NULL. Return 0 or the send error (the
 * mirror is freed in every case).
 */
int ss_mirror_close(ss_mirror *m);
int ss_mirror_close_error(ss_mirror *m, const void *text, size_t len);

#ifdef __cplusplus
}
#endif

#endif
