/*
 * The log file itself: creating and opening it, the fcntl lock, reading new
 * lines into the view, cutting a torn last line, following a moved file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <syncstream/common.h>

#include "file/filebuf_int.h"

/* The kernel's open file description locks (Linux 3.15) belong to one open
 * file, not to the process: two handles of one process exclude each other, and
 * closing another descriptor of the file does not drop them. Classic POSIX
 * locks are the fallback where the kernel refuses them. */
static int use_ofd_locks = 1;

static int set_lock(int fd, short type)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    for (;;) {
        bool ofd = __atomic_load_n(&use_ofd_locks, __ATOMIC_RELAXED);
        if (fcntl(fd, ofd ? F_OFD_SETLKW : F_SETLKW, &fl) == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno == EINVAL && ofd) {
            __atomic_store_n(&use_ofd_locks, 0, __ATOMIC_RELAXED);
            continue;
        }
        return -errno;
    }
}

void ss__file_unlock(ss_filebuf *fb)
{
    set_lock(fb->fd, F_UNLCK);
}

/* ---- the view ---- */

int ss__file_push_ent(ss_filebuf *fb, uint64_t seq, uint64_t off, uint64_t len)
{
    /* Records that leave the view: seq <= last - maxlen. */
    while (fb->ent_count && ss__file_ent_at(fb, 0)->seq + fb->hdr.maxlen <= seq) {
        fb->ent_start = (fb->ent_start + 1) & fb->ent_mask;
        fb->ent_count--;
    }
    if (!fb->ents || fb->ent_count == fb->ent_mask + 1) {
        size_t cap = fb->ents ? 2 * (fb->ent_mask + 1) : 64;
        ss__file_ent *ents = malloc(cap * sizeof(*ents));
        if (!ents)
            return -ENOMEM;
        for (size_t i = 0; i < fb->ent_count; i++)
            ents[i] = *ss__file_ent_at(fb, i);
        free(fb->ents);
        fb->ents = ents;
        fb->ent_start = 0;
        fb->ent_mask = cap - 1;
    }
    fb->ents[(fb->ent_start + fb->ent_count) & fb->ent_mask] =
        (ss__file_ent){.seq = seq, .off = off, .len = len};
    fb->ent_count++;
    fb->last_seq = seq;
    return 0;
}

static void note_damaged(ss_filebuf *fb)
{
    if (fb->damaged++ == 0)
        fb->first_damaged_line = fb->line_no;
}

/* Forget what was read of the current file (but not its header). */
static void reset_view(ss_filebuf *fb, uint64_t data_off)
{
    fb->scanned_to = data_off;
    fb->line_no = 1;
    fb->last_seq = fb->hdr.base;
    fb->moved = false;
    fb->damaged = fb->first_damaged_line = 0;
    fb->ent_start = fb->ent_count = 0;
}

/* One whole line at off (its '\n' not counted). Returns 0, or -ENOMEM. */
static int take_line(ss_filebuf *fb, const char *line, size_t len, uint64_t off)
{
    ss__file_rec r;
    fb->line_no++;
    if (ss__file_is_moved(line, len)) {
        fb->moved = true;
        fb->moved_off = off;
        return 0;
    }
    if (ss__file_rec_parse(fb->hdr.version, line, len, &r, NULL, NULL) < 0 ||
        r.seq <= fb->last_seq) {
        note_damaged(fb);
        return 0;
    }
    return ss__file_push_ent(fb, r.seq, off, len);
}

/*
 * Read the whole lines from scanned_to up to size, or to the end of the file
 * when size is UINT64_MAX (a writer under the lock, which saves an fstat: a
 * short read is the end). A line longer than SS__FILE_LINE_CAP is damaged and
 * skipped. Stops at the moved marker. The bytes after the last '\n' (a line
 * being written, or torn) are left; *ret_end is where the file ended.
 */
static int scan(ss_filebuf *fb, uint64_t size, uint64_t *ret_end)
{
    size_t chunk = 64 * 1024;
    bool skipping = false; /* inside an over-long line */
    uint64_t off = fb->scanned_to;
    *ret_end = off;

    while (off < size && !fb->moved) {
        size_t want = size - off < chunk ? (size_t)(size - off) : chunk;
        ss__buf_reset(&fb->io);
        char *dst;
        int rc = ss__buf_reserve(&fb->io, want, &dst);
        if (rc < 0)
            return rc;
        ssize_t got = pread(fb->fd, dst, want, (off_t)off);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (got == 0 || !fb->io.data)
            break; /* the end (or the file shrank meanwhile) */
        bool at_end = (size_t)got < want || off + (uint64_t)got >= size;
        *ret_end = off + (uint64_t)got;
        const char *p = fb->io.data, *end = p + got;
        const char *last_nl = memrchr(p, '\n', (size_t)got);
        if (!last_nl) {
            if (at_end)
                break; /* an unterminated last line */
            if (chunk < SS__FILE_LINE_CAP) {
                chunk = 4 * chunk < SS__FILE_LINE_CAP ? 4 * chunk : SS__FILE_LINE_CAP;
                continue;
            }
            skipping = true; /* the line goes on: skip it whole */
            off += (uint64_t)got;
            continue;
        }
        while (p <= last_nl && !fb->moved) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (skipping) {
                fb->line_no++;
                note_damaged(fb);
                skipping = false;
            } else {
                rc = take_line(fb, p, (size_t)(nl - p), off + (uint64_t)(p - fb->io.data));
                if (rc < 0)
                    return rc;
            }
            p = nl + 1;
        }
        off += (uint64_t)(p - fb->io.data);
        if (!skipping)
            fb->scanned_to = off;
        if (at_end)
            break;
    }
    if (fb->moved)
        fb->scanned_to = fb->moved_off;
    return 0;
}

int ss__file_read_ents(ss_filebuf *fb, size_t first, size_t count, ss__buf *ret)
{
    /* Every view line with its '\n' is at most SS__FILE_LINE_CAP (scan), so
     * the lines fit. */
    ss__buf_init(ret, count > SIZE_MAX / SS__FILE_LINE_CAP ? SIZE_MAX
                                                           : count * (size_t)SS__FILE_LINE_CAP);
    for (size_t i = 0; i < count;) {
        /* A run of adjacent lines: one pread. */
        const ss__file_ent *a = ss__file_ent_at(fb, first + i), *z = a;
        size_t j = i + 1;
        for (; j < count; j++) {
            const ss__file_ent *e = ss__file_ent_at(fb, first + j);
            if (e->off != z->off + z->len + 1)
                break;
            z = e;
        }
        size_t span = (size_t)(z->off + z->len + 1 - a->off); /* the last '\n' too */
        char *dst;
        int rc = ss__buf_reserve(ret, span, &dst);
        if (rc < 0)
            return rc;
        for (size_t got = 0; got < span;) {
            ssize_t n = pread(fb->fd, dst + got, span - got, (off_t)(a->off + got));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return n < 0 ? -errno : -EIO; /* cut shorter meanwhile: by hand */
            got += (size_t)n;
        }
        ret->len += span;
        i = j;
    }
    return 0;
}

/* ---- opening ---- */

/* Network file systems, where inotify does not see other machines' writes. */
static bool is_remote_fs(int fd)
{
    struct statfs sf;
    if (fstatfs(fd, &sf) < 0)
        return false;
    switch ((unsigned long)sf.f_type) {
    case 0x6969:     /* NFS */
    case 0xff534d42: /* CIFS */
    case 0xfe534d42: /* SMB2 */
    case 0x65735546: /* FUSE (sshfs, ...) */
    case 0x00c36400: /* Ceph */
    case 0x0bd00bd0: /* Lustre */
    case 0x01161970: /* GFS2 */
    case 0x7461636f: /* OCFS2 */
        return true;
    default:
        return false;
    }
}

int ss__file_write_all(int fd, const char *p, size_t n, uint64_t off, size_t *ret_done)
{
    size_t done = 0;
    int rc = 0;
    while (done < n) {
        ssize_t w = pwrite(fd, p + done, n - done, (off_t)(off + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = w < 0 ? -errno : -EIO;
            break;
        }
        done += (size_t)w;
    }
    if (ret_done)
        *ret_done = done;
    return rc;
}

int ss__file_tmp_name(ss_filebuf *fb, char *buf, size_t size)
{
    /* The pid and a counter are unique on this machine, the time also among
     * the machines sharing the directory; O_EXCL catches the rest. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int n = snprintf(buf, size, "%s.tmp-%ld-%u-%ld%09ld", fb->path, (long)getpid(),
                     fb->tmp_counter++, (long)ts.tv_sec, (long)ts.tv_nsec);
    return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

/* Make the file whole under a temporary name, then link it into place: a crash
 * never leaves a file without its header. Someone else creating it first is
 * fine. */
static int create_file(ss_filebuf *fb)
{
    char tmp[4096];
    int rc = ss__file_tmp_name(fb, tmp, sizeof(tmp));
    if (rc < 0)
        return rc;
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return -errno;
    ss__buf_reset(&fb->out);
    rc = ss__file_hdr_format(&fb->out, &fb->create_hdr);
    if (rc == 0)
        rc = ss__file_write_all(fd, fb->out.data, fb->out.len, 0, NULL);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (rc == 0 && link(tmp, fb->path) < 0 && errno != EEXIST)
        rc = -errno;
    unlink(tmp);
    close(fd);
    return rc;
}

/* Read and check the header of fd; an empty file (made by someone else, say
 * touch) gets one under the lock. */
static int read_header(ss_filebuf *fb, int fd, ss__file_hdr *ret, uint64_t *ret_data_off)
{
    char buf[SS__FILE_HDR_MAX];
    ssize_t got;
    for (int tries = 0;; tries++) {
        got = pread(fd, buf, sizeof(buf), 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -errno;
        if (got > 0 || fb->readonly || tries > 0)
            break;
        int rc = set_lock(fd, F_WRLCK);
        if (rc < 0)
            return rc;
        struct stat st;
        if (fstat(fd, &st) < 0) {
            rc = -errno;
        } else if (st.st_size == 0) {
            ss__buf_reset(&fb->out);
            rc = ss__file_hdr_format(&fb->out, &fb->create_hdr);
            if (rc == 0)
                rc = ss__file_write_all(fd, fb->out.data, fb->out.len, 0, NULL);
            if (rc < 0 && ftruncate(fd, 0) < 0)
                rc = -errno;
        }
        set_lock(fd, F_UNLCK);
        if (rc < 0)
            return rc;
    }
    const char *nl = memchr(buf, '\n', (size_t)got);
    if (!nl)
        return got > 0 && ss__file_magic_prefix(buf, (size_t)got) &&
                       (size_t)got >= sizeof(SS__FILE_MAGIC) - 1
                   ? SS_ECORRUPT
                   : SS_EFORMAT;
    int rc = ss__file_hdr_parse(buf, (size_t)(nl - buf), ret);
    if (rc == 0 && ret->maxlen > SS__FILE_MAXLEN_LIMIT)
        rc = SS_ECORRUPT;
    *ret_data_off = (uint64_t)(nl - buf) + 1;
    return rc;
}

/* Make fd (open on path) the handle's current file. Closes fd on failure. */
static int adopt(ss_filebuf *fb, int fd)
{
    struct stat st;
    ss__file_hdr hdr;
    uint64_t data_off = 0;
    int rc;

    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto out_close;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = S_ISDIR(st.st_mode) ? -EISDIR : SS_EFORMAT;
        goto out_close;
    }
    rc = read_header(fb, fd, &hdr, &data_off);
    if (rc < 0)
        goto out_close;
    if (fb->fd >= 0)
        close(fb->fd);
    fb->fd = fd;
    fb->ino = st.st_ino;
    fb->dev = st.st_dev;
    fb->hdr = hdr;
    fb->data_off = data_off;
    fb->remote = is_remote_fs(fd);
    reset_view(fb, data_off);
    return 0;

out_close:
    close(fd);
    return rc;
}

static int open_path(ss_filebuf *fb)
{
    return open(fb->path, (fb->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
}

int ss__file_open(ss_filebuf *fb)
{
    for (int tries = 0; tries < 8; tries++) {
        int fd = open_path(fb);
        if (fd >= 0)
            return adopt(fb, fd);
        if (errno != ENOENT || fb->readonly)
            return -errno;
        int rc = create_file(fb);
        if (rc < 0)
            return rc;
    }
    return -ENOENT; /* created and removed again, over and over */
}

/* ---- following the file ---- */

/* Whether path now names a file other than fb's, and if so open it into *ret_fd. */
static int path_changed(ss_filebuf *fb, int *ret_fd)
{
    struct stat st;
    *ret_fd = -1;
    if (stat(fb->path, &st) < 0)
        return errno == ENOENT ? 0 : -errno; /* removed: keep the file we have */
    if (st.st_ino == fb->ino && st.st_dev == fb->dev)
        return 0;
    int fd = open_path(fb);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    if (fstat(fd, &st) < 0 || (st.st_ino == fb->ino && st.st_dev == fb->dev)) {
        close(fd);
        return 0;
    }
    *ret_fd = fd;
    return 1;
}

/* Whether the moved marker seen at moved_off is still the file's last line:
 * 1, 0, or a negative errno. */
static int still_moved(ss_filebuf *fb)
{
    static const char marker[] = SS__FILE_MOVED "\n";
    char buf[sizeof(marker)];
    ssize_t n;
    do
        n = pread(fb->fd, buf, sizeof(buf), (off_t)fb->moved_off);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return n == sizeof(marker) - 1 && memcmp(buf, marker, sizeof(marker) - 1) == 0;
}

/*
 * Read what is new in the current file; fb->mu and the file lock held. A
 * writer reads from where it stopped until a short read: its view cannot be
 * ahead of the file (the file only grows under the lock, or is replaced by a
 * new one), so it needs no fstat. A reader checks the size, in case the file was
 * cut by hand.
 */
static int refresh(ss_filebuf *fb, bool writer)
{
    uint64_t size = UINT64_MAX, end;
    if (fb->moved) {
        /* Seen at an earlier lock, in the file the path still names: a writer
         * may have removed it since (its compactor had died) and appended. */
        int rc = still_moved(fb);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        fb->moved = false;
    }
    if (!writer) {
        struct stat st;
        if (fstat(fb->fd, &st) < 0)
            return -errno;
        size = (uint64_t)st.st_size;
        if (size < fb->scanned_to) {
            /* Cut shorter than what was read, by hand: read it again. */
            if (size < fb->data_off)
                return SS_ECORRUPT;
            reset_view(fb, fb->data_off);
            fb->replaced++;
        }
        if (size == fb->scanned_to || fb->moved)
            return 0;
    } else if (fb->moved) {
        return 0;
    }
    int rc = scan(fb, size, &end);
    if (rc < 0)
        return rc;
    if (writer && !fb->moved && end > fb->scanned_to) {
        /* Every writer leaves whole lines when it unlocks (a failed append
         * cuts its own unfinished tail), so bytes after the last '\n' under the
         * write lock are the torn record of a writer that died. */
        if (ftruncate(fb->fd, (off_t)fb->scanned_to) < 0)
            return -errno;
        fb->repaired++;
    }
    return 0;
}

int ss__file_lock_current(ss_filebuf *fb, short type)
{
    const bool writer = type == F_WRLCK;
    for (int tries = 0; tries < 100; tries++) {
        int rc = set_lock(fb->fd, type);
        if (rc < 0)
            return rc;
        rc = refresh(fb, writer);
        int fd = -1;
        if (rc == 0 && (fb->moved || !writer))
            rc = path_changed(fb, &fd);
        if (rc < 0) {
            set_lock(fb->fd, F_UNLCK);
            return rc;
        }
        if (rc == 0) {
            if (fb->moved && writer) {
                /* The path still names this file, whose compactor died between
                 * the marker and the rename: remove the marker, go on. */
                if (ftruncate(fb->fd, (off_t)fb->moved_off) < 0) {
                    rc = -errno;
                    set_lock(fb->fd, F_UNLCK);
                    return rc;
                }
                fb->moved = false;
                fb->scanned_to = fb->moved_off;
            }
            return 0;
        }
        /* Another file at the path: move over (closing the old descriptor drops
         * its lock) and lock that one. */
        bool compacted = fb->moved;
        rc = adopt(fb, fd);
        if (rc < 0) {
            /* Keep reading the old file rather than fail a reader whose file was
             * replaced by something unreadable; a writer must not write there. */
            if (!writer && !fb->moved)
                return 0;
            set_lock(fb->fd, F_UNLCK);
            return rc;
        }
        fb->reopened++;
        if (!compacted)
            fb->replaced++;
    }
    return -ELOOP;
}

int ss__file_sync_dir(const ss_filebuf *fb)
{
    int dfd = open(fb->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    int rc = fsync(dfd) < 0 ? -errno : 0;
    close(dfd);
    return rc;
}
