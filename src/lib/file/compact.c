/*
 * Compaction and clear: the file is replaced by a new one holding only the
 * newest records, made whole under a temporary name, synced and renamed over the
 * old one. The old one gets the moved marker first, while its lock is held, so
 * that a process that still has it open learns to reopen the path when it next
 * takes the lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <syncstream/common.h>

#include "file/filebuf_int.h"

bool ss__file_wants_compaction(const ss_filebuf *fb, size_t n_new, size_t bytes)
{
    const ss__file_hdr *h = &fb->hdr;
    /* Records in the file, as far as sequence numbers tell (damaged lines
     * included). */
    uint64_t in_file = fb->last_seq - h->base;
    if (in_file + n_new > h->limit)
        return true;
    /* The byte cap cannot drop any of the newest maxlen records, so it only
     * starts a compaction that removes a fair share (an eighth of maxlen):
     * otherwise a file of large records would be rewritten at every append. */
    return h->max_bytes && fb->scanned_to + bytes > h->max_bytes &&
           in_file >= h->maxlen + (h->maxlen + 7) / 8;
}

/* Read the lines of the records with seq > new_base into *lines (freed by the
 * caller, also on failure); *ret_first is the index of the first of them in
 * the view. */
static int gather(ss_filebuf *fb, uint64_t new_base, ss__buf *lines, size_t *ret_first)
{
    size_t first = 0;
    while (first < fb->ent_count && ss__file_ent_at(fb, first)->seq <= new_base)
        first++;
    *ret_first = first;
    ss__buf_init(lines, 0);
    if (first == fb->ent_count)
        return 0;
    return ss__file_read_ents(fb, first, fb->ent_count - first, lines);
}

/* A temporary file older than this was left by a process that died while it
 * made a file whole (a compaction holds the lock while its file exists, and a
 * new file is linked into place at once). */
#define STALE_TEMP_S 600

/* Remove the temporary files that dead processes left beside the log file.
 * Called under the write lock, so no compaction of this file is under way. */
static void remove_stale_temps(const ss_filebuf *fb)
{
    const char *base = strrchr(fb->path, '/');
    base = base ? base + 1 : fb->path;
    size_t blen = strlen(base);
    DIR *d = opendir(fb->dir);
    if (!d)
        return;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (strncmp(e->d_name, base, blen) != 0 || strncmp(e->d_name + blen, ".tmp-", 5) != 0)
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            now - st.st_mtime > STALE_TEMP_S)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

int ss__file_compact(ss_filebuf *fb, uint64_t new_base)
{
    char tmp[4096];
    struct stat st;
    int rc = ss__file_tmp_name(fb, tmp, sizeof(tmp));
    if (rc < 0)
        return rc;
    if (fstat(fb->fd, &st) < 0)
        return -errno;
    remove_stale_temps(fb);
    int tfd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (tfd < 0)
        return -errno;
    /* The old file's mode exactly, not minus this process's umask: a file
     * shared by a group stays writable by the group. */
    if (fchmod(tfd, st.st_mode & 07777) < 0) {
        rc = -errno;
        goto out_unlink;
    }
    /* The new file is locked before it has a name: whoever opens it after the
     * rename waits for this compaction and the append that follows it. */
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(tfd, F_OFD_SETLK, &fl) < 0 && fcntl(tfd, F_SETLK, &fl) < 0) {
        rc = -errno;
        goto out_unlink;
    }

    ss__file_hdr hdr = fb->hdr;
    hdr.base = new_base > hdr.base ? new_base : hdr.base;
    ss__buf_reset(&fb->out);
    rc = ss__file_hdr_format(&fb->out, &hdr);
    if (rc < 0)
        goto out_unlink;
    uint64_t data_off = fb->out.len;
    size_t first;
    ss__buf lines;
    rc = gather(fb, hdr.base, &lines, &first);
    if (rc == 0)
        rc = ss__file_write_all(tfd, fb->out.data, fb->out.len, 0, NULL);
    if (rc == 0)
        rc = ss__file_write_all(tfd, lines.data, lines.len, data_off, NULL);
    ss__buf_free(&lines);
    if (rc == 0 && fsync(tfd) < 0)
        rc = -errno;
    if (rc < 0)
        goto out_unlink;

    /* The marker, then the rename; undone if the rename fails. */
    static const char moved[] = SS__FILE_MOVED "\n";
    rc = ss__file_write_all(fb->fd, moved, sizeof(moved) - 1, fb->scanned_to, NULL);
    if (rc == 0 && rename(tmp, fb->path) < 0)
        rc = -errno;
    if (rc < 0) {
        if (ftruncate(fb->fd, (off_t)fb->scanned_to) < 0)
            rc = -errno;
        goto out_unlink;
    }
    if (fb->sync != SS_FILE_SYNC_NEVER)
        ss__file_sync_dir(fb); /* the data is safe either way: best effort */

    /* The new file is ours and locked; closing the old one drops its lock. */
    close(fb->fd);
    fb->fd = tfd;
    if (fstat(tfd, &st) == 0) {
        fb->ino = st.st_ino;
        fb->dev = st.st_dev;
    }
    fb->hdr = hdr;
    fb->data_off = data_off;
    fb->ent_start = (fb->ent_start + first) & fb->ent_mask;
    fb->ent_count -= first;
    uint64_t at = data_off;
    for (size_t i = 0; i < fb->ent_count; i++) {
        ss__file_ent *e = &fb->ents[(fb->ent_start + i) & fb->ent_mask];
        e->off = at;
        at += e->len + 1;
    }
    fb->scanned_to = at;
    fb->line_no = 1 + fb->ent_count;
    fb->damaged = fb->first_damaged_line = 0;
    fb->moved = false;
    if (fb->last_seq < hdr.base)
        fb->last_seq = hdr.base;
    fb->compactions++;
    return 0;

out_unlink:
    unlink(tmp);
    close(tfd);
    return rc;
}
