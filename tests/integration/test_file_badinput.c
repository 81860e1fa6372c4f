/* ss_filebuf and bad input or faults: missing and read-only directories, files
 * that are not ours (refused, never written), damaged files (what is whole is
 * read, the rest reported), a torn last record, a full disk (the error is
 * returned and the records stay with the writer), over-long lines. */
#include <sys/mount.h>
#include <sys/resource.h>

#include "file_test.h"

static void test_missing_directory(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "no/such/dir/x.log");
    ss_filebuf *fb = NULL;
    assert_int_equal(ss_filebuf_open(&fb, path, NULL), -ENOENT);
    assert_int_equal(ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.flags = SS_FILE_READONLY}),
                     -ENOENT);
    assert_null(fb);
}

/* Run fn as user nobody in a child (root passes every permission check);
 * returns the child's exit status. */
static int as_nobody(int (*fn)(const char *), const char *arg)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
            _exit(100);
        _exit(fn(arg));
    }
    return file_wait_child(pid);
}

static int open_expect_eacces(const char *path)
{
    ss_filebuf *fb = NULL;
    int rc = ss_filebuf_open(&fb, path, NULL);
    return rc == -EACCES ? 0 : 10 + (-rc & 0x7f);
}

static int open_readonly_reads(const char *path)
{
    ss_filebuf *fb = NULL;
    if (ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.flags = SS_FILE_READONLY}) < 0)
        return 1;
    ss_records set = SS_RECORDS_INIT;
    int n = ss_filebuf_read(fb, SS_READ_ALL, &set);
    int bad = n != 1 || strcmp(set.items[0].text, "kept") != 0;
    bad |= ss_filebuf_write(fb, "x\n", 2) != -EBADF;
    ss_records_clear(&set);
    ss_filebuf_free(fb);
    return bad;
}

/* A writable file in a directory where no file can be created: writes work,
 * compactions fail (counted), nothing is lost. */
static int write_without_compaction(const char *path)
{
    ss_filebuf *fb = NULL;
    if (ss_filebuf_open(&fb, path, NULL) < 0)
        return 1;
    int bad = 0;
    for (int i = 0; i < 5; i++)
        bad |= ss_filebuf_write(fb, "line\n", 5) != 0;
    ss_filebuf_stats st;
    bad |= ss_filebuf_get_stats(fb, &st) != 0 || st.compact_failed == 0 ||
           st.compact_error != -EACCES || st.last_seq != 5 || st.count != 2;
    ss_filebuf_free(fb);
    return bad ? 2 : 0;
}

static void test_read_only_directory(void **state)
{
    (void)state;
    char dir[256], path[300], existing[300];
    assert_int_equal(chmod(file_tmpdir, 0755), 0); /* so that nobody reaches "ro" */
    file_path(dir, sizeof(dir), "ro");
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(existing, sizeof(existing), "%s/existing.log", dir);
    ss_filebuf *fb = file_open(existing, NULL);
    assert_int_equal(ss_filebuf_write(fb, "kept\n", 5), 0);
    ss_filebuf_free(fb);
    assert_int_equal(chmod(existing, 0444), 0);
    char open_file[300];
    snprintf(open_file, sizeof(open_file), "%s/writable.log", dir);
    fb = file_open(open_file, &(ss_filebuf_opts){.maxlen = 2, .limit = 3});
    ss_filebuf_free(fb);
    assert_int_equal(chmod(open_file, 0666), 0);
    assert_int_equal(chmod(dir, 0555), 0);

    /* a new file cannot be made there; an existing read-only one cannot be
     * written, but can be read */
    snprintf(path, sizeof(path), "%s/new.log", dir);
    assert_int_equal(as_nobody(open_expect_eacces, path), 0);
    assert_int_equal(as_nobody(open_expect_eacces, existing), 0);
    assert_int_equal(as_nobody(open_readonly_reads, existing), 0);
    assert_int_equal(as_nobody(write_without_compaction, open_file), 0);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(chmod(dir, 0755), 0);
}

/* Files that are not ours are refused and left byte for byte as they were. */
static void test_not_ours_refused(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *data;
        size_t len;
    } cases[] = {
        {"config.txt", "important data\nline 2\n", 22},
        {"script.sh", "#!/bin/sh\necho hi\n", 18},
        {"binary.bin",
         "\x7f"
         "ELF\x02\x01\x01\0\0\0\0\0",
         12},
        {"newer.log", "#syncstream-file 3 maxlen=5\n1 whatever\n", 39},
        {"no-newline.txt", "just one line, no break", 23},
        {"comment.log", "# syncstream-file 1 maxlen=5\n", 29},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[256];
        file_path(path, sizeof(path), cases[i].name);
        file_put(path, cases[i].data, cases[i].len, O_TRUNC);
        ss_filebuf *fb = NULL;
        assert_int_equal(ss_filebuf_open(&fb, path, NULL), SS_EFORMAT);
        assert_int_equal(ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.flags = SS_FILE_READONLY}),
                         SS_EFORMAT);
        size_t len;
        char *now = file_slurp(path, &len);
        assert_int_equal(len, cases[i].len);
        assert_memory_equal(now, cases[i].data, len);
        free(now);
    }
    /* a directory */
    ss_filebuf *fb = NULL;
    assert_int_equal(ss_filebuf_open(&fb, file_tmpdir, NULL), -EISDIR);

    /* our magic with a damaged header: refused as damaged, not rewritten */
    char path[256];
    file_path(path, sizeof(path), "bad-header.log");
    const char *bad = "#syncstream-file 1 maxlen=ten limit=20 max-bytes=0 base=0\n";
    file_put(path, bad, strlen(bad), O_TRUNC);
    assert_int_equal(ss_filebuf_open(&fb, path, NULL), SS_ECORRUPT);
    char *now = file_slurp(path, NULL);
    assert_string_equal(now, bad);
    free(now);

    /* an empty file (touch) is taken and given a header */
    file_path(path, sizeof(path), "empty.log");
    file_put(path, "", 0, O_TRUNC);
    fb = file_open(path, NULL);
    assert_int_equal(ss_filebuf_write(fb, "first\n", 6), 0);
    ss_filebuf_free(fb);
    now = file_slurp(path, NULL);
    assert_true(strncmp(now, "#syncstream-file 2 ", 19) == 0);
    free(now);
}

/* Replace line `line_no` (1: the header) of a file by `with`. */
static void replace_line(const char *path, int line_no, const char *with)
{
    size_t len;
    char *data = file_slurp(path, &len);
    char *start = data;
    for (int i = 1; i < line_no; i++)
        start = strchr(start, '\n') + 1;
    char *end = strchr(start, '\n');
    size_t out_len = (size_t)(start - data) + strlen(with) + (len - (size_t)(end - data));
    char *out = malloc(out_len);
    memcpy(out, data, (size_t)(start - data));
    memcpy(out + (start - data), with, strlen(with));
    memcpy(out + (start - data) + strlen(with), end, len - (size_t)(end - data));
    file_put(path, out, out_len, O_TRUNC);
    free(out);
    free(data);
}

static void test_damaged_records(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "damaged.log");
    ss_filebuf *fb = file_open(path, NULL);
    char line[32];
    for (int i = 1; i <= 10; i++) {
        int n = snprintf(line, sizeof(line), "record %d\n", i);
        assert_int_equal(ss_filebuf_write(fb, line, (size_t)n), 0);
    }
    ss_filebuf_free(fb);

    /* record 4 gets a flipped byte, record 7 is replaced by garbage, and zeros
     * (what a machine crash can leave) take record 9's place */
    size_t len;
    char *data = file_slurp(path, &len);
    char *rec4 = strstr(data, "record 4");
    rec4[0] = 'R';
    file_put(path, data, len, O_TRUNC);
    free(data);
    replace_line(path, 8, "this is not a record");
    replace_line(path, 10, "\x01\x01\x01\x01\x01\x01\x01\x01");
    data = file_slurp(path, &len);
    char *z = strstr(data, "\x01\x01");
    memset(z, 0, 8);
    file_put(path, data, len, O_TRUNC);
    free(data);

    fb = file_open(path, NULL);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_filebuf_read(fb, SS_READ_ALL, &set), 7);
    const int whole[] = {1, 2, 3, 5, 6, 8, 10};
    for (size_t i = 0; i < 7; i++) {
        snprintf(line, sizeof(line), "record %d", whole[i]);
        assert_item_text(&set, i, line);
        assert_int_equal(set.items[i].seq, (uint64_t)whole[i]);
    }
    ss_filebuf_stats st;
    assert_int_equal(ss_filebuf_get_stats(fb, &st), 0);
    assert_int_equal(st.damaged, 3);
    assert_int_equal(st.first_damaged_line, 5); /* the header is line 1 */
    /* a cursor reader counts the damaged ones as missed */
    assert_int_equal(ss_filebuf_read_since(fb, 0, 0, &set), 7);
    assert_int_equal(set.missed, 3);
    /* and writing goes on after the newest whole record */
    assert_int_equal(ss_filebuf_write(fb, "record 11\n", 10), 0);
    assert_int_equal(ss_filebuf_read(fb, 1, &set), 1);
    assert_int_equal(set.items[0].seq, 11);
    ss_records_clear(&set);
    ss_filebuf_free(fb);
}

static void test_torn_last_record(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "torn.log");
    ss_filebuf *fb = file_open(path, NULL);
    assert_int_equal(ss_filebuf_write(fb, "whole\n", 6), 0);
    ss_filebuf_free(fb);
    /* what a writer killed in the middle of its write(2) leaves */
    const char *torn = "2 2026-11-22T00:43:19.123456789Z dead line half a rec";
    file_put(path, torn, strlen(torn), O_APPEND);

    ss_filebuf *r = file_open(path, &(ss_filebuf_opts){.flags = SS_FILE_READONLY});
    size_t len;
    assert_int_equal(ss_filebuf_len(r, &len), 0);
    assert_int_equal(len, 1); /* readers see whole records only */

    fb = file_open(path, &(ss_filebuf_opts){.source = "next"});
    assert_int_equal(ss_filebuf_write(fb, "after\n", 6), 0);
    ss_filebuf_stats st;
    assert_int_equal(ss_filebuf_get_stats(fb, &st), 0);
    assert_int_equal(st.repaired, 1);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_filebuf_read(r, SS_READ_ALL, &set), 2);
    assert_item_text(&set, 0, "whole");
    assert_item_text(&set, 1, "after");
    assert_int_equal(set.items[1].seq, 2);
    assert_int_equal(ss_filebuf_get_stats(r, &st), 0);
    assert_int_equal(st.damaged, 0);
    ss_records_clear(&set);
    ss_filebuf_free(r);
    ss_filebuf_free(fb);
    char *now = file_slurp(path, NULL);
    assert_null(strstr(now, "half a rec"));
    free(now);
}

/* A compactor that died between its moved marker and its rename leaves the
 * marker in the file the path still names: the next writer removes it and goes
 * on; a handle that saw the marker before reads (and writes) on after it, and
 * never cuts what another writer appended meanwhile. */
static void test_dead_compactor_marker(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "marker.log");
    ss_filebuf *a = file_open(path, &(ss_filebuf_opts){.source = "a"});
    ss_filebuf *b = file_open(path, &(ss_filebuf_opts){.source = "b"});
    assert_int_equal(ss_filebuf_write(a, "one\n", 4), 0);
    file_put(path, "#syncstream-moved\n", 18, O_APPEND);

    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_filebuf_read(b, SS_READ_ALL, &set), 1); /* b sees the marker */
    assert_int_equal(ss_filebuf_write(a, "two\n", 4), 0);       /* a removes it */
    assert_int_equal(ss_filebuf_read(b, SS_READ_ALL, &set), 2);
    assert_item_text(&set, 1, "two");
    assert_int_equal(ss_filebuf_write(b, "three\n", 6), 0);
    assert_int_equal(ss_filebuf_read(a, SS_READ_ALL, &set), 3);
    assert_item_text(&set, 0, "one");
    assert_item_text(&set, 1, "two");
    assert_item_text(&set, 2, "three");
    assert_int_equal(set.items[2].seq, 3);
    ss_filebuf_stats st;
    assert_int_equal(ss_filebuf_get_stats(a, &st), 0);
    assert_int_equal(st.damaged, 0);
    ss_records_clear(&set);
    ss_filebuf_free(a);
    ss_filebuf_free(b);
    char *text = file_slurp(path, NULL);
    assert_null(strstr(text, "moved"));
    free(text);
}

/* ---- a full disk ---- */

/* Write numbered lines until an append fails; returns how many were written
 * (the failing one included: its records are held). */
static int write_until_full(ss_filebuf *fb, int *ret_err)
{
    char line[128];
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(line, sizeof(line), "line %06d %s\n", i,
                         "padding padding padding padding padding padding");
        int rc = ss_filebuf_write(fb, line, (size_t)n);
        if (rc < 0) {
            *ret_err = rc;
            return i + 1;
        }
    }
    *ret_err = 0;
    return 100000;
}

/* Check that the newest `want` records of fb are lines total-want .. total-1. */
static int check_tail(ss_filebuf *fb, int total, int want)
{
    ss_records set = SS_RECORDS_INIT;
    int bad = ss_filebuf_read(fb, SS_READ_ALL, &set) != want;
    for (int k = 0; !bad && k < want; k++) {
        int i = -1;
        bad |= sscanf(set.items[k].text, "line %d", &i) != 1 || i != total - want + k;
        bad |= set.items[k].seq != (uint64_t)(total - want + k + 1);
    }
    ss_records_clear(&set);
    ss_filebuf_stats st;
    bad |= ss_filebuf_get_stats(fb, &st) < 0 || st.damaged != 0 || st.pending != 0;
    return bad;
}

/*
 * Fill the disk under a log file, check that the error comes back and that the
 * records stay with the writer, then make room (free_space) and check that a
 * flush appends them all, in order. With whole_fs (a real full file system, not
 * a per-file size limit), a second, small file whose appends and compactions
 * fail meanwhile must come back with its newest records too. Returns 0 when
 * every check passed, else the number of the check that failed.
 */
static int full_disk_checks(const char *dir, void (*free_space)(const char *), bool whole_fs)
{
    char big[300], small[300];
    snprintf(big, sizeof(big), "%s/big.log", dir);
    snprintf(small, sizeof(small), "%s/small.log", dir);
    ss_filebuf *fb = NULL, *fs = NULL;
    if (ss_filebuf_open(&fb, big, &(ss_filebuf_opts){.maxlen = 100000}) < 0 ||
        ss_filebuf_open(&fs, small, &(ss_filebuf_opts){.maxlen = 4, .limit = 8}) < 0)
        return 1;
    int err;
    int n = write_until_full(fb, &err);
    if (err != -ENOSPC && err != -EFBIG)
        return 2;
    /* the disk stays full: the next write fails too and its line is held */
    if (ss_filebuf_write(fb, "one more\n", 9) != err)
        return 3;
    ss_filebuf_stats st;
    if (ss_filebuf_get_stats(fb, &st) < 0 || st.pending < 2 || st.damaged != 0)
        return 4;
    /* what a caller giving up would show: the held records, unnumbered */
    ss_records held = SS_RECORDS_INIT;
    if (ss_filebuf_unsent(fb, &held) != (int)st.pending || held.items[0].seq != 0 ||
        strcmp(held.items[held.count - 1].text, "one more") != 0 ||
        strncmp(held.items[0].text, "line ", 5) != 0)
        return 12;
    ss_records_clear(&held);
    /* The small file still has room in its last page; its compactions need
     * a new file and fail first, so it grows until its appends fail too. */
    int err_small = err, ns = whole_fs ? write_until_full(fs, &err_small) : 0;
    if (err_small != err)
        return 5;
    if (whole_fs && (ss_filebuf_get_stats(fs, &st) < 0 || st.compact_failed == 0 ||
                     st.compact_error != -ENOSPC))
        return 11;
    free_space(dir);
    if (ss_filebuf_flush(fb) != 0 || ss_filebuf_flush(fs) != 0)
        return 6;
    /* every line, in order, the extra one last */
    ss_records set = SS_RECORDS_INIT;
    if (ss_filebuf_read(fb, SS_READ_ALL, &set) != n + 1 ||
        strcmp(set.items[n].text, "one more") != 0)
        return 7;
    ss_records_clear(&set);
    ss_filebuf_free(fb);
    fb = NULL;
    if (ss_filebuf_open(&fb, big, NULL) < 0 || ss_filebuf_read(fb, (size_t)n + 1, &set) != n + 1)
        return 8;
    for (int k = 0; k < n; k++) {
        int i = -1;
        if (sscanf(set.items[k].text, "line %d", &i) != 1 || i != k)
            return 9;
    }
    if (whole_fs && check_tail(fs, ns, 4) != 0)
        return 10;
    ss_records_clear(&set);
    ss_filebuf_free(fb);
    ss_filebuf_free(fs);
    return 0;
}

static void remove_filler(const char *dir)
{
    char filler[300];
    snprintf(filler, sizeof(filler), "%s/filler", dir);
    unlink(filler);
}

static void raise_fsize_limit(const char *dir)
{
    (void)dir;
    struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
    getrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_FSIZE, &rl);
}

/*
 * A really full file system: a 256 KiB tmpfs mounted for the test (this needs
 * root, which the CI container has), with a filler file taking most of it.
 * Where mounting is not allowed the same checks run in a child under
 * RLIMIT_FSIZE, where a write past the limit fails with EFBIG the same way.
 */
static void test_disk_full(void **state)
{
    (void)state;
    char dir[256];
    file_path(dir, sizeof(dir), "tmpfs");
    assert_int_equal(mkdir(dir, 0755), 0);
    if (mount("tmpfs", dir, "tmpfs", 0, "size=256k") == 0) {
        char filler[300];
        snprintf(filler, sizeof(filler), "%s/filler", dir);
        int fd = open(filler, O_WRONLY | O_CREAT, 0644);
        assert_true(fd >= 0);
        static char block[4096];
        size_t total = 0;
        while (total < 200 * 1024 && write(fd, block, sizeof(block)) == (ssize_t)sizeof(block))
            total += sizeof(block);
        close(fd);
        int rc = full_disk_checks(dir, remove_filler, true);
        if (umount(dir) < 0)
            umount2(dir, MNT_DETACH); /* a failed check left a file open */
        assert_int_equal(rc, 0);
        return;
    }
    print_message("mounting a tmpfs is not allowed here (%s): RLIMIT_FSIZE instead, "
                  "without the check of a second file\n",
                  ss_strerror(-errno));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl;
        getrlimit(RLIMIT_FSIZE, &rl);
        rl.rlim_cur = 48 * 1024;
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
            _exit(100);
        _exit(full_disk_checks(dir, raise_fsize_limit, false));
    }
    assert_int_equal(file_wait_child(pid), 0);
}

/* One write of more records than the limit (and of more than maxlen): the
 * file never holds more than its limit, every record is appended in turn
 * (numbered), none is dropped, the newest maxlen are kept. */
static void test_write_past_limit(void **state)
{
    (void)state;
    char path[256], text[200];
    file_path(path, sizeof(path), "burst.log");
    ss_filebuf *fb = file_open(path, &(ss_filebuf_opts){.maxlen = 4, .limit = 6});
    size_t len = 0;
    for (int i = 1; i <= 20; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%d\n", i);
    assert_int_equal(ss_filebuf_write(fb, text, len), 0);
    size_t size = 0;
    char *data = file_slurp(path, &size);
    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    free(data);
    assert_true(lines <= 1 + 6); /* the header and at most the limit */
    ss_filebuf_stats st;
    assert_int_equal(ss_filebuf_get_stats(fb, &st), 0);
    assert_int_equal(st.last_seq, 20);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.pending, 0);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_filebuf_read(fb, SS_READ_ALL, &set), 4);
    assert_string_equal(set.items[0].text, "17");
    assert_string_equal(set.items[3].text, "20");
    ss_records_clear(&set);
    ss_filebuf_free(fb);
}

/* ---- lines and options ---- */

static void test_long_lines_and_bytes(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "long.log");
    ss_filebuf *fb = file_open(path, &(ss_filebuf_opts){.max_line = 100});
    char big[251];
    memset(big, 'x', 250);
    big[250] = '\n';
    assert_int_equal(ss_filebuf_write(fb, big, 251), 0);
    const char odd[] = "nul\0 tab\t esc\x1b bad utf8 \xff\xfe\xc3( cr\r";
    assert_int_equal(ss_filebuf_append(fb, SS_KIND_LINE, odd, sizeof(odd) - 1), 0);
    assert_int_equal(ss_filebuf_append(fb, SS_KIND_ERROR, big, 101), SS_ETOOBIG);

    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_filebuf_read(fb, SS_READ_ALL, &set), 4);
    assert_int_equal(set.items[0].len, 100);
    assert_true(set.items[0].flags & SS_REC_CONTINUED);
    assert_int_equal(set.items[1].len, 100);
    assert_int_equal(set.items[2].len, 50);
    assert_false(set.items[2].flags & SS_REC_CONTINUED);
    /* trailing "\r" trimmed as a line break, every other byte kept */
    assert_int_equal(set.items[3].len, sizeof(odd) - 2);
    assert_memory_equal(set.items[3].text, odd, sizeof(odd) - 2);
    ss_records_clear(&set);
    ss_filebuf_free(fb);
}

static void test_bad_options(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "opts.log");
    ss_filebuf *fb = NULL;
    assert_int_equal(ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.maxlen = 10, .limit = 10}),
                     -EINVAL);
    assert_int_equal(ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.max_line = 2u << 20}), -EINVAL);
    assert_int_equal(ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.sync = 7}), -EINVAL);
    assert_int_equal(ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.flags = 1u << 9}), -EINVAL);
    assert_int_equal(ss_filebuf_open(&fb, "", NULL), -EINVAL);
    assert_int_equal(ss_filebuf_open(NULL, path, NULL), -EINVAL);
    assert_int_equal(access(path, F_OK), -1); /* nothing was created */
    fb = file_open(path, NULL);
    ss_filewriter *w = NULL;
    assert_int_equal(ss_filewriter_new(&w, fb, "x", 1u << 20), -EINVAL);
    assert_int_equal(ss_filebuf_append(fb, (ss_kind)9, "x", 1), -EINVAL);
    assert_int_equal(ss_filebuf_write(fb, NULL, 3), -EINVAL);
    ss_filebuf_free(fb);
    ss_filebuf_free(NULL);
    assert_int_equal(ss_filewriter_close(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_directory),
        cmocka_unit_test(test_read_only_directory),
        cmocka_unit_test(test_not_ours_refused),
        cmocka_unit_test(test_damaged_records),
        cmocka_unit_test(test_torn_last_record),
        cmocka_unit_test(test_dead_compactor_marker),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_write_past_limit),
        cmocka_unit_test(test_long_lines_and_bytes),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, file_tmpdir_make, file_tmpdir_remove);
}
