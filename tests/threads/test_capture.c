/*
 * test_capture.c: ss_capture_begin/ss_capture_end on stdout, on private fds, with
 * threads, a child process and tee; no byte lost at stop, no fd leaked.
 *
 * Assertions run only while no capture is active on stdout: cmocka reports on
 * stdout, and a failure message swallowed by the capture would be lost.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static ss_linebuf *new_buf(size_t maxlen)
{
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {.maxlen = maxlen};
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    return lb;
}

static int open_devnull(void)
{
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

/* Find the record with this exact text; fail unless there is exactly one. */
static size_t find_once(const ss_records *set, const char *text)
{
    size_t found = SIZE_MAX, len = strlen(text);
    for (size_t i = 0; i < set->count; i++) {
        if (set->items[i].len == len && memcmp(set->items[i].text, text, len) == 0) {
            assert_int_equal(found, SIZE_MAX);
            found = i;
        }
    }
    assert_int_not_equal(found, SIZE_MAX);
    return found;
}

static void test_printf_stdout(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(100);
    ss_records set = SS_RECORDS_INIT;
    struct stat before, after;
    ss_capture *cap = NULL;

    assert_int_equal(fstat(STDOUT_FILENO, &before), 0);
    int r = ss_capture_begin(&cap, lb, STDOUT_FILENO, &(ss_capture_opts){.source = "out"});
    printf("hello\n");
    printf("in %s\n", "parts");
    fflush(stdout);
    printf("no newline, no fflush"); /* end() flushes stdio itself */
    int r_end = ss_capture_end(cap);

    assert_int_equal(r, 0);
    assert_int_equal(r_end, 0);
    /* The same file is back on stdout. */
    assert_int_equal(fstat(STDOUT_FILENO, &after), 0);
    assert_true(before.st_dev == after.st_dev && before.st_ino == after.st_ino);

    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 3);
    assert_item_text(&set, 0, "hello");
    assert_item_text(&set, 1, "in parts");
    assert_item_text(&set, 2, "no newline, no fflush");
    for (size_t i = 0; i < set.count; i++) {
        assert_string_equal(set.items[i].source, "out");
        assert_int_equal(set.items[i].flags & SS_REC_PARTIAL, 0);
    }
    assert_true(set.items[0].seq < set.items[1].seq && set.items[1].seq < set.items[2].seq);
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

/* Default source name, record flags, and printf text buffered before begin() stays out. */
static void test_default_source_and_flags(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(100);
    ss_records set = SS_RECORDS_INIT;
    ss_capture *cap = NULL;
    int fd = open_devnull();
    char want[16];

    snprintf(want, sizeof(want), "fd%d", fd);
    /* Still in stdio's buffer at begin(): it belongs to the original stdout. */
    printf("[ note     ] printed before begin, not captured:");
    int r = ss_capture_begin(&cap, lb, STDOUT_FILENO, NULL);
    int r_end = ss_capture_end(cap);
    printf(" ok\n");
    assert_int_equal(r, 0);
    assert_int_equal(r_end, 0);
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 0);

    assert_int_equal(ss_capture_begin(&cap, lb, fd, NULL), 0);
    assert_int_equal(write(fd, "x\n", 2), 2);
    assert_int_equal(ss_capture_end(cap), 0);
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 1);
    assert_item_text(&set, 0, "x");
    assert_string_equal(set.items[0].source, want);
    assert_int_equal(set.items[0].flags & SS_REC_STDERR, 0);

    ss_capture_opts err_opts = {.rec_flags = SS_REC_STDERR};
    assert_int_equal(ss_capture_begin(&cap, lb, fd, &err_opts), 0);
    assert_int_equal(write(fd, "y\n", 2), 2);
    assert_int_equal(ss_capture_end(cap), 0);
    assert_int_equal(ss_linebuf_read(lb, 1, &set), 1);
    assert_item_text(&set, 0, "y");
    assert_true(set.items[0].flags & SS_REC_STDERR);

    ss_records_clear(&set);
    close(fd);
    ss_linebuf_free(lb);
}

#define NTHREADS 4
#define LINES_PER_THREAD 2000

struct writer_arg {
    int fd;
    int id;
    int lines;
};

/* Each line is one write(2) below PIPE_BUF, so lines of different threads never mix. */
static void *line_writer(void *p)
{
    struct writer_arg *a = p;
    char line[64];
    for (int i = 0; i < a->lines; i++) {
        int len = snprintf(line, sizeof(line), "t%d line %d\n", a->id, i);
        if (write(a->fd, line, (size_t)len) != len)
            return (void *)1;
    }
    return NULL;
}

/* Check that thread t's lines 0..lines-1 all appear, exactly once each, in order. */
static void check_thread_lines(const ss_records *set, int nthreads, int lines)
{
    int next[NTHREADS] = {0};
    for (size_t i = 0; i < set->count; i++) {
        int t, n, used = 0;
        const ss_record *rec = &set->items[i];
        assert_int_equal(sscanf(rec->text, "t%d line %d%n", &t, &n, &used), 2);
        assert_int_equal((size_t)used, rec->len);
        assert_true(t >= 0 && t < nthreads);
        assert_int_equal(n, next[t]);
        next[t]++;
    }
    for (int t = 0; t < nthreads; t++)
        assert_int_equal(next[t], lines);
}

static void test_threads_write(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(NTHREADS * LINES_PER_THREAD + 10);
    ss_records set = SS_RECORDS_INIT;
    ss_capture *cap = NULL;
    pthread_t th[NTHREADS];
    struct writer_arg args[NTHREADS];
    int fd = open_devnull();

    assert_int_equal(ss_capture_begin(&cap, lb, fd, &(ss_capture_opts){.source = "w"}), 0);
    for (int t = 0; t < NTHREADS; t++) {
        args[t] = (struct writer_arg){.fd = fd, .id = t, .lines = LINES_PER_THREAD};
        assert_int_equal(pthread_create(&th[t], NULL, line_writer, &args[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++) {
        void *res;
        assert_int_equal(pthread_join(th[t], &res), 0);
        assert_null(res);
    }
    assert_int_equal(ss_capture_end(cap), 0);

    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), NTHREADS * LINES_PER_THREAD);
    check_thread_lines(&set, NTHREADS, LINES_PER_THREAD);
    ss_records_clear(&set);
    close(fd);
    ss_linebuf_free(lb);
}

static void test_child_process(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(100);
    ss_records set = SS_RECORDS_INIT;
    ss_capture *cap = NULL;
    int status = -1;

    int r = ss_capture_begin(&cap, lb, STDOUT_FILENO, &(ss_capture_opts){.source = "child"});
    pid_t pid = r == 0 ? fork() : -1;
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "echo child-out; printf tail-no-newline", (char *)NULL);
        _exit(127);
    }
    pid_t w = pid > 0 ? waitpid(pid, &status, 0) : -1;
    int r_end = ss_capture_end(cap);

    assert_int_equal(r, 0);
    assert_true(pid > 0);
    assert_int_equal(w, pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(r_end, 0);

    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 2);
    assert_item_text(&set, 0, "child-out");
    /* The unterminated tail is delivered by end() as the last record. */
    assert_item_text(&set, 1, "tail-no-newline");
    assert_string_equal(set.items[1].source, "child");
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_tee(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(100);
    ss_records set = SS_RECORDS_INIT;
    ss_capture *cap = NULL;
    int p[2];
    static const char text[] = "first\nsecond\r\nlast without newline";
    char got[256];
    size_t got_len = 0;

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(ss_capture_begin(&cap, lb, p[1], &(ss_capture_opts){.tee = true}), 0);
    assert_int_equal(write(p[1], text, 6), 6);
    assert_int_equal(write(p[1], text + 6, sizeof(text) - 1 - 6), sizeof(text) - 1 - 6);
    assert_int_equal(ss_capture_end(cap), 0);

    /* Every byte reached the original destination, unchanged, before end() returned.
     * Non-blocking reads: a leaked copy of the write end must not hang the test. */
    close(p[1]);
    assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
    for (ssize_t n; (n = read(p[0], got + got_len, sizeof(got) - got_len)) > 0;)
        got_len += (size_t)n;
    close(p[0]);
    assert_int_equal(got_len, sizeof(text) - 1);
    assert_memory_equal(got, text, got_len);

    /* And every line reached the buffer. */
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 3);
    assert_item_text(&set, 0, "first");
    assert_item_text(&set, 1, "second");
    assert_item_text(&set, 2, "last without newline");
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

/* Without tee, nothing reaches the original destination. */
static void test_no_tee(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(100);
    ss_records set = SS_RECORDS_INIT;
    ss_capture *cap = NULL;
    int p[2];
    char c;

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(ss_capture_begin(&cap, lb, p[1], NULL), 0);
    assert_int_equal(write(p[1], "only in the buffer\n", 19), 19);
    assert_int_equal(ss_capture_end(cap), 0);
    close(p[1]);
    assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
    assert_true(read(p[0], &c, 1) <= 0);
    close(p[0]);
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 1);
    assert_item_text(&set, 0, "only in the buffer");
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

/*
 * Bytes still in the pipe when end() is called are delivered. The captured fd is
 * the pipe's write end, so the test can enlarge the pipe and fill it in one write
 * just before end(): the reader, taking 64 KiB per read, is then almost surely
 * still behind when the stop signal arrives.
 */
static void test_end_drains_pipe(void **state)
{
    (void)state;
    enum { LINE = 16 }; /* "line 0000012345\n" */
    size_t size = 1024 * 1024;
    ss_linebuf *lb = new_buf(size / LINE + 10);
    ss_records set = SS_RECORDS_INIT;
    ss_capture *cap = NULL;
    int fd = open_devnull();

    assert_int_equal(ss_capture_begin(&cap, lb, fd, NULL), 0);
    int pipe_size = fcntl(fd, F_SETPIPE_SZ, (int)size);
    if (pipe_size < 0) /* over /proc/sys/fs/pipe-max-size: keep the default */
        pipe_size = fcntl(fd, F_GETPIPE_SZ);
    assert_true(pipe_size >= 4096);
    size_t lines = (size_t)pipe_size / LINE;
    char *data = malloc(lines * LINE + 1);
    assert_non_null(data);
    for (size_t i = 0; i < lines; i++)
        snprintf(data + i * LINE, LINE + 1, "line %010u\n", (unsigned)i);
    ssize_t n = write(fd, data, lines * LINE);
    int r_end = ss_capture_end(cap);
    free(data);
    assert_int_equal(n, (ssize_t)(lines * LINE));
    assert_int_equal(r_end, 0);

    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), (int)lines);
    for (size_t i = 0; i < lines; i++) {
        char want[LINE + 1];
        snprintf(want, sizeof(want), "line %010u", (unsigned)i);
        assert_item_text(&set, i, want);
    }
    ss_records_clear(&set);
    close(fd);
    ss_linebuf_free(lb);
}

#define BIG_THREADS 2
#define BIG_LINES 100000

static void test_large_volume(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(BIG_THREADS * BIG_LINES);
    ss_records set = SS_RECORDS_INIT;
    ss_linebuf_stats st;
    ss_capture *cap = NULL;
    pthread_t th[BIG_THREADS];
    struct writer_arg args[BIG_THREADS];
    int fd = open_devnull();

    assert_int_equal(ss_capture_begin(&cap, lb, fd, NULL), 0);
    for (int t = 0; t < BIG_THREADS; t++) {
        args[t] = (struct writer_arg){.fd = fd, .id = t, .lines = BIG_LINES};
        assert_int_equal(pthread_create(&th[t], NULL, line_writer, &args[t]), 0);
    }
    for (int t = 0; t < BIG_THREADS; t++) {
        void *res;
        assert_int_equal(pthread_join(th[t], &res), 0);
        assert_null(res);
    }
    assert_int_equal(ss_capture_end(cap), 0);

    assert_int_equal(ss_linebuf_get_stats(lb, &st), 0);
    assert_int_equal(st.written, BIG_THREADS * BIG_LINES);
    assert_int_equal(st.stored, BIG_THREADS * BIG_LINES);
    assert_int_equal(st.shed, 0);
    assert_int_equal(st.count, BIG_THREADS * BIG_LINES);

    /* Read in pages through the cursor, as a follower would. */
    uint64_t cursor = 0;
    size_t total = 0;
    int next[BIG_THREADS] = {0};
    for (;;) {
        int n = ss_linebuf_read_since(lb, cursor, 4096, &set);
        assert_true(n >= 0);
        if (n == 0)
            break;
        assert_int_equal(set.missed, 0);
        for (int i = 0; i < n; i++) {
            int t, k, used = 0;
            assert_int_equal(sscanf(set.items[i].text, "t%d line %d%n", &t, &k, &used), 2);
            assert_int_equal((size_t)used, set.items[i].len);
            assert_true(t >= 0 && t < BIG_THREADS);
            assert_int_equal(k, next[t]);
            next[t]++;
        }
        total += (size_t)n;
        cursor = set.cursor;
    }
    assert_int_equal(total, BIG_THREADS * BIG_LINES);
    for (int t = 0; t < BIG_THREADS; t++)
        assert_int_equal(next[t], BIG_LINES);
    assert_int_equal(cursor, st.last_seq);
    ss_records_clear(&set);
    close(fd);
    ss_linebuf_free(lb);
}

static void test_bad_args(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(10);
    ss_capture *cap = NULL;

    int closed_fd = open_devnull();
    close(closed_fd);
    assert_int_equal(ss_capture_begin(&cap, lb, closed_fd, NULL), -EBADF);
    assert_int_equal(ss_capture_begin(&cap, lb, -1, NULL), -EBADF);
    assert_int_equal(ss_capture_begin(&cap, NULL, STDOUT_FILENO, NULL), -EINVAL);
    assert_int_equal(ss_capture_begin(NULL, lb, STDOUT_FILENO, NULL), -EINVAL);
    assert_null(cap); /* written only on success */
    assert_int_equal(ss_capture_end(NULL), 0);
    ss_linebuf_free(lb);
}

/* begin on a closed buffer fails and changes nothing; a buffer closed during a
 * capture makes end() report SS_ECLOSED but still restore the fd. */
static void test_closed_buffer(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(10);
    ss_capture *cap = NULL;
    int p[2];
    char got[64];

    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    int fds = count_fds();
    assert_int_equal(ss_capture_begin(&cap, lb, p[1], NULL), 0);
    ss_linebuf_close(lb);
    assert_int_equal(write(p[1], "lost\n", 5), 5);
    assert_int_equal(ss_capture_end(cap), SS_ECLOSED);
    assert_int_equal(count_fds(), fds);

    assert_int_equal(ss_capture_begin(&cap, lb, p[1], NULL), SS_ECLOSED);
    assert_int_equal(count_fds(), fds);

    /* p[1] is the pipe again. */
    assert_int_equal(write(p[1], "direct", 6), 6);
    assert_int_equal(read(p[0], got, sizeof(got)), 6);
    assert_memory_equal(got, "direct", 6);
    close(p[0]);
    close(p[1]);
    ss_linebuf_free(lb);
}

static void test_no_fd_leak(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(100);
    ss_capture *cap = NULL;
    int fd = open_devnull();
    int cloexec_fd = open_devnull();
    assert_int_equal(fcntl(fd, F_SETFD, 0), 0);

    int before = count_fds();
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ss_capture_begin(&cap, lb, fd, NULL), 0);
        assert_int_equal(write(fd, "a\n", 2), 2);
        assert_int_equal(ss_capture_end(cap), 0);
        ss_capture_opts tee = {.tee = true};
        assert_int_equal(ss_capture_begin(&cap, lb, cloexec_fd, &tee), 0);
        assert_int_equal(ss_capture_end(cap), 0);
    }
    assert_int_equal(count_fds(), before);
    /* The fds keep their own close-on-exec flag across a capture. */
    assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    assert_int_equal(fcntl(cloexec_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

    close(fd);
    close(cloexec_fd);
    ss_linebuf_free(lb);
}

/* Two captures of the same fd, nested: the inner one ends first. */
static void test_nested(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(100);
    ss_records set = SS_RECORDS_INIT;
    ss_capture *outer = NULL, *inner = NULL;
    int fd = open_devnull();

    assert_int_equal(ss_capture_begin(&outer, lb, fd, &(ss_capture_opts){.source = "outer"}), 0);
    assert_int_equal(write(fd, "1\n", 2), 2);
    ss_capture_opts inner_opts = {.source = "inner", .tee = true};
    assert_int_equal(ss_capture_begin(&inner, lb, fd, &inner_opts), 0);
    assert_int_equal(write(fd, "2\n", 2), 2);
    assert_int_equal(ss_capture_end(inner), 0);
    assert_int_equal(write(fd, "3\n", 2), 2);
    assert_int_equal(ss_capture_end(outer), 0);

    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 4);
    assert_string_equal(set.items[find_once(&set, "1")].source, "outer");
    /* The inner capture's tee passed "2" on to the outer one. */
    size_t inner_2 = SIZE_MAX, outer_2 = SIZE_MAX;
    for (size_t i = 0; i < set.count; i++) {
        if (set.items[i].len == 1 && set.items[i].text[0] == '2') {
            if (strcmp(set.items[i].source, "inner") == 0)
                inner_2 = i;
            else if (strcmp(set.items[i].source, "outer") == 0)
                outer_2 = i;
        }
    }
    assert_int_not_equal(inner_2, SIZE_MAX);
    assert_int_not_equal(outer_2, SIZE_MAX);
    assert_string_equal(set.items[find_once(&set, "3")].source, "outer");
    ss_records_clear(&set);
    close(fd);
    ss_linebuf_free(lb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printf_stdout),
        cmocka_unit_test(test_default_source_and_flags),
        cmocka_unit_test(test_threads_write),
        cmocka_unit_test(test_child_process),
        cmocka_unit_test(test_tee),
        cmocka_unit_test(test_no_tee),
        cmocka_unit_test(test_end_drains_pipe),
        cmocka_unit_test(test_large_volume),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_closed_buffer),
        cmocka_unit_test(test_no_fd_leak),
        cmocka_unit_test(test_nested),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
