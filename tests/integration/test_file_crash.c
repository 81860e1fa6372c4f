/*
 * Crash safety of file mode: writers are killed with SIGKILL at random instants
 * (in the middle of a write(2), a compaction, a partial line) while others keep
 * writing. Afterwards the file must hold every record a writer had completed
 * (its write call returned), whole, numbered without a gap, and nothing torn.
 */
#include <inttypes.h>
#include <sys/mman.h>

#include "file_test.h"

#define LIVE 3         /* writers alive at any time */
#define MAX_WRITERS 80 /* writers started in one run, killed ones included */
#define RUN_MS 2500

/* Shared with the children: how many records each had completed. */
typedef struct progress {
    uint64_t done[MAX_WRITERS];
} progress;

static size_t pad_of(int i)
{
    return i % 40 == 3 ? 3000 : (size_t)(i % 17);
}

static void writer_child(const char *path, int id, size_t maxlen, progress *pg)
{
    char source[16];
    snprintf(source, sizeof(source), "w%d", id);
    ss_filebuf *fb = NULL;
    if (ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.maxlen = maxlen, .source = source}) < 0)
        _exit(3);
    static char line[4096];
    for (int i = 0;; i++) {
        int n = snprintf(line, sizeof(line), "%s %d ", source, i);
        size_t pad = pad_of(i);
        memset(line + n, 'a' + id % 26, pad);
        n += (int)pad;
        line[n++] = '\n';
        size_t half = (size_t)n / 3;
        if (ss_filebuf_write(fb, line, half) < 0 ||
            ss_filebuf_write(fb, line + half, (size_t)n - half) < 0)
            _exit(4);
        __atomic_store_n(&pg->done[id], (uint64_t)i + 1, __ATOMIC_RELEASE);
    }
}

/* Per writer: the next record number expected, and whether one was seen. */
typedef struct seen {
    int next;
    bool any;
} seen;

static void run_kills(const char *name, size_t maxlen, bool all_kept)
{
    char path[256];
    file_path(path, sizeof(path), name);
    progress *pg =
        mmap(NULL, sizeof(*pg), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(pg != MAP_FAILED);
    memset(pg, 0, sizeof(*pg));
    /* the file exists before anyone is killed */
    ss_filebuf *fb = file_open(path, &(ss_filebuf_opts){.maxlen = maxlen});

    pid_t live[LIVE];
    int started = 0;
    for (int k = 0; k < LIVE; k++) {
        live[k] = fork();
        assert_true(live[k] >= 0);
        if (live[k] == 0)
            writer_child(path, started, maxlen, pg);
        started++;
    }
    unsigned seed = 12345;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int kills = 0;
    for (;;) {
        usleep(2000 + rand_r(&seed) % 25000);
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms > RUN_MS || started == MAX_WRITERS)
            break;
        int k = (int)(rand_r(&seed) % LIVE);
        kill(live[k], SIGKILL);
        assert_int_equal(file_wait_child(live[k]), -1); /* killed, not exited */
        kills++;
        live[k] = fork();
        assert_true(live[k] >= 0);
        if (live[k] == 0)
            writer_child(path, started, maxlen, pg);
        started++;
    }
    for (int k = 0; k < LIVE; k++) {
        kill(live[k], SIGKILL);
        assert_int_equal(file_wait_child(live[k]), -1);
    }
    assert_true(kills > 10);

    /* One more writer after the last kill: it repairs whatever was torn. */
    assert_int_equal(ss_filebuf_write(fb, "after\n", 6), 0);
    ss_records set = SS_RECORDS_INIT;
    int n = ss_filebuf_read(fb, SS_READ_ALL, &set);
    assert_true(n > 0);
    ss_filebuf_stats st;
    assert_int_equal(ss_filebuf_get_stats(fb, &st), 0);
    assert_int_equal(st.damaged, 0);
    uint64_t total = st.last_seq;
    assert_int_equal((size_t)n, total < maxlen ? total : maxlen);
    assert_item_text(&set, (size_t)n - 1, "after");

    seen per[MAX_WRITERS] = {{0}};
    for (size_t i = 0; i + 1 < set.count; i++) {
        const ss_record *r = &set.items[i];
        /* numbered without a gap: the view is the newest records, all there */
        assert_int_equal(r->seq, total - (uint64_t)n + i + 1);
        int id = -1, rec = -1, consumed = 0;
        assert_int_equal(sscanf(r->text, "w%d %d %n", &id, &rec, &consumed), 2);
        assert_true(id >= 0 && id < started);
        if (!per[id].any)
            per[id] = (seen){.next = all_kept ? 0 : rec, .any = true};
        /* each writer's records in order, none missing, each whole */
        assert_int_equal(rec, per[id].next);
        per[id].next++;
        assert_int_equal(r->len, (size_t)consumed + pad_of(rec));
        for (size_t b = 0; b < pad_of(rec); b++)
            assert_int_equal(r->text[consumed + b], 'a' + id % 26);
    }
    /* Every completed record is there (a writer killed after its record
     * reached the file but before its write call returned has one more). */
    uint64_t completed = 0;
    for (int id = 0; id < started; id++) {
        uint64_t done = __atomic_load_n(&pg->done[id], __ATOMIC_ACQUIRE);
        completed += done;
        if (all_kept || per[id].any) {
            assert_true((uint64_t)per[id].next >= done);
            assert_true((uint64_t)per[id].next <= done + 1);
        }
    }
    print_message("%d writers killed, %" PRIu64 " records completed, %" PRIu64
                  " in the file's numbering, %" PRIu64 " torn lines cut by the last writer\n",
                  kills, completed, total, st.repaired);
    ss_records_clear(&set);
    ss_filebuf_free(fb);
    munmap(pg, sizeof(*pg));
}

/* No compaction: every record ever completed is checked. */
static void test_kill_writers_all_kept(void **state)
{
    (void)state;
    run_kills("all.log", 1u << 24, true);
}

/* Compaction every 200 records, writers killed in the middle of it too. */
static void test_kill_writers_compacting(void **state)
{
    (void)state;
    run_kills("compacting.log", 200, false);
}

/* Whether the file at path ends in the middle of a line. */
static bool ends_mid_line(const char *path)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    char last = '\n';
    assert_int_equal(fstat(fd, &st), 0);
    if (st.st_size > 0)
        assert_int_equal(pread(fd, &last, 1, st.st_size - 1), 1);
    close(fd);
    return last != '\n';
}

/* A writer of 1 MiB lines, killed when the file is seen to end in the middle of
 * a line, that is, during its write(2) (the kernel makes the size grow page by
 * page): the write stops there, torn. The next writer cuts the torn line. */
static void test_kill_mid_write(void **state)
{
    (void)state;
    char path[256];
    file_path(path, sizeof(path), "torn.log");
    const size_t big = 1u << 20;
    ss_filebuf *fb = file_open(path, &(ss_filebuf_opts){.max_line = big, .maxlen = 4});
    unsigned seed = 99;
    int torn = 0, rounds = 0;
    for (; rounds < 50 && torn < 5; rounds++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            ss_filebuf *w = NULL;
            char *line = malloc(big);
            if (!line || ss_filebuf_open(&w, path, &(ss_filebuf_opts){.max_line = big}) < 0)
                _exit(3);
            memset(line, 'x', big - 1);
            line[big - 1] = '\n';
            for (;;)
                if (ss_filebuf_write(w, line, big) < 0)
                    _exit(4);
        }
        for (int i = 0; i < 20000 && !ends_mid_line(path); i++)
            usleep(50 + rand_r(&seed) % 50);
        kill(pid, SIGKILL);
        assert_int_equal(file_wait_child(pid), -1);
        size_t len;
        char *data = file_slurp(path, &len);
        bool was_torn = len > 0 && data[len - 1] != '\n';
        free(data);
        ss_filebuf_stats before, after;
        assert_int_equal(ss_filebuf_get_stats(fb, &before), 0);
        assert_int_equal(ss_filebuf_write(fb, "next\n", 5), 0);
        assert_int_equal(ss_filebuf_get_stats(fb, &after), 0);
        assert_int_equal(after.repaired - before.repaired, was_torn ? 1 : 0);
        assert_int_equal(after.damaged, 0);
        torn += was_torn;
        ss_records set = SS_RECORDS_INIT;
        assert_int_equal(ss_filebuf_read(fb, 1, &set), 1);
        assert_item_text(&set, 0, "next");
        ss_records_clear(&set);
    }
    print_message("%d rounds, %d torn lines cut\n", rounds, torn);
    assert_true(torn > 0);
    ss_filebuf_free(fb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_writers_all_kept),
        cmocka_unit_test(test_kill_writers_compacting),
        cmocka_unit_test(test_kill_mid_write),
    };
    return cmocka_run_group_tests(tests, file_tmpdir_make, file_tmpdir_remove);
}
