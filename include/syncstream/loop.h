/*
 * syncstream/loop.h: ss_loop, the I/O loop that moves the bytes of streams
 * (stream.h), process collectors (proc.h) and captures (capture.h).
 *
 * By default each of those objects makes a private loop with a thread of its
 * own. Hand one ss_loop to many of them instead (ss_stream_new()'s loop
 * argument, the loop field of ss_procbuf_opts and ss_capture_opts) and they
 * share it: one thread, one epoll set, for every stream, child and capture of
 * the program.
 *
 * Two kinds:
 *  - threaded (flags 0): the loop runs on a thread of its own, started by
 *    ss_loop_new(), with every signal blocked;
 *  - external (SS_LOOP_EXTERNAL): no thread. A program with an event loop of
 *    its own (libevent, libuv, GLib...) drives it, on the model of libcurl's
 *    multi_socket: watch ss_loop_fd() for reading, arm a timer for
 *    ss_loop_timeout_ms(), and call ss_loop_run_ready() when either fires; ask
 *    for the timeout again after each call. examples/libevent_loop.c does it.
 *
 * Ownership. Every object on a loop holds a reference to it, and so does the
 * program from ss_loop_new() until ss_loop_free(): the loop (its thread, its
 * fds) goes when the last of them does, so the objects and the loop may be
 * freed in any order. Freeing one object waits only until the loop lets go
 * of it, never for the others, which go on being served.
 *
 * External loops and blocking calls. With an external loop, bytes move only
 * while someone runs ss_loop_run_ready(). A blocking call (a stream read with
 * a timeout, ss_procbuf_wait()) waits for that, so from the thread that drives
 * the loop use timeout 0 (take what is there) and call again after the next
 * ss_loop_run_ready(). Freeing an object or ending a capture runs the turns it
 * needs itself, on the calling thread (after a turn under way on another
 * thread has ended), so it never waits for the program's loop. Those are
 * whole turns: they may also serve the loop's other objects, running their
 * callbacks that run inside a turn (a bridge's, for one) on the freeing
 * thread.
 *
 * Signals. A threaded loop's thread blocks every signal, so a write to a
 * closed pipe (a program's stdin on an exec stream, a capture's tee) fails
 * with EPIPE. An external loop's turns run on the program's thread: ignore
 * SIGPIPE there (signal(SIGPIPE, SIG_IGN), as most event-loop programs do),
 * or such a write kills the process.
 *
 * Thread safety: every function here may be called from any thread, and
 * ss_loop_run_ready() from several at once (turns run one after the other).
 * None may be called from a bridge callback (stream.h), which runs inside a
 * turn.
 */
#ifndef SYNCSTREAM_LOOP_H
#define SYNCSTREAM_LOOP_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ss_loop ss_loop;

/* Flags for ss_loop_new(). */
enum {
    SS_LOOP_EXTERNAL = 1u << 0, /* no thread: the program drives the loop */
};

/*
 * ss_loop_new - a loop; with flags 0 its thread is running on return.
 *
 * *ret is released with ss_loop_free(). Returns 0, -EINVAL (NULL ret, an
 * unknown flag), -ENOMEM, or a negative errno from epoll_create1, eventfd or
 * pthread_create.
 */
int ss_loop_new(ss_loop **ret, unsigned flags);

/*
 * ss_loop_free - drop the program's reference. Each object on the loop holds
 * a reference too: the loop goes on serving them, and stops (a threaded
 * loop's thread is joined) and is freed when the last reference is gone, the
 * program's or an object's (that object's free then stops it). Accepts NULL.
 */
void ss_loop_free(ss_loop *loop);

/*
 * ss_loop_fd - an external loop's fd (an epoll fd), readable whenever the
 * loop has work: a watched fd is ready, or an object queued work from another
 * thread. Watch it for reading only, level-triggered; do not read or close
 * it. Valid until the loop is freed. Returns the fd, or -EINVAL (NULL, or a
 * threaded loop).
 */
int ss_loop_fd(const ss_loop *loop);

/*
 * ss_loop_timeout_ms - how long an external loop may wait for its fd before
 * ss_loop_run_ready() must be called anyway (a stop's grace period, a
 * transport's timed work): milliseconds, 0 (now), or -1 (no limit). Ask
 * again after each ss_loop_run_ready(). Returns -EINVAL for NULL or a
 * threaded loop (-1 is never an error: errors are below -1).
 */
int ss_loop_timeout_ms(ss_loop *loop);

/*
 * ss_loop_run_ready - run what is ready on an external loop: one turn that
 * does not sleep (the ready fds, the due timers, the queued work), on the
 * calling thread. A fd with more to read than one turn takes stays ready,
 * so the fd stays readable and the program's loop calls again. If another
 * thread runs a turn, waits for it to end first. Returns 0, -EINVAL (NULL,
 * or a threaded loop), or -EDEADLK (called from inside a turn).
 */
int ss_loop_run_ready(ss_loop *loop);

#ifdef __cplusplus
}
#endif

#endif
