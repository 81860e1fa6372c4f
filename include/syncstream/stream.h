/*
 * syncstream/stream.h: ss_stream, an interactive byte stream driven by a
 * background I/O thread (threadedstream's ThreadedStream in C, and beyond it).
 *
 * Model. An I/O loop (an ss_loop, loop.h: one epoll set, on a thread of its
 * own or driven by the program's event loop, which may serve thousands of
 * streams beside children and captures) moves bytes between a transport (transport.h: TCP,
 * serial, a local program, or your own) and two buffers of each stream:
 *  - the read buffer: bytes received, not yet consumed. It holds at most
 *    read_cap bytes (default 16 MiB); when it is full the I/O thread stops
 *    reading from the transport, so the peer feels backpressure and nothing is
 *    dropped. Bytes of a separate error channel (a program's stderr) go to a
 *    second buffer of the same cap (ss_stream_take_stderr()).
 *  - the write buffer: bytes queued, not yet sent, at most write_cap (default
 *    16 MiB). A write that does not fit waits for room or fails at once, as
 *    its timeout says.
 *
 * Calls. Every blocking call takes one timeout_ms, an overall deadline for the
 * whole call (negative: no limit; 0: do not wait), and sleeps on a condition
 * variable that the I/O thread signals as soon as bytes arrive or leave: no
 * polling, no sleep tick. Matching is incremental: a byte already examined by
 * a call is not examined again by it (an exact pattern resumes where it left
 * off, a regular expression from the start of its partial match, within a
 * bounded look-back: SS_STREAM_REGEX_WINDOW), so its cost is linear in the
 * bytes received, and a match consumes bytes only up to its end.
 *
 * The error payload. Every call that fails with data at stake (a timeout, the
 * end of the stream, a transport error, a closed stream) returns the error and,
 * when ret_payload is not NULL, fills it with COPIES of the read buffer (after
 * whatever that call had already consumed, which comes first) and of the unsent
 * write buffer. The caller owns the payload and frees it with
 * ss_stream_payload_clear(); the stream keeps its bytes, so a later call can
 * still read them (or ss_stream_consume() drops them). Nothing is lost.
 *
 * Errors. -ETIMEDOUT: the deadline passed. SS_EEOF: the transport ended and
 * the buffer cannot satisfy the call; it is reported only once the bytes a
 * call could take are gone. -ENOBUFS (read_until, read_line, read_lines,
 * expect, check): the read buffer is full (read_cap bytes) and cannot satisfy
 * the call, so no byte can arrive until some are taken: the call fails at
 * once, with the payload, instead of waiting for its deadline. A transport
 * error (-ECONNRESET, -EIO...) is
 * returned by the next call, whatever it is; after that, reads drain the buffer
 * and then return that error again instead of SS_EEOF, every time, whichever
 * side met it (a reset taken by a write ends every later read with
 * -ECONNRESET). A write's -EPIPE is the exception: the peer reads no more (a
 * program closed its input), which says nothing about its output, so reads
 * end with SS_EEOF. SS_ECLOSED: the stream was closed (also wakes every
 * blocked call).
 *
 * Thread safety: every ss_stream_* function is thread-safe, except
 * ss_stream_free(), which must not race any other call on the stream. Two
 * threads consuming from one stream at once compete for its bytes. A
 * read_lines callback runs on the caller's thread with the stream's lock
 * released; a check callback runs with it held; callbacks of a bridge run on
 * the I/O thread. The last two must not call the stream's functions, and
 * none may call ss_stream_close(), ss_stream_free() or ss_loop_free()
 * of any stream or loop: a close waits for the I/O thread, which may be the
 * very thread running the callback (a deadlock).
 */
#ifndef SYNCSTREAM_STREAM_H
#define SYNCSTREAM_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <syncstream/linebuf.h>
#include <syncstream/loop.h>
#include <syncstream/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ss_stream ss_stream;
/* The loop of streams is the ss_loop of loop.h; this older name stays. */
typedef struct ss_loop ss_stream_loop;

#define SS_STREAM_DEFAULT_CAP (16u * 1024u * 1024u)

/* Options; all-zero (or NULL) means every default. */
typedef struct ss_stream_opts {
    const char *name;     /* tags bridged records and events; NULL: the transport's kind */
    size_t read_cap;      /* 0: 16 MiB */
    size_t write_cap;     /* 0: 16 MiB */
    const char *line_sep; /* read_line's separator; NULL: "\n" */
    /* While the transport is down (a serial adapter gone), writes fail at once
     * with -ENOTCONN and the payload, instead of queueing until it is back. */
    bool fail_writes_while_down;
} ss_stream_opts;

/* The error payload (see the top of this file). Zero it before use; every
 * filling clears it first. Owned by the caller. If memory runs out while it
 * is filled, a part is left NULL (its bytes stay in the stream, or are the
 * caller's own data). */
typedef struct ss_stream_payload {
    char *read; /* NUL-terminated (not counted), NULL when empty */
    size_t read_len;
    char *unsent; /* NUL-terminated (not counted), NULL when empty */
    size_t unsent_len;
    /* ss_stream_write() only: how many bytes of its data the stream took
     * (sent, or queued) before the error; the caller's rest starts at
     * data + written. 0 for every other call. */
    size_t written;
} ss_stream_payload;

/* ss_stream_payload_clear - free a payload's memory and zero it. Accepts NULL. */
void ss_stream_payload_clear(ss_stream_payload *p);

/* ---- Loops ---------------------------------------------------------------- */

/*
 * ss_stream_loop_new - ss_loop_new(ret, 0): start an I/O thread with one epoll
 * loop, for as many streams (and children, and captures) as you like. The
 * older name of that call, kept for the programs that use it.
 */
int ss_stream_loop_new(ss_stream_loop **ret);

/* ss_stream_loop_free - ss_loop_free(loop), under its older name. */
void ss_stream_loop_free(ss_stream_loop *loop);

/* ---- Life ----------------------------------------------------------------- */

/*
 * ss_stream_new - a stream over transport t, served by loop (NULL: a loop of
 * its own, with a thread, freed with the stream). The stream holds a
 * reference to loop until it is freed (see loop.h).
 *
 * Takes ownership of t whatever happens (closes it on failure). opts may be
 * NULL. *ret is freed with ss_stream_free(). Errors: -EINVAL (NULL t or ops,
 * a cap above 1 GiB, an empty line_sep), -ENOMEM, as ss_loop_new().
 */
int ss_stream_new(ss_stream **ret, ss_loop *loop, ss_transport *t, const ss_stream_opts *opts);

/*
 * ss_stream_close - stop moving bytes and close the transport (a program on
 * it is killed and reaped). Every blocked call wakes and every later call
 * returns SS_ECLOSED (with the payload: the bytes stay readable through it).
 * Unsent bytes are not sent: ss_stream_flush() first. Idempotent.
 */
void ss_stream_close(ss_stream *s);

/* ss_stream_free - close and release the stream. Accepts NULL. */
void ss_stream_free(ss_stream *s);

/* ss_stream_name - the stream's name; owned by s, valid until free. */
const char *ss_stream_name(const ss_stream *s);

/* ---- Writing -------------------------------------------------------------- */

/*
 * ss_stream_write - queue len bytes for sending (sent at once when the
 * transport is idle). A write that does not fit in the write buffer waits for
 * room up to timeout_ms (0: fail at once with -ENOBUFS). Bytes a write larger
 * than the whole buffer queues in pieces are sent in order.
 *
 * A write of at most write_cap bytes is queued whole or not at all: on
 * -ENOBUFS or -ETIMEDOUT nothing of it was taken. A bigger one is queued in
 * pieces as room comes, and the payload's written says how many bytes of data
 * were taken before a failure.
 *
 * Returns 0; or, each with the payload: -ENOBUFS / -ETIMEDOUT / -ENOMEM (the
 * write buffer could not grow) (the stream is alive: the bytes written had
 * taken are still sent, data + written onwards are the caller's to retry), -ENOTCONN (transport
 * down and fail_writes_while_down), SS_ECLOSED or a transport error (the stream will send nothing
 * more: the payload's unsent holds the write buffer followed by the rest of data, data + written
 * onwards, so nothing is lost or doubled). -EINVAL for NULL data with len > 0.
 */
int ss_stream_write(ss_stream *s, const void *data, size_t len, int timeout_ms,
                    ss_stream_payload *ret_payload);

/*
 * ss_stream_flush - wait until every queued byte has been handed to the
 * transport. Returns 0, -ETIMEDOUT, SS_ECLOSED or a transport error (payload).
 */
int ss_stream_flush(ss_stream *s, int timeout_ms, ss_stream_payload *ret_payload);

/*
 * ss_stream_shutdown_write - send every queued byte (as ss_stream_flush()),
 * then tell the peer that no more will come: the end of its input (TCP's FIN,
 * a program's stdin closed, ^D on a pty's line). Reading goes on; later writes
 * fail with -EPIPE. Returns 0, -ENOTSUP (a transport without it), or as
 * ss_stream_flush().
 */
int ss_stream_shutdown_write(ss_stream *s, int timeout_ms, ss_stream_payload *ret_payload);

/* ss_stream_waiting - bytes queued and not yet sent. Never fails. */
size_t ss_stream_waiting(ss_stream *s);

/*
 * ss_stream_set_line - set an out-of-band line of the transport on or off,
 * now: hold a serial port's transmit line in break (SS_LINE_BREAK: a BREAK
 * is on, a pause of 250 ms or so, off), assert or drop DTR or RTS (a pulse
 * resets many boards). Bytes still queued are not waited for: call
 * ss_stream_flush() first to send them before.
 *
 * On an rfc2217:// stream the command goes to the server, which sets the
 * remote port's line; its answer is not waited for.
 *
 * Thread-safe; does not block. Returns 0; -ENOTSUP (a transport without such
 * lines: TCP, telnet://, a program); -ENOTCONN (the serial device is away); SS_ECLOSED;
 * a negative errno of the port (-ENOTTY: a pseudo-terminal has no DTR or
 * RTS); -EINVAL for another line.
 */
int ss_stream_set_line(ss_stream *s, int line, bool on);

/* ---- Reading -------------------------------------------------------------- */

/*
 * ss_stream_read - take up to n bytes: waits until at least one is there.
 * Returns the count (n = 0 gives 0 at once), or -ETIMEDOUT, SS_EEOF,
 * SS_ECLOSED, a transport error (payload).
 */
ssize_t ss_stream_read(ss_stream *s, void *buf, size_t n, int timeout_ms,
                       ss_stream_payload *ret_payload);

/*
 * ss_stream_read_until - take everything up to and including the first
 * occurrence of pattern (plen bytes, binary-safe).
 *
 * On success *ret (malloc'ed, NUL-terminated, owned by the caller: free())
 * holds *ret_len bytes ending with the pattern. Returns 0, or -ETIMEDOUT,
 * SS_EEOF (the stream ended before the pattern: even in its middle),
 * -ENOBUFS (the read buffer is full without the pattern), SS_ECLOSED, a
 * transport error, each with the payload and nothing taken;
 * -EINVAL for an empty pattern; -ENOMEM.
 */
int ss_stream_read_until(ss_stream *s, const void *pattern, size_t plen, int timeout_ms, char **ret,
                         size_t *ret_len, ss_stream_payload *ret_payload);

/*
 * ss_stream_read_line - ss_stream_read_until() of the stream's line separator
 * (opts.line_sep, default "\n"), without the separator in *ret. Same returns.
 */
int ss_stream_read_line(ss_stream *s, int timeout_ms, char **ret, size_t *ret_len,
                        ss_stream_payload *ret_payload);

/* Receives one line (no separator; text[len] is a NUL); valid during the call.
 * A negative return stops ss_stream_read_lines(), which returns it. */
typedef int (*ss_stream_line_fn)(void *ctx, const char *text, size_t len);

typedef struct ss_read_lines_opts {
    ss_stream_line_fn on_line; /* required */
    void *ctx;
    size_t max;  /* stop after this many lines handed over; 0: no limit */
    size_t skip; /* consume this many lines first, unseen */
    /* Stop after the first line handed over that contains until (NULL: none). */
    const char *until;
    int timeout_ms;      /* the whole call; negative: no limit */
    int line_timeout_ms; /* each line; negative: no limit */
} ss_read_lines_opts;

/*
 * ss_stream_read_lines - read lines and hand each to on_line, until max lines
 * or a line containing until. Returns the number of lines handed over; or
 * -ETIMEDOUT (either timeout), SS_EEOF, -ENOBUFS (a line longer than the
 * read buffer), SS_ECLOSED, a transport error or a callback's negative value,
 * with the payload, whose read part starts with
 * the lines this call consumed (skipped and handed over, separators included;
 * the newest read_cap bytes of them, as the buffer is bounded, so a call that
 * consumed more than read_cap bytes hands back only their end).
 * Without max and until, the call ends only by one of those errors. -EINVAL
 * for a NULL on_line.
 */
ssize_t ss_stream_read_lines(ss_stream *s, const ss_read_lines_opts *opts,
                             ss_stream_payload *ret_payload);

/* A pattern for ss_stream_expect(). */
enum {
    SS_PATTERN_EXACT = 0, /* the bytes as they are */
    SS_PATTERN_REGEX = 1, /* a PCRE2 regular expression (UTF-8 not assumed) */
};

typedef struct ss_pattern {
    const char *text;
    size_t len;             /* 0: strlen(text) */
    unsigned kind;          /* SS_PATTERN_* */
    uint32_t pcre2_options; /* PCRE2 compile options for a regex, e.g. PCRE2_CASELESS */
} ss_pattern;

/* What ss_stream_expect() took: data holds the bytes before the match, then the
 * match, which ends the data. Owned by the caller: ss_stream_match_clear(). */
typedef struct ss_stream_match {
    int index;  /* which pattern matched */
    char *data; /* NUL-terminated (not counted) */
    size_t len;
    size_t match_start; /* data + match_start is the match; before it, what came before */
} ss_stream_match;

/* ss_stream_match_clear - free a match's memory and zero it. Accepts NULL. */
void ss_stream_match_clear(ss_stream_match *m);

/* The bounded look-back of a regular expression's search (see
 * ss_stream_expect()). PCRE2 tries start positions left to right, and holds
 * on to the leftmost one whose match is still partial (it reached the newest
 * byte and waits for more). A start whose attempt reaches more than this many
 * bytes past it without a verdict is given up, and with it every start up to
 * half this before the furthest byte it reached; the search goes on from
 * there. So a regex match is at most SS_STREAM_REGEX_WINDOW bytes long, and a
 * match that begins while a too-long attempt is pending, and more than half a
 * window before the point where it is given up, is not found. In exchange a
 * search costs time linear in the bytes received: a flood that keeps an
 * attempt partial ("[0-9]+ms" against digits) costs a constant per byte, a
 * failed attempt at most 1.5 windows of PCRE2 steps, and the call's deadline
 * is checked between two PCRE2 calls, so no search holds a timeout up by more
 * than about one window's work (milliseconds). */
#define SS_STREAM_REGEX_WINDOW (4u * 1024u)

/*
 * ss_stream_expect - wait for the first of n patterns to appear: the one whose
 * match ends earliest (ties: the lower index); take everything up to the end
 * of that match. A regular expression that could go on matching waits for
 * more bytes (or the end of the stream) before it counts as matched, so
 * "[0-9]+" gets every digit; for the same reason "$" (without
 * PCRE2_MULTILINE) matches only at the end of the stream. "^" is the start of
 * the unconsumed bytes. Of one regex's matches, PCRE2's leftmost one counts
 * (its start is ret->match_start, ret->data ends with it), found within the
 * bounded look-back of SS_STREAM_REGEX_WINDOW: a match is at most that long.
 * With PCRE2_UTF, invalid UTF-8 in the
 * stream (line noise, a character cut by the end) never matches and is no
 * error (PCRE2_MATCH_INVALID_UTF is added); a character split between two
 * arrivals is matched whole.
 *
 * A pattern that can match the empty string ("x*") may match zero bytes: on
 * "abc" it matches at once and takes nothing, so an expect loop over it makes
 * no progress; on an empty buffer it waits, as more bytes could make the match
 * longer.
 *
 * Returns the index of the pattern and fills *ret; or -ETIMEDOUT, SS_EEOF,
 * -ENOBUFS (the read buffer is full and holds no match), SS_ECLOSED, a
 * transport error (payload, nothing taken); -EINVAL (n = 0, an
 * empty exact pattern, a regex that does not compile); -ERANGE (PCRE2's match,
 * depth or heap limit hit: a pattern that backtracks too much; payload);
 * -ENOMEM.
 */
int ss_stream_expect(ss_stream *s, const ss_pattern *patterns, size_t n, int timeout_ms,
                     ss_stream_match *ret, ss_stream_payload *ret_payload);

/* Called with the whole read buffer. Return 1 when satisfied, with *ret_consume
 * set to the bytes to take (0 to n, at most len), 0 to wait for more bytes, or a
 * negative value to stop. */
typedef int (*ss_stream_check_fn)(void *ctx, const char *data, size_t len, size_t *ret_consume);

/*
 * ss_stream_check - call fn over the read buffer now and after every arrival
 * until it is satisfied. Returns 0; fn's negative value; -ETIMEDOUT, SS_EEOF,
 * -ENOBUFS (the read buffer is full and fn still waits), SS_ECLOSED or a
 * transport error (payload). fn runs with the lock held: it
 * must not call the stream's functions.
 */
int ss_stream_check(ss_stream *s, ss_stream_check_fn fn, void *ctx, int timeout_ms,
                    ss_stream_payload *ret_payload);

/*
 * ss_stream_peek - copy up to n bytes from the start of the read buffer,
 * without taking them, no waiting. Returns the count, a pending transport
 * error, or SS_ECLOSED.
 */
ssize_t ss_stream_peek(ss_stream *s, void *buf, size_t n);

/* ss_stream_ready - bytes in the read buffer now. Never fails. */
size_t ss_stream_ready(ss_stream *s);

/* ss_stream_contains - 1 when the read buffer holds pattern now, else 0; no
 * waiting. -EINVAL for an empty pattern. */
int ss_stream_contains(ss_stream *s, const void *pattern, size_t plen);

/*
 * ss_stream_consume - drop the whole read buffer (threadedstream's
 * consume_buffer). Returns the number of bytes dropped. Never fails.
 */
size_t ss_stream_consume(ss_stream *s);

/*
 * ss_stream_take_stderr - take the separate error channel's bytes (a program
 * on pipes; a remote command's stderr). *ret (malloc'ed, NUL-terminated, the
 * caller frees it; NULL when empty) and *ret_len. Returns 0 or -ENOMEM.
 */
int ss_stream_take_stderr(ss_stream *s, char **ret, size_t *ret_len);

/* ---- State and events ----------------------------------------------------- */

/*
 * ss_stream_exit_status - the waitpid()-style status of the program at the
 * other end (exec, SSH). Returns 0 with *ret set once it has ended (after
 * ss_stream_close() killed a local program: WIFSIGNALED, SIGKILL); -EAGAIN
 * while it runs, and for good after a close that ended it on a transport that
 * cannot stop it and wait (one without ops->stop: read the status before
 * closing); -ECHILD when its status was taken by someone else (the
 * application ignores SIGCHLD or reaps children itself: the stream still
 * ends); -ENOTSUP for a transport without one; -EINVAL for NULL arguments.
 */
int ss_stream_exit_status(ss_stream *s, int *ret);

typedef enum ss_stream_event_kind {
    SS_STREAM_EVENT_DOWN = 1, /* the device went away (reads and writes wait) */
    SS_STREAM_EVENT_UP = 2,   /* it is back */
} ss_stream_event_kind;

typedef struct ss_stream_event {
    ss_stream_event_kind kind;
    int64_t time_ns;  /* CLOCK_REALTIME when the I/O thread saw it */
    uint64_t offset;  /* bytes the stream had received before it */
    uint64_t dropped; /* events dropped, unread, since the one taken before */
    char text[160];   /* what happened, NUL-terminated */
} ss_stream_event;

/* How many events a stream keeps unread; past it the oldest unread one is
 * dropped, and counted in the next event taken (ss_stream_event.dropped). */
#define SS_STREAM_MAX_EVENTS 64

/*
 * ss_stream_next_event - take the oldest event not yet taken. Returns 1 and
 * fills *ret, or 0 when there is none (no waiting); -EINVAL for NULL
 * arguments.
 */
int ss_stream_next_event(ss_stream *s, ss_stream_event *ret);

/* ---- Bridge --------------------------------------------------------------- */

/* Receives one completed line of the bridge (see below); flags holds
 * SS_REC_STDERR for the error channel, SS_REC_CONTINUED for a cut piece. */
typedef int (*ss_bridge_line_fn)(void *ctx, const char *source, ss_kind kind, uint32_t flags,
                                 const char *text, size_t len);

typedef struct ss_bridge_opts {
    ss_linebuf *linebuf;       /* records go here, source = the stream's name; or */
    ss_bridge_line_fn on_line; /* every line goes to this callback (any mirror) */
    void *ctx;
    size_t max_line; /* on_line: longer lines are cut; 0: 64 KiB */
    /* Do not also keep the bytes in the read buffer, nor the error channel's
     * in its own (ss_stream_take_stderr() gets nothing): the bridge is the
     * only reader (a console being recorded), and it takes the bytes both
     * buffers held when it was attached. Otherwise both get every byte
     * (the bridge also those both buffers held, unread, when it was attached)
     * and the buffers must be consumed, or backpressure stops the stream. */
    bool only;
} ss_bridge_opts;

/*
 * ss_stream_bridge - from now on, every byte received (and every byte
 * received before and not read yet) also becomes lines
 * (the library's one line assembler) fed to opts' line buffer or callback,
 * tagged with the stream's name; events become warning records. The last
 * unterminated line is flushed at the end of the stream, on a transport
 * error and at ss_stream_close(), so no byte is lost. One bridge per stream.
 * The line buffer must outlive the stream (or the bridge's use of it).
 *
 * Returns 0, -EINVAL (none or both of linebuf and on_line), -EBUSY (a bridge
 * exists), -ENOMEM, SS_ECLOSED.
 */
int ss_stream_bridge(ss_stream *s, const ss_bridge_opts *opts);

#ifdef __cplusplus
}
#endif

#endif
