/* ss_linebuf: PROTOCOL.md's reading semantics, rotation, policies, writers,
 * grouped records, cursor reads and file-backed rings. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#include "ring/ring.h"

static ss_linebuf *new_buf(size_t maxlen)
{
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {.maxlen = maxlen};
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    return lb;
}

static void write_str(ss_linebuf *lb, const char *s)
{
    assert_int_equal(ss_linebuf_write(lb, s, strlen(s)), 0);
}

static size_t len_of(ss_linebuf *lb)
{
    size_t n = 99999;
    assert_int_equal(ss_linebuf_len(lb, &n), 0);
    return n;
}

/* The example at the end of PROTOCOL.md. */
static void test_protocol_example(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(10);
    ss_records set = SS_RECORDS_INIT;
    write_str(lb, "Hello!\n");
    write_str(lb, "a b\n");
    write_str(lb, "x\n y\n");
    write_str(lb, "tail");
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 5);
    assert_item_text(&set, 0, "Hello!");
    assert_item_text(&set, 1, "a b");
    assert_item_text(&set, 2, "x");
    assert_item_text(&set, 3, " y");
    assert_item_text(&set, 4, "tail");
    assert_true(set.items[4].flags & SS_REC_PARTIAL);
    assert_int_equal(set.items[0].seq, 1);
    assert_int_equal(set.items[3].seq, 4);
    assert_int_equal(ss_linebuf_read(lb, 2, &set), 2);
    assert_item_text(&set, 0, " y");
    assert_item_text(&set, 1, "tail");
    assert_int_equal(len_of(lb), 5);
    assert_int_equal(ss_linebuf_maxlen(lb), 10);
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_read_edges(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(3);
    ss_records set = SS_RECORDS_INIT;

    /* empty */
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 0);
    assert_int_equal(set.count, 0);
    assert_int_equal(len_of(lb), 0);

    /* exactly full */
    write_str(lb, "1\n2\n3\n");
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 3);
    assert_item_text(&set, 0, "1");
    assert_item_text(&set, 2, "3");
    assert_int_equal(len_of(lb), 3);

    /* rotation drops the oldest */
    write_str(lb, "4\n");
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 3);
    assert_item_text(&set, 0, "2");
    assert_item_text(&set, 2, "4");

    /* full with a partial line: the oldest record leaves the view, not the ring */
    write_str(lb, "p");
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 3);
    assert_item_text(&set, 0, "3");
    assert_item_text(&set, 1, "4");
    assert_item_text(&set, 2, "p");
    assert_int_equal(len_of(lb), 3);
    ss_linebuf_stats st;
    assert_int_equal(ss_linebuf_get_stats(lb, &st), 0);
    assert_int_equal(st.count, 3);

    /* n = 0, n = 1, n > maxlen */
    assert_int_equal(ss_linebuf_read(lb, 0, &set), 0);
    assert_int_equal(ss_linebuf_read(lb, 1, &set), 1);
    assert_item_text(&set, 0, "p");
    assert_int_equal(ss_linebuf_read(lb, 1000, &set), 3);

    /* new_line ends the partial line; a second one does nothing */
    assert_int_equal(ss_linebuf_new_line(lb), 0);
    assert_int_equal(ss_linebuf_new_line(lb), 0);
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 3);
    assert_item_text(&set, 0, "3");
    assert_item_text(&set, 2, "p");
    assert_false(set.items[2].flags & SS_REC_PARTIAL);

    /* after clear */
    write_str(lb, "q");
    assert_int_equal(ss_linebuf_clear(lb), 0);
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 0);
    assert_int_equal(len_of(lb), 0);
    write_str(lb, "after\n");
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 1);
    assert_item_text(&set, 0, "after");
    assert_int_equal(set.items[0].seq, 6); /* seq goes on after a clear */

    /* after close */
    ss_linebuf_close(lb);
    size_t n;
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), SS_ECLOSED);
    assert_int_equal(ss_linebuf_len(lb, &n), SS_ECLOSED);
    assert_int_equal(ss_linebuf_write(lb, "x\n", 2), SS_ECLOSED);
    assert_int_equal(ss_linebuf_new_line(lb), SS_ECLOSED);
    assert_int_equal(ss_linebuf_append(lb, SS_KIND_ERROR, "e", 1), SS_ECLOSED);
    assert_int_equal(ss_linebuf_clear(lb), SS_ECLOSED);
    assert_int_equal(ss_linebuf_get_stats(lb, &st), SS_ECLOSED);
    assert_int_equal(ss_linebuf_read_since(lb, 0, 0, &set), SS_ECLOSED);
    assert_int_equal(ss_linebuf_wait(lb, 0, -1), SS_ECLOSED);
    ss_writer *w = NULL;
    assert_int_equal(ss_writer_new(&w, lb, "late", 0), SS_ECLOSED);
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_maxlen_one_with_partial(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(1);
    ss_records set = SS_RECORDS_INIT;
    write_str(lb, "a\nb");
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 1);
    assert_item_text(&set, 0, "b");
    assert_int_equal(len_of(lb), 1);
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_grouped_records(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(10);
    ss_records set = SS_RECORDS_INIT;
    const char *tb = "Traceback:\n  line 1\nValueError: bad\n";
    write_str(lb, "partial");
    assert_int_equal(ss_linebuf_append(lb, SS_KIND_ERROR, tb, strlen(tb)), 0);
    assert_int_equal(ss_linebuf_append(lb, SS_KIND_WARNING, "careful", 7), 0);
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 3);
    assert_item_text(&set, 0, "partial"); /* the partial line was ended first */
    assert_int_equal(set.items[0].kind, SS_KIND_LINE);
    assert_item_text(&set, 1, "Traceback:\n  line 1\nValueError: bad");
    assert_int_equal(set.items[1].kind, SS_KIND_ERROR);
    assert_item_text(&set, 2, "careful");
    assert_int_equal(set.items[2].kind, SS_KIND_WARNING);
    assert_int_equal(ss_linebuf_append(lb, (ss_kind)7, "x", 1), -EINVAL);
    assert_string_equal(ss_kind_name(SS_KIND_WARNING), "warning");
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

/* SS_LINE_CR_REDRAW: each state of a redrawn line is a record, flagged; it
 * goes with neither of the other "\r" rules. */
static void test_cr_redraw(void **state)
{
    (void)state;
    ss_linebuf *lb;
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_new(&lb, &(ss_linebuf_opts){.line_flags = SS_LINE_CR_REDRAW |
                                                                          SS_LINE_CR_IS_BREAK}),
                     -EINVAL);
    assert_int_equal(ss_linebuf_new(&lb, &(ss_linebuf_opts){.line_flags = SS_LINE_CR_REDRAW}), 0);
    write_str(lb, "1/2\r2/2\ndone\n");
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 3);
    assert_item_text(&set, 0, "1/2");
    assert_int_equal(set.items[0].flags, SS_REC_REDRAW);
    assert_item_text(&set, 1, "2/2");
    assert_int_equal(set.items[1].flags, 0);
    assert_item_text(&set, 2, "done");
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_drop_newest_policy(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {.maxlen = 2, .full = SS_FULL_DROP_NEWEST};
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    ss_records set = SS_RECORDS_INIT;
    write_str(lb, "1\n2\n3\n4\n");
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 2);
    assert_item_text(&set, 0, "1");
    assert_item_text(&set, 1, "2");
    ss_linebuf_stats st;
    assert_int_equal(ss_linebuf_get_stats(lb, &st), 0);
    assert_int_equal(st.written, 4);
    assert_int_equal(st.stored, 2);
    assert_int_equal(st.shed, 2);
    assert_int_equal(st.last_seq, 2);
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_counters_drop_oldest(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(5);
    for (int i = 0; i < 12; i++)
        write_str(lb, "line\n");
    ss_linebuf_stats st;
    assert_int_equal(ss_linebuf_get_stats(lb, &st), 0);
    assert_int_equal(st.written, 12);
    assert_int_equal(st.stored, 12);
    assert_int_equal(st.shed, 7);
    assert_int_equal(st.count, 5);
    assert_int_equal(st.count + st.shed, st.written);
    assert_int_equal(st.maxlen, 5);
    ss_linebuf_free(lb);
}

static void test_byte_bound_rotates(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    /* max_bytes is raised to 2 * max_line = 256: 100-byte lines (104 with
     * alignment) fit two at a time. */
    ss_linebuf_opts opts = {.maxlen = 100, .max_line = 128, .max_bytes = 1};
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    char line[101];
    for (int i = 0; i < 10; i++) {
        memset(line, 'a' + i, 100);
        line[100] = '\n';
        assert_int_equal(ss_linebuf_write(lb, line, sizeof(line)), 0);
    }
    ss_records set = SS_RECORDS_INIT;
    int n = ss_linebuf_read(lb, SS_READ_ALL, &set);
    assert_true(n >= 1 && n <= 2);
    assert_int_equal(set.items[n - 1].text[0], 'j');
    assert_int_equal(set.items[n - 1].len, 100);
    ss_linebuf_stats st;
    assert_int_equal(ss_linebuf_get_stats(lb, &st), 0);
    assert_int_equal(st.count + st.shed, 10);
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_heap_arena_grows_keeping_order(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(5000);
    char line[64];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(line, sizeof(line), "record %06d with some padding text\n", i);
        assert_int_equal(ss_linebuf_write(lb, line, (size_t)n), 0);
    }
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 5000);
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(line, sizeof(line), "record %06d with some padding text", i);
        assert_int_equal(set.items[i].len, (size_t)n);
        assert_memory_equal(set.items[i].text, line, (size_t)n);
        assert_int_equal(set.items[i].seq, (uint64_t)i + 1);
    }
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_writers_keep_partials_apart(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(10);
    ss_writer *a = NULL, *b = NULL;
    assert_int_equal(ss_writer_new(&a, lb, "alpha", 0), 0);
    assert_int_equal(ss_writer_new(&b, lb, "beta", SS_REC_STDERR), 0);
    assert_int_equal(ss_writer_write(a, "a1-", 3), 0);
    assert_int_equal(ss_writer_write(b, "b1-", 3), 0);
    assert_int_equal(ss_writer_write(a, "a2\n", 3), 0);
    assert_int_equal(ss_writer_write(b, "b2\n", 3), 0);
    assert_int_equal(ss_writer_write(a, "unfinished", 10), 0);
    assert_int_equal(ss_writer_append(b, SS_KIND_WARNING, "warn\n", 5), 0);

    ss_records set = SS_RECORDS_INIT;
    /* a writer's partial line is private until completed */
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 3);
    assert_item_text(&set, 0, "a1-a2");
    assert_string_equal(set.items[0].source, "alpha");
    /* each writer's records carry its id, 1 and 2 in the order made */
    assert_int_equal(ss_writer_id(a), 1);
    assert_int_equal(ss_writer_id(b), 2);
    assert_int_equal(ss_writer_id(NULL), 0);
    assert_int_equal(set.items[0].producer, 1);
    assert_int_equal(set.items[1].producer, 2);
    assert_int_equal(set.items[2].producer, 2);
    assert_int_equal(set.items[0].flags, 0);
    assert_item_text(&set, 1, "b1-b2");
    assert_string_equal(set.items[1].source, "beta");
    assert_true(set.items[1].flags & SS_REC_STDERR);
    assert_item_text(&set, 2, "warn");
    assert_int_equal(set.items[2].kind, SS_KIND_WARNING);

    assert_int_equal(ss_writer_close(a), 0); /* ends "unfinished" */
    assert_int_equal(ss_writer_close(b), 0);
    assert_int_equal(ss_writer_close(NULL), 0);
    assert_int_equal(ss_linebuf_read(lb, 1, &set), 1);
    assert_item_text(&set, 0, "unfinished");
    assert_int_equal(set.items[0].producer, 1);
    /* the default writer's records carry 0 */
    assert_int_equal(ss_linebuf_write(lb, "d\n", 2), 0);
    assert_int_equal(ss_linebuf_read(lb, 1, &set), 1);
    assert_int_equal(set.items[0].producer, 0);
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_long_source_is_cut(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {.source = "a-very-long-source-name-that-goes-on-and-on"};
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    write_str(lb, "x\n");
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 1);
    assert_int_equal(strlen(set.items[0].source), SS_SOURCE_MAX - 1);
    assert_memory_equal(set.items[0].source, opts.source, SS_SOURCE_MAX - 1);
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_cursor_reads_and_missed(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(4);
    ss_records set = SS_RECORDS_INIT;
    write_str(lb, "1\n2\n3\n");
    assert_int_equal(ss_linebuf_read_since(lb, 0, 2, &set), 2);
    assert_item_text(&set, 0, "1");
    assert_item_text(&set, 1, "2");
    assert_int_equal(set.missed, 0);
    uint64_t cur = set.cursor;
    assert_int_equal(cur, 2);
    write_str(lb, "4\n5\n6\n7\n8\n"); /* 3..4 rotate out before the reader comes back */
    assert_int_equal(ss_linebuf_read_since(lb, cur, 0, &set), 4);
    assert_int_equal(set.missed, 2);
    assert_item_text(&set, 0, "5");
    assert_item_text(&set, 3, "8");
    cur = set.cursor;
    assert_int_equal(cur, 8);
    assert_int_equal(ss_linebuf_read_since(lb, cur, 0, &set), 0);
    assert_int_equal(set.missed, 0);
    assert_int_equal(set.cursor, 8);
    /* a clear shows up as missed records, once */
    write_str(lb, "9\n");
    assert_int_equal(ss_linebuf_clear(lb), 0);
    assert_int_equal(ss_linebuf_read_since(lb, cur, 0, &set), 0);
    assert_int_equal(set.missed, 1);
    assert_int_equal(set.cursor, 9);
    assert_int_equal(ss_linebuf_read_since(lb, set.cursor, 0, &set), 0);
    assert_int_equal(set.missed, 0);
    /* after a clear, waiting blocks again until a new record arrives */
    assert_int_equal(ss_linebuf_wait(lb, cur, 0), -ETIMEDOUT);
    assert_int_equal(ss_linebuf_follow(lb, cur, 0, 0, &set), -ETIMEDOUT);
    /* the partial line never appears in a cursor read */
    write_str(lb, "partial");
    assert_int_equal(ss_linebuf_read_since(lb, 0, 0, &set), 0);
    assert_int_equal(ss_linebuf_wait(lb, 9, 0), -ETIMEDOUT);
    write_str(lb, "\n");
    assert_int_equal(ss_linebuf_wait(lb, 9, 0), 0);
    assert_int_equal(ss_linebuf_follow(lb, 9, 0, 0, &set), 1);
    assert_item_text(&set, 0, "partial");
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

/* A cursor at the top of the sequence range is past every record: nothing is
 * new and nothing was missed (cursor + 1 must not wrap to 0). */
static void test_cursor_at_range_top(void **state)
{
    (void)state;
    ss_linebuf *lb = new_buf(4);
    ss_records set = SS_RECORDS_INIT;
    write_str(lb, "1\n2\n");
    assert_int_equal(ss_linebuf_read_since(lb, UINT64_MAX, 0, &set), 0);
    assert_int_equal(set.missed, 0);
    assert_true(set.cursor == UINT64_MAX);
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_time_sources(void **state)
{
    (void)state;
    const ss_time_source sources[] = {SS_TIME_PRECISE, SS_TIME_COARSE, SS_TIME_REALTIME};
    for (size_t k = 0; k < sizeof(sources) / sizeof(sources[0]); k++) {
        ss_linebuf *lb = NULL;
        ss_linebuf_opts opts = {.time_source = sources[k]};
        assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t before = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        write_str(lb, "stamped\n");
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t after = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        ss_records set = SS_RECORDS_INIT;
        assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 1);
        /* clock_gettime itself is exact; the coarse clock may lag by up to a tick
         * (10 ms at most on Linux); the CPU's counter is within 0.1 ms of
         * CLOCK_REALTIME (wallclock.h), given a generous bound here */
        int64_t slack = sources[k] == SS_TIME_REALTIME ? 0 : 20000000;
        assert_true(set.items[0].time_ns >= before - slack);
        assert_true(set.items[0].time_ns <= after + (sources[k] == SS_TIME_PRECISE ? slack : 0));
        ss_records_clear(&set);
        ss_linebuf_free(lb);
    }
}

static char tmpdir[] = "/tmp/ss-linebuf-XXXXXX";

static int make_tmpdir(void **state)
{
    (void)state;
    return ss_test_tmpdir_make(tmpdir);
}

static int remove_tmpdir(void **state)
{
    (void)state;
    return ss_test_tmpdir_remove(tmpdir);
}

static void test_file_ring_continues(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/continue.ring", tmpdir);
    ss_linebuf_opts opts = {.maxlen = 8, .path = path, .source = "daemon"};
    ss_linebuf *lb = NULL;
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);

    /* one owner at a time */
    ss_linebuf *second = NULL;
    assert_int_equal(ss_linebuf_new(&second, &opts), -EBUSY);

    write_str(lb, "first\nsecond\nhalf");
    ss_linebuf_free(lb);

    ss_linebuf_opts next = {.maxlen = 8, .path = path, .source = "restarted"};
    assert_int_equal(ss_linebuf_new(&lb, &next), 0);
    write_str(lb, "new\nthird\n");
    ss_records set = SS_RECORDS_INIT;
    /* the old owner's partial line became a record of its own, never mixed */
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 5);
    assert_item_text(&set, 0, "first");
    assert_item_text(&set, 2, "half");
    assert_string_equal(set.items[2].source, "daemon");
    assert_item_text(&set, 3, "new");
    assert_item_text(&set, 4, "third");
    assert_int_equal(set.items[4].seq, 5);
    assert_string_equal(set.items[4].source, "restarted");
    ss_linebuf_free(lb);

    /* other geometry: refused, file untouched */
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    ss_linebuf_opts other = {.maxlen = 9, .path = path};
    assert_int_equal(ss_linebuf_new(&lb, &other), SS_EFORMAT);
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(before.st_size, after.st_size);
    assert_int_equal(ss_linebuf_inspect_file(path, SS_READ_ALL, &set, NULL), 5);
    ss_records_clear(&set);
}

static void test_file_ring_refuses_other_files(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/notes.txt", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("precious user data\n", f);
    fclose(f);

    ss_linebuf_opts opts = {.path = path};
    ss_linebuf *lb = NULL;
    assert_int_equal(ss_linebuf_new(&lb, &opts), SS_EFORMAT);
    char buf[64] = {0};
    f = fopen(path, "r");
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_string_equal(buf, "precious user data\n");
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_inspect_file(path, SS_READ_ALL, &set, NULL), SS_EFORMAT);

    snprintf(path, sizeof(path), "%s/missing-dir/x.ring", tmpdir);
    assert_int_equal(ss_linebuf_new(&lb, &opts), -ENOENT);
    assert_int_equal(ss_linebuf_inspect_file(path, SS_READ_ALL, &set, NULL), -ENOENT);
}

static void test_file_ring_damaged_header(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/damaged.ring", tmpdir);
    ss_linebuf_opts opts = {.maxlen = 4, .path = path};
    ss_linebuf *lb = NULL;
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    write_str(lb, "x\n");
    ss_linebuf_free(lb);
    /* next_seq far beyond first_seq + maxlen */
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    uint64_t bogus = 1000;
    assert_int_equal(pwrite(fd, &bogus, sizeof(bogus), offsetof(ss__ring_hdr, next_seq)),
                     (ssize_t)sizeof(bogus));
    close(fd);
    ss_records set = SS_RECORDS_INIT;
    /* inspecting recovers what is whole and counts the rest as missed */
    assert_int_equal(ss_linebuf_inspect_file(path, SS_READ_ALL, &set, NULL), 0);
    assert_true(set.missed > 0);
    /* a new owner refuses to continue it */
    assert_int_equal(ss_linebuf_new(&lb, &opts), SS_ECORRUPT);
    ss_records_clear(&set);
}

static void test_file_ring_damaged_slot(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof(path), "%s/slot.ring", tmpdir);
    ss_linebuf_opts opts = {.maxlen = 4, .path = path};
    ss_linebuf *lb = NULL;
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    write_str(lb, "one\ntwo\n");
    ss_linebuf_free(lb);
    /* the first record's text offset far outside the arena */
    ss__ring_hdr hdr;
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
    uint64_t bogus = UINT64_MAX - 2;
    off_t at =
        (off_t)(hdr.slots_off + (1 & hdr.slot_mask) * sizeof(ss__slot) + offsetof(ss__slot, off));
    assert_int_equal(pwrite(fd, &bogus, sizeof(bogus), at), (ssize_t)sizeof(bogus));
    close(fd);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_inspect_file(path, SS_READ_ALL, &set, NULL), 1);
    assert_item_text(&set, 0, "two");
    assert_int_equal(set.missed, 1);
    assert_int_equal(ss_linebuf_new(&lb, &opts), SS_ECORRUPT);
    ss_records_clear(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocol_example),
        cmocka_unit_test(test_read_edges),
        cmocka_unit_test(test_cr_redraw),
        cmocka_unit_test(test_maxlen_one_with_partial),
        cmocka_unit_test(test_grouped_records),
        cmocka_unit_test(test_drop_newest_policy),
        cmocka_unit_test(test_counters_drop_oldest),
        cmocka_unit_test(test_byte_bound_rotates),
        cmocka_unit_test(test_heap_arena_grows_keeping_order),
        cmocka_unit_test(test_writers_keep_partials_apart),
        cmocka_unit_test(test_long_source_is_cut),
        cmocka_unit_test(test_cursor_reads_and_missed),
        cmocka_unit_test(test_cursor_at_range_top),
        cmocka_unit_test(test_time_sources),
        cmocka_unit_test(test_file_ring_continues),
        cmocka_unit_test(test_file_ring_refuses_other_files),
        cmocka_unit_test(test_file_ring_damaged_header),
        cmocka_unit_test(test_file_ring_damaged_slot),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
