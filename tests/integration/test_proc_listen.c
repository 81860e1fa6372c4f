/*
 * test_proc_listen.c: connected mirrors (ss_procbuf_listen, ss_mirror_connect).
 * Plain fork() children (not the buffer's) and this process connect; long
 * records from several processes never mix; ends are counted (ss_mirror_end,
 * close, a connection lost without one); the secret is checked; a stop
 * reaches a connected mirror; a reset drops connections and changes the secret.
 *
 * A forked child uses only the mirror API and ends with _exit(); it reports a
 * failure through its exit code.
 */
#include <sys/wait.h>

#include "proc_test.h"

#define NCHILD 4
#define BIG (200u * 1024u) /* above PIPE_BUF and a socket's default buffer */

static ss_procbuf *listening(char *addr)
{
    ss_procbuf *pb = proc_new(1000, 1u << 20, 0);
    assert_int_equal(ss_procbuf_listen(pb, addr, SS_MIRROR_ADDRESS_MAX), 0);
    assert_int_equal(addr[0], '@');
    char again[SS_MIRROR_ADDRESS_MAX];
    assert_int_equal(ss_procbuf_listen(pb, again, sizeof(again)), 0);
    assert_string_equal(addr, again);
    return pb;
}

static void wait_exit0(pid_t pid)
{
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* Wait until the buffer has counted `want` ends. */
static void wait_ends(ss_procbuf *pb, uint64_t want)
{
    uint64_t ends = 0;
    while (ends < want)
        assert_int_equal(ss_procbuf_wait_ends(pb, ends, PROC_WAIT_MS, &ends), 0);
    assert_int_equal(ends, want);
}

/* Child c: two lines of BIG bytes of its own letter, written in pieces, then an end. */
static int big_child(const char *addr, int c)
{
    ss_mirror *m;
    if (ss_mirror_connect(&m, addr, PROC_WAIT_MS) < 0)
        return 2;
    char *line = malloc(BIG + 1);
    if (!line)
        return 3;
    memset(line, 'a' + c, BIG);
    line[BIG] = '\n';
    for (int i = 0; i < 2; i++)
        for (size_t off = 0; off <= BIG; off += 7777)
            if (ss_mirror_write(m, line + off, off + 7777 > BIG + 1 ? BIG + 1 - off : 7777) < 0)
                return 4;
    free(line);
    return ss_mirror_close(m) < 0 ? 5 : 0;
}

static void test_children_and_self(void **state)
{
    (void)state;
    char addr[SS_MIRROR_ADDRESS_MAX];
    ss_procbuf *pb = listening(addr);
    pid_t pids[NCHILD];
    for (int c = 0; c < NCHILD; c++) {
        flush_before_fork();
        pids[c] = fork();
        assert_true(pids[c] >= 0);
        if (pids[c] == 0)
            _exit(big_child(addr, c));
    }
    /* this process too, with one end and more lines after it */
    ss_mirror *m;
    assert_int_equal(ss_mirror_connect(&m, addr, PROC_WAIT_MS), 0);
    assert_int_equal(ss_mirror_write(m, "self 1\nself", 11), 0);
    assert_int_equal(ss_mirror_end(m, NULL, 0), 0);
    assert_int_equal(ss_mirror_write(m, "self 3\n", 7), 0);
    assert_int_equal(ss_mirror_end(m, "boom", 4), 0);
    for (int c = 0; c < NCHILD; c++)
        wait_exit0(pids[c]);
    wait_ends(pb, NCHILD + 2);

    ss_records set = SS_RECORDS_INIT;
    proc_read_all(pb, &set);
    size_t big = 0, self = 0;
    for (size_t i = 0; i < set.count; i++) {
        const ss_record *r = &set.items[i];
        if (r->len == BIG) {
            for (size_t k = 1; k < BIG; k++)
                assert_int_equal(r->text[k], r->text[0]);
            big++;
        } else if (rec_is(r, "self 1") || rec_is(r, "self") || rec_is(r, "self 3")) {
            self++;
        } else {
            assert_true(rec_is(r, "boom") && r->kind == SS_KIND_ERROR);
        }
    }
    assert_int_equal(big, 2 * NCHILD);
    assert_int_equal(self, 3);
    ss_records_clear(&set);
    assert_int_equal(ss_mirror_close(m), 0);
    /* connected mirrors are not children */
    assert_int_equal(ss_procbuf_running(pb), 0);
    ss_procbuf_free(pb);
}

static void test_bad_addresses(void **state)
{
    (void)state;
    char addr[SS_MIRROR_ADDRESS_MAX];
    ss_procbuf *pb = listening(addr);
    ss_mirror *m = NULL;
    assert_int_equal(ss_mirror_connect(&m, NULL, 100), -EINVAL);
    assert_int_equal(ss_mirror_connect(&m, "nothing", 100), -EINVAL);
    assert_int_equal(ss_mirror_connect(&m, "@x/12", 100), -EINVAL);
    char wrong[SS_MIRROR_ADDRESS_MAX];
    snprintf(wrong, sizeof(wrong), "%s", addr);
    size_t len = strlen(wrong);
    wrong[len - 1] = wrong[len - 1] == '0' ? '1' : '0';
    assert_int_equal(ss_mirror_connect(&m, wrong, PROC_WAIT_MS), -EACCES);
    /* a name nobody listens on */
    char *slash = strchr(wrong, '/');
    wrong[1] = wrong[1] == 'x' ? 'y' : 'x';
    assert_non_null(slash);
    assert_int_equal(ss_mirror_connect(&m, wrong, PROC_WAIT_MS), -ECONNREFUSED);
    assert_null(m);
    char small[8];
    assert_int_equal(ss_procbuf_listen(pb, small, sizeof(small)), -EINVAL);
    /* nothing of the refused connections became a record */
    size_t n;
    assert_int_equal(ss_linebuf_len(ss_procbuf_linebuf(pb), &n), 0);
    assert_int_equal(n, 0);
    ss_procbuf_free(pb);
}

static void test_lost_connection(void **state)
{
    (void)state;
    char addr[SS_MIRROR_ADDRESS_MAX];
    ss_procbuf *pb = listening(addr);
    flush_before_fork();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ss_mirror *m;
        if (ss_mirror_connect(&m, addr, PROC_WAIT_MS) < 0)
            _exit(2);
        ss_mirror_write(m, "last words\n", 11);
        raise(SIGKILL);
        _exit(3);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    wait_ends(pb, 1);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(proc_read_all(pb, &set), 2);
    assert_true(rec_is(&set.items[0], "last words"));
    assert_int_equal(set.items[1].kind, SS_KIND_ERROR);
    assert_true(set.items[1].flags & SS_REC_EXIT);
    assert_true(rec_contains(&set.items[1], "without an end"));
    ss_records_clear(&set);
    ss_procbuf_free(pb);
}

static void test_stop_and_reset(void **state)
{
    (void)state;
    char addr[SS_MIRROR_ADDRESS_MAX];
    ss_procbuf *pb = listening(addr);
    ss_mirror *m;
    assert_int_equal(ss_mirror_connect(&m, addr, PROC_WAIT_MS), 0);
    assert_int_equal(ss_mirror_write(m, "before\n", 7), 0);
    assert_int_equal(ss_procbuf_stop(pb), 0);
    assert_int_equal(ss_mirror_write(m, "during\n", 7), SS_ESTOPPED);
    /* an end passes a stop */
    assert_int_equal(ss_mirror_end(m, "stopped", 7), 0);
    wait_ends(pb, 1);
    assert_int_equal(ss_procbuf_force_stop(pb), 0);
    uint64_t ends;
    assert_int_equal(ss_procbuf_wait_ends(pb, 1, -1, &ends), SS_ESTOPPED);

    assert_int_equal(ss_procbuf_reset_flags(pb, SS_PROC_RESET_KEEP_RECORDS), 0);
    assert_int_equal(ss_procbuf_reset_flags(pb, 1u << 7), -EINVAL);
    size_t n;
    assert_int_equal(ss_linebuf_len(ss_procbuf_linebuf(pb), &n), 0);
    assert_int_equal(n, 2);
    /* the old connection is dropped, the old secret refused */
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = ss_mirror_write(m, "after\n", 6);
    assert_int_equal(rc, -EPIPE);
    ss_mirror *old;
    assert_int_equal(ss_mirror_connect(&old, addr, PROC_WAIT_MS), -EACCES);
    char fresh[SS_MIRROR_ADDRESS_MAX];
    assert_int_equal(ss_procbuf_listen(pb, fresh, sizeof(fresh)), 0);
    assert_string_not_equal(fresh, addr);
    ss_mirror *m2;
    assert_int_equal(ss_mirror_connect(&m2, fresh, PROC_WAIT_MS), 0);
    assert_int_equal(ss_mirror_write(m2, "new round\n", 10), 0);
    assert_int_equal(ss_mirror_close(m2), 0);
    wait_ends(pb, 2);
    ss_records set = SS_RECORDS_INIT;
    assert_int_equal(proc_read_all(pb, &set), 3);
    assert_true(rec_is(&set.items[2], "new round"));
    ss_records_clear(&set);
    ss_mirror_close(m);
    assert_int_equal(ss_procbuf_reset(pb), 0);
    assert_int_equal(ss_linebuf_len(ss_procbuf_linebuf(pb), &n), 0);
    assert_int_equal(n, 0);
    ss_procbuf_free(pb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_children_and_self),
        cmocka_unit_test(test_bad_addresses),
        cmocka_unit_test(test_lost_connection),
        cmocka_unit_test(test_stop_and_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
