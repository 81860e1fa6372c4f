/*
 * Helpers shared by the file-mode tests (tests/integration/test_file*.c): a
 * temporary directory, child processes that write through their own
 * ss_filebuf, and bounded waits for them.
 */
#ifndef SS_FILE_TEST_H
#define SS_FILE_TEST_H

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

/* The bound on every wait for a child: long enough for a loaded sanitizer run. */
#define FILE_WAIT_MS 60000

static char file_tmpdir[] = "/tmp/ss-file-XXXXXX";

static int file_tmpdir_make(void **state)
{
    (void)state;
    return ss_test_tmpdir_make(file_tmpdir);
}

static int file_tmpdir_remove(void **state)
{
    (void)state;
    return ss_test_tmpdir_remove(file_tmpdir);
}

static inline void file_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", file_tmpdir, name);
}

static inline ss_filebuf *file_open(const char *path, const ss_filebuf_opts *opts)
{
    ss_filebuf *fb = NULL;
    int rc = ss_filebuf_open(&fb, path, opts);
    if (rc < 0)
        fail_msg("ss_filebuf_open(%s): %s", path, ss_strerror(rc));
    return fb;
}

/* Wait for pid within FILE_WAIT_MS (killing it past that) and return its exit
 * status, or -1 when it did not exit normally. */
static inline int file_wait_child(pid_t pid)
{
    int status;
    for (int ms = 0; ms < FILE_WAIT_MS; ms += 5) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(5000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* The whole content of a file, NUL-terminated; free() it. */
static inline char *file_slurp(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = 2 * cap + 8192;
            data = realloc(data, cap);
            assert_non_null(data);
        }
        size_t n = fread(data + len, 1, 4096, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    data[len] = '\0';
    if (ret_len)
        *ret_len = len;
    return data;
}

static inline void file_put(const char *path, const char *data, size_t len, int flags)
{
    int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

#endif
