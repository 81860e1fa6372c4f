/*
 * syncstream/capture.h: redirect one of the process's file descriptors (stdout,
 * stderr or any other) into an ss_linebuf.
 *
 * Between ss_capture_begin() and ss_capture_end(), everything written to the fd
 * becomes records of the buffer: printf() from any thread, a library's write(2)
 * calls, and the output of child processes that inherited the fd. A background
 * thread reads a pipe that replaces the fd; with tee, every byte also goes on to
 * the original destination.
 *
 * The fd keeps its identity for the rest of the program: end() puts the original
 * open file back on the same number, with its close-on-exec flag. Text still in
 * a stdio buffer when begin() is called was written before the capture and goes
 * to the original destination (begin() flushes stdio too).
 *
 * The fd is one byte stream, as a terminal is: all its writers share one partial
 * line. A line reaches the buffer whole when it is written whole by one write(2)
 * of at most PIPE_BUF bytes (the kernel keeps such writes apart), or by one stdio
 * call on a FILE that all its writers share (stdio serializes them). Longer
 * writes, or lines assembled by several writes, from concurrent writers can mix,
 * as they would on any pipe: give each thread its own ss_writer when that matters.
 *
 * Usage:
 *     ss_capture *cap;
 *     ss_capture_begin(&cap, lb, STDOUT_FILENO, &(ss_capture_opts){.source = "out"});
 *     ... printf, write, fork/exec ...
 *     ss_capture_end(cap);   // fd restored; every byte written before is a record
 *
 * Thread safety: begin and end must not run concurrently for the same fd; the
 * captured fd itself may be written from any thread meanwhile.
 */
#ifndef SYNCSTREAM_CAPTURE_H
#define SYNCSTREAM_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <syncstream/linebuf.h>
#include <syncstream/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ss_capture ss_capture;

/* Options; all-zero (or NULL) means: source "fd<N>", no tee, no record flags. */
typedef struct ss_capture_opts {
    const char *source; /* source name of the records (copied) */
    bool tee;           /* also pass every byte on to the original destination; if
                           that destination fails (closed pipe, full disk) the tee
                           stops and the bytes still reach the buffer */
    uint32_t rec_flags; /* set on every record, e.g. SS_REC_STDERR */
    ss_loop *loop;      /* the loop that reads the pipe (loop.h), shared with
                           other objects; the capture holds a reference to it
                           until it ends. NULL: a loop with a thread of its own */
} ss_capture_opts;

/*
 * ss_capture_begin - start capturing fd into lb.
 *
 * *ret must be ended with ss_capture_end() before lb is freed. Flushes stdio
 * (fflush(NULL)) first. Without opts->loop, starts one thread, which runs with
 * every signal blocked (a shared threaded loop's does too; with an external
 * loop a tee writes on the thread that runs ss_loop_run_ready(), so block
 * SIGPIPE there if the tee's destination may close).
 * Returns 0, -EBADF (fd not open), -EINVAL (ret or lb NULL), SS_ECLOSED,
 * -ENOMEM, or a negative errno from pipe, dup, eventfd or pthread_create
 * (nothing is changed then; *ret is written only on success).
 */
int ss_capture_begin(ss_capture **ret, ss_linebuf *lb, int fd, const ss_capture_opts *opts);

/*
 * ss_capture_end - stop capturing: flush stdio (fflush(NULL), so printf output
 * still in a FILE buffer is delivered), restore the fd, deliver every byte
 * written to it before this call (a last unterminated line becomes a record) and
 * free the capture. Bytes written later by a child still holding the old fd are
 * not captured, and once the capture is freed such a child's writes fail with
 * EPIPE (SIGPIPE): wait for such children first. On a shared loop only this
 * capture leaves it; with an external loop the last reads run on the calling
 * thread. Accepts NULL. Returns 0, the
 * first error met while storing (SS_ECLOSED if lb was closed), or a negative
 * errno if the fd could not be restored; the capture is freed in every case.
 */
int ss_capture_end(ss_capture *cap);

#ifdef __cplusplus
}
#endif

#endif
