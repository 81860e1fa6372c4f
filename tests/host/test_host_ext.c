/*
 * Host mode's client against our own server (`syncstream serve`, a real child
 * process on a free port of 127.0.0.1): batches delivered exactly once through
 * a server restart and stalls, 8 concurrent mirrors with per-line checksums,
 * cursor reads with long-poll, the SSE tail and its resumption, stop, token,
 * records holding NUL, and refusals (413, 401).
 */
#include <pthread.h>
#include <signal.h>

#include "test.h"

#include "host_test.h"

#define MAXLEN "1000000"

static test_server srv;
static char tmpdir[] = "/tmp/ss-host-ext-XXXXXX";

static int start(void **state)
{
    static const char *const opts[] = {"--maxlen", MAXLEN, NULL};
    if (ss_test_tmpdir_make(tmpdir) < 0)
        return -1;
    return test_ext_server_start(&srv, 0, opts);
}

static int stop(void **state)
{
    test_server_kill(&srv);
    return ss_test_tmpdir_remove(tmpdir);
}

/* A fresh server on the same port before each test: counts start at 1. */
static int fresh(void **state)
{
    static const char *const opts[] = {"--maxlen", MAXLEN, NULL};
    test_server_kill(&srv);
    return test_ext_server_start(&srv, srv.port, opts);
}

static ss_host_reader *reader(const char *token)
{
    ss_host_reader *r;
    assert_int_equal(ss_host_reader_new(&r, srv.url, &(ss_host_reader_opts){.token = token}), 0);
    return r;
}

/* The line i of mirror m, with a checksum of its own text. */
static size_t make_line(char *buf, size_t size, int m, int i)
{
    unsigned h = 2166136261u;
    char body[64];
    int n = snprintf(body, sizeof(body), "mirror %d line %06d", m, i);
    for (int k = 0; k < n; k++)
        h = (h ^ (unsigned char)body[k]) * 16777619u;
    return (size_t)snprintf(buf, size, "%s sum %08x\n", body, h);
}

/* Every stored record, through cursor reads. */
static size_t read_all(ss_host_reader *r, ss_records *all_text, char ***lines)
{
    ss_records set = SS_RECORDS_INIT;
    uint64_t cursor = 0;
    size_t count = 0, cap = 0;
    char **out = NULL;
    for (;;) {
        int n = ss_host_reader_follow(r, cursor, 10000, 0, &set);
        assert_true(n >= 0);
        if (n == 0)
            break;
        assert_int_equal(set.missed, 0);
        for (size_t i = 0; i < set.count; i++) {
            if (count == cap) {
                cap = cap ? cap * 2 : 1024;
                out = realloc(out, cap * sizeof(*out));
                assert_non_null(out);
            }
            out[count++] = strdup(set.items[i].text);
        }
        cursor = set.cursor;
    }
    ss_records_clear(&set);
    (void)all_text;
    *lines = out;
    return count;
}

static void free_lines(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

/* PROTOCOL.md's example: our mirror finds the extensions and batches. */
static void test_protocol_example(void **state)
{
    ss_host_reader *r = reader(NULL);
    ss_host_mirror *m;
    assert_int_equal(ss_host_mirror_new(&m, srv.url, &(ss_host_mirror_opts){.source = "ex"}), 0);
    for (int i = 0; i < 4; i++) {
        static const char *const w[] = {"Hello!\n", "a b\n", "x\n y\n", "tail"};
        assert_int_equal(ss_host_mirror_write(m, w[i], strlen(w[i])), 0);
    }
    assert_int_equal(ss_host_mirror_flush(m, 10000), 0);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_reader_follow(r, 0, 0, 0, &set), 4);
    assert_item_text(&set, 0, "Hello!");
    assert_int_equal(set.items[0].seq, 1);
    assert_string_equal(set.items[0].source, "ex");
    assert_item_text(&set, 3, " y");
    assert_int_equal(set.cursor, 4);
    assert_int_equal(ss_host_mirror_close(m), 0);
    assert_int_equal(ss_host_reader_read(r, 2, &set), 2);
    assert_item_text(&set, 0, " y");
    assert_item_text(&set, 1, "tail");
    size_t n;
    assert_int_equal(ss_host_reader_len(r, &n), 0);
    assert_int_equal(n, 5);
    ss_host_health h;
    assert_int_equal(ss_host_reader_health(r, &h), 0);
    assert_int_equal(h.records, 5);
    assert_int_equal(h.next_seq, 6);
    assert_string_equal(h.version, SS_VERSION_STRING);
    assert_false(h.closed);

    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    assert_int_equal(st.protocol, SS_HOST_PROTO_EXT);
    assert_int_equal(st.records_sent, 5);
    assert_int_equal(st.duplicates, 0);
    assert_int_equal(st.error, 0);
    assert_int_equal(ss_host_reader_clear(r), 0);
    assert_int_equal(ss_host_reader_len(r, &n), 0);
    assert_int_equal(n, 0);
    ss_records_clear(&set);
    ss_host_mirror_free(m);
    ss_host_reader_free(r);
}

/* A burst goes in few requests; warnings and errors keep their kind. */
static void test_batches_and_groups(void **state)
{
    ss_host_mirror *m;
    assert_int_equal(ss_host_mirror_new(&m, srv.url, NULL), 0);
    char line[80];
    for (int i = 0; i < 20000; i++) {
        size_t len = make_line(line, sizeof(line), 0, i);
        assert_int_equal(ss_host_mirror_write(m, line, len), 0);
    }
    assert_int_equal(ss_host_mirror_append(m, SS_KIND_WARNING, "w1\nw2\n", 6), 0);
    assert_int_equal(ss_host_mirror_close_error(m, "Traceback\nValueError", 20), 0);
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    assert_int_equal(st.records_sent, 20002);
    assert_true(st.batches_sent < 20000 / 2);

    ss_host_reader *r = reader(NULL);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_reader_follow(r, 20000, 0, 0, &set), 2);
    assert_int_equal(set.items[0].kind, SS_KIND_WARNING);
    assert_item_text(&set, 0, "w1\nw2");
    assert_int_equal(set.items[1].kind, SS_KIND_ERROR);
    assert_item_text(&set, 1, "Traceback\nValueError");
    ss_records_clear(&set);
    ss_host_mirror_free(m);
    ss_host_reader_free(r);
}

/*
 * The server is killed (SIGKILL) while a mirror sends, the mirror goes on
 * writing while it is down, and a new server starts on the same port. What the
 * old server acknowledged died with it (it keeps records in memory); everything
 * else reaches the new one, in order, once each.
 */
static void test_server_restart(void **state)
{
    const int total = 60000;
    ss_host_mirror *m;
    assert_int_equal(
        ss_host_mirror_new(&m, srv.url,
                           &(ss_host_mirror_opts){.backoff_max_ms = 100, .batch_records = 500}),
        0);
    char line[80];
    int i = 0;
    for (; i < total / 2; i++) {
        size_t len = make_line(line, sizeof(line), 1, i);
        assert_int_equal(ss_host_mirror_write(m, line, len), 0);
    }
    test_server_kill(&srv);
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    uint64_t retries = st.retries;
    for (; i < total; i++) {
        size_t len = make_line(line, sizeof(line), 1, i);
        assert_int_equal(ss_host_mirror_write(m, line, len), 0);
    }
    /* Once a request failed after the kill, nothing more is acknowledged
     * until the new server answers: what was is what the old one stored. */
    for (int k = 0; k < 1000 && st.retries == retries; k++) {
        test_sleep_ms(10);
        ss_host_mirror_get_stats(m, &st);
    }
    assert_true(st.retries > retries);
    uint64_t acked = st.records_sent;
    assert_true(acked < (uint64_t)total);
    static const char *const opts[] = {"--maxlen", MAXLEN, NULL};
    assert_int_equal(test_ext_server_start(&srv, srv.port, opts), 0);
    assert_int_equal(ss_host_mirror_close(m), 0);
    ss_host_mirror_get_stats(m, &st);
    assert_int_equal(st.records_sent, total);
    assert_int_equal(st.pending, 0);

    ss_host_reader *r = reader(NULL);
    char **lines;
    size_t n = read_all(r, NULL, &lines);
    assert_int_equal(n, (size_t)total - acked);
    for (size_t k = 0; k < n; k++) {
        make_line(line, sizeof(line), 1, (int)(acked + k));
        line[strlen(line) - 1] = '\0';
        assert_string_equal(lines[k], line);
    }
    free_lines(lines, n);
    ss_host_mirror_free(m);
    ss_host_reader_free(r);
}

/*
 * The server stalls (SIGSTOP) longer than the mirror's request timeout, so the
 * mirror gives up on requests the server will still carry out, and retries
 * them: the server must store each batch once.
 */
static void test_stall_no_duplicate(void **state)
{
    const int total = 20000;
    ss_host_mirror *m;
    assert_int_equal(ss_host_mirror_new(&m, srv.url,
                                        &(ss_host_mirror_opts){.request_timeout_ms = 150,
                                                               .backoff_max_ms = 50,
                                                               .batch_records = 200}),
                     0);
    char line[80];
    for (int i = 0; i < total; i++) {
        if (i == total / 4)
            kill(srv.pid, SIGSTOP);
        if (i == total / 2) {
            test_sleep_ms(400);
            kill(srv.pid, SIGCONT);
        }
        size_t len = make_line(line, sizeof(line), 2, i);
        assert_int_equal(ss_host_mirror_write(m, line, len), 0);
    }
    assert_int_equal(ss_host_mirror_close(m), 0);
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    assert_int_equal(st.records_sent, total);

    ss_host_reader *r = reader(NULL);
    char **lines;
    size_t n = read_all(r, NULL, &lines);
    assert_int_equal(n, (size_t)total);
    for (size_t k = 0; k < n; k++) {
        make_line(line, sizeof(line), 2, (int)k);
        line[strlen(line) - 1] = '\0';
        assert_string_equal(lines[k], line);
    }
    free_lines(lines, n);
    ss_host_mirror_free(m);
    ss_host_reader_free(r);
}

typedef struct writer_arg {
    int id;
    int lines;
} writer_arg;

/* One mirror, its lines cut into writes of changing sizes. */
static void *writer_main(void *p)
{
    writer_arg *w = p;
    ss_host_mirror *m;
    char src[16];
    snprintf(src, sizeof(src), "m%d", w->id);
    if (ss_host_mirror_new(&m, srv.url, &(ss_host_mirror_opts){.source = src}) < 0)
        return (void *)1;
    char line[80];
    unsigned seed = (unsigned)w->id;
    intptr_t bad = 0;
    for (int i = 0; i < w->lines && !bad; i++) {
        size_t len = make_line(line, sizeof(line), w->id, i);
        size_t cut = (size_t)rand_r(&seed) % len;
        bad = ss_host_mirror_write(m, line, cut) < 0 ||
              ss_host_mirror_write(m, line + cut, len - cut) < 0;
    }
    if (ss_host_mirror_close(m) < 0)
        bad = 1;
    ss_host_mirror_free(m);
    return (void *)bad;
}

/* 8 mirrors at once: every line arrives whole, once, in its mirror's order. */
static void test_concurrent_mirrors(void **state)
{
    enum { MIRRORS = 8, LINES = 5000 };
    pthread_t th[MIRRORS];
    writer_arg args[MIRRORS];
    for (int k = 0; k < MIRRORS; k++) {
        args[k] = (writer_arg){k, LINES};
        assert_int_equal(pthread_create(&th[k], NULL, writer_main, &args[k]), 0);
    }
    for (int k = 0; k < MIRRORS; k++) {
        void *bad;
        pthread_join(th[k], &bad);
        assert_null(bad);
    }
    ss_host_reader *r = reader(NULL);
    ss_records set = SS_RECORDS_INIT;
    int next[MIRRORS] = {0};
    uint64_t cursor = 0;
    size_t total = 0;
    char want[80];
    while (ss_host_reader_follow(r, cursor, 10000, 0, &set) > 0) {
        for (size_t i = 0; i < set.count; i++) {
            const ss_record *rec = &set.items[i];
            int k = rec->source[1] - '0';
            assert_true(rec->source[0] == 'm' && k >= 0 && k < MIRRORS);
            make_line(want, sizeof(want), k, next[k]++);
            want[strlen(want) - 1] = '\0';
            assert_string_equal(rec->text, want);
            total++;
        }
        cursor = set.cursor;
    }
    assert_int_equal(total, MIRRORS * LINES);
    ss_records_clear(&set);
    ss_host_reader_free(r);
}

typedef struct poll_arg {
    ss_host_reader *r;
    uint64_t cursor;
    int got;
    char text[32];
} poll_arg;

static void *long_poll_main(void *p)
{
    poll_arg *a = p;
    ss_records set = SS_RECORDS_INIT;
    a->got = ss_host_reader_follow(a->r, a->cursor, 0, 30000, &set);
    if (a->got > 0)
        snprintf(a->text, sizeof(a->text), "%s", set.items[0].text);
    ss_records_clear(&set);
    return NULL;
}

/* A long-poll returns when a record arrives; with nothing, after its wait. */
static void test_long_poll(void **state)
{
    ss_host_reader *r = reader(NULL);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_reader_follow(r, 0, 0, 50, &set), 0);
    assert_int_equal(set.cursor, 0);
    poll_arg a = {.r = reader(NULL)};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, long_poll_main, &a), 0);
    ss_host_mirror *m;
    assert_int_equal(ss_host_mirror_new(&m, srv.url, NULL), 0);
    assert_int_equal(ss_host_mirror_write(m, "wake up\n", 8), 0);
    pthread_join(th, NULL);
    assert_int_equal(a.got, 1);
    assert_string_equal(a.text, "wake up");
    assert_int_equal(ss_host_reader_follow(r, 0, 0, 60001, &set), -EINVAL);
    ss_host_mirror_free(m);
    ss_host_reader_free(a.r);
    ss_host_reader_free(r);
    ss_records_clear(&set);
}

typedef struct tail_arg {
    ss_host_reader *r;
    uint64_t from;
    int want;
    int seen;
    uint64_t last;
    uint64_t missed;
    int rc;
    uint64_t cursor;
    bool ordered;
} tail_arg;

static int on_record(void *ctx, const ss_record *rec, uint64_t missed)
{
    tail_arg *t = ctx;
    if (!rec) {
        t->missed += missed;
        return 0;
    }
    if (rec->seq <= t->last)
        t->ordered = false;
    t->last = rec->seq;
    return ++t->seen == t->want ? 7 : 0;
}

static void *tail_main(void *p)
{
    tail_arg *t = p;
    t->rc = ss_host_reader_tail(t->r, t->from, on_record, t, &t->cursor);
    return NULL;
}

/* The live tail sees records as they come, ends when told, resumes after its
 * cursor without a repeat, and follows a restarted server from its start. */
static void test_tail(void **state)
{
    tail_arg t = {.r = reader(NULL), .want = 300, .ordered = true};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, tail_main, &t), 0);
    ss_host_mirror *m;
    assert_int_equal(ss_host_mirror_new(&m, srv.url, &(ss_host_mirror_opts){.backoff_max_ms = 100}),
                     0);
    char line[80];
    for (int i = 0; i < 500; i++) {
        size_t len = make_line(line, sizeof(line), 3, i);
        assert_int_equal(ss_host_mirror_write(m, line, len), 0);
    }
    assert_int_equal(ss_host_mirror_flush(m, 10000), 0);
    pthread_join(th, NULL);
    assert_int_equal(t.rc, 7);
    assert_int_equal(t.seen, 300);
    assert_int_equal(t.cursor, 300);
    assert_true(t.ordered);

    /* Resume: exactly the records after the cursor. */
    tail_arg u = {.r = t.r, .from = t.cursor, .want = 200, .last = t.cursor, .ordered = true};
    tail_main(&u);
    assert_int_equal(u.rc, 7);
    assert_int_equal(u.cursor, 500);
    assert_true(u.ordered);

    /* The server restarts under a live tail: it reconnects and starts over. */
    tail_arg v = {.r = t.r, .from = 500, .want = 10, .ordered = true};
    v.last = 0;
    assert_int_equal(pthread_create(&th, NULL, tail_main, &v), 0);
    assert_int_equal(ss_host_mirror_write(m, "last of the old\n", 16), 0);
    assert_int_equal(ss_host_mirror_flush(m, 10000), 0);
    static const char *const opts[] = {"--maxlen", MAXLEN, NULL};
    test_server_kill(&srv);
    assert_int_equal(test_ext_server_start(&srv, srv.port, opts), 0);
    for (int i = 0; i < 10; i++) {
        size_t len = make_line(line, sizeof(line), 4, i);
        assert_int_equal(ss_host_mirror_write(m, line, len), 0);
    }
    assert_int_equal(ss_host_mirror_close(m), 0);
    pthread_join(th, NULL);
    assert_int_equal(v.rc, 7);
    /* the old server's last record (501), then the new one's 1..9 */
    assert_true(v.cursor <= 10);
    ss_host_mirror_free(m);
    ss_host_reader_free(t.r);
}

/* One record's bytes, compared with their length (they may hold NUL). */
#define assert_rec_bytes(rec, lit)                                                                 \
    do {                                                                                           \
        assert_int_equal((rec)->len, sizeof(lit) - 1);                                             \
        assert_memory_equal((rec)->text, (lit), sizeof(lit) - 1);                                  \
    } while (0)

typedef struct nul_tail {
    int seen;
    bool ok;
} nul_tail;

static int on_nul_record(void *ctx, const ss_record *rec, uint64_t missed)
{
    nul_tail *t = ctx;
    if (!rec)
        return 0;
    if (t->seen == 0)
        t->ok = rec->len == 3 && memcmp(rec->text, "x\0y", 3) == 0;
    else
        t->ok = t->ok && rec->kind == SS_KIND_WARNING && rec->len == 5 &&
                memcmp(rec->text, "w\0a\nb", 5) == 0;
    return ++t->seen == 2 ? 7 : 0;
}

/* Records may hold any byte: a NUL (sent and served as \u0000) reaches the
 * reader in a full read, a cursor read and the live tail, with its length. */
static void test_nul_bytes(void **state)
{
    ss_host_mirror *m;
    assert_int_equal(ss_host_mirror_new(&m, srv.url, NULL), 0);
    assert_int_equal(ss_host_mirror_write(m, "x\0y\n", 4), 0);
    assert_int_equal(ss_host_mirror_append(m, SS_KIND_WARNING, "w\0a\nb", 5), 0);
    assert_int_equal(ss_host_mirror_flush(m, 10000), 0);

    ss_host_reader *r = reader(NULL);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_reader_read(r, SS_READ_ALL, &set), 2);
    assert_rec_bytes(&set.items[0], "x\0y");
    assert_int_equal(set.items[1].kind, SS_KIND_WARNING);
    assert_rec_bytes(&set.items[1], "w\0a\nb");
    assert_int_equal(ss_host_reader_follow(r, 0, 0, 0, &set), 2);
    assert_rec_bytes(&set.items[0], "x\0y");
    assert_rec_bytes(&set.items[1], "w\0a\nb");
    nul_tail t = {0};
    assert_int_equal(ss_host_reader_tail(r, 0, on_nul_record, &t, NULL), 7);
    assert_true(t.ok);
    ss_records_clear(&set);
    ss_host_mirror_free(m);
    ss_host_reader_free(r);
}

/* Store lines "PREFIX I" for I in [0, n), through a mirror of their own. */
static void store_lines(const char *prefix, int n)
{
    ss_host_mirror *m;
    assert_int_equal(ss_host_mirror_new(&m, srv.url, NULL), 0);
    char line[64];
    for (int i = 0; i < n; i++) {
        int len = snprintf(line, sizeof(line), "%s %d\n", prefix, i);
        assert_int_equal(ss_host_mirror_write(m, line, (size_t)len), 0);
    }
    assert_int_equal(ss_host_mirror_close(m), 0);
    ss_host_mirror_free(m);
}

static void restart_server(void)
{
    static const char *const opts[] = {"--maxlen", MAXLEN, NULL};
    test_server_kill(&srv);
    assert_int_equal(test_ext_server_start(&srv, srv.port, opts), 0);
}

/* What a tail across a restart saw: restart notices, then records (their seq
 * and text) that must be one life's 1, 2, 3... in order. */
typedef struct life_tail {
    ss_host_reader *r;
    uint64_t from;
    char until[32]; /* the text of the last record wanted */
    int restarts;
    uint64_t missed; /* other than restarts */
    int seen;
    bool in_order; /* seq 1, 2, 3... since the restart notice */
    char first[32];
    uint64_t cursor;
    int rc;
} life_tail;

static int on_life(void *ctx, const ss_record *rec, uint64_t missed)
{
    life_tail *t = ctx;
    if (!rec) {
        if (missed == SS_HOST_MISSED_RESTART) {
            t->restarts++;
            t->seen = 0;
        } else {
            t->missed += missed;
        }
        return 0;
    }
    if (rec->seq != (uint64_t)t->seen + 1)
        t->in_order = false;
    if (t->seen++ == 0)
        snprintf(t->first, sizeof(t->first), "%s", rec->text);
    return strcmp(rec->text, t->until) == 0 ? 7 : 0;
}

static void *life_tail_main(void *p)
{
    life_tail *t = p;
    t->rc = ss_host_reader_tail(t->r, t->from, on_life, t, &t->cursor);
    return NULL;
}

/*
 * The server restarts, and its new life stores more records than the
 * reader's cursor (numbers begin again at 1): cursor reads and the live tail
 * read the new life from its oldest record, report the restart
 * (SS_HOST_MISSED_RESTART) once, and skip or repeat nothing.
 */
static void test_restart_epoch(void **state)
{
    ss_host_reader *r = reader(NULL);
    store_lines("old", 3);
    ss_host_health h;
    assert_int_equal(ss_host_reader_health(r, &h), 0);
    assert_true(h.epoch > 0);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_reader_follow(r, 0, 0, 0, &set), 3);
    assert_int_equal(set.missed, 0);
    assert_int_equal(set.cursor, 3);

    /* Cursor reads: the reader passes the epoch of its cursor. */
    restart_server();
    store_lines("new", 10);
    assert_int_equal(ss_host_reader_follow(r, 3, 0, 0, &set), 10);
    assert_true(set.missed == SS_HOST_MISSED_RESTART);
    assert_int_equal(set.items[0].seq, 1);
    assert_string_equal(set.items[0].text, "new 0");
    assert_int_equal(set.cursor, 10);
    assert_int_equal(ss_host_reader_follow(r, set.cursor, 0, 0, &set), 0);
    assert_int_equal(set.missed, 0);

    /* A tail that starts with a cursor of the life before. */
    life_tail t = {.r = r, .from = 10, .until = "newest 19", .in_order = true};
    restart_server();
    store_lines("newest", 20);
    life_tail_main(&t);
    assert_int_equal(t.rc, 7);
    assert_int_equal(t.restarts, 1);
    assert_int_equal(t.missed, 0);
    assert_int_equal(t.seen, 20);
    assert_true(t.in_order);
    assert_string_equal(t.first, "newest 0");
    assert_int_equal(t.cursor, 20);

    /* A live tail while the server restarts under it. */
    life_tail u = {.r = r, .from = t.cursor, .until = "live 29", .in_order = true};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, life_tail_main, &u), 0);
    restart_server();
    store_lines("live", 30);
    pthread_join(th, NULL);
    assert_int_equal(u.rc, 7);
    assert_int_equal(u.restarts, 1);
    assert_int_equal(u.seen, 30);
    assert_true(u.in_order);
    assert_string_equal(u.first, "live 0");
    ss_records_clear(&set);
    ss_host_reader_free(r);
}

static void test_stop(void **state)
{
    ss_host_reader *r = reader(NULL);
    ss_host_mirror *m;
    assert_int_equal(ss_host_mirror_new(&m, srv.url, &(ss_host_mirror_opts){.stop_poll_ms = 20}),
                     0);
    assert_int_equal(ss_host_mirror_write(m, "before\n", 7), 0);
    assert_int_equal(ss_host_mirror_flush(m, 10000), 0);
    assert_int_equal(ss_host_reader_stop(r), 0);
    /* The next batch's answer (or an idle mirror's poll) brings the stop. */
    int rc = 0;
    for (int i = 0; i < 500 && rc == 0; i++) {
        rc = ss_host_mirror_write(m, "x\n", 2);
        test_sleep_ms(10);
    }
    assert_int_equal(rc, SS_ESTOPPED);
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    assert_true(st.stopped);
    bool closed;
    assert_int_equal(ss_host_reader_closed(r, &closed), 0);
    assert_true(closed);
    assert_int_equal(ss_host_reader_reset(r), 0);
    /* A close still goes through after a stop. */
    assert_int_equal(ss_host_mirror_close(m), 0);
    ss_host_mirror_free(m);
    ss_host_reader_free(r);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* With a token file, a mirror or reader without the token is refused (401):
 * the mirror fails and hands its records back. */
static void test_token(void **state)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/token", tmpdir);
    write_file(path, "s3cret\n");
    test_server_kill(&srv);
    const char *const opts[] = {"--token-file", path, NULL};
    assert_int_equal(test_ext_server_start(&srv, srv.port, opts), 0);

    ss_host_mirror *m;
    assert_int_equal(ss_host_mirror_new(&m, srv.url, &(ss_host_mirror_opts){.token = "wrong"}), 0);
    assert_int_equal(ss_host_mirror_write(m, "secret line\n", 12), 0);
    assert_int_equal(ss_host_mirror_flush(m, 10000), -EACCES);
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    assert_int_equal(st.last_status, 401);
    assert_non_null(strstr(st.message, "token"));
    assert_int_equal(ss_host_mirror_close(m), -EACCES);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_mirror_unsent(m, &set), 1);
    assert_item_text(&set, 0, "secret line");
    ss_host_mirror_free(m);

    ss_host_reader *r = reader(NULL);
    assert_int_equal(ss_host_reader_read(r, SS_READ_ALL, &set), -EACCES);
    ss_host_reader_free(r);

    assert_int_equal(ss_host_mirror_new(&m, srv.url, &(ss_host_mirror_opts){.token = "s3cret"}), 0);
    assert_int_equal(ss_host_mirror_write(m, "allowed\n", 8), 0);
    assert_int_equal(ss_host_mirror_close(m), 0);
    ss_host_mirror_free(m);
    r = reader("s3cret");
    assert_int_equal(ss_host_reader_read(r, SS_READ_ALL, &set), 1);
    assert_item_text(&set, 0, "allowed");
    ss_host_reader_free(r);
    ss_records_clear(&set);
}

/* A small body cap: batches too large are split until they fit (each line
 * once); a single record over the cap fails the mirror (413), kept for the
 * caller. */
static void test_body_cap(void **state)
{
    test_server_kill(&srv);
    const char *const opts[] = {"--max-body", "4096", NULL};
    assert_int_equal(test_ext_server_start(&srv, srv.port, opts), 0);

    ss_host_mirror *m;
    assert_int_equal(ss_host_mirror_new(&m, srv.url, NULL), 0);
    char line[80];
    for (int i = 0; i < 1000; i++) {
        size_t len = make_line(line, sizeof(line), 5, i);
        assert_int_equal(ss_host_mirror_write(m, line, len), 0);
    }
    assert_int_equal(ss_host_mirror_flush(m, 20000), 0);
    char big[6000];
    memset(big, 'b', sizeof(big));
    assert_int_equal(ss_host_mirror_append(m, SS_KIND_ERROR, big, sizeof(big)), 0);
    assert_int_equal(ss_host_mirror_write(m, "after\n", 6), 0);
    assert_int_equal(ss_host_mirror_flush(m, 10000), -EMSGSIZE);
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    assert_int_equal(st.last_status, 413);
    assert_int_equal(st.records_sent, 1000);
    assert_int_equal(ss_host_mirror_close(m), -EMSGSIZE);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_mirror_unsent(m, &set), 2);
    assert_int_equal(set.items[0].len, sizeof(big));
    assert_item_text(&set, 1, "after");
    ss_host_mirror_free(m);

    ss_host_reader *r = reader(NULL);
    char **lines;
    size_t n = read_all(r, NULL, &lines);
    assert_int_equal(n, 1000);
    for (size_t k = 0; k < n; k++) {
        make_line(line, sizeof(line), 5, (int)k);
        line[strlen(line) - 1] = '\0';
        assert_string_equal(lines[k], line);
    }
    free_lines(lines, n);
    ss_host_reader_free(r);
    ss_records_clear(&set);
}

/* https with a certificate made here: trusted through ca_file, the mirror and
 * reader work; without it the certificate does not verify, which is not
 * retried (the records stay with the mirror). */
static void test_tls(void **state)
{
    char cert[128], key[128];
    assert_int_equal(ss_test_make_cert(tmpdir, cert, key, sizeof(cert)), 0);
    test_server_kill(&srv);
    const char *const opts[] = {"--cert", cert, "--key", key, NULL};
    assert_int_equal(test_ext_server_start(&srv, srv.port, opts), 0);
    char url[128];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/sync-stream", srv.port);

    ss_host_mirror *m;
    assert_int_equal(ss_host_mirror_new(&m, url, &(ss_host_mirror_opts){.ca_file = cert}), 0);
    assert_int_equal(ss_host_mirror_write(m, "over tls\n", 9), 0);
    assert_int_equal(ss_host_mirror_close(m), 0);
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    assert_int_equal(st.protocol, SS_HOST_PROTO_EXT);
    ss_host_mirror_free(m);

    ss_host_reader *r;
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(ss_host_reader_new(&r, url, &(ss_host_reader_opts){.ca_file = cert}), 0);
    assert_int_equal(ss_host_reader_follow(r, 0, 0, 0, &set), 1);
    assert_item_text(&set, 0, "over tls");
    ss_host_reader_free(r);

    assert_int_equal(ss_host_mirror_new(&m, url, NULL), 0);
    assert_int_equal(ss_host_mirror_write(m, "untrusted\n", 10), 0);
    assert_int_equal(ss_host_mirror_flush(m, 10000), -EKEYREJECTED);
    assert_int_equal(ss_host_mirror_close(m), -EKEYREJECTED);
    assert_int_equal(ss_host_mirror_unsent(m, &set), 1);
    assert_item_text(&set, 0, "untrusted");
    ss_host_mirror_free(m);
    assert_int_equal(ss_host_reader_new(&r, url, NULL), 0);
    assert_int_equal(ss_host_reader_read(r, SS_READ_ALL, &set), -EKEYREJECTED);
    assert_non_null(strstr(ss_host_reader_message(r), "certificate"));
    ss_host_reader_free(r);
    ss_records_clear(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_protocol_example, fresh),
        cmocka_unit_test_setup(test_batches_and_groups, fresh),
        cmocka_unit_test_setup(test_server_restart, fresh),
        cmocka_unit_test_setup(test_stall_no_duplicate, fresh),
        cmocka_unit_test_setup(test_concurrent_mirrors, fresh),
        cmocka_unit_test_setup(test_long_poll, fresh),
        cmocka_unit_test_setup(test_tail, fresh),
        cmocka_unit_test_setup(test_nul_bytes, fresh),
        cmocka_unit_test_setup(test_restart_epoch, fresh),
        cmocka_unit_test_setup(test_stop, fresh),
        cmocka_unit_test_setup(test_token, fresh),
        cmocka_unit_test_setup(test_body_cap, fresh),
        cmocka_unit_test_setup(test_tls, fresh),
    };
    return cmocka_run_group_tests(tests, start, stop);
}
