/* ss_filebuf's buffers are bounded (issue 17): a write call far larger than
 * max_pending is appended in parts, whole; while appends fail it holds at
 * most max_pending bytes (and one record), the newest, the rest counted as
 * dropped; the longest record fits every buffer; a damaged line of any length
 * between records is never read into memory. */
#include <sys/resource.h>

#include "file_test.h"

#include "file/filebuf_int.h"

#define LINE_TEXT 60 /* "line NNNNN" padded with '.' */

/* n lines "line i......" of LINE_TEXT bytes each, from first on. */
static char *make_lines(int first, int n, size_t *ret_len)
{
    char *buf = malloc((size_t)n * (LINE_TEXT + 1));
    assert_non_null(buf);
    for (int i = 0; i < n; i++) {
        char *p = buf + (size_t)i * (LINE_TEXT + 1);
        memset(p, '.', LINE_TEXT);
        int k = snprintf(p, LINE_TEXT, "line %d", first + i);
        p[k] = '.';
        p[LINE_TEXT] = '\n';
    }
    *ret_len = (size_t)n * (LINE_TEXT + 1);
    return buf;
}

/* The most pending may hold: max_pending and the longest record. */
static size_t pending_cap(const ss_filebuf *fb, const char *source)
{
    return fb->max_pending + 4 + ss__file_rest_max(strlen(source), fb->max_line);
}

/* One write of ~40 times max_pending: every line appended, in order, none
 * dropped, and the writer's memory stays within its caps. */
static void test_huge_write_appended_in_parts(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "huge.log");
    ss_filebuf *fb = file_open(path, &(ss_filebuf_opts){.maxlen = 100000, .max_pending = 4096});
    const int n = 3000;
    size_t len;
    char *data = make_lines(0, n, &len);
    assert_int_equal(ss_filebuf_write(fb, data, len), 0);
    assert_true(fb->defw.pending.alloc <= pending_cap(fb, ""));
    assert_true(fb->out.alloc <= SS__FILE_OUT_CAP);

    /* the same through an ss_filewriter (its own pending, fb->mu not held) */
    ss_filewriter *w = NULL;
    assert_int_equal(ss_filewriter_new(&w, fb, "w", 0), 0);
    free(data);
    data = make_lines(n, n, &len);
    assert_int_equal(ss_filewriter_write(w, data, len), 0);
    assert_true(w->st.pending.alloc <= pending_cap(fb, "w"));
    assert_int_equal(ss_filewriter_close(w), 0);
    free(data);

    ss_filebuf_stats st;
    assert_int_equal(ss_filebuf_get_stats(fb, &st), 0);
    assert_int_equal(st.last_seq, 2 * n);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.pending, 0);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_filebuf_read(fb, SS_READ_ALL, &set), 2 * n);
    for (int i = 0; i < 2 * n; i++) {
        int k = -1;
        assert_int_equal(sscanf(set.items[i].text, "line %d", &k), 1);
        assert_int_equal(k, i);
        assert_int_equal(set.items[i].len, LINE_TEXT);
    }
    ss_records_clear(&set);
    ss_filebuf_free(fb);
}

/* In a child whose files may not grow (RLIMIT_FSIZE): one huge write while
 * every append fails. Returns 0 or the number of the failed check. */
static int failing_huge_write(const char *path)
{
    ss_filebuf *fb = NULL;
    if (ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.maxlen = 100000, .max_pending = 4096}) < 0)
        return 1;
    struct stat sb;
    if (stat(path, &sb) < 0)
        return 2;
    struct rlimit rl;
    getrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = (rlim_t)sb.st_size;
    if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
        return 100;
    const int n = 3000;
    size_t len;
    char *data = make_lines(0, n, &len);
    int rc = ss_filebuf_write(fb, data, len);
    free(data);
    if (rc != -EFBIG)
        return 3;
    if (fb->defw.pending.alloc > pending_cap(fb, ""))
        return 4;
    ss_filebuf_stats st;
    if (ss_filebuf_get_stats(fb, &st) < 0 || st.dropped == 0 || st.pending == 0 ||
        st.dropped + st.pending != (uint64_t)n)
        return 5;
    /* the newest are held, in order */
    ss_records held = SS_RECORDS_INIT;
    if (ss_filebuf_unsent(fb, &held) != (int)st.pending)
        return 6;
    for (size_t i = 0; i < held.count; i++) {
        int k = -1;
        if (sscanf(held.items[i].text, "line %d", &k) != 1 || k != n - (int)held.count + (int)i)
            return 7;
    }
    ss_records_clear(&held);
    /* max_pending is held and cannot be appended: the next write is refused
     * whole */
    if (ss_filebuf_write(fb, "more\n", 5) != -ENOBUFS)
        return 8;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_FSIZE, &rl);
    if (ss_filebuf_flush(fb) != 0)
        return 9;
    ss_records set = SS_RECORDS_INIT;
    if (ss_filebuf_read(fb, SS_READ_ALL, &set) != (int)st.pending)
        return 10;
    int k = -1;
    if (sscanf(set.items[set.count - 1].text, "line %d", &k) != 1 || k != n - 1)
        return 11;
    ss_records_clear(&set);
    ss_filebuf_free(fb);
    return 0;
}

static void test_huge_write_while_appends_fail(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "failing.log");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        _exit(failing_huge_write(path));
    }
    assert_int_equal(file_wait_child(pid), 0);
}

/* The longest record (max_line at its limit, every byte escaped to 4) fits
 * the writer's, the appender's and the reader's caps, also two in one write
 * with a tiny max_pending. */
static void test_longest_records(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "longest.log");
    const size_t max = SS__FILE_MAX_LINE_LIMIT;
    ss_filebuf *fb = file_open(path, &(ss_filebuf_opts){.max_line = max, .max_pending = 1024});
    ss_filewriter *w = NULL;
    char source[SS_SOURCE_MAX];
    memset(source, ' ', sizeof(source) - 1); /* every byte escaped too */
    source[sizeof(source) - 1] = '\0';
    assert_int_equal(ss_filewriter_new(&w, fb, source, 0), 0);
    size_t len = 2 * (max + 1);
    char *data = malloc(len);
    assert_non_null(data);
    memset(data, 0x01, len);
    data[max] = data[len - 1] = '\n';
    assert_int_equal(ss_filewriter_write(w, data, len), 0);
    assert_int_equal(ss_filewriter_close(w), 0);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_filebuf_read(fb, SS_READ_ALL, &set), 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(set.items[i].len, max);
        assert_memory_equal(set.items[i].text, data, max);
    }
    ss_records_clear(&set);
    ss_filebuf_stats st;
    assert_int_equal(ss_filebuf_get_stats(fb, &st), 0);
    assert_int_equal(st.damaged, 0);
    free(data);
    ss_filebuf_free(fb);
}

/* A damaged line longer than any record (a file edited by hand) between
 * records: reads and compactions return and keep every record, and never
 * read the damaged line into memory. */
static void test_long_damaged_line_between_records(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "damaged.log");
    ss_filebuf *fb = file_open(path, &(ss_filebuf_opts){.maxlen = 20, .limit = 25});
    size_t len;
    char *data = make_lines(0, 10, &len);
    assert_int_equal(ss_filebuf_write(fb, data, len), 0);
    free(data);
    size_t junk = 2 * SS__FILE_LINE_CAP;
    char *bad = malloc(junk);
    assert_non_null(bad);
    memset(bad, 'x', junk);
    bad[junk - 1] = '\n';
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bad, junk), (ssize_t)junk);
    close(fd);
    free(bad);
    data = make_lines(10, 10, &len);
    assert_int_equal(ss_filebuf_write(fb, data, len), 0);
    free(data);

    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_filebuf_read(fb, SS_READ_ALL, &set), 20);
    ss_records_clear(&set);
    assert_true(fb->io.alloc <= SS__FILE_IO_CAP);
    ss_filebuf_stats st;
    assert_int_equal(ss_filebuf_get_stats(fb, &st), 0);
    assert_int_equal(st.damaged, 1);

    /* past the limit: a compaction keeps the newest 14 (across the damaged
     * line, which it drops), and the 6 new ones follow */
    data = make_lines(20, 6, &len);
    assert_int_equal(ss_filebuf_write(fb, data, len), 0);
    free(data);
    assert_int_equal(ss_filebuf_get_stats(fb, &st), 0);
    assert_int_equal(st.compactions, 1);
    assert_int_equal(st.damaged, 0);
    assert_int_equal(ss_filebuf_read(fb, SS_READ_ALL, &set), 20);
    for (int i = 0; i < 20; i++) {
        int k = -1;
        assert_int_equal(sscanf(set.items[i].text, "line %d", &k), 1);
        assert_int_equal(k, 6 + i);
    }
    ss_records_clear(&set);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size < (off_t)SS__FILE_LINE_CAP);
    ss_filebuf_free(fb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_write_appended_in_parts),
        cmocka_unit_test(test_huge_write_while_appends_fail),
        cmocka_unit_test(test_longest_records),
        cmocka_unit_test(test_long_damaged_line_between_records),
    };
    return cmocka_run_group_tests(tests, file_tmpdir_make, file_tmpdir_remove);
}
