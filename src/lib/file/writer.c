/*
 * Writers: bytes become records in the writer's own memory (the line
 * assembler), each formatted at once but for its number and check, and records
 * are appended to the file under the lock, all those of one call at once: the
 * lock is held for numbering, checking and writing only. Records that cannot be
 * appended stay with the writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <syncstream/common.h>

#include "file/filebuf_int.h"
#include "util/clock.h"
#include "util/records.h"

/* A held record: its length, then the line without its number and check
 * (ss__file_rec_format_rest). */
typedef uint32_t ss__pend;

/* The most bytes of pending a record of len bytes of text takes. */
static size_t held_size(const ss__fw *st, size_t len)
{
    return sizeof(ss__pend) + ss__file_rest_max(strnlen(st->source, SS_SOURCE_MAX - 1), len);
}

void ss__fw_init(ss__fw *st, ss_filebuf *fb, const char *source, uint32_t rec_flags)
{
    st->fb = fb;
    st->held = 0;
    st->rec_flags = rec_flags;
    st->now_ns = 0;
    st->mu_held = st->at_cap = false;
    st->early_rc = 0;
    st->tc = (ss__time_cache)SS__TIME_CACHE_INIT;
    ss__source_copy(st->source, source);
    /* max_pending and the longest record: hold() appends (or drops) what is
     * held before a record would pass max_pending. */
    ss__buf_init(&st->pending, fb->max_pending + held_size(st, fb->max_line));
}

void ss__fw_done(ss__fw *st)
{
    ss__lineasm_done(&st->la);
    ss__buf_free(&st->pending);
}

static int commit_early(ss__fw *st);
static int end_call(ss__fw *st);
static void drop_first_held(ss__fw *st, size_t n);

/*
 * Make room for a record of len bytes of text within max_pending: a write
 * call larger than that is appended as it goes, in parts. While appends fail
 * (the first failure of a call is kept in early_rc and not retried until the
 * call ends) the call still takes all its data: the oldest held records make
 * way, counted in fb->dropped, as the newest maxlen rule does.
 */
static void room_for(ss__fw *st, size_t len)
{
    size_t need = held_size(st, len), max = st->fb->max_pending;
    if (st->held == 0 || st->pending.len + need <= max)
        return;
    if (st->early_rc == 0)
        st->early_rc = commit_early(st);
    if (st->early_rc == 0)
        return;
    size_t n = 0, at = 0, left = st->pending.len;
    while (n < st->held && left + need > max) {
        ss__pend l;
        memcpy(&l, st->pending.data + at, sizeof(l));
        at += sizeof(l) + l;
        left -= sizeof(l) + l;
        n++;
    }
    drop_first_held(st, n);
    st->at_cap = true;
}

static int hold(ss__fw *st, ss_kind kind, uint32_t flags, const char *text, size_t len)
{
    room_for(st, len);
    size_t at = st->pending.len;
    ss__pend h = 0;
    int rc = ss__buf_append(&st->pending, &h, sizeof(h));
    if (rc == 0)
        rc = ss__file_rec_format_rest(&st->pending, &st->tc, st->now_ns, kind, flags, 0, st->source,
                                      text, len);
    if (rc < 0) {
        st->pending.len = at;
        return rc;
    }
    h = (ss__pend)(st->pending.len - at - sizeof(h));
    memcpy(st->pending.data + at, &h, sizeof(h));
    st->held++;
    return 0;
}

static int emit_line(void *ctx, const char *text, size_t len, uint32_t flags)
{
    ss__fw *st = ctx;
    return hold(st, SS_KIND_LINE, flags | st->rec_flags, text, len);
}

/* Number and check the held records, from byte `from` of pending, after the
 * file's last seq; at most `max` of them. Returns how many, or a negative errno. */
static int format_held(ss__fw *st, size_t from, size_t max, size_t *ret_next)
{
    ss_filebuf *fb = st->fb;
    size_t at = from, n = 0;
    ss__buf_reset(&fb->out);
    while (at < st->pending.len && n < max) {
        ss__pend len;
        memcpy(&len, st->pending.data + at, sizeof(len));
        /* One batch is at most SS__FILE_OUT_CAP bytes (one record at least:
         * its line fits). */
        if (n > 0 && len + SS__FILE_FINISH_MAX > fb->out.cap - fb->out.len)
            break;
        int rc = ss__file_rec_finish(&fb->out, fb->hdr.version, fb->last_seq + 1 + n,
                                     st->pending.data + at + sizeof(len), len);
        if (rc < 0)
            return rc;
        at += sizeof(len) + len;
        n++;
    }
    *ret_next = at;
    return (int)n;
}

/* Record the n appended lines (fb->out, at off) in the view. */
static int note_appended(ss_filebuf *fb, uint64_t off, size_t n)
{
    const char *p = fb->out.data;
    for (size_t i = 0; i < n; i++) {
        const char *nl = memchr(p, '\n', fb->out.len - (size_t)(p - fb->out.data));
        uint64_t len = (uint64_t)(nl - p);
        int rc = ss__file_push_ent(fb, fb->last_seq + 1, off, len);
        if (rc < 0)
            return rc;
        off += len + 1;
        fb->line_no++;
        p = nl + 1;
    }
    fb->scanned_to = off;
    return 0;
}

/* Append the oldest `max` held records (or all) under the write lock (held by
 * the caller), in batches (format_held). Returns 0 or a negative errno; what
 * was appended is removed from pending either way. */
static int append_held(ss__fw *st, size_t max)
{
    ss_filebuf *fb = st->fb;
    /* Per record, each line is written and synced before the next; otherwise
     * all at once. */
    size_t per = fb->sync == SS_FILE_SYNC_RECORD ? 1 : SIZE_MAX;
    size_t at = 0;
    int rc = 0;

    while (at < st->pending.len && max > 0) {
        size_t next;
        int n = format_held(st, at, per < max ? per : max, &next);
        if (n < 0) {
            rc = n;
            break;
        }
        uint64_t off = fb->scanned_to;
        size_t done;
        rc = ss__file_write_all(fb->fd, fb->out.data, fb->out.len, off, &done);
        if (rc < 0) {
            /* Keep the whole lines that reached the file (a reader may have
             * seen them), cut the unfinished one: the file stays whole lines. */
            size_t whole = 0, k = 0;
            for (size_t i = 0; i < done; i++)
                if (fb->out.data[i] == '\n') {
                    whole = i + 1;
                    k++;
                }
            if (done > whole && ftruncate(fb->fd, (off_t)(off + whole)) < 0) {
                /* left torn: the next writer cuts it, as after a crash */
            }
            fb->out.len = whole;
            int r2 = note_appended(fb, off, k);
            if (r2 < 0)
                rc = r2;
            /* skip the k records written */
            for (size_t i = 0; i < k; i++) {
                ss__pend len;
                memcpy(&len, st->pending.data + at, sizeof(len));
                at += sizeof(len) + len;
            }
            st->held -= k;
            fb->written += k;
            break;
        }
        rc = note_appended(fb, off, (size_t)n);
        st->held -= (size_t)n;
        fb->written += (uint64_t)n;
        max -= (size_t)n;
        at = next;
        if (rc < 0)
            break;
        if (per == 1 && fdatasync(fb->fd) < 0) {
            rc = -errno;
            break;
        }
    }
    if (rc == 0 && at > 0 && fb->sync == SS_FILE_SYNC_BATCH && fdatasync(fb->fd) < 0)
        rc = -errno;
    ss__buf_take(&st->pending, at);
    return rc;
}

/*
 * Append every held record without the file passing its limit: before each
 * part that would pass it, a compaction keeps the newest records of the file
 * that, with the held ones, make maxlen. A compaction that fails for want of
 * room (a full disk, a quota) appends only what fits below the limit and
 * returns its error with the rest held: a file grown past its limit would need
 * more room still to be compacted, and would hold the disk full. Any other
 * failure (no right to create a file in the directory) lets the file grow:
 * it would never end, and holding would stop the writer for good.
 */
static int append_bounded(ss__fw *st)
{
    ss_filebuf *fb = st->fb;
    while (st->held > 0) {
        size_t max = SIZE_MAX;
        int crc = 0;
        if (ss__file_wants_compaction(fb, st->held, st->pending.len)) {
            uint64_t keep =
                fb->hdr.maxlen - (st->held < fb->hdr.maxlen ? st->held : fb->hdr.maxlen);
            crc = ss__file_compact(fb, fb->last_seq > keep ? fb->last_seq - keep : 0);
            if (crc < 0) {
                fb->compact_failed++;
                fb->compact_error = crc;
            }
            uint64_t in_file = fb->last_seq - fb->hdr.base;
            if (crc == 0 || crc == -ENOSPC || crc == -EDQUOT) {
                if (in_file >= fb->hdr.limit)
                    return crc < 0 ? crc : -EFBIG; /* cannot be: compaction empties it */
                max = fb->hdr.limit - in_file < SIZE_MAX ? (size_t)(fb->hdr.limit - in_file)
                                                         : SIZE_MAX;
            }
        }
        int rc = append_held(st, max);
        if (rc < 0)
            return rc;
        if (crc < 0)
            return st->held > 0 ? crc : 0;
        if (max == SIZE_MAX)
            return 0;
    }
    return 0;
}

/*
 * While appends fail, a writer holds at most the file's maxlen records (and a
 * write call's more): the file keeps no more than the newest maxlen anyway,
 * and a backlog appended whole later would overshoot the limit. The oldest go,
 * counted in fb->dropped.
 */
static void drop_first_held(ss__fw *st, size_t n)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        ss__pend len;
        memcpy(&len, st->pending.data + at, sizeof(len));
        at += sizeof(len) + len;
    }
    ss__buf_take(&st->pending, at);
    st->held -= n;
    st->fb->dropped += n;
}

static void drop_oldest_held(ss__fw *st)
{
    ss_filebuf *fb = st->fb;
    if (st->held > fb->hdr.maxlen)
        drop_first_held(st, st->held - (size_t)fb->hdr.maxlen);
}

int ss__fw_commit_locked(ss__fw *st)
{
    ss_filebuf *fb = st->fb;
    if (st->held == 0)
        return 0;
    if (fb->readonly)
        return -EBADF;
    int rc = ss__file_lock_current(fb, F_WRLCK);
    if (rc < 0)
        return rc;
    rc = append_bounded(st);
    if (rc < 0)
        drop_oldest_held(st);
    ss__file_unlock(fb);
    return rc;
}

int ss__fw_finish_locked(ss__fw *st)
{
    st->mu_held = true;
    int rc = ss__lineasm_flush(&st->la, emit_line, st);
    if (rc < 0)
        st->early_rc = 0;
    return rc < 0 ? rc : end_call(st);
}

/* Take the lock of the buffer and append; for a writer's own calls. */
static int commit(ss__fw *st)
{
    ss_filebuf *fb = st->fb;
    pthread_mutex_lock(&fb->mu);
    int rc = fb->closed ? SS_ECLOSED : ss__fw_commit_locked(st);
    pthread_mutex_unlock(&fb->mu);
    return rc;
}

/* Append what is held in the middle of a call (room_for). */
static int commit_early(ss__fw *st)
{
    return st->mu_held ? ss__fw_commit_locked(st) : commit(st);
}

/* The end of a call that took data: append what is held. An append that
 * failed within the call is its error if this one succeeds (records of the
 * call may have been dropped). */
static int end_call(ss__fw *st)
{
    int rc = st->mu_held ? ss__fw_commit_locked(st) : commit(st);
    if (rc == 0)
        rc = st->early_rc;
    st->early_rc = 0;
    return rc;
}

/* ---- the writer operations, shared by the default writer (locked = true:
 * fb->mu is held) and ss_filewriter ---- */

/* Before taking more data: a writer already holding max_pending bytes (or
 * that dropped records for room) first tries to append them and refuses new
 * data if that fails. */
static int make_room(ss__fw *st, bool locked)
{
    st->mu_held = locked;
    st->early_rc = 0;
    if (st->pending.len < st->fb->max_pending && !st->at_cap)
        return 0;
    int rc = locked ? ss__fw_commit_locked(st) : commit(st);
    if (rc < 0 || st->pending.len >= st->fb->max_pending)
        return -ENOBUFS;
    st->at_cap = false;
    return 0;
}

/* A call that took data ends: rc from taking it, then the append. */
static int fw_end(ss__fw *st, int rc)
{
    if (rc < 0) {
        st->early_rc = 0;
        return rc;
    }
    return end_call(st);
}

static int fw_write(ss__fw *st, bool locked, const void *data, size_t len)
{
    int rc = make_room(st, locked);
    if (rc < 0)
        return rc;
    st->now_ns = ss__now_ns(st->fb->coarse_time);
    return fw_end(st, ss__lineasm_feed(&st->la, data, len, emit_line, st));
}

static int fw_new_line(ss__fw *st, bool locked)
{
    int rc = make_room(st, locked);
    if (rc < 0)
        return rc;
    st->now_ns = ss__now_ns(st->fb->coarse_time);
    return fw_end(st, ss__lineasm_flush(&st->la, emit_line, st));
}

static int fw_append(ss__fw *st, bool locked, ss_kind kind, const void *text, size_t len)
{
    len = ss__trim_breaks(text, len);
    if (len > st->fb->max_line)
        return SS_ETOOBIG;
    int rc = make_room(st, locked);
    if (rc < 0)
        return rc;
    st->now_ns = ss__now_ns(st->fb->coarse_time);
    rc = ss__lineasm_flush(&st->la, emit_line, st);
    if (rc == 0)
        rc = hold(st, kind, st->rec_flags, text, len);
    return fw_end(st, rc);
}

static int fw_flush(ss__fw *st)
{
    ss_filebuf *fb = st->fb;
    pthread_mutex_lock(&fb->mu);
    int rc = fb->closed ? SS_ECLOSED : fb->readonly ? -EBADF : 0;
    if (rc == 0)
        rc = ss__fw_commit_locked(st);
    if (rc == 0 && fsync(fb->fd) < 0)
        rc = -errno;
    pthread_mutex_unlock(&fb->mu);
    return rc;
}

/* ---- the default writer ---- */

/* Run op on the default writer under fb->mu. */
#define WITH_DEFAULT_WRITER(fb, call)                                                              \
    do {                                                                                           \
        pthread_mutex_lock(&(fb)->mu);                                                             \
        int rc_ = (fb)->closed ? SS_ECLOSED : (fb)->readonly ? -EBADF : (call);                    \
        pthread_mutex_unlock(&(fb)->mu);                                                           \
        return rc_;                                                                                \
    } while (0)

int ss_filebuf_write(ss_filebuf *fb, const void *data, size_t len)
{
    if (!fb || (!data && len))
        return -EINVAL;
    WITH_DEFAULT_WRITER(fb, fw_write(&fb->defw, true, data, len));
}

int ss_filebuf_new_line(ss_filebuf *fb)
{
    if (!fb)
        return -EINVAL;
    WITH_DEFAULT_WRITER(fb, fw_new_line(&fb->defw, true));
}

int ss_filebuf_append(ss_filebuf *fb, ss_kind kind, const void *text, size_t len)
{
    if (!fb || (!text && len) || (unsigned)kind > SS_KIND_ERROR)
        return -EINVAL;
    WITH_DEFAULT_WRITER(fb, fw_append(&fb->defw, true, kind, text, len));
}

int ss_filebuf_flush(ss_filebuf *fb)
{
    if (!fb)
        return -EINVAL;
    return fw_flush(&fb->defw);
}

int ss__filebuf_partial(ss_filebuf *fb, char **ret, size_t *ret_len)
{
    pthread_mutex_lock(&fb->mu);
    size_t len = fb->defw.la.len;
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, fb->defw.la.part, len);
        copy[len] = '\0';
    }
    pthread_mutex_unlock(&fb->mu);
    if (!copy)
        return -ENOMEM;
    *ret = copy;
    *ret_len = len;
    return 0;
}

int ss__filebuf_write_nowait(ss_filebuf *fb, const void *data, size_t len)
{
    if (pthread_mutex_trylock(&fb->mu) != 0)
        return -EAGAIN;
    ss__fw *st = &fb->defw;
    int rc;
    if (fb->closed)
        rc = SS_ECLOSED;
    else if (fb->readonly)
        rc = -EBADF;
    else if (st->held > 0 || !ss__lineasm_plain(&st->la, data, len))
        rc = -EAGAIN;
    else /* emits nothing: no record, so no time either */
        rc = ss__lineasm_feed(&st->la, data, len, emit_line, st);
    pthread_mutex_unlock(&fb->mu);
    return rc;
}

void ss__filebuf_reset_partial(ss_filebuf *fb)
{
    pthread_mutex_lock(&fb->mu);
    ss__lineasm_reset(&fb->defw.la);
    pthread_mutex_unlock(&fb->mu);
}

/* ---- ss_filewriter ---- */

int ss_filewriter_new(ss_filewriter **ret, ss_filebuf *fb, const char *source, uint32_t rec_flags)
{
    if (!ret || !fb || (rec_flags & ~(uint32_t)SS__FILE_FLAGS))
        return -EINVAL;
    if (ss__filebuf_closed(fb))
        return SS_ECLOSED;
    if (fb->readonly)
        return -EBADF;
    ss_filewriter *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    ss__fw_init(&w->st, fb, source, rec_flags);
    if (ss__lineasm_init(&w->st.la, fb->max_line, fb->line_flags, NULL) < 0) {
        free(w);
        return -ENOMEM;
    }
    *ret = w;
    return 0;
}

int ss_filewriter_write(ss_filewriter *w, const void *data, size_t len)
{
    if (!w || (!data && len))
        return -EINVAL;
    if (ss__filebuf_closed(w->st.fb))
        return SS_ECLOSED;
    return fw_write(&w->st, false, data, len);
}

int ss_filewriter_new_line(ss_filewriter *w)
{
    if (!w)
        return -EINVAL;
    if (ss__filebuf_closed(w->st.fb))
        return SS_ECLOSED;
    return fw_new_line(&w->st, false);
}

int ss_filewriter_append(ss_filewriter *w, ss_kind kind, const void *text, size_t len)
{
    if (!w || (!text && len) || (unsigned)kind > SS_KIND_ERROR)
        return -EINVAL;
    if (ss__filebuf_closed(w->st.fb))
        return SS_ECLOSED;
    return fw_append(&w->st, false, kind, text, len);
}

int ss_filewriter_flush(ss_filewriter *w)
{
    if (!w)
        return -EINVAL;
    return fw_flush(&w->st);
}

int ss_filewriter_close(ss_filewriter *w)
{
    if (!w)
        return 0;
    ss_filebuf *fb = w->st.fb;
    pthread_mutex_lock(&fb->mu);
    int rc = fb->closed ? SS_ECLOSED : ss__fw_finish_locked(&w->st);
    pthread_mutex_unlock(&fb->mu);
    ss__fw_done(&w->st);
    free(w);
    return rc;
}

/* The records st holds, as a reader would see them but not numbered (seq 0):
 * each is finished and parsed back, as the file would hold it. */
static int held_records(ss__fw *st, ss_records *ret)
{
    ss__buf lines;
    size_t n = st->held, at = 0, text_bytes = 0, kept = 0;
    /* each held rest numbered and checked: pending's bytes, and at most
     * SS__FILE_FINISH_MAX a record for its 4-byte length */
    ss__buf_init(&lines, st->pending.len + n * SS__FILE_FINISH_MAX);
    ss__file_rec *recs = calloc(n ? n : 1, sizeof(*recs));
    size_t *offs = calloc(n ? n : 1, sizeof(*offs)), *lens = calloc(n ? n : 1, sizeof(*lens));
    int rc = recs && offs && lens ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        ss__pend len;
        memcpy(&len, st->pending.data + at, sizeof(len));
        offs[i] = lines.len;
        /* numbered 1 for the parser, which refuses 0; reported as 0 */
        rc = ss__file_rec_finish(&lines, SS__FILE_VERSION, 1, st->pending.data + at + sizeof(len),
                                 len);
        at += sizeof(len) + len;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t end = i + 1 < n ? offs[i + 1] : lines.len;
        char *line = lines.data + offs[i];
        /* formatted by this library: a parse failure would be a bug of ours,
         * and the record is left out rather than shown garbled */
        if (ss__file_rec_parse(SS__FILE_VERSION, line, end - offs[i] - 1, &recs[kept], line,
                               &lens[kept]) < 0)
            continue;
        offs[kept] = offs[i];
        text_bytes += lens[kept++];
    }
    ss__records_builder b;
    if (rc == 0)
        rc = ss__records_begin(&b, ret, kept, text_bytes);
    for (size_t i = 0; rc == 0 && i < kept; i++)
        ss__records_add(&b, 0, recs[i].time_ns, recs[i].kind, recs[i].flags, recs[i].producer,
                        recs[i].source, lines.data + offs[i], lens[i]);
    free(recs);
    free(offs);
    free(lens);
    ss__buf_free(&lines);
    return rc < 0 ? rc : (int)kept;
}

int ss_filewriter_unsent(ss_filewriter *w, ss_records *ret)
{
    if (!w || !ret)
        return -EINVAL;
    return held_records(&w->st, ret);
}

int ss_filebuf_unsent(ss_filebuf *fb, ss_records *ret)
{
    if (!fb || !ret)
        return -EINVAL;
    pthread_mutex_lock(&fb->mu);
    int rc = held_records(&fb->defw, ret);
    pthread_mutex_unlock(&fb->mu);
    return rc;
}
