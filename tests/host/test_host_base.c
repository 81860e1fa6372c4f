/*
 * Host mode's client against a base-protocol server (sync-stream 1.2, as the
 * Python package serves it; tests/host/base_server.py stands in for it): the
 * mirror falls back to the base protocol, the reader does what that protocol
 * offers, and the mirror keeps records while the server is down. Also an
 * older extension server, from before epochs (tests/host/old_ext_server.py).
 */
#include "test.h"

#include "host_test.h"

static test_server srv;

static int start(void **state)
{
    return test_base_server_start(&srv, 0, 10);
}

static int stop(void **state)
{
    test_server_kill(&srv);
    return 0;
}

static ss_host_reader *reader(void)
{
    ss_host_reader *r;
    assert_int_equal(ss_host_reader_new(&r, srv.url, NULL), 0);
    return r;
}

static ss_host_mirror *mirror(const ss_host_mirror_opts *o)
{
    ss_host_mirror *m;
    assert_int_equal(ss_host_mirror_new(&m, srv.url, o), 0);
    return m;
}

static void write_str(ss_host_mirror *m, const char *s)
{
    assert_int_equal(ss_host_mirror_write(m, s, strlen(s)), 0);
}

/* PROTOCOL.md's example, through our mirror and reader. */
static void test_protocol_example(void **state)
{
    ss_host_reader *r = reader();
    assert_int_equal(ss_host_reader_clear(r), 0);
    ss_host_mirror *m = mirror(NULL);
    write_str(m, "Hello!\n");
    write_str(m, "a b\n");
    write_str(m, "x\n y\n");
    write_str(m, "tail");
    assert_int_equal(ss_host_mirror_flush(m, 10000), 0);

    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_reader_read(r, SS_READ_ALL, &set), 4);
    assert_item_text(&set, 0, "Hello!");
    assert_item_text(&set, 3, " y");
    /* The mirror keeps its partial line until it ends it. */
    assert_int_equal(ss_host_mirror_close(m), 0);
    assert_int_equal(ss_host_reader_read(r, 2, &set), 2);
    assert_item_text(&set, 0, " y");
    assert_item_text(&set, 1, "tail");
    assert_int_equal(set.items[1].seq, 0);
    size_t n;
    assert_int_equal(ss_host_reader_len(r, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(ss_host_reader_maxlen(r, &n), 0);
    assert_int_equal(n, 10);
    assert_int_equal(ss_host_reader_read(r, 0, &set), 0);

    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    assert_int_equal(st.protocol, SS_HOST_PROTO_BASE);
    assert_int_equal(st.records_sent, 5);
    assert_int_equal(st.pending, 0);
    assert_int_equal(st.error, 0);
    assert_int_equal(ss_host_reader_protocol(r), SS_HOST_PROTO_BASE);
    ss_records_clear(&set);
    ss_host_mirror_free(m);
    ss_host_reader_free(r);
}

/* Warnings and errors are grouped records; close_error ends with one. */
static void test_grouped_records(void **state)
{
    ss_host_reader *r = reader();
    assert_int_equal(ss_host_reader_clear(r), 0);
    ss_host_mirror *m = mirror(NULL);
    write_str(m, "half");
    assert_int_equal(ss_host_mirror_append(m, SS_KIND_WARNING, "w1\nw2\n", 6), 0);
    assert_int_equal(ss_host_mirror_close_error(m, "Traceback\n  line 1\nValueError", 29), 0);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_reader_read(r, SS_READ_ALL, &set), 3);
    assert_item_text(&set, 0, "half");
    assert_int_equal(set.items[0].kind, SS_KIND_LINE);
    assert_item_text(&set, 1, "w1\nw2");
    assert_int_equal(set.items[1].kind, SS_KIND_WARNING);
    assert_item_text(&set, 2, "Traceback\n  line 1\nValueError");
    assert_int_equal(set.items[2].kind, SS_KIND_ERROR);
    ss_records_clear(&set);
    ss_host_mirror_free(m);
    ss_host_reader_free(r);
}

/* A stop request reaches the mirror: a later write returns SS_ESTOPPED; a
 * reset lets it write again. */
static void test_stop_and_reset(void **state)
{
    ss_host_reader *r = reader();
    assert_int_equal(ss_host_reader_clear(r), 0);
    ss_host_mirror *m = mirror(&(ss_host_mirror_opts){.stop_poll_ms = 20});
    write_str(m, "before\n");
    assert_int_equal(ss_host_mirror_flush(m, 10000), 0);
    assert_int_equal(ss_host_reader_stop(r), 0);
    bool closed = false;
    assert_int_equal(ss_host_reader_closed(r, &closed), 0);
    assert_true(closed);
    int rc = 0;
    for (int i = 0; i < 500 && rc == 0; i++) {
        test_sleep_ms(10);
        rc = ss_host_mirror_write(m, "", 0);
    }
    assert_int_equal(rc, SS_ESTOPPED);
    assert_int_equal(ss_host_mirror_write(m, "refused\n", 8), SS_ESTOPPED);

    assert_int_equal(ss_host_reader_reset(r), 0);
    assert_int_equal(ss_host_reader_closed(r, &closed), 0);
    assert_false(closed);
    for (int i = 0; i < 500 && rc == SS_ESTOPPED; i++) {
        test_sleep_ms(10);
        rc = ss_host_mirror_write(m, "", 0);
    }
    assert_int_equal(rc, 0);
    write_str(m, "after\n");
    assert_int_equal(ss_host_mirror_close(m), 0);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_reader_read(r, SS_READ_ALL, &set), 2);
    assert_item_text(&set, 0, "before");
    assert_item_text(&set, 1, "after");
    ss_records_clear(&set);
    ss_host_mirror_free(m);
    ss_host_reader_free(r);
}

/* Follow and tail need the extension routes. */
static void test_no_follow_on_base(void **state)
{
    ss_host_reader *r = reader();
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_reader_follow(r, 0, 0, 0, &set), -EOPNOTSUPP);
    assert_int_equal(ss_host_reader_tail(r, 0, NULL, NULL, NULL), -EINVAL);
    ss_host_reader_free(r);
}

static int never_called(void *ctx, const ss_record *rec, uint64_t missed)
{
    fail();
    return 1;
}

static void test_no_tail_on_base(void **state)
{
    ss_host_reader *r = reader();
    uint64_t cursor = 1;
    assert_int_equal(ss_host_reader_tail(r, 0, never_called, NULL, &cursor), -EOPNOTSUPP);
    assert_int_equal(cursor, 0);
    assert_non_null(strstr(ss_host_reader_message(r), "not found"));
    ss_host_reader_free(r);
}

/* A wrong route is a 4xx: the mirror fails, keeps the records for the caller. */
static void test_rejected_keeps_records(void **state)
{
    char url[160];
    snprintf(url, sizeof(url), "%s/nowhere", srv.base);
    ss_host_mirror *m;
    assert_int_equal(ss_host_mirror_new(&m, url, NULL), 0);
    assert_int_equal(ss_host_mirror_write(m, "one\ntwo\n", 8), 0);
    assert_int_equal(ss_host_mirror_flush(m, 10000), -ENOENT);
    assert_int_equal(ss_host_mirror_write(m, "three\n", 6), -ENOENT);
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    assert_int_equal(st.error, -ENOENT);
    assert_int_equal(st.last_status, 404);
    assert_non_null(strstr(st.message, "not found"));
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_mirror_unsent(m, &set), -EBUSY);
    assert_int_equal(ss_host_mirror_close(m), -ENOENT);
    assert_int_equal(ss_host_mirror_unsent(m, &set), 2);
    assert_item_text(&set, 0, "one");
    assert_item_text(&set, 1, "two");
    ss_records_clear(&set);
    ss_host_mirror_free(m);

    ss_host_reader *r;
    assert_int_equal(ss_host_reader_new(&r, url, NULL), 0);
    assert_int_equal(ss_host_reader_read(r, SS_READ_ALL, &set), -ENOENT);
    ss_host_reader_free(r);
}

/* A server that is down: the mirror queues (and spools) and delivers it all in
 * order once the server is up; the writer never notices. */
static void test_server_down_then_up(void **state)
{
    test_server_kill(&srv);
    char spool[] = "/tmp/ss-spool-XXXXXX";
    int fd = mkstemp(spool);
    assert_true(fd >= 0);
    close(fd);
    ss_host_mirror *m = mirror(&(ss_host_mirror_opts){
        .queue_bytes = 512, .spool_path = spool, .backoff_max_ms = 100, .max_line = 64});
    char line[32];
    for (int i = 0; i < 200; i++) {
        snprintf(line, sizeof(line), "line %03d\n", i);
        write_str(m, line);
    }
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    assert_int_equal(st.protocol, SS_HOST_PROTO_UNKNOWN);
    assert_true(st.spooled > 0);
    assert_int_equal(st.records_sent, 0);
    assert_int_equal(ss_host_mirror_flush(m, 200), -ETIMEDOUT);

    assert_int_equal(test_base_server_start(&srv, srv.port, 1000), 0);
    assert_int_equal(ss_host_mirror_close(m), 0);
    ss_host_mirror_get_stats(m, &st);
    assert_int_equal(st.records_sent, 200);
    assert_true(st.retries > 0);

    ss_host_reader *r = reader();
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_reader_read(r, SS_READ_ALL, &set), 200);
    for (int i = 0; i < 200; i++) {
        snprintf(line, sizeof(line), "line %03d", i);
        assert_item_text(&set, (size_t)i, line);
    }
    ss_records_clear(&set);
    ss_host_mirror_free(m);
    ss_host_reader_free(r);
    assert_int_equal(access(spool, F_OK), -1); /* the spool went with the mirror */
}

/* A close that cannot deliver in time says so and hands the records back. */
static void test_close_timeout_hands_back(void **state)
{
    char url[160];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/sync-stream", test_free_port());
    ss_host_mirror *m;
    assert_int_equal(ss_host_mirror_new(&m, url, &(ss_host_mirror_opts){.close_timeout_ms = 200}),
                     0);
    assert_int_equal(ss_host_mirror_write(m, "kept\nlast", 9), 0);
    assert_int_equal(ss_host_mirror_close(m), -ETIMEDOUT);
    assert_int_equal(ss_host_mirror_write(m, "x\n", 2), SS_ECLOSED);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_mirror_unsent(m, &set), 2);
    assert_item_text(&set, 0, "kept");
    assert_item_text(&set, 1, "last");
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    assert_true(st.retries > 0);
    assert_non_null(strstr(st.message, "onnect"));
    ss_records_clear(&set);
    ss_host_mirror_free(m);

    ss_host_reader *r;
    assert_int_equal(ss_host_reader_new(&r, url, NULL), 0);
    assert_int_equal(ss_host_reader_read(r, SS_READ_ALL, &set), -ECONNREFUSED);
    ss_host_reader_free(r);
}

/* A 5xx is retried until the server recovers; a 4xx stops the mirror, which
 * keeps the refused records (tests/host/faulty_server.py). */
static void test_server_errors(void **state)
{
    test_server faulty;
    const char *const extra[] = {"--fail-first", "3", NULL};
    assert_int_equal(test_python_server_start(&faulty, "SS_TEST_FAULTY_SERVER", 0, extra), 0);
    ss_host_mirror *m;
    assert_int_equal(
        ss_host_mirror_new(&m, faulty.url, &(ss_host_mirror_opts){.backoff_max_ms = 20}), 0);
    assert_int_equal(ss_host_mirror_write(m, "a\nb\n", 4), 0);
    assert_int_equal(ss_host_mirror_flush(m, 10000), 0);
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    assert_int_equal(st.retries, 3);
    assert_int_equal(st.records_sent, 2);
    assert_int_equal(ss_host_mirror_write(m, "REJECT me\n", 10), 0);
    assert_int_equal(ss_host_mirror_flush(m, 10000), SS_EREJECTED);
    ss_host_mirror_get_stats(m, &st);
    assert_int_equal(st.last_status, 400);
    assert_non_null(strstr(st.message, "rejected on purpose"));
    assert_int_equal(ss_host_mirror_write(m, "c\n", 2), SS_EREJECTED);
    assert_int_equal(ss_host_mirror_close(m), SS_EREJECTED);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_mirror_unsent(m, &set), 1);
    assert_item_text(&set, 0, "REJECT me");
    ss_host_mirror_free(m);

    ss_host_reader *r;
    assert_int_equal(ss_host_reader_new(&r, faulty.url, NULL), 0);
    assert_int_equal(ss_host_reader_read(r, SS_READ_ALL, &set), 2);
    assert_item_text(&set, 0, "a");
    assert_item_text(&set, 1, "b");
    ss_records_clear(&set);
    ss_host_reader_free(r);
    test_server_kill(&faulty);
}

/* What a tail saw: restart notices and the texts of the records. */
typedef struct seen {
    const char *until; /* the text of the last record wanted */
    int restarts;
    char texts[64]; /* "r3 r4 ..." */
} seen;

static int on_seen(void *ctx, const ss_record *rec, uint64_t missed)
{
    seen *s = ctx;
    if (!rec) {
        s->restarts += missed == SS_HOST_MISSED_RESTART;
        return 0;
    }
    size_t len = strlen(s->texts);
    snprintf(s->texts + len, sizeof(s->texts) - len, "%s%s", len ? " " : "", rec->text);
    return strcmp(rec->text, s->until) == 0 ? 7 : 0;
}

/* An older extension server, from before epochs (tests/host/old_ext_server.py:
 * no epoch anywhere, event ids are bare seqs): cursor reads and the tail
 * follow it, and when it comes back with fewer records than the cursor it is
 * found restarted and read from its first record. */
static void test_older_ext_server(void **state)
{
    test_server old;
    const char *const five[] = {"--records", "5", NULL};
    assert_int_equal(test_python_server_start(&old, "SS_TEST_OLD_EXT_SERVER", 0, five), 0);
    ss_host_reader *r;
    assert_int_equal(ss_host_reader_new(&r, old.url, NULL), 0);
    ss_host_health h;
    assert_int_equal(ss_host_reader_health(r, &h), 0);
    assert_int_equal(h.epoch, 0);
    assert_int_equal(h.next_seq, 6);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_reader_follow(r, 2, 0, 0, &set), 3);
    assert_int_equal(set.missed, 0);
    assert_item_text(&set, 0, "r3");
    assert_int_equal(set.cursor, 5);
    seen a = {.until = "r5"};
    uint64_t cursor;
    assert_int_equal(ss_host_reader_tail(r, 2, on_seen, &a, &cursor), 7);
    assert_string_equal(a.texts, "r3 r4 r5");
    assert_int_equal(a.restarts, 0);
    assert_int_equal(cursor, 5);

    const char *const three[] = {"--records", "3", NULL};
    int port = old.port;
    test_server_kill(&old);
    assert_int_equal(test_python_server_start(&old, "SS_TEST_OLD_EXT_SERVER", port, three), 0);
    assert_int_equal(ss_host_reader_follow(r, 5, 0, 0, &set), 3);
    assert_true(set.missed == SS_HOST_MISSED_RESTART);
    assert_item_text(&set, 0, "r1");
    seen b = {.until = "r3"};
    assert_int_equal(ss_host_reader_tail(r, 5, on_seen, &b, &cursor), 7);
    assert_string_equal(b.texts, "r1 r2 r3");
    assert_int_equal(b.restarts, 1);
    assert_int_equal(cursor, 3);
    ss_records_clear(&set);
    ss_host_reader_free(r);
    test_server_kill(&old);
}

static void test_bad_arguments(void **state)
{
    ss_host_mirror *m;
    ss_host_reader *r;
    assert_int_equal(ss_host_mirror_new(&m, "ftp://x/y", NULL), -EINVAL);
    assert_int_equal(ss_host_mirror_new(&m, NULL, NULL), -EINVAL);
    assert_int_equal(ss_host_mirror_new(&m, srv.url, &(ss_host_mirror_opts){.max_line = 2u << 20}),
                     -EINVAL);
    assert_int_equal(ss_host_reader_new(&r, "127.0.0.1:5000", NULL), -EINVAL);
    m = mirror(&(ss_host_mirror_opts){.flags = SS_HOST_FORCE_BASE});
    assert_int_equal(ss_host_mirror_write(m, NULL, 1), -EINVAL);
    assert_int_equal(ss_host_mirror_append(m, (ss_kind)7, "x", 1), -EINVAL);
    char *big = calloc(1, SS_HOST_MAX_RECORD + 1);
    assert_non_null(big);
    memset(big, 'x', SS_HOST_MAX_RECORD + 1);
    assert_int_equal(ss_host_mirror_append(m, SS_KIND_ERROR, big, SS_HOST_MAX_RECORD + 1),
                     SS_ETOOBIG);
    free(big);
    assert_int_equal(ss_host_mirror_close(m), 0);
    ss_host_mirror_free(m);
    ss_host_mirror_free(NULL);
    ss_host_reader_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocol_example),    cmocka_unit_test(test_grouped_records),
        cmocka_unit_test(test_stop_and_reset),      cmocka_unit_test(test_no_follow_on_base),
        cmocka_unit_test(test_no_tail_on_base),     cmocka_unit_test(test_rejected_keeps_records),
        cmocka_unit_test(test_server_down_then_up), cmocka_unit_test(test_close_timeout_hands_back),
        cmocka_unit_test(test_server_errors),       cmocka_unit_test(test_older_ext_server),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, start, stop);
}
