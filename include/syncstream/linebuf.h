/*
 * syncstream/linebuf.h: ss_linebuf, an in-memory (or memory-mapped) line buffer
 * shared by the threads of one process, and ss_writer, a producer's own handle.
 *
 * Model. A buffer holds at most maxlen records (see record.h) plus the partial
 * line of its default writer. Bytes written are split into lines by the line
 * assembler: "\n" and "\r\n" end a line; a lone "\r" returns to the start of the
 * partial line as on a terminal (or ends the line with SS_LINE_CR_IS_BREAK); a
 * line longer than max_line is cut into records flagged SS_REC_CONTINUED.
 *
 * By default line breaks differ from Python's str.splitlines, which
 * sync-stream uses: only "\n", "\r\n" and (with SS_LINE_CR_IS_BREAK) "\r"
 * break a line, not "\v", "\f", "\x1c"-"\x1e", "\x85", U+2028 or U+2029;
 * SS_LINE_SPLITLINES (record.h) adds those. A "\r\n" split across two writes
 * is one break here, two in sync-stream.
 *
 * Reading follows sync-stream's LineBuffer exactly: the partial line, if not
 * empty, is the newest item of the view; a view holds at most maxlen items, so
 * when the records are full and a partial line exists the oldest record is left
 * out of the view (not deleted). ss_linebuf_read(n) gives the newest n items of
 * that view, oldest first; ss_linebuf_len() counts the same view.
 *
 * Beyond sync-stream:
 *  - writers: each producer may hold an ss_writer with its own partial line, so
 *    partial writes from different threads never interleave; a writer's partial
 *    line is private to it until completed.
 *  - cursor reads: records with seq greater than a cursor, and a blocking wait for
 *    them (no polling), with the number of records a slow follower missed.
 *  - a full policy: rotate out the oldest record (default) or refuse the newest,
 *    both counted in ss_linebuf_get_stats().
 *  - crash survival: with opts.path the ring lives in a memory-mapped file, so the
 *    completed records and the default writer's partial line outlive the process
 *    (SIGKILL, SIGSEGV, abort); ss_linebuf_inspect_file() reads them back.
 *
 * Memory is bounded: at most maxlen records, at most max_bytes bytes of record
 * text (the oldest records rotate out, counted, when either limit is reached),
 * and at most max_line bytes per partial line.
 *
 * Thread safety: every ss_linebuf_* function is thread-safe. An ss_writer is
 * used by one thread at a time (it may move between threads with the usual
 * happens-before, for example a mutex or thread join). Every writer must be closed
 * before its buffer is freed.
 */
#ifndef SYNCSTREAM_LINEBUF_H
#define SYNCSTREAM_LINEBUF_H

#include <stddef.h>
#include <stdint.h>

#include <syncstream/record.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ss_linebuf ss_linebuf;
typedef struct ss_writer ss_writer;

typedef enum ss_time_source {
    SS_TIME_PRECISE = 0,
    SS_TIME_COARSE = 1,
    SS_TIME_REALTIME = 2,
} ss_time_source;

#define SS_LINEBUF_DEFAULT_MAXLEN 1000
#define SS_LINEBUF_DEFAULT_MAX_LINE (64u * 1024u)
#define SS_LINEBUF_DEFAULT_MAX_BYTES (64u * 1024u * 1024u)

/* Pass as n to ss_linebuf_read() to read the whole view. */
#define SS_READ_ALL SIZE_MAX

/* Options; all-zero (or a NULL pointer) means every default. */
typedef struct ss_linebuf_opts {
    size_t maxlen;       /* records kept; 0 means SS_LINEBUF_DEFAULT_MAXLEN */
    size_t max_line;     /* longest record before it is cut; 0 means 64 KiB */
    size_t max_bytes;    /* bound on stored text, at most 1 GiB; 0 means 64 MiB
                            on the heap (grown on demand) and, for a file ring
                            (allocated in full), 2 * max_line + 256 * maxlen;
                            raised to 2 * max_line if smaller */
    ss_full_policy full; /* default SS_FULL_DROP_OLDEST */
    unsigned line_flags; /* SS_LINE_CR_IS_BREAK, SS_LINE_SPLITLINES (record.h) */
    const char *source;  /* the default writer's source name; NULL means "" */
    /* How records are timestamped (time_ns, nanoseconds since the epoch): one
     * clock read per write call (an ss_writer's call only when it completes a
     * record), and along seq the stamps of the buffer's own writers never go
     * back (a read that raced another thread's to the lock takes the newer
     * stamp; only a step of the system clock back by more than a second shows).
     * That covers the records stored by ss_linebuf_write/_new_line/_append and
     * ss_writer_*, not those the library stores with a stamp of its own (a
     * process buffer's exit, error and mirrored records; a host store's stderr,
     * exit and message records), which may be older than the record before.
     * SS_TIME_PRECISE (the default): CLOCK_REALTIME to the nanosecond. On
     * x86-64 with an invariant TSC (/proc/cpuinfo lists constant_tsc and
     * nonstop_tsc) it is extrapolated from the CPU's time-stamp counter,
     * its rate measured against CLOCK_MONOTONIC_RAW and re-anchored to
     * CLOCK_REALTIME every 10 ms: about a third of clock_gettime's cost,
     * within 0.1 ms of CLOCK_REALTIME, except that a step of the system clock
     * shows only from the next re-anchoring, up to 10 ms later. That bound
     * needs CPUs that share one counter (the kernel's clocksource is tsc);
     * where they do not (e.g. a VM on kvm-clock) a stamp taken on another CPU
     * than the anchor's may be off by the counters' difference, up to 10 ms
     * (docs/thread-mode.md, "Time sources"). Elsewhere, or with
     * SYNCSTREAM_CLOCK=realtime in the environment, it is SS_TIME_REALTIME.
     * SS_TIME_REALTIME: clock_gettime(CLOCK_REALTIME) for each stamp (20-30 ns
     * on a VM). SS_TIME_COARSE: CLOCK_REALTIME_COARSE, a few ns, but only the
     * kernel tick's resolution (1-4 ms); seq still orders. */
    ss_time_source time_source;
    /* Non-NULL: keep the ring in this file, memory-mapped, so it survives a crash.
     * A missing or empty file is created (mode 0644); a ring file made with the
     * same maxlen, max_line and max_bytes is continued (its records kept, seq
     * numbers carried on); any other existing file is refused with SS_EFORMAT and
     * left untouched. One process at a time: a second opener gets -EBUSY. */
    const char *path;
} ss_linebuf_opts;

typedef struct ss_linebuf_stats {
    uint64_t written;  /* records completed by producers */
    uint64_t stored;   /* records that entered the ring */
    uint64_t shed;     /* records lost to the full policy (rotated out or refused) */
    uint64_t cleared;  /* records removed by ss_linebuf_clear() */
    uint64_t cut;      /* over-long lines cut into SS_REC_CONTINUED pieces */
    uint64_t last_seq; /* seq of the newest stored record, 0 if none ever */
    size_t count;      /* records held now, the partial line not included */
    size_t maxlen;
} ss_linebuf_stats;

/*
 * ss_linebuf_new - create a buffer.
 *
 * opts may be NULL. On success *ret owns a buffer freed with ss_linebuf_free().
 * Errors: -ENOMEM; -EINVAL for an option out of range (max_line > 256 MiB,
 * maxlen > 2^28, max_bytes > 1 GiB, an unknown policy or flag); with opts.path: a negative errno
 * from open/mmap (-ENOENT for a missing directory, -EACCES...), SS_EFORMAT, -EBUSY.
 */
int ss_linebuf_new(ss_linebuf **ret, const ss_linebuf_opts *opts);

/*
 * ss_linebuf_close - end the buffer's life: every later call on it returns
 * SS_ECLOSED and every blocked waiter wakes with SS_ECLOSED. Idempotent.
 * The default writer's partial line is not flushed. Thread-safe.
 */
void ss_linebuf_close(ss_linebuf *lb);

/*
 * ss_linebuf_free - close and release the buffer. A file-backed ring is synced
 * and unmapped; the file stays. No other thread may be using the buffer, and
 * every ss_writer must have been closed. Accepts NULL.
 */
void ss_linebuf_free(ss_linebuf *lb);

/*
 * ss_linebuf_write - write len bytes through the shared default writer.
 *
 * Completed lines become records; the rest stays as the partial line. Writes from
 * several threads are serialized, each write's bytes kept together, but a line
 * built by several writes of different threads mixes them: give each thread an
 * ss_writer for that. len 0 does nothing. Returns 0, SS_ECLOSED, -EINVAL (data
 * NULL with len > 0) or -ENOMEM: a heap ring could not grow its arena to store
 * a line; the lines of data completed before it are stored, the rest of data
 * is not taken, and a partial line that line was to complete stays partial.
 */
int ss_linebuf_write(ss_linebuf *lb, const void *data, size_t len);

/*
 * ss_linebuf_new_line - end the default writer's partial line if it is not empty
 * (sync-stream's new_line). Returns 0, SS_ECLOSED or -ENOMEM (the line stays
 * partial).
 */
int ss_linebuf_new_line(ss_linebuf *lb);

/*
 * ss_linebuf_append - end the default writer's partial line, then store text as
 * ONE record of the given kind, whatever line breaks it holds (a warning or an
 * error with a traceback is one record). Trailing line breaks are removed.
 * Returns 0, SS_ECLOSED, -EINVAL (bad kind, NULL text with len > 0),
 * SS_ETOOBIG when text exceeds max_bytes, or -ENOMEM (the ring could not grow).
 */
int ss_linebuf_append(ss_linebuf *lb, ss_kind kind, const void *text, size_t len);

/*
 * ss_linebuf_read - the newest n items of the view (see the top of this file),
 * oldest first; n = SS_READ_ALL for all. n = 0 gives an empty set.
 *
 * *ret is cleared, then filled; the caller frees it with ss_records_clear().
 * Returns the number of items, or SS_ECLOSED, -ENOMEM (ret left empty).
 */
int ss_linebuf_read(ss_linebuf *lb, size_t n, ss_records *ret);

/*
 * ss_linebuf_read_since - stored records with seq > cursor, oldest first, at most
 * max of them (0 means no limit). The partial line is never included.
 *
 * ret->missed counts the records newer than the cursor that had left the ring
 * before this read; ret->cursor is the cursor for the next call. Start with
 * cursor 0. Returns the number of records, SS_ECLOSED or -ENOMEM.
 */
int ss_linebuf_read_since(ss_linebuf *lb, uint64_t cursor, size_t max, ss_records *ret);

/*
 * ss_linebuf_wait - block until a record with seq > cursor has been stored,
 * or timeout_ms passes (negative: no timeout; 0: do not block).
 *
 * Sleeps on a condition variable: wakes as soon as a record arrives. Returns 0
 * when such a record exists, -ETIMEDOUT, or SS_ECLOSED (also when the buffer is
 * closed while waiting).
 */
int ss_linebuf_wait(ss_linebuf *lb, uint64_t cursor, int timeout_ms);

/*
 * ss_linebuf_follow - ss_linebuf_wait() then ss_linebuf_read_since() as one call:
 * the live tail. Returns the number of records (> 0), -ETIMEDOUT with *ret empty,
 * SS_ECLOSED or -ENOMEM.
 */
int ss_linebuf_follow(ss_linebuf *lb, uint64_t cursor, size_t max, int timeout_ms, ss_records *ret);

/*
 * ss_linebuf_len - the number of items in the view: stored records plus the
 * partial line when it is not empty, at most maxlen. Returns 0 with *ret set, or
 * SS_ECLOSED.
 */
int ss_linebuf_len(ss_linebuf *lb, size_t *ret);

/*
 * ss_linebuf_maxlen - the capacity in records. Thread-safe; never fails.
 */
size_t ss_linebuf_maxlen(const ss_linebuf *lb);

/*
 * ss_linebuf_clear - remove every record and the default writer's partial line.
 * Sequence numbers go on increasing (a follower sees the removed records as
 * missed). Writers' own partial lines are kept. Returns 0 or SS_ECLOSED.
 */
int ss_linebuf_clear(ss_linebuf *lb);

/*
 * ss_linebuf_get_stats - the buffer's counters. Returns 0 or SS_ECLOSED.
 */
int ss_linebuf_get_stats(ss_linebuf *lb, ss_linebuf_stats *ret);

/*
 * ss_linebuf_inspect_file - read the newest n items of a ring file made with
 * opts.path, without modifying it: every stored record, then the partial line
 * (flagged SS_REC_PARTIAL) when not empty, so up to maxlen + 1 items with
 * SS_READ_ALL (unlike the view of ss_linebuf_read, nothing is hidden). A slot
 * found damaged is skipped and counted in ret->missed. The writer may be
 * dead (that is the point) or alive: a record overwritten while it was copied is
 * left out and counted in ret->missed.
 *
 * ret_stats may be NULL. Thread-safe. Returns the number of items, or a negative
 * errno from open/mmap, SS_EFORMAT (not a ring file), SS_ECORRUPT (a ring file
 * whose header is damaged), -ENOMEM.
 */
int ss_linebuf_inspect_file(const char *path, size_t n, ss_records *ret,
                            ss_linebuf_stats *ret_stats);

/*
 * ss_writer_new - a producer's handle with its own partial line.
 *
 * source names the producer in its records (cut to SS_SOURCE_MAX - 1 bytes; NULL
 * means ""); rec_flags (for example SS_REC_STDERR) are set on every record it
 * writes. *ret is closed with ss_writer_close(). Thread-safe with respect to the
 * buffer. Returns 0, -ENOMEM, -EINVAL or SS_ECLOSED.
 */
int ss_writer_new(ss_writer **ret, ss_linebuf *lb, const char *source, uint32_t rec_flags);

/*
 * ss_writer_id - the producer id the writer's records carry (ss_record.producer):
 * 1, 2, 3... in the order the buffer's writers were made (never 0, which is
 * the default writer's); a process buffer's child writer carries the child's
 * id + 1 instead (proc.h). 0 for NULL. Thread-safe.
 */
uint32_t ss_writer_id(const ss_writer *w);

/* As ss_linebuf_write / _new_line / _append, for the writer's own partial line;
 * after ss_linebuf_close() they return SS_ECLOSED. */
int ss_writer_write(ss_writer *w, const void *data, size_t len);
int ss_writer_new_line(ss_writer *w);
int ss_writer_append(ss_writer *w, ss_kind kind, const void *text, size_t len);

/*
 * ss_writer_close - end the writer's partial line (it becomes a record) and free
 * the writer. Accepts NULL. Returns 0, or SS_ECLOSED when the buffer was closed
 * first, or -ENOMEM when the ring could not grow to store it (either way the
 * partial line goes nowhere; the writer is freed all the same).
 */
int ss_writer_close(ss_writer *w);

#ifdef __cplusplus
}
#endif

#endif
