/*
 * syncstream/filebuf.h: ss_filebuf, one line buffer shared through a log file by
 * processes on one machine or on several machines that mount the same disk
 * (NFS), and ss_filewriter, a producer's own handle on it.
 *
 * Model. Every process opens the same path. Producers write bytes; the line
 * assembler turns them into records (see record.h) in the producer's own memory,
 * so partial lines of different writers never mix; completed records are
 * appended to the file under a POSIX fcntl record lock (open file description
 * locks, F_OFD_SETLKW, where the kernel has them), each as one text line with
 * its sequence number, time, source and kind (docs/file-format.md). Appending
 * does not rely on O_APPEND being atomic, which it is not over NFS.
 *
 * The buffer holds the newest maxlen records. The file may hold more: when it
 * reaches `limit` records (2 * maxlen by default) or max_bytes bytes, the writer
 * that notices compacts it under the lock: the newest maxlen records go into a
 * temporary file, which is synced and renamed over the old one; the old one gets
 * a last "moved" line, so that every other process, even one whose directory
 * cache is stale (NFS), notices and reopens the path. Compaction never loses one
 * of the newest maxlen records.
 *
 * Crash safety. A writer killed at any instant (SIGKILL included) leaves at most
 * an unterminated last line; the next writer, under the lock, cuts it away (the
 * record was never complete), and the kernel releases a dead process's locks.
 * Readers see whole records only: every line carries a CRC-32C, a damaged line is
 * skipped and counted (stats.damaged), never returned.
 *
 * Durability: by default (SS_FILE_SYNC_NEVER) records reach the file (the page
 * cache) at each write call and the kernel writes them back when it chooses; a
 * machine crash may lose the last seconds. SS_FILE_SYNC_BATCH fsyncs once per
 * write call that completed records, SS_FILE_SYNC_RECORD once per record.
 * ss_filebuf_flush() makes everything written so far durable whatever the mode.
 *
 * Reading follows ss_linebuf: read the newest n records, cursor reads with a
 * count of missed records, a blocking wait (inotify on a local disk; on NFS,
 * where inotify sees no other machine's writes, polling every poll_ms), len,
 * maxlen, clear, close. Unlike ss_linebuf, partial lines are never part of the
 * view: they belong to their writer until completed.
 *
 * Errors keep data: a failed append (a full disk, -ENOSPC) returns the error and
 * the records stay with their writer, which retries at its next write or flush.
 * The file never passes its limit for them: a writer holds at most the newest
 * maxlen records (the file would keep no more) and max_pending bytes, dropping
 * the oldest of its backlog (counted: stats.dropped), and appends them in parts
 * that a compaction makes room for; while the disk has no room for a compaction
 * the records that would pass the limit stay held.
 *
 * Thread safety: every ss_filebuf_* function is thread-safe. An ss_filewriter is
 * used by one thread at a time. Every writer must be closed before its buffer is
 * freed. Within one process, two handles on the same file exclude each other as
 * two processes do.
 */
#ifndef SYNCSTREAM_FILEBUF_H
#define SYNCSTREAM_FILEBUF_H

#include <stddef.h>
#include <stdint.h>

#include <syncstream/linebuf.h>
#include <syncstream/record.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ss_filebuf ss_filebuf;
typedef struct ss_filewriter ss_filewriter;

typedef enum ss_file_sync {
    SS_FILE_SYNC_NEVER = 0,  /* default: no fsync; ss_filebuf_flush() on demand */
    SS_FILE_SYNC_BATCH = 1,  /* fsync once per append (all records of one write call) */
    SS_FILE_SYNC_RECORD = 2, /* fsync after every record */
} ss_file_sync;

/* ss_filebuf_opts.flags */
enum {
    /* Open an existing file for reading only: never create it, never write to it
     * (every write returns -EBADF). */
    SS_FILE_READONLY = 1u << 0,
    /* Wait by polling every poll_ms even on a local disk (as on NFS). */
    SS_FILE_POLL = 1u << 1,
    /* A file this call creates gets format version 1 (each line ends in its
     * check, " #9d89f006"), which readers built before format version 2 also
     * read; by default it gets version 2 (docs/file-format.md). An
     * existing file keeps its version whatever the flag, through compactions
     * and clears too. */
    SS_FILE_FORMAT_1 = 1u << 2,
};

#define SS_FILEBUF_DEFAULT_MAXLEN 1000
#define SS_FILEBUF_DEFAULT_MAX_LINE (64u * 1024u)
#define SS_FILEBUF_DEFAULT_POLL_MS 100
#define SS_FILEBUF_DEFAULT_MAX_PENDING (4u * 1024u * 1024u)

/* Options; all-zero (or a NULL pointer) means every default. */
typedef struct ss_filebuf_opts {
    /* Used when this call creates the file; an existing file keeps the maxlen,
     * limit and max_bytes it was made with (ss_filebuf_maxlen() tells). */
    size_t maxlen;    /* records kept; 0 means 1000 */
    size_t limit;     /* records in the file that start a compaction; 0 means
                         2 * maxlen; must be > maxlen */
    size_t max_bytes; /* a file larger than this is compacted too (it keeps
                         maxlen records even when they are larger); 0: none */
    /* Per handle. */
    size_t max_line;     /* longest record before it is cut; 0 means 64 KiB,
                            at most 1 MiB */
    size_t max_pending;  /* bytes of records a writer holds (while appends
                            fail, and of one write call: a larger call is
                            appended in parts); 0 means 4 MiB */
    unsigned line_flags; /* SS_LINE_* (linebuf.h) */
    const char *source;  /* the default writer's source name; NULL means "" */
    ss_file_sync sync;   /* default SS_FILE_SYNC_NEVER */
    /* As ss_linebuf_opts.time_source, except that SS_TIME_PRECISE reads
     * clock_gettime(CLOCK_REALTIME) as SS_TIME_REALTIME does (each record costs
     * system calls anyway) and seq alone orders the stamps. */
    ss_time_source time_source;
    int poll_ms;    /* wait's polling interval on NFS; 0 means 100 */
    unsigned flags; /* SS_FILE_* */
} ss_filebuf_opts;

typedef struct ss_filebuf_stats {
    uint64_t written;            /* records this handle's writers appended */
    uint64_t pending;            /* records held by the default writer (appends failed) */
    uint64_t compactions;        /* compactions (and clears) this handle made */
    uint64_t repaired;           /* torn last lines this handle cut away */
    uint64_t reopened;           /* times this handle followed the path to a new file */
    uint64_t compact_failed;     /* compactions this handle could not make: for want
                                    of room (-ENOSPC, -EDQUOT) the records that
                                    would pass the limit stay with their writer;
                                    otherwise (no right to create a file in the
                                    directory) the file grows past its limit, and
                                    nothing is lost */
    int compact_error;           /* the last such failure's error (negative errno), or 0 */
    uint64_t damaged;            /* damaged lines in the file, as far as it was read */
    uint64_t first_damaged_line; /* line number (1: the header) of the first, or 0 */
    uint64_t last_seq;           /* seq of the newest record in the file, 0 if none ever */
    size_t count;                /* records in the view */
    size_t maxlen;
    uint64_t dropped;  /* records this handle's writers dropped: while appends
                          fail a writer holds at most maxlen records (plus
                          those of one call), the newest; see the top */
    uint64_t replaced; /* times the file changed under this handle other
                          than by a compaction: the path named another file
                          (rotated: `mv log log.1` and a new log; removed
                          and made again), which the handle moved to, or the
                          file was cut shorter. The view then starts again
                          from that file's records, whose numbers may be
                          below a cursor (a follower starts again from 0) */
} ss_filebuf_stats;

/*
 * ss_filebuf_open - open (creating if needed) the log file at path.
 *
 * A missing file is created (mode 0666 minus the umask) whole: its header is
 * written under a temporary name and linked into place, so a crash never
 * leaves half a header. An existing empty file gets a header. Any other file
 * that is not a syncstream log file is refused with SS_EFORMAT and never
 * written to. *ret is freed with ss_filebuf_free().
 *
 * Returns 0; -EINVAL (bad option); -ENOMEM; a negative errno from open, link or
 * write (-ENOENT for a missing directory, -EACCES or -EROFS for one that cannot
 * be written, -ENOSPC...); SS_EFORMAT (not our file, or a newer version);
 * SS_ECORRUPT (our magic but a damaged header).
 */
int ss_filebuf_open(ss_filebuf **ret, const char *path, const ss_filebuf_opts *opts);

/*
 * ss_filebuf_close - every later call returns SS_ECLOSED and every blocked
 * waiter wakes with SS_ECLOSED. Records the default writer already completed but
 * could not append are dropped; call ss_filebuf_flush() first to keep them.
 * Idempotent. Thread-safe.
 */
void ss_filebuf_close(ss_filebuf *fb);

/*
 * ss_filebuf_free - end the default writer's partial line (it becomes a record
 * and is appended, if the file lets it), close and release the buffer. The file
 * stays. No other thread may be using it and every ss_filewriter must have been
 * closed. Accepts NULL.
 */
void ss_filebuf_free(ss_filebuf *fb);

/*
 * ss_filebuf_write - write len bytes through the handle's default writer.
 * Completed lines are appended as records, all of one call under one lock.
 * Returns 0; SS_ECLOSED; -EINVAL; -EBADF for a read-only handle; an append
 * error (-ENOSPC, -EIO, -EFBIG...) when the records could not be appended: they
 * are then held and retried by the next write or flush; -ENOBUFS when
 * max_pending bytes are already held (or records were dropped for room) and
 * cannot be appended: nothing of data was taken. A call larger than
 * max_pending is appended in parts as it goes; if an append fails partway,
 * the call still takes all of data, holding its newest records within
 * max_pending bytes and dropping the oldest (stats.dropped), and returns the
 * append error. -ENOMEM when
 * a record could not be held: the lines of data completed before it are held
 * (and appended by the next write or flush), the rest of data is not taken,
 * and a partial line that record was to complete stays partial.
 */
int ss_filebuf_write(ss_filebuf *fb, const void *data, size_t len);

/* ss_filebuf_new_line / ss_filebuf_append - as ss_linebuf_new_line and
 * ss_linebuf_append (append stores one record of the given kind, whatever line
 * breaks it holds), with the errors of ss_filebuf_write and SS_ETOOBIG for a
 * text longer than max_line. */
int ss_filebuf_new_line(ss_filebuf *fb);
int ss_filebuf_append(ss_filebuf *fb, ss_kind kind, const void *text, size_t len);

/*
 * ss_filebuf_flush - append what the default writer holds, then fsync the file
 * (whatever the sync mode). Partial lines stay partial. Returns 0, SS_ECLOSED,
 * -EBADF (read-only) or the append or fsync error.
 */
int ss_filebuf_flush(ss_filebuf *fb);

/*
 * ss_filebuf_read - the newest n records of the view (at most maxlen), oldest
 * first; n = SS_READ_ALL for all. *ret is cleared then filled; free it with
 * ss_records_clear(). Returns the number of records, SS_ECLOSED, -ENOMEM, or a
 * negative errno from reading the file (ret left empty).
 */
int ss_filebuf_read(ss_filebuf *fb, size_t n, ss_records *ret);

/*
 * ss_filebuf_read_since - records of the view with seq > cursor, oldest first,
 * at most max (0: no limit). ret->missed counts the records newer than the
 * cursor that are not returned because they left the view (or were damaged);
 * ret->cursor is the cursor for the next call. Start with 0. Returns as
 * ss_filebuf_read.
 */
int ss_filebuf_read_since(ss_filebuf *fb, uint64_t cursor, size_t max, ss_records *ret);

/*
 * ss_filebuf_wait - block until the view holds a record with seq > cursor, or
 * timeout_ms passes (negative: no timeout; 0: look once). Sleeps in poll(2) on
 * an inotify watch of the file's directory (on NFS, or with SS_FILE_POLL, wakes
 * every poll_ms to look). Returns 0, -ETIMEDOUT, SS_ECLOSED (also when closed
 * while waiting) or a negative errno from reading the file.
 */
int ss_filebuf_wait(ss_filebuf *fb, uint64_t cursor, int timeout_ms);

/*
 * ss_filebuf_follow - ss_filebuf_wait() then ss_filebuf_read_since(): the live
 * tail. Returns the number of records (> 0), -ETIMEDOUT with *ret empty, or the
 * errors of both.
 */
int ss_filebuf_follow(ss_filebuf *fb, uint64_t cursor, size_t max, int timeout_ms, ss_records *ret);

/* ss_filebuf_len - the number of records in the view. Returns 0 with *ret set,
 * SS_ECLOSED or a negative errno from reading the file. */
int ss_filebuf_len(ss_filebuf *fb, size_t *ret);

/* ss_filebuf_maxlen - the file's maxlen (from its header). Never fails. */
size_t ss_filebuf_maxlen(const ss_filebuf *fb);

/*
 * ss_filebuf_clear - remove every record from the file (for every process: the
 * file is replaced by an empty one, as by a compaction). Sequence numbers go on.
 * Partial lines and records held by writers are kept. Returns 0, SS_ECLOSED,
 * -EBADF (read-only) or a negative errno.
 */
int ss_filebuf_clear(ss_filebuf *fb);

/* ss_filebuf_get_stats - the handle's counters and the file's state. Returns 0,
 * SS_ECLOSED or a negative errno from reading the file. */
int ss_filebuf_get_stats(ss_filebuf *fb, ss_filebuf_stats *ret);

/*
 * ss_filewriter_new - a producer's handle with its own partial line and its own
 * held records. source and rec_flags as for ss_writer_new(). Returns 0, -ENOMEM,
 * -EINVAL, -EBADF (read-only buffer) or SS_ECLOSED.
 */
int ss_filewriter_new(ss_filewriter **ret, ss_filebuf *fb, const char *source, uint32_t rec_flags);

/* As ss_filebuf_write / _new_line / _append / _flush, for the writer's own
 * partial line and held records. */
int ss_filewriter_write(ss_filewriter *w, const void *data, size_t len);
int ss_filewriter_new_line(ss_filewriter *w);
int ss_filewriter_append(ss_filewriter *w, ss_kind kind, const void *text, size_t len);
int ss_filewriter_flush(ss_filewriter *w);

/*
 * ss_filewriter_close - end the writer's partial line, append what it holds and
 * free it. Accepts NULL. Returns 0 or the append error (the records it held are
 * then lost, which the error reports); SS_ECLOSED when the buffer was closed.
 */
int ss_filewriter_close(ss_filewriter *w);

/*
 * ss_filebuf_unsent / ss_filewriter_unsent - the records the default writer (or
 * w) holds because appends failed, oldest first, not numbered (seq 0): what a
 * caller giving up should show rather than lose silently. *ret is cleared then
 * filled; free it with ss_records_clear(). Returns the number of records,
 * -EINVAL or -ENOMEM. ss_filebuf_unsent is thread-safe; ss_filewriter_unsent
 * as the writer's calls.
 */
int ss_filebuf_unsent(ss_filebuf *fb, ss_records *ret);
int ss_filewriter_unsent(ss_filewriter *w, ss_records *ret);

#ifdef __cplusplus
}
#endif

#endif
