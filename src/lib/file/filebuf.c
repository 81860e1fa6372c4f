/*
 * ss_filebuf: opening and closing, and the reading API (read, cursor reads,
 * len, clear, stats). Writing is in writer.c, the file itself in file_io.c,
 * waiting in wait.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <syncstream/common.h>

#include "file/filebuf_int.h"
#include "util/records.h"

static int check_opts(const ss_filebuf_opts *o)
{
    if ((o->sync != SS_FILE_SYNC_NEVER && o->sync != SS_FILE_SYNC_BATCH &&
         o->sync != SS_FILE_SYNC_RECORD) ||
        (unsigned)o->time_source > SS_TIME_REALTIME ||
        (o->line_flags & ~(unsigned)(SS_LINE_CR_IS_BREAK | SS_LINE_SPLITLINES)) ||
        (o->flags & ~(unsigned)(SS_FILE_READONLY | SS_FILE_POLL | SS_FILE_FORMAT_1)) ||
        o->maxlen > SS__FILE_MAXLEN_LIMIT || o->max_line > SS__FILE_MAX_LINE_LIMIT ||
        o->poll_ms < 0)
        return -EINVAL;
    size_t maxlen = o->maxlen ? o->maxlen : SS_FILEBUF_DEFAULT_MAXLEN;
    if (o->limit && o->limit <= maxlen)
        return -EINVAL;
    return 0;
}

int ss_filebuf_open(ss_filebuf **ret, const char *path, const ss_filebuf_opts *opts)
{
    static const ss_filebuf_opts defaults;
    int rc;

    if (!ret || !path || !*path)
        return -EINVAL;
    if (!opts)
        opts = &defaults;
    rc = check_opts(opts);
    if (rc < 0)
        return rc;

    ss_filebuf *fb = calloc(1, sizeof(*fb));
    if (!fb)
        return -ENOMEM;
    fb->fd = fb->retired_fd = -1;
    fb->wake_fd = -1;
    fb->path = strdup(path);
    char *copy = strdup(path);
    fb->dir = copy ? strdup(dirname(copy)) : NULL;
    free(copy);
    if (!fb->path || !fb->dir) {
        rc = -ENOMEM;
        goto out_free;
    }
    fb->readonly = opts->flags & SS_FILE_READONLY;
    fb->flags = opts->flags;
    fb->sync = opts->sync;
    fb->coarse_time = opts->time_source == SS_TIME_COARSE;
    fb->max_line = opts->max_line ? opts->max_line : SS_FILEBUF_DEFAULT_MAX_LINE;
    fb->max_pending = opts->max_pending ? opts->max_pending : SS_FILEBUF_DEFAULT_MAX_PENDING;
    fb->line_flags = opts->line_flags;
    fb->poll_ms = opts->poll_ms ? opts->poll_ms : SS_FILEBUF_DEFAULT_POLL_MS;
    fb->create_hdr.version =
        (opts->flags & SS_FILE_FORMAT_1) ? SS__FILE_VERSION_1 : SS__FILE_VERSION;
    fb->create_hdr.maxlen = opts->maxlen ? opts->maxlen : SS_FILEBUF_DEFAULT_MAXLEN;
    fb->create_hdr.limit = opts->limit ? opts->limit : 2 * fb->create_hdr.maxlen;
    fb->create_hdr.max_bytes = opts->max_bytes;
    ss__buf_init(&fb->io, SS__FILE_IO_CAP);
    ss__buf_init(&fb->out, SS__FILE_OUT_CAP);
    ss__fw_init(&fb->defw, fb, opts->source, 0);
    rc = ss__lineasm_init(&fb->defw.la, fb->max_line, fb->line_flags, NULL);
    if (rc < 0)
        goto out_free;

    rc = ss__file_open(fb);
    if (rc < 0)
        goto out_writer;
    fb->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fb->wake_fd < 0) {
        rc = -errno;
        goto out_writer;
    }
    pthread_mutex_init(&fb->mu, NULL);
    *ret = fb;
    return 0;

out_writer:
    ss__fw_done(&fb->defw);
out_free:
    if (fb->fd >= 0)
        close(fb->fd);
    ss__buf_free(&fb->io);
    ss__buf_free(&fb->out);
    free(fb->path);
    free(fb->dir);
    free(fb);
    return rc;
}

void ss_filebuf_close(ss_filebuf *fb)
{
    if (!fb)
        return;
    pthread_mutex_lock(&fb->mu);
    if (!fb->closed) {
        __atomic_store_n(&fb->closed, 1, __ATOMIC_RELEASE);
        uint64_t one = 1;
        /* wake every waiter: the eventfd stays readable from now on */
        if (write(fb->wake_fd, &one, sizeof(one)) < 0) {
            /* cannot fail for a fresh eventfd written once */
        }
    }
    pthread_mutex_unlock(&fb->mu);
}

void ss_filebuf_free(ss_filebuf *fb)
{
    if (!fb)
        return;
    pthread_mutex_lock(&fb->mu);
    /* The default writer's partial line becomes a record, as a closing
     * ss_writer's does. */
    if (!fb->closed && !fb->readonly)
        ss__fw_finish_locked(&fb->defw);
    pthread_mutex_unlock(&fb->mu);
    ss_filebuf_close(fb);
    ss__fw_done(&fb->defw);
    close(fb->fd);
    close(fb->wake_fd);
    ss__buf_free(&fb->io);
    ss__buf_free(&fb->out);
    free(fb->ents);
    free(fb->path);
    free(fb->dir);
    pthread_mutex_destroy(&fb->mu);
    free(fb);
}

/* ---- reading ---- */

/* Copy view entries first .. first + count - 1 out of the file into ret. The
 * file lock is held. */
static int copy_out(ss_filebuf *fb, size_t first, size_t count, ss_records *ret)
{
    ss__records_builder b;
    if (count == 0)
        return ss__records_begin(&b, ret, 0, 0);
    ss__buf lines;
    int rc = ss__file_read_ents(fb, first, count, &lines);
    if (rc < 0)
        goto out_lines;
    /* Unescape every text in place (never longer than its line), then copy. */
    ss__file_rec *recs = malloc(count * sizeof(*recs));
    size_t *offs = malloc(count * sizeof(*offs)), *lens = malloc(count * sizeof(*lens));
    if (!recs || !offs || !lens) {
        rc = -ENOMEM;
        goto out;
    }
    size_t text_bytes = 0, kept = 0, at = 0;
    for (size_t i = 0; i < count; i++) {
        const ss__file_ent *e = ss__file_ent_at(fb, first + i);
        char *line = lines.data + at;
        at += (size_t)e->len + 1;
        /* Checked when read into the view; a failure now means the file was
         * edited in place: leave the record out. */
        if (ss__file_rec_parse(fb->hdr.version, line, (size_t)e->len, &recs[kept], line,
                               &lens[kept]) < 0)
            continue;
        recs[kept].seq = e->seq;
        offs[kept] = (size_t)(line - lines.data);
        text_bytes += lens[kept];
        kept++;
    }
    rc = ss__records_begin(&b, ret, kept, text_bytes);
    if (rc < 0)
        goto out;
    for (size_t k = 0; k < kept; k++) {
        const ss__file_rec *r = &recs[k];
        ss__records_add(&b, r->seq, r->time_ns, r->kind, r->flags, r->producer, r->source,
                        lines.data + offs[k], lens[k]);
    }
    rc = (int)kept;
out:
    free(recs);
    free(offs);
    free(lens);
out_lines:
    ss__buf_free(&lines);
    return rc;
}

/* Lock the file for reading and bring the view up to date; fb->mu held. */
int ss__filebuf_begin_read(ss_filebuf *fb)
{
    if (fb->closed)
        return SS_ECLOSED;
    return ss__file_lock_current(fb, F_RDLCK);
}

int ss_filebuf_read(ss_filebuf *fb, size_t n, ss_records *ret)
{
    if (!fb || !ret)
        return -EINVAL;
    pthread_mutex_lock(&fb->mu);
    int rc = ss__filebuf_begin_read(fb);
    if (rc == 0) {
        size_t take = n < fb->ent_count ? n : fb->ent_count;
        rc = copy_out(fb, fb->ent_count - take, take, ret);
        ss__file_unlock(fb);
    }
    if (rc < 0)
        ss_records_clear(ret);
    pthread_mutex_unlock(&fb->mu);
    return rc;
}

/* Index of the first view entry with seq > cursor (ent_count if none). */
static size_t first_after(const ss_filebuf *fb, uint64_t cursor)
{
    size_t lo = 0, hi = fb->ent_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ss__file_ent_at(fb, mid)->seq > cursor)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

int ss__filebuf_read_since_locked(ss_filebuf *fb, uint64_t cursor, size_t max, ss_records *ret)
{
    size_t first = first_after(fb, cursor);
    size_t count = fb->ent_count - first;
    if (max && count > max)
        count = max;
    int rc = copy_out(fb, first, count, ret);
    if (rc < 0)
        return rc;
    /* Everything between the cursor and what is returned was missed: it left
     * the view, or its line is damaged. */
    uint64_t upto = count ? ss__file_ent_at(fb, first + count - 1)->seq : fb->last_seq;
    if (upto < cursor)
        upto = cursor; /* the file was replaced by one with older numbers */
    ret->missed = upto - cursor - (uint64_t)rc;
    ret->cursor = upto;
    return rc;
}

int ss_filebuf_read_since(ss_filebuf *fb, uint64_t cursor, size_t max, ss_records *ret)
{
    if (!fb || !ret)
        return -EINVAL;
    pthread_mutex_lock(&fb->mu);
    int rc = ss__filebuf_begin_read(fb);
    if (rc == 0) {
        rc = ss__filebuf_read_since_locked(fb, cursor, max, ret);
        ss__file_unlock(fb);
    }
    if (rc < 0)
        ss_records_clear(ret);
    pthread_mutex_unlock(&fb->mu);
    return rc;
}

int ss_filebuf_len(ss_filebuf *fb, size_t *ret)
{
    if (!fb || !ret)
        return -EINVAL;
    pthread_mutex_lock(&fb->mu);
    int rc = ss__filebuf_begin_read(fb);
    if (rc == 0) {
        *ret = fb->ent_count;
        ss__file_unlock(fb);
    }
    pthread_mutex_unlock(&fb->mu);
    return rc;
}

size_t ss_filebuf_maxlen(const ss_filebuf *fb)
{
    if (!fb)
        return 0;
    /* The header changes when the handle follows the path to a new file. */
    pthread_mutex_t *mu = (pthread_mutex_t *)&fb->mu;
    pthread_mutex_lock(mu);
    size_t maxlen = (size_t)fb->hdr.maxlen;
    pthread_mutex_unlock(mu);
    return maxlen;
}

int ss_filebuf_clear(ss_filebuf *fb)
{
    if (!fb)
        return -EINVAL;
    pthread_mutex_lock(&fb->mu);
    int rc = fb->closed ? SS_ECLOSED : fb->readonly ? -EBADF : 0;
    if (rc == 0)
        rc = ss__file_lock_current(fb, F_WRLCK);
    if (rc == 0) {
        rc = ss__file_compact(fb, fb->last_seq);
        ss__file_unlock(fb);
    }
    pthread_mutex_unlock(&fb->mu);
    return rc;
}

int ss_filebuf_get_stats(ss_filebuf *fb, ss_filebuf_stats *ret)
{
    if (!fb || !ret)
        return -EINVAL;
    pthread_mutex_lock(&fb->mu);
    int rc = ss__filebuf_begin_read(fb);
    if (rc == 0) {
        *ret = (ss_filebuf_stats){
            .written = fb->written,
            .pending = fb->defw.held,
            .compactions = fb->compactions,
            .repaired = fb->repaired,
            .reopened = fb->reopened,
            .replaced = fb->replaced,
            .compact_failed = fb->compact_failed,
            .compact_error = fb->compact_error,
            .dropped = fb->dropped,
            .damaged = fb->damaged,
            .first_damaged_line = fb->first_damaged_line,
            .last_seq = fb->last_seq,
            .count = fb->ent_count,
            .maxlen = (size_t)fb->hdr.maxlen,
        };
        ss__file_unlock(fb);
    }
    pthread_mutex_unlock(&fb->mu);
    return rc;
}
