/* Crash survival: a child writing into a file-backed ring dies by SIGKILL or
 * SIGSEGV; the parent reads every record it had completed, and its partial line. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static char tmpdir[] = "/tmp/ss-crash-XXXXXX";

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

static void ring_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

/* In the child: write `lines` lines and a partial line, tell the parent, then
 * wait to be killed (or crash). Never returns. */
static void child_writes(const char *path, int lines, int ready_fd, bool segv)
{
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {.maxlen = 100, .path = path, .source = "child"};
    if (ss_linebuf_new(&lb, &opts) < 0)
        _exit(3);
    char line[64];
    for (int i = 0; i < lines; i++) {
        int n = snprintf(line, sizeof(line), "line %d\n", i);
        ss_linebuf_write(lb, line, (size_t)n);
    }
    ss_linebuf_append(lb, SS_KIND_ERROR, "about to die\ndetails", 20);
    ss_linebuf_write(lb, "last words", 10);
    if (write(ready_fd, "r", 1) != 1)
        _exit(4);
    if (segv) {
        /* cmocka (and ASan) catch SIGSEGV to report it; a real crash is not caught */
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    pause();
    _exit(5);
}

static void run_crash(const char *name, bool segv)
{
    char path[256];
    ring_path(path, sizeof(path), name);
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        child_writes(path, 250, ready[1], segv);
    }
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    if (!segv)
        kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    ss_records set = SS_RECORDS_INIT;
    ss_linebuf_stats st;
    /* 100 records kept of 251 stored (250 lines and the error), then the partial */
    assert_int_equal(ss_linebuf_inspect_file(path, SS_READ_ALL, &set, &st), 101);
    assert_int_equal(st.stored, 251);
    assert_int_equal(st.shed, 151);
    for (int i = 0; i < 99; i++) {
        char want[32];
        snprintf(want, sizeof(want), "line %d", 151 + i);
        assert_item_text(&set, (size_t)i, want);
        assert_string_equal(set.items[i].source, "child");
        assert_int_equal(set.items[i].seq, 152 + (uint64_t)i);
    }
    assert_item_text(&set, 99, "about to die\ndetails");
    assert_int_equal(set.items[99].kind, SS_KIND_ERROR);
    assert_item_text(&set, 100, "last words");
    assert_true(set.items[100].flags & SS_REC_PARTIAL);

    /* -n picks the newest items */
    assert_int_equal(ss_linebuf_inspect_file(path, 2, &set, NULL), 2);
    assert_item_text(&set, 0, "about to die\ndetails");
    assert_item_text(&set, 1, "last words");
    ss_records_clear(&set);
}

static void test_sigkill(void **state)
{
    (void)state;
    run_crash("kill.ring", false);
}

static void test_sigsegv(void **state)
{
    (void)state;
    run_crash("segv.ring", true);
}

/* A writer killed while it creates its ring file leaves either no file at the
 * path or a whole ring: never a half-made file that would be refused. */
static void test_killed_while_creating(void **state)
{
    (void)state;
    for (int round = 0; round < 30; round++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/create-%d.ring", tmpdir, round);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            ss_linebuf *lb = NULL;
            /* a large file, so that allocating it takes a while */
            ss_linebuf_opts opts = {.maxlen = 100000, .max_bytes = 256u << 20, .path = path};
            if (ss_linebuf_new(&lb, &opts) < 0)
                _exit(3);
            pause();
            _exit(4);
        }
        usleep((useconds_t)(round * 300));
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        ss_records set = SS_RECORDS_INIT;
        int rc = ss_linebuf_inspect_file(path, SS_READ_ALL, &set, NULL);
        assert_true(rc == -ENOENT || rc == 0);
        ss_records_clear(&set);
    }
}

/* Inspecting a ring while its owner writes: never an error, only whole
 * records, in order. */
static void test_inspect_live_writer(void **state)
{
    (void)state;
    char path[256];
    ring_path(path, sizeof(path), "live.ring");
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ss_linebuf *lb = NULL;
        ss_linebuf_opts opts = {.maxlen = 8, .path = path};
        if (ss_linebuf_new(&lb, &opts) < 0)
            _exit(3);
        if (write(ready[1], "r", 1) != 1)
            _exit(4);
        char line[64];
        for (unsigned i = 0;; i++) {
            int n = snprintf(line, sizeof(line), "n%u %.*s|\n", i, (int)(i % 40),
                             "========================================");
            ss_linebuf_write(lb, line, (size_t)n);
        }
    }
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    ss_records set = SS_RECORDS_INIT;
    for (int round = 0; round < 3000; round++) {
        int n = ss_linebuf_inspect_file(path, SS_READ_ALL, &set, NULL);
        assert_true(n >= 0);
        for (int i = 0; i < n; i++) {
            const ss_record *r = &set.items[i];
            if (r->flags & SS_REC_PARTIAL)
                continue;
            unsigned idx;
            assert_int_equal(sscanf(r->text, "n%u", &idx), 1);
            const char *pad = strchr(r->text, ' ') + 1;
            assert_int_equal(strspn(pad, "="), idx % 40);
            assert_int_equal(pad[idx % 40], '|');
            if (i > 0 && !(set.items[i - 1].flags & SS_REC_PARTIAL))
                assert_int_equal(r->seq, set.items[i - 1].seq + 1);
        }
    }
    ss_records_clear(&set);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
}

/* A line that completes the partial line, then a long write: killed during it,
 * the file must not show the old partial "abc" again (as a partial line, or as
 * a record when the file is continued). */
static void test_killed_after_completing_partial(void **state)
{
    (void)state;
    char path[256];
    ring_path(path, sizeof(path), "partial.ring");
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ss_linebuf *lb = NULL;
        ss_linebuf_opts opts = {.maxlen = 16, .max_line = 4096, .path = path};
        size_t big = 256u << 20;
        char *data = malloc(big);
        if (!data || ss_linebuf_new(&lb, &opts) < 0)
            _exit(3);
        memcpy(data, "def\n", 4);
        memset(data + 4, 'x', big - 4);
        ss_linebuf_write(lb, "abc", 3);
        if (write(ready[1], "r", 1) != 1)
            _exit(4);
        ss_linebuf_write(lb, data, big);
        pause();
        _exit(5);
    }
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    usleep(20000);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, NULL, 0), pid);

    ss_records set = SS_RECORDS_INIT;
    int n = ss_linebuf_inspect_file(path, SS_READ_ALL, &set, NULL);
    assert_true(n >= 1);
    for (int i = 0; i < n; i++) {
        const ss_record *r = &set.items[i];
        if (r->flags & SS_REC_PARTIAL)
            assert_false(r->len >= 3 && memcmp(r->text, "abc", 3) == 0 && r->len < 6);
        else if (r->seq == 1)
            assert_item_text(&set, (size_t)i, "abcdef");
    }
    ss_linebuf *lb = NULL;
    ss_linebuf_opts opts = {.maxlen = 16, .max_line = 4096, .path = path};
    assert_int_equal(ss_linebuf_new(&lb, &opts), 0);
    assert_true(ss_linebuf_read(lb, SS_READ_ALL, &set) >= 1);
    for (size_t i = 0; i < set.count; i++)
        assert_false(set.items[i].len == 3 && memcmp(set.items[i].text, "abc", 3) == 0);
    ss_records_clear(&set);
    ss_linebuf_free(lb);
}

/* Kill a writer at arbitrary instants: whatever was published is whole, and the
 * file can be continued by the next process. */
static void test_killed_at_any_instant(void **state)
{
    (void)state;
    char path[256];
    ring_path(path, sizeof(path), "loop.ring");
    /* made here first: a child killed before it finished creating the file
     * would leave a file that is rightly not a ring yet */
    ss_linebuf *made = NULL;
    assert_int_equal(ss_linebuf_new(&made, &(ss_linebuf_opts){.maxlen = 50, .path = path}), 0);
    ss_linebuf_free(made);
    for (int round = 0; round < 20; round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            ss_linebuf *lb = NULL;
            ss_linebuf_opts opts = {.maxlen = 50, .path = path};
            if (ss_linebuf_new(&lb, &opts) < 0)
                _exit(3);
            char line[160];
            for (unsigned i = 0;; i++) {
                /* variable lengths make the arena wrap at varying places */
                int n = snprintf(line, sizeof(line), "r%d n%u %.*s|\n", round, i, (int)(i % 120),
                                 "====================================================="
                                 "===================================================="
                                 "==============");
                ss_linebuf_write(lb, line, (size_t)n);
            }
        }
        usleep(2000 + (useconds_t)(round * 1500));
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));

        ss_records set = SS_RECORDS_INIT;
        int n = ss_linebuf_inspect_file(path, SS_READ_ALL, &set, NULL);
        assert_true(n >= 0);
        for (int i = 0; i < n; i++) {
            const ss_record *r = &set.items[i];
            if (r->flags & SS_REC_PARTIAL)
                continue;
            int rr;
            unsigned idx;
            assert_int_equal(sscanf(r->text, "r%d n%u", &rr, &idx), 2);
            /* whole: the padding has the length its index says, then '|' */
            const char *pad = strchr(strchr(r->text, ' ') + 1, ' ') + 1;
            assert_int_equal(strspn(pad, "="), idx % 120);
            assert_int_equal(pad[idx % 120], '|');
            assert_int_equal(r->len, (size_t)(pad - r->text) + idx % 120 + 1);
            if (i > 0 && !(set.items[i - 1].flags & SS_REC_PARTIAL))
                assert_int_equal(r->seq, set.items[i - 1].seq + 1);
        }
        ss_records_clear(&set);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill),
        cmocka_unit_test(test_sigsegv),
        cmocka_unit_test(test_killed_at_any_instant),
        cmocka_unit_test(test_killed_after_completing_partial),
        cmocka_unit_test(test_inspect_live_writer),
        cmocka_unit_test(test_killed_while_creating),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
