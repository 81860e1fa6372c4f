/*
 * Waiting for records written by other processes. On a local disk an inotify
 * watch on the file's directory wakes the waiter when the file is written or
 * replaced (a compaction renames a new file into place, which a watch on the
 * file itself would not report). On a network file system inotify sees only
 * this machine's writes, so the waiter looks every poll_ms instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <syncstream/common.h>

#include "file/filebuf_int.h"

/* With inotify, a waiter still looks this often: a safety net for events a
 * watch cannot report (the directory itself renamed, a full event queue). */
#define INOTIFY_SAFETY_MS 1000

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A watch on the directory, or -1 when the file must be polled. */
static int make_watch(ss_filebuf *fb)
{
    pthread_mutex_lock(&fb->mu);
    bool poll_only = fb->remote || (fb->flags & SS_FILE_POLL);
    pthread_mutex_unlock(&fb->mu);
    if (poll_only)
        return -1;
    int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (ifd < 0)
        return -1;
    if (inotify_add_watch(ifd, fb->dir,
                          IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB) < 0) {
        close(ifd);
        return -1;
    }
    return ifd;
}

/* Whether the view holds a record newer than cursor; fb->mu held. When it does
 * and ret is not NULL, read them into ret. */
static int look(ss_filebuf *fb, uint64_t cursor, size_t max, ss_records *ret)
{
    int rc = ss__filebuf_begin_read(fb);
    if (rc < 0)
        return rc;
    bool newer = fb->ent_count > 0 && fb->last_seq > cursor;
    rc = newer ? 1 : 0;
    if (newer && ret)
        rc = ss__filebuf_read_since_locked(fb, cursor, max, ret);
    ss__file_unlock(fb);
    return rc;
}

static int wait_for(ss_filebuf *fb, uint64_t cursor, size_t max, int timeout_ms, ss_records *ret)
{
    int ifd = make_watch(fb);
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    int rc;

    for (;;) {
        pthread_mutex_lock(&fb->mu);
        rc = look(fb, cursor, max, ret);
        pthread_mutex_unlock(&fb->mu);
        if (rc != 0)
            break;
        int slice = ifd >= 0 ? INOTIFY_SAFETY_MS : fb->poll_ms;
        if (timeout_ms == 0) {
            rc = -ETIMEDOUT;
            break;
        }
        if (timeout_ms > 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0) {
                rc = -ETIMEDOUT;
                break;
            }
            if (left < slice)
                slice = (int)left;
        }
        struct pollfd pfd[2] = {{.fd = fb->wake_fd, .events = POLLIN},
                                {.fd = ifd, .events = POLLIN}};
        if (poll(pfd, ifd >= 0 ? 2 : 1, slice) < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        if (ifd >= 0 && (pfd[1].revents & POLLIN)) {
            char events[4096];
            while (read(ifd, events, sizeof(events)) > 0) {
                /* only the wake-up matters: look at the file again */
            }
        }
    }
    if (ifd >= 0)
        close(ifd);
    return rc > 0 && !ret ? 0 : rc;
}

int ss_filebuf_wait(ss_filebuf *fb, uint64_t cursor, int timeout_ms)
{
    if (!fb)
        return -EINVAL;
    return wait_for(fb, cursor, 0, timeout_ms, NULL);
}

int ss_filebuf_follow(ss_filebuf *fb, uint64_t cursor, size_t max, int timeout_ms, ss_records *ret)
{
    if (!fb || !ret)
        return -EINVAL;
    int rc = wait_for(fb, cursor, max, timeout_ms, ret);
    if (rc < 0)
        ss_records_clear(ret);
    return rc;
}
