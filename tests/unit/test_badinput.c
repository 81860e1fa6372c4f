/* Bad input to the public API: each has a defined result. */
#include "test.h"

static void test_maxlen_zero_means_default(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {.maxlen = 0};
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    assert_int_equal(ss_linebuf_maxlen(lb), SS_LINEBUF_DEFAULT_MAXLEN);
    ss_linebuf_free(lb);
    assert_int_equal(ss_linebuf_new(&lb, NULL), 0);
    assert_int_equal(ss_linebuf_maxlen(lb), SS_LINEBUF_DEFAULT_MAXLEN);
    ss_linebuf_free(lb);
}

static void test_out_of_range_options(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    ss_linebuf_opts huge = {.maxlen = (size_t)1 << 40};
    assert_int_equal(ss_linebuf_new(&lb, &huge), -EINVAL);
    ss_linebuf_opts policy = {.full = (ss_full_policy)9};
    assert_int_equal(ss_linebuf_new(&lb, &policy), -EINVAL);
    ss_linebuf_opts flags = {.line_flags = 0x80};
    assert_int_equal(ss_linebuf_new(&lb, &flags), -EINVAL);
    ss_linebuf_opts clock = {.time_source = (ss_time_source)5};
    assert_int_equal(ss_linebuf_new(&lb, &clock), -EINVAL);
    ss_linebuf_opts bytes = {.max_bytes = (size_t)4 << 30};
    assert_int_equal(ss_linebuf_new(&lb, &bytes), -EINVAL);
    assert_null(lb); /* ret is only written on success */
}

static void test_null_pointers(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    ss_records set = SS_RECORDS_INIT;
    size_t n;
    assert_int_equal(ss_linebuf_new(NULL, NULL), -EINVAL);
    assert_int_equal(ss_linebuf_write(NULL, "x", 1), -EINVAL);
    assert_int_equal(ss_linebuf_read(NULL, 1, &set), -EINVAL);
    assert_int_equal(ss_linebuf_len(NULL, &n), -EINVAL);
    assert_int_equal(ss_linebuf_maxlen(NULL), 0);
    assert_int_equal(ss_linebuf_inspect_file(NULL, 1, &set, NULL), -EINVAL);
    ss_linebuf_free(NULL);
    ss_linebuf_close(NULL);
    ss_records_clear(NULL);

    assert_int_equal(ss_linebuf_new(&lb, NULL), 0);
    assert_int_equal(ss_linebuf_write(lb, NULL, 3), -EINVAL);
    assert_int_equal(ss_linebuf_write(lb, NULL, 0), 0);
    assert_int_equal(ss_linebuf_read(lb, 1, NULL), -EINVAL);
    assert_int_equal(ss_linebuf_append(lb, SS_KIND_ERROR, NULL, 2), -EINVAL);
    assert_int_equal(ss_writer_new(NULL, lb, "x", 0), -EINVAL);
    ss_writer *w = NULL;
    assert_int_equal(ss_writer_new(&w, NULL, "x", 0), -EINVAL);
    assert_int_equal(ss_writer_new(&w, lb, NULL, 0), 0); /* NULL source is "" */
    assert_int_equal(ss_writer_write(w, NULL, 1), -EINVAL);
    assert_int_equal(ss_writer_write(NULL, "x", 1), -EINVAL);
    assert_int_equal(ss_writer_close(w), 0);
    ss_linebuf_free(lb);
}

static void test_zero_length_writes(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    assert_int_equal(ss_linebuf_new(&lb, NULL), 0);
    assert_int_equal(ss_linebuf_write(lb, "", 0), 0);
    size_t n = 9;
    assert_int_equal(ss_linebuf_len(lb, &n), 0);
    assert_int_equal(n, 0);
    /* an empty grouped record is still one record, also from NULL */
    assert_int_equal(ss_linebuf_append(lb, SS_KIND_WARNING, "", 0), 0);
    assert_int_equal(ss_linebuf_append(lb, SS_KIND_WARNING, NULL, 0), 0);
    assert_int_equal(ss_linebuf_len(lb, &n), 0);
    assert_int_equal(n, 2);
    ss_writer *w = NULL;
    assert_int_equal(ss_writer_new(&w, lb, "w", 0), 0);
    assert_int_equal(ss_writer_write(w, NULL, 0), 0);
    assert_int_equal(ss_writer_append(w, SS_KIND_ERROR, NULL, 0), 0);
    assert_int_equal(ss_writer_close(w), 0);
    assert_int_equal(ss_linebuf_len(lb, &n), 0);
    assert_int_equal(n, 3);
    ss_linebuf_free(lb);
}

static void test_writes_after_close(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    ss_writer *w = NULL;
    assert_int_equal(ss_linebuf_new(&lb, NULL), 0);
    assert_int_equal(ss_writer_new(&w, lb, "w", 0), 0);
    assert_int_equal(ss_writer_write(w, "pending", 7), 0);
    ss_linebuf_close(lb);
    ss_linebuf_close(lb); /* idempotent */
    assert_int_equal(ss_writer_write(w, "x\n", 2), SS_ECLOSED);
    /* even bytes that would only stay partial are refused */
    assert_int_equal(ss_writer_write(w, "more", 4), SS_ECLOSED);
    assert_int_equal(ss_writer_new_line(w), SS_ECLOSED);
    assert_int_equal(ss_writer_append(w, SS_KIND_ERROR, "e", 1), SS_ECLOSED);
    assert_int_equal(ss_writer_close(w), SS_ECLOSED);
    ss_linebuf_free(lb);
}

static void test_over_long_line_is_cut_not_lost(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {.max_line = 1000};
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    size_t total = 10 * 1000 + 500;
    char *big = malloc(total + 1);
    for (size_t i = 0; i < total; i++)
        big[i] = (char)('0' + i % 10);
    big[total] = '\n';
    assert_int_equal(ss_linebuf_write(lb, big, total + 1), 0);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 11);
    size_t off = 0;
    for (size_t i = 0; i < set.count; i++) {
        assert_int_equal(!!(set.items[i].flags & SS_REC_CONTINUED), i < 10);
        assert_memory_equal(set.items[i].text, big + off, set.items[i].len);
        off += set.items[i].len;
    }
    assert_int_equal(off, total);
    ss_linebuf_stats st;
    assert_int_equal(ss_linebuf_get_stats(lb, &st), 0);
    assert_int_equal(st.cut, 10);
    free(big);
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_invalid_utf8_and_nul_kept_exactly(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    assert_int_equal(ss_linebuf_new(&lb, NULL), 0);
    static const char bytes[] = "\xc3\x28 \xff\x00\xfe end\n";
    assert_int_equal(ss_linebuf_write(lb, bytes, sizeof(bytes) - 1), 0);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 1);
    assert_int_equal(set.items[0].len, sizeof(bytes) - 2);
    assert_memory_equal(set.items[0].text, bytes, sizeof(bytes) - 2);
    assert_int_equal(set.items[0].text[set.items[0].len], '\0');
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

static void test_append_too_big(void **state)
{
    (void)state;
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {.max_line = 64, .max_bytes = 128};
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    char text[200];
    memset(text, 'e', sizeof(text));
    assert_int_equal(ss_linebuf_write(lb, "pending", 7), 0);
    assert_int_equal(ss_linebuf_append(lb, SS_KIND_ERROR, text, sizeof(text)), SS_ETOOBIG);
    /* refused before anything changed: the partial line is still partial */
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_linebuf_read(lb, SS_READ_ALL, &set), 1);
    assert_true(set.items[0].flags & SS_REC_PARTIAL);
    ss_records_clear(&set);
    ss_linebuf_stats st;
    assert_int_equal(ss_linebuf_get_stats(lb, &st), 0);
    assert_int_equal(st.written, 0);
    assert_string_equal(ss_strerror(SS_ETOOBIG), "the record is larger than the buffer can hold");
    assert_string_equal(ss_strerror(-ENOENT), "No such file or directory");
    assert_string_equal(ss_strerror(-999999), "unknown error");
    assert_string_equal(ss_version(), SS_VERSION_STRING);
    ss_linebuf_free(lb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maxlen_zero_means_default),
        cmocka_unit_test(test_out_of_range_options),
        cmocka_unit_test(test_null_pointers),
        cmocka_unit_test(test_zero_length_writes),
        cmocka_unit_test(test_writes_after_close),
        cmocka_unit_test(test_over_long_line_is_cut_not_lost),
        cmocka_unit_test(test_invalid_utf8_and_nul_kept_exactly),
        cmocka_unit_test(test_append_too_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
