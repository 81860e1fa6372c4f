/* What the parts of ss_filebuf share inside the library. */
#ifndef SS_FILEBUF_INT_H
#define SS_FILEBUF_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include <syncstream/filebuf.h>

#include "file/format.h"
#include "util/buf.h"
#include "util/lineasm.h"

/* Longest record text a handle accepts (opts.max_line), and so the longest line
 * (escaped, 4 bytes per byte at worst) a reader expects; a longer line is
 * damaged. */
#define SS__FILE_MAX_LINE_LIMIT (1u << 20)
#define SS__FILE_LINE_CAP (4u * SS__FILE_MAX_LINE_LIMIT + 256u)
#define SS__FILE_MAXLEN_LIMIT (1u << 28)
/* The caps of the handle's byte buffers (issue 17). A line is at most
 * SS__FILE_LINE_CAP bytes, its '\n' included (a longer one is damaged; a
 * record of max_line escaped, with its fields, fits), so: scanning the file
 * reads one line's worth at most (fb->io); appending formats a write call's
 * records in batches of at most that many bytes, each one pwrite (fb->out; a
 * header is shorter). Reading N records needs N lines' worth: a buffer of its
 * own, freed after the call (ss__file_read_ents). */
#define SS__FILE_IO_CAP SS__FILE_LINE_CAP
#define SS__FILE_OUT_CAP SS__FILE_LINE_CAP

/* Where a record of the view lies in the file: line [off, off + len), its '\n'
 * not counted. */
typedef struct ss__file_ent {
    uint64_t seq;
    uint64_t off;
    uint64_t len;
} ss__file_ent;

/*
 * A writer's state: its partial line and the records it completed but has not
 * appended yet (held while appends fail). Used by the handle's default writer
 * (under fb->mu) and by each ss_filewriter (by its one thread).
 */
typedef struct ss__fw {
    ss_filebuf *fb;
    ss__lineasm la;
    /* Held records, formatted but for seq and CRC (writer.c). At most
     * fb->max_pending bytes and one record more (its cap): a write call's
     * records are appended whenever they would pass max_pending. */
    ss__buf pending;
    size_t held;  /* records in pending */
    bool mu_held; /* the current call holds fb->mu (the default writer) */
    int early_rc; /* error of an append that failed within the call, or 0 */
    bool at_cap;  /* records were dropped to stay within max_pending */
    char source[SS_SOURCE_MAX];
    uint32_t rec_flags;
    int64_t now_ns; /* timestamp of the current write call */
    ss__time_cache tc;
} ss__fw;

struct ss_filewriter {
    ss__fw st;
};

struct ss_filebuf {
    pthread_mutex_t mu; /* guards everything below except closed and wake_fd */
    char *path;
    char *dir; /* the directory, for the inotify watch */
    int fd;
    ino_t ino;
    dev_t dev;
    bool readonly;
    bool remote; /* NFS or another network file system: wait polls */

    /* The current file, as far as it was read. */
    ss__file_hdr hdr;
    uint64_t data_off;   /* where the first record line starts */
    uint64_t scanned_to; /* end of the last whole line looked at */
    uint64_t line_no;    /* lines up to scanned_to, the header included */
    uint64_t last_seq;   /* newest record in the file; hdr.base when none */
    bool moved;          /* the moved marker was found at moved_off */
    uint64_t moved_off;
    uint64_t damaged;
    uint64_t first_damaged_line;
    /* The view, oldest first: a ring of ent_mask + 1 entries. */
    ss__file_ent *ents;
    size_t ent_start, ent_count, ent_mask;

    ss__buf io;  /* bytes scanned from the file: cap SS__FILE_IO_CAP */
    ss__buf out; /* lines formatted for appending: cap SS__FILE_OUT_CAP */

    ss__fw defw;
    ss_file_sync sync;
    bool coarse_time;
    size_t max_line;
    size_t max_pending;
    unsigned line_flags;
    int poll_ms;
    unsigned flags;
    ss__file_hdr create_hdr; /* what a file this handle creates gets */

    uint64_t written, compactions, repaired, reopened, compact_failed, dropped;
    uint64_t replaced; /* ss_filebuf_stats.replaced */
    int compact_error;
    unsigned tmp_counter;

    int wake_fd; /* eventfd, readable once closed: wakes waiters */
    int closed;  /* atomic: writers look at it without fb->mu */
};

/* Take the file lock (F_RDLCK or F_WRLCK), blocking, on fb's current file, and
 * bring the view up to date: read new lines, follow a moved file, and, for
 * F_WRLCK, cut a torn last line away. fb->mu held. On success the lock is held;
 * release it with ss__file_unlock(). */
int ss__file_lock_current(ss_filebuf *fb, short type);
void ss__file_unlock(ss_filebuf *fb);

/* Open path into fb (creating it unless read-only). Returns 0 or an error as
 * ss_filebuf_open. */
int ss__file_open(ss_filebuf *fb);

/* Add an entry for a record at the end of the view, dropping what leaves it. */
int ss__file_push_ent(ss_filebuf *fb, uint64_t seq, uint64_t off, uint64_t len);

static inline const ss__file_ent *ss__file_ent_at(const ss_filebuf *fb, size_t i)
{
    return &fb->ents[(fb->ent_start + i) & fb->ent_mask];
}

/* Read the lines of view entries first .. first + count - 1 (count > 0), each
 * with its '\n', back to back into *ret, which this call initializes (cap:
 * count lines of SS__FILE_LINE_CAP; the caller frees it): one pread for each
 * run of adjacent lines, so that damaged lines between them, however long,
 * are never read. Returns 0 or a negative errno. */
int ss__file_read_ents(ss_filebuf *fb, size_t first, size_t count, ss__buf *ret);

/* Replace the file by one holding only the records with seq > new_base, under
 * the write lock (held, and held on the new file on return). Returns 0 or a
 * negative errno; on failure the old file is kept as it was. */
int ss__file_compact(ss_filebuf *fb, uint64_t new_base);

/* Whether the file should be compacted before n_new records of bytes bytes are
 * appended. */
bool ss__file_wants_compaction(const ss_filebuf *fb, size_t n_new, size_t bytes);

/* A name beside the file for a file made whole before it is linked or renamed
 * into place. Returns 0 or -ENAMETOOLONG. */
int ss__file_tmp_name(ss_filebuf *fb, char *buf, size_t size);

/* pwrite all n bytes at off. Returns 0 or a negative errno; *ret_done (may be
 * NULL) says how many were written. */
int ss__file_write_all(int fd, const char *p, size_t n, uint64_t off, size_t *ret_done);

/* fsync the directory of the file (after a rename). */
int ss__file_sync_dir(const ss_filebuf *fb);

/* Writers (writer.c). */
void ss__fw_init(ss__fw *st, ss_filebuf *fb, const char *source, uint32_t rec_flags);
void ss__fw_done(ss__fw *st);
/* Append what st holds; fb->mu held. */
int ss__fw_commit_locked(ss__fw *st);
/* End st's partial line and append what it holds; fb->mu held. */
int ss__fw_finish_locked(ss__fw *st);

/* Reading (filebuf.c), fb->mu held. begin_read takes the read lock and brings
 * the view up to date (SS_ECLOSED once closed); read_since_locked needs it. */
int ss__filebuf_begin_read(ss_filebuf *fb);
int ss__filebuf_read_since_locked(ss_filebuf *fb, uint64_t cursor, size_t max, ss_records *ret);

/* The Python binding's view of the default writer's partial line (its read()
 * shows it last, as sync-stream shows a process's own unfinished line): a
 * malloc'd, NUL-terminated copy in *ret (0 or -ENOMEM); _reset forgets it
 * (its clear()). Take fb->mu. */
int ss__filebuf_partial(ss_filebuf *fb, char **ret, size_t *ret_len);
void ss__filebuf_reset_partial(ss_filebuf *fb);
/* ss_filebuf_write() of data that completes no record, without waiting: it
 * touches no file and, if fb->mu is free, waits for nothing, so the binding
 * calls it holding the GIL (print() makes 7 such calls a line). -EAGAIN when
 * the data may complete a record, records are held or fb->mu is busy: nothing
 * was taken, call ss_filebuf_write(). Else as ss_filebuf_write(). */
int ss__filebuf_write_nowait(ss_filebuf *fb, const void *data, size_t len);

static inline bool ss__filebuf_closed(const ss_filebuf *fb)
{
    return __atomic_load_n(&fb->closed, __ATOMIC_ACQUIRE);
}

#endif
