/* ss_filebuf: one log file written by several processes under fcntl locks, and
 * read by any of them; partial lines, compaction, clear, cursor reads, waits. */
#include <pthread.h>

#include "file_test.h"

#include "file/filebuf_int.h"

static void test_write_read(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "basic.log");
    ss_filebuf *fb = file_open(path, &(ss_filebuf_opts){.maxlen = 100, .source = "me"});

    assert_int_equal(ss_filebuf_write(fb, "hello ", 6), 0);
    assert_int_equal(ss_filebuf_write(fb, "world\nsecond\nthi", 16), 0);
    size_t len;
    assert_int_equal(ss_filebuf_len(fb, &len), 0);
    assert_int_equal(len, 2); /* the partial line is the writer's own */
    assert_int_equal(ss_filebuf_append(fb, SS_KIND_ERROR, "Traceback:\n  boom\n", 18), 0);
    assert_int_equal(ss_filebuf_maxlen(fb), 100);

    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_filebuf_read(fb, SS_READ_ALL, &set), 4);
    assert_item_text(&set, 0, "hello world");
    assert_item_text(&set, 1, "second");
    assert_item_text(&set, 2, "thi"); /* append ended the partial line first */
    assert_item_text(&set, 3, "Traceback:\n  boom");
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(set.items[i].seq, i + 1);
        assert_string_equal(set.items[i].source, "me");
        assert_true(set.items[i].time_ns > 1600000000LL * 1000000000LL);
    }
    assert_int_equal(set.items[3].kind, SS_KIND_ERROR);
    assert_int_equal(ss_filebuf_read(fb, 2, &set), 2);
    assert_item_text(&set, 0, "thi");
    assert_int_equal(ss_filebuf_read(fb, 0, &set), 0);
    ss_records_clear(&set);
    ss_filebuf_free(fb);

    /* The file is text a person can read: a header, one line per record. */
    char *text = file_slurp(path, NULL);
    assert_non_null(strstr(text, "#syncstream-file 2 maxlen=100 limit=200 "));
    assert_non_null(strstr(text, " me line "));
    assert_non_null(strstr(text, "\thello world\n")); /* the text ends the line */
    assert_non_null(strstr(text, "\n4 "));
    assert_non_null(strstr(text, "\tTraceback:\\n  boom\n"));
    free(text);

    /* Reopened, the file continues: its records and its numbering. */
    fb = file_open(path, &(ss_filebuf_opts){.maxlen = 5}); /* an existing file keeps 100 */
    assert_int_equal(ss_filebuf_maxlen(fb), 100);
    assert_int_equal(ss_filebuf_write(fb, "next\n", 5), 0);
    assert_int_equal(ss_filebuf_read(fb, 1, &set), 1);
    assert_int_equal(set.items[0].seq, 5);
    assert_string_equal(set.items[0].source, "");
    ss_records_clear(&set);
    ss_filebuf_free(fb);
}

/* Whether every record line of the file at path is of version v: version 1
 * lines end in " #CRC" and hold no tab, version 2 lines hold one tab. */
static void assert_file_version(const char *path, unsigned v)
{
    char *text = file_slurp(path, NULL);
    char want[32];
    snprintf(want, sizeof(want), "#syncstream-file %u ", v);
    assert_true(strncmp(text, want, strlen(want)) == 0);
    size_t records = 0;
    for (char *line = strchr(text, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        char *end = strchr(line, '\n');
        char *tab = memchr(line, '\t', (size_t)(end - line));
        if (v == 1)
            assert_true(!tab && end - line > 10 && end[-9] == '#' && end[-10] == ' ');
        else
            assert_non_null(tab);
        records++;
    }
    assert_true(records > 0);
    free(text);
}

/* A file of format version 1 (made as the old code made it) is read and
 * written in version 1, through compactions and a clear too; a new file gets
 * version 2. */
static void test_version_1_kept(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "old.log");
    ss_filebuf *fb = file_open(
        path, &(ss_filebuf_opts){.maxlen = 3, .source = "old", .flags = SS_FILE_FORMAT_1});
    assert_int_equal(ss_filebuf_write(fb, "one\ntwo\n", 8), 0);
    ss_filebuf_free(fb);
    assert_file_version(path, 1);

    /* opened by default (as version 2 makers do): appends stay version 1 */
    fb = file_open(path, &(ss_filebuf_opts){.source = "new"});
    assert_int_equal(ss_filebuf_write(fb, "three\n", 6), 0);
    assert_file_version(path, 1);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_filebuf_read(fb, SS_READ_ALL, &set), 3);
    assert_item_text(&set, 0, "one");
    assert_item_text(&set, 2, "three");
    assert_string_equal(set.items[2].source, "new");
    /* past the limit (6): compacted, still version 1 */
    for (int i = 0; i < 5; i++)
        assert_int_equal(ss_filebuf_write(fb, "more\n", 5), 0);
    ss_filebuf_stats st;
    assert_int_equal(ss_filebuf_get_stats(fb, &st), 0);
    assert_true(st.compactions >= 1);
    assert_file_version(path, 1);
    assert_int_equal(ss_filebuf_clear(fb), 0);
    assert_int_equal(ss_filebuf_write(fb, "after clear\n", 12), 0);
    assert_file_version(path, 1);
    assert_int_equal(ss_filebuf_read(fb, SS_READ_ALL, &set), 1);
    assert_item_text(&set, 0, "after clear");
    assert_int_equal(set.items[0].seq, 9);
    ss_records_clear(&set);
    ss_filebuf_free(fb);

    /* a new file: version 2 */
    file_path(path, sizeof(path), "new.log");
    fb = file_open(path, NULL);
    assert_int_equal(ss_filebuf_write(fb, "x\n", 2), 0);
    ss_filebuf_free(fb);
    assert_file_version(path, 2);
}

/* Durability modes change when data is synced, not what is written. */
static void test_sync_record_and_flush(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "sync-record.log");
    ss_filebuf *fb = file_open(path, &(ss_filebuf_opts){.sync = SS_FILE_SYNC_RECORD});
    assert_int_equal(ss_filebuf_write(fb, "a\nb\nc\npart", 10), 0);
    assert_int_equal(ss_filebuf_flush(fb), 0); /* a partial line stays partial */
    ss_filebuf_stats st;
    assert_int_equal(ss_filebuf_get_stats(fb, &st), 0);
    assert_int_equal(st.written, 3);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.count, 3);
    ss_filebuf_free(fb); /* and becomes a record at the end */
    fb = file_open(path, &(ss_filebuf_opts){.flags = SS_FILE_READONLY});
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_filebuf_read(fb, SS_READ_ALL, &set), 4);
    assert_item_text(&set, 3, "part");
    assert_int_equal(ss_filebuf_flush(fb), -EBADF);
    ss_records_clear(&set);
    ss_filebuf_free(fb);
}

/* Two writers of one process interleave partial writes; each line stays whole. */
static void test_writers_keep_partial_lines(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "writers.log");
    ss_filebuf *fb = file_open(path, NULL);
    ss_filewriter *a, *b;
    assert_int_equal(ss_filewriter_new(&a, fb, "a", 0), 0);
    assert_int_equal(ss_filewriter_new(&b, fb, "b", SS_REC_STDERR), 0);
    assert_int_equal(ss_filewriter_write(a, "a1 ", 3), 0);
    assert_int_equal(ss_filewriter_write(b, "b1 ", 3), 0);
    assert_int_equal(ss_filewriter_write(a, "a2\n", 3), 0);
    assert_int_equal(ss_filewriter_write(b, "b2\nb3", 5), 0);
    assert_int_equal(ss_filewriter_append(a, SS_KIND_WARNING, "careful", 7), 0);
    assert_int_equal(ss_filewriter_close(b), 0); /* b3 becomes a record */
    assert_int_equal(ss_filewriter_close(a), 0);

    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_filebuf_read(fb, SS_READ_ALL, &set), 4);
    assert_item_text(&set, 0, "a1 a2");
    assert_string_equal(set.items[0].source, "a");
    assert_item_text(&set, 1, "b1 b2");
    assert_true(set.items[1].flags & SS_REC_STDERR);
    assert_item_text(&set, 2, "careful");
    assert_int_equal(set.items[2].kind, SS_KIND_WARNING);
    assert_item_text(&set, 3, "b3");
    ss_records_clear(&set);
    ss_filebuf_free(fb);
}

/* The Python binding's write that keeps the GIL: it takes only what completes
 * no record, and only when it need not wait; else it takes nothing. */
static void test_write_nowait(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "nowait.log");
    ss_filebuf *fb =
        file_open(path, &(ss_filebuf_opts){.maxlen = 10, .line_flags = SS_LINE_SPLITLINES});
    assert_int_equal(ss__filebuf_write_nowait(fb, "worker ", 7), 0);
    assert_int_equal(ss__filebuf_write_nowait(fb, "0", 1), 0);
    assert_int_equal(ss__filebuf_write_nowait(fb, " end\n", 5), -EAGAIN);
    assert_int_equal(ss__filebuf_write_nowait(fb, " end\xe2\x80\xa8", 7), -EAGAIN);
    /* another thread in the middle of an append holds the mutex */
    pthread_mutex_lock(&fb->mu);
    assert_int_equal(ss__filebuf_write_nowait(fb, " x", 2), -EAGAIN);
    pthread_mutex_unlock(&fb->mu);
    char *part;
    size_t len;
    assert_int_equal(ss__filebuf_partial(fb, &part, &len), 0);
    assert_string_equal(part, "worker 0");
    free(part);
    size_t n;
    assert_int_equal(ss_filebuf_len(fb, &n), 0);
    assert_int_equal(n, 0);

    /* Records held after a failed append (here: a descriptor that cannot be
     * written) are appended by the next write, which this one is not. */
    int fd = fb->fd;
    fb->fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fb->fd >= 0);
    assert_int_not_equal(ss_filebuf_write(fb, " end\n", 5), 0);
    assert_int_equal(ss__filebuf_write_nowait(fb, "next", 4), -EAGAIN);
    close(fb->fd);
    fb->fd = fd;
    assert_int_equal(ss_filebuf_write(fb, "next\n", 5), 0);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_filebuf_read(fb, SS_READ_ALL, &set), 2);
    assert_item_text(&set, 0, "worker 0 end");
    assert_item_text(&set, 1, "next");
    ss_records_clear(&set);

    ss_filebuf_close(fb);
    assert_int_equal(ss__filebuf_write_nowait(fb, "x", 1), SS_ECLOSED);
    ss_filebuf_free(fb);
}

/* ---- several processes ---- */

#define PROCS 4
#define LINES_PER_PROC 400

/* A child: its own handle, lines written in two pieces around a pause so that
 * partial lines of all children overlap in time; some lines longer than
 * PIPE_BUF. */
static void child_write_lines(const char *path, int id, size_t maxlen, ss_file_sync sync)
{
    char source[16];
    snprintf(source, sizeof(source), "proc-%d", id);
    ss_filebuf *fb = NULL;
    if (ss_filebuf_open(&fb, path,
                        &(ss_filebuf_opts){.maxlen = maxlen, .source = source, .sync = sync}) < 0)
        _exit(3);
    static char line[8192];
    for (int i = 0; i < LINES_PER_PROC; i++) {
        int n = snprintf(line, sizeof(line), "%s line %d ", source, i);
        size_t pad = i % 50 == 7 ? 6000 : (size_t)(i % 13);
        memset(line + n, 'a' + id, pad);
        n += (int)pad;
        line[n++] = '\n';
        size_t half = (size_t)n / 2;
        if (ss_filebuf_write(fb, line, half) < 0)
            _exit(4);
        if (i % 16 == 0)
            sched_yield();
        if (ss_filebuf_write(fb, line + half, (size_t)n - half) < 0)
            _exit(5);
    }
    ss_filebuf_free(fb);
    _exit(0);
}

/* Check a record written by child_write_lines: whole, and the next of its
 * source. next[] holds the next line number expected per child. */
static void check_child_line(const ss_record *r, int *next)
{
    int id, i, consumed = 0;
    assert_int_equal(sscanf(r->text, "proc-%d line %d %n", &id, &i, &consumed), 2);
    assert_true(id >= 0 && id < PROCS);
    char src[16];
    snprintf(src, sizeof(src), "proc-%d", id);
    assert_string_equal(r->source, src);
    assert_int_equal(i, next[id]);
    next[id]++;
    size_t pad = i % 50 == 7 ? 6000 : (size_t)(i % 13);
    assert_int_equal(r->len, (size_t)consumed + pad);
    for (size_t k = 0; k < pad; k++)
        assert_int_equal(r->text[consumed + k], 'a' + id);
}

static void run_processes(const char *name, size_t maxlen, ss_file_sync sync)
{
    char path[256];
    file_path(path, sizeof(path), name);
    /* a reader open before the writers start, which must follow compactions */
    ss_filebuf *reader = file_open(path, &(ss_filebuf_opts){.maxlen = maxlen});
    pid_t pids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0)
            child_write_lines(path, p, maxlen, sync);
    }
    for (int p = 0; p < PROCS; p++)
        assert_int_equal(file_wait_child(pids[p]), 0);

    ss_records set = SS_RECORDS_INIT;
    int total = PROCS * LINES_PER_PROC;
    int want = (size_t)total < maxlen ? total : (int)maxlen;
    assert_int_equal(ss_filebuf_read(reader, SS_READ_ALL, &set), want);
    int next[PROCS] = {0};
    /* the view is the newest records: start each source where its first is */
    for (size_t k = 0; k < set.count; k++) {
        int id, i;
        assert_int_equal(sscanf(set.items[k].text, "proc-%d line %d", &id, &i), 2);
        if (next[id] == 0)
            next[id] = i;
        check_child_line(&set.items[k], next);
        assert_int_equal(set.items[k].seq, (uint64_t)(total - want) + k + 1);
    }
    /* every child's last line is among the newest unless the view is smaller */
    if (want == total)
        for (int p = 0; p < PROCS; p++)
            assert_int_equal(next[p], LINES_PER_PROC);
    ss_filebuf_stats st;
    assert_int_equal(ss_filebuf_get_stats(reader, &st), 0);
    assert_int_equal(st.damaged, 0);
    assert_int_equal(st.last_seq, (uint64_t)total);
    if (want < total)
        assert_true(st.reopened > 0); /* it followed the compacted file */
    ss_records_clear(&set);
    ss_filebuf_free(reader);
}

static void test_processes_no_interleaving(void **state)
{
    (void)state;
    run_processes("procs.log", 10000, SS_FILE_SYNC_NEVER);
}

static void test_processes_with_compaction(void **state)
{
    (void)state;
    /* 1600 records through a file of at most 2 * 50: many compactions, each by
     * whichever process notices, while the others write */
    run_processes("compact.log", 50, SS_FILE_SYNC_NEVER);
    char path[256];
    file_path(path, sizeof(path), "compact.log");
    size_t len;
    char *text = file_slurp(path, &len);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    assert_true(lines <= 1 + 100); /* the header and at most limit records */
    free(text);
}

static void test_processes_sync_modes(void **state)
{
    (void)state;
    run_processes("sync-batch.log", 300, SS_FILE_SYNC_BATCH);
}

/* ---- cursor reads, clear ---- */

static void test_cursor_and_clear(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "cursor.log");
    ss_filebuf *w = file_open(path, &(ss_filebuf_opts){.maxlen = 5, .limit = 8});
    ss_filebuf *r = file_open(path, &(ss_filebuf_opts){.flags = SS_FILE_READONLY});
    /* what a compaction must keep: the file's mode, whatever the umask, and
     * the temporary file of a compaction under way elsewhere; and what it
     * removes: the temporary file a dead process left long ago */
    assert_int_equal(chmod(path, 0664), 0);
    mode_t old_umask = umask(022);
    char stale[300], fresh[300];
    snprintf(stale, sizeof(stale), "%s.tmp-1-0-1", path);
    snprintf(fresh, sizeof(fresh), "%s.tmp-2-0-2", path);
    file_put(stale, "x", 1, 0);
    file_put(fresh, "x", 1, 0);
    struct timespec old[2] = {{.tv_sec = time(NULL) - 3600}, {.tv_sec = time(NULL) - 3600}};
    assert_int_equal(utimensat(AT_FDCWD, stale, old, 0), 0);
    ss_records set = SS_RECORDS_INIT;
    char line[32];
    for (int i = 1; i <= 3; i++) {
        int n = snprintf(line, sizeof(line), "r%d\n", i);
        assert_int_equal(ss_filebuf_write(w, line, (size_t)n), 0);
    }
    assert_int_equal(ss_filebuf_read_since(r, 0, 0, &set), 3);
    assert_int_equal(set.missed, 0);
    assert_int_equal(set.cursor, 3);
    assert_int_equal(ss_filebuf_read_since(r, 3, 0, &set), 0);
    assert_int_equal(set.cursor, 3);
    assert_int_equal(ss_filebuf_read_since(r, 1, 1, &set), 1); /* max */
    assert_item_text(&set, 0, "r2");
    assert_int_equal(set.cursor, 2);

    /* 9 more: r4..r12; the view keeps the newest 5 (r8..r12) */
    for (int i = 4; i <= 12; i++) {
        int n = snprintf(line, sizeof(line), "r%d\n", i);
        assert_int_equal(ss_filebuf_write(w, line, (size_t)n), 0);
    }
    assert_int_equal(ss_filebuf_read_since(r, 3, 0, &set), 5);
    assert_int_equal(set.missed, 4); /* r4..r7 left the view */
    struct stat st_mode;
    assert_int_equal(stat(path, &st_mode), 0);
    assert_int_equal(st_mode.st_mode & 0777, 0664);
    umask(old_umask);
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(fresh, F_OK), 0);
    unlink(fresh);
    assert_item_text(&set, 0, "r8");
    assert_int_equal(set.cursor, 12);
    size_t len;
    assert_int_equal(ss_filebuf_len(r, &len), 0);
    assert_int_equal(len, 5);

    /* a read-only handle cannot write or clear */
    assert_int_equal(ss_filebuf_write(r, "x\n", 2), -EBADF);
    assert_int_equal(ss_filebuf_clear(r), -EBADF);

    assert_int_equal(ss_filebuf_clear(w), 0);
    assert_int_equal(ss_filebuf_len(r, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(ss_filebuf_read_since(r, 12, 0, &set), 0);
    assert_int_equal(set.missed, 0);
    assert_int_equal(ss_filebuf_write(w, "after\n", 6), 0);
    assert_int_equal(ss_filebuf_read_since(r, 10, 0, &set), 1);
    assert_int_equal(set.items[0].seq, 13); /* numbering goes on */
    assert_int_equal(set.missed, 2);        /* 11 and 12 were cleared */
    ss_records_clear(&set);
    ss_filebuf_stats st;
    assert_int_equal(ss_filebuf_get_stats(w, &st), 0);
    assert_true(st.compactions >= 2); /* the rotation and the clear */
    assert_int_equal(st.written, 13);
    ss_filebuf_free(r);
    ss_filebuf_free(w);
}

/* ---- waiting ---- */

typedef struct waiter_arg {
    ss_filebuf *fb;
    uint64_t cursor;
    int rc;
    ss_records set;
} waiter_arg;

static void *follow_thread(void *p)
{
    waiter_arg *a = p;
    a->rc = ss_filebuf_follow(a->fb, a->cursor, 0, FILE_WAIT_MS, &a->set);
    return NULL;
}

static void run_wait(const char *name, unsigned flags)
{
    char path[256];
    file_path(path, sizeof(path), name);
    ss_filebuf *fb = file_open(path, &(ss_filebuf_opts){.flags = flags, .poll_ms = 20});
    assert_int_equal(ss_filebuf_wait(fb, 0, 0), -ETIMEDOUT);
    assert_int_equal(ss_filebuf_wait(fb, 0, 30), -ETIMEDOUT);

    /* another process writes after the waiter is asleep */
    waiter_arg a = {.fb = fb, .cursor = 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, follow_thread, &a), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        usleep(100000);
        ss_filebuf *w = NULL;
        if (ss_filebuf_open(&w, path, &(ss_filebuf_opts){.source = "other"}) < 0 ||
            ss_filebuf_write(w, "news\n", 5) < 0)
            _exit(3);
        ss_filebuf_free(w);
        _exit(0);
    }
    assert_int_equal(file_wait_child(pid), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(a.rc, 1);
    assert_item_text(&a.set, 0, "news");
    assert_string_equal(a.set.items[0].source, "other");
    ss_records_clear(&a.set);
    assert_int_equal(ss_filebuf_wait(fb, 0, 0), 0);

    /* close wakes a waiter */
    a = (waiter_arg){.fb = fb, .cursor = 1};
    assert_int_equal(pthread_create(&t, NULL, follow_thread, &a), 0);
    usleep(50000);
    ss_filebuf_close(fb);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(a.rc, SS_ECLOSED);
    assert_int_equal(ss_filebuf_write(fb, "x\n", 2), SS_ECLOSED);
    ss_filebuf_free(fb);
}

static void test_wait_inotify(void **state)
{
    (void)state;
    run_wait("wait-inotify.log", 0);
}

static void test_wait_polling(void **state)
{
    (void)state;
    run_wait("wait-poll.log", SS_FILE_POLL);
}

/* A waiter keeps waiting across a compaction done by another process. */
static void test_wait_across_compaction(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "wait-compact.log");
    ss_filebuf *fb = file_open(path, &(ss_filebuf_opts){.maxlen = 3, .limit = 4});
    for (int i = 0; i < 4; i++)
        assert_int_equal(ss_filebuf_write(fb, "old\n", 4), 0);
    waiter_arg a = {.fb = fb, .cursor = 4};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, follow_thread, &a), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        usleep(100000);
        ss_filebuf *w = NULL;
        if (ss_filebuf_open(&w, path, NULL) < 0 || ss_filebuf_write(w, "new\n", 4) < 0)
            _exit(3);
        ss_filebuf_stats st;
        if (ss_filebuf_get_stats(w, &st) < 0 || st.compactions != 1)
            _exit(4);
        ss_filebuf_free(w);
        _exit(0);
    }
    assert_int_equal(file_wait_child(pid), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(a.rc, 1);
    assert_item_text(&a.set, 0, "new");
    assert_int_equal(a.set.items[0].seq, 5);
    ss_records_clear(&a.set);
    ss_filebuf_free(fb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_read),
        cmocka_unit_test(test_version_1_kept),
        cmocka_unit_test(test_sync_record_and_flush),
        cmocka_unit_test(test_writers_keep_partial_lines),
        cmocka_unit_test(test_write_nowait),
        cmocka_unit_test(test_processes_no_interleaving),
        cmocka_unit_test(test_processes_with_compaction),
        cmocka_unit_test(test_processes_sync_modes),
        cmocka_unit_test(test_cursor_and_clear),
        cmocka_unit_test(test_wait_inotify),
        cmocka_unit_test(test_wait_polling),
        cmocka_unit_test(test_wait_across_compaction),
    };
    return cmocka_run_group_tests(tests, file_tmpdir_make, file_tmpdir_remove);
}
