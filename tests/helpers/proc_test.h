/*
 * Helpers shared by the process-mode tests (tests/integration/test_proc*.c).
 *
 * Every wait is bounded (PROC_WAIT_MS): a broken library makes a test fail, never
 * hang. Records are looked up by source, so each child gets a name of its own.
 */
#ifndef SS_PROC_TEST_H
#define SS_PROC_TEST_H

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

/* The bound on every wait for children: long enough for a loaded sanitizer run. */
#define PROC_WAIT_MS 20000

/* Wait for every child of pb, and fail if that takes longer than the bound. */
#define assert_wait_all(pb) assert_int_equal(ss_procbuf_wait((pb), PROC_WAIT_MS), 0)

static inline ss_procbuf *proc_new(size_t maxlen, size_t max_line, int grace_ms)
{
    ss_procbuf *pb = NULL;
    ss_procbuf_opts opts = {.buf = {.maxlen = maxlen, .max_line = max_line},
                            .term_grace_ms = grace_ms};
    assert_int_equal(ss_procbuf_new(&pb, &opts), 0);
    assert_non_null(pb);
    assert_non_null(ss_procbuf_linebuf(pb));
    return pb;
}

/* Read every record of pb into set; returns the count. */
static inline size_t proc_read_all(ss_procbuf *pb, ss_records *set)
{
    int n = ss_linebuf_read(ss_procbuf_linebuf(pb), SS_READ_ALL, set);
    assert_true(n >= 0);
    assert_int_equal((size_t)n, set->count);
    return (size_t)n;
}

static inline bool rec_is(const ss_record *r, const char *text)
{
    return r->len == strlen(text) && memcmp(r->text, text, r->len) == 0;
}

static inline bool rec_contains(const ss_record *r, const char *needle)
{
    return memmem(r->text, r->len, needle, strlen(needle)) != NULL;
}

/* Indexes (into set) of the records whose source is src, oldest first. The caller
 * frees *ret. Returns how many. */
static inline size_t by_source(const ss_records *set, const char *src, size_t **ret)
{
    size_t *idx = calloc(set->count + 1, sizeof(*idx));
    assert_non_null(idx);
    size_t n = 0;
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->items[i].source, src) == 0)
            idx[n++] = i;
    *ret = idx;
    return n;
}

/* Print the records of src (all records for src NULL), to explain a failure. */
static inline void dump_records(const ss_records *set, const char *src)
{
    for (size_t i = 0; i < set->count; i++) {
        const ss_record *r = &set->items[i];
        if (src == NULL || strcmp(r->source, src) == 0)
            print_message("  #%llu %s %s flags=%#x: \"%.*s\"\n", (unsigned long long)r->seq,
                          r->source, ss_kind_name(r->kind), (unsigned)r->flags,
                          r->len > 200 ? 200 : (int)r->len, r->text);
    }
}

/* The one record from src with exactly this text (fails unless there is exactly one). */
static inline const ss_record *find_one(const ss_records *set, const char *src, const char *text)
{
    const ss_record *found = NULL;
    for (size_t i = 0; i < set->count; i++) {
        if (strcmp(set->items[i].source, src) == 0 && rec_is(&set->items[i], text)) {
            if (found != NULL)
                fail_msg("record \"%s\" from %s appears twice", text, src);
            found = &set->items[i];
        }
    }
    if (found == NULL) {
        dump_records(set, src);
        fail_msg("record \"%s\" from %s is missing", text, src);
    }
    return found;
}

/* Whether a record of src contains needle. */
static inline bool any_contains(const ss_records *set, const char *src, const char *needle)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->items[i].source, src) == 0 && rec_contains(&set->items[i], needle))
            return true;
    return false;
}

/* The exit record of src: the newest record of that source, flagged SS_REC_EXIT, and
 * the only one so flagged. */
static inline const ss_record *exit_record(const ss_records *set, const char *src)
{
    const ss_record *last = NULL;
    int exits = 0;
    for (size_t i = 0; i < set->count; i++) {
        if (strcmp(set->items[i].source, src) != 0)
            continue;
        last = &set->items[i];
        if (last->flags & SS_REC_EXIT)
            exits++;
    }
    if (last == NULL)
        fail_msg("no record at all from %s", src);
    if (!(last->flags & SS_REC_EXIT)) {
        dump_records(set, src);
        fail_msg("the last record of %s is not its exit record: \"%.*s\"", src, (int)last->len,
                 last->text);
    }
    assert_int_equal(exits, 1);
    return last;
}

/* Child status by id, asserting it is known. */
static inline ss_child_status child_status(ss_procbuf *pb, int id)
{
    ss_child_status st;
    memset(&st, 0xa5, sizeof(st));
    assert_int_equal(ss_procbuf_child(pb, id, &st), 0);
    assert_int_equal(st.id, id);
    return st;
}

/* Count the processes whose parent is this process; with zombies_only, only those in
 * state Z. Reads /proc/PID/stat without reaping anything. */
/* Spawn argv as the child name with flags; a failure fails the test. Returns
 * the child's id. */
static inline int proc_spawn(ss_procbuf *pb, const char *name, unsigned flags, char *const *argv)
{
    ss_spawn_opts so = {.argv = argv, .name = name, .flags = flags};
    int id = -1;
    int r = ss_procbuf_spawn(pb, &so, &id);
    if (r != 0)
        fail_msg("ss_procbuf_spawn %s: %d (%s)", argv[0], r, ss_strerror(r));
    assert_true(id >= 0);
    return id;
}

/* The helper program: $SS_TEST_MIRROR_CHILD (set by tests/meson.build), else the
 * mirror_child next to this test program. */
static inline const char *proc_mirror_child(void)
{
    static char path[PATH_MAX];
    const char *env = getenv("SS_TEST_MIRROR_CHILD");
    if (env != NULL && env[0] != '\0')
        return env;
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    assert_true(n > 0);
    path[n] = '\0';
    char *slash = strrchr(path, '/');
    assert_non_null(slash);
    snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path), "mirror_child");
    assert_int_equal(access(path, X_OK), 0);
    return path;
}

static inline int count_children(bool zombies_only)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    pid_t self = getpid();
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue; /* gone meanwhile */
        ssize_t len = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (len <= 0)
            continue;
        buf[len] = '\0';
        /* "pid (comm) S ppid ...": comm may hold spaces and parentheses */
        char *p = strrchr(buf, ')');
        char state;
        int ppid;
        if (p == NULL || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
            continue;
        if (ppid == self && (!zombies_only || state == 'Z'))
            n++;
    }
    closedir(d);
    return n;
}

/* Sleep ms milliseconds (used only to give another thread time to block; no result
 * depends on it). */
static inline void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Poll until no child of pb runs, for at most PROC_WAIT_MS (for the state after a
 * force stop, where ss_procbuf_wait() answers SS_ESTOPPED). */
static inline void poll_until_idle(ss_procbuf *pb)
{
    for (int waited = 0; ss_procbuf_running(pb) > 0; waited += 10) {
        if (waited >= PROC_WAIT_MS)
            fail_msg("children still running after %d ms", PROC_WAIT_MS);
        sleep_ms(10);
    }
}

/* Read exactly n bytes from fd (a readiness pipe), failing on EOF or error. */
static inline void read_ready(int fd, int n)
{
    char c;
    for (int i = 0; i < n; i++) {
        ssize_t r;
        do
            r = read(fd, &c, 1);
        while (r < 0 && errno == EINTR);
        if (r != 1)
            fail_msg("readiness pipe: got %d of %d bytes", i, n);
    }
}

/* Every fd above 2 of this process without FD_CLOEXEC, as " 5 7 9" (what a program it
 * starts inherits), leaving out skip_a and skip_b. */
static inline void inheritable_fds(char *out, size_t size, int skip_a, int skip_b)
{
    size_t n = 0;
    out[0] = '\0';
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d) || fd == skip_a || fd == skip_b)
            continue;
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0 && !(fl & FD_CLOEXEC) && n + 16 < size)
            n += (size_t)snprintf(out + n, size - n, " %d", fd);
    }
    closedir(d);
}

/* stdio buffers are copied by fork(): flush them so a child that writes through
 * stdio (or exits through exit()) does not repeat cmocka's pending output. */
static inline void flush_before_fork(void)
{
    fflush(NULL);
}

#endif
