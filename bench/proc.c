/*
 * bench_proc: process mode. P = 4 producer processes write N lines of 64 bytes
 * each (63 characters and '\n'); how fast do the lines reach the parent?
 *
 *   mirrors        ss_procbuf_fork children, one ss_mirror_write per line
 *   mirrors block  the same, 1024 lines per ss_mirror_write (64 KiB)
 *   spawn          ss_procbuf_spawn of bench_producer, its stdout captured
 *   run            `syncstream run -j 4 -- bench_producer N ::: 1 2 3 4 > /dev/null`
 *   parallel       `parallel --line-buffer -j 4 bench_producer N ::: 1 2 3 4 > /dev/null`
 *   run --tag, parallel --line-buffer --tag: the same, every line after its
 *                  job's argument and a tab
 *   raw            forked children, one write(2) per line into a pipe each; the
 *                  parent drains the pipes with poll() into memory, no parsing
 *
 * spawn, run and parallel (tagged or not) are measured with both kinds of bench_producer: block
 * writes (fwrite on a fully-buffered stdout, 64 KiB) and one write(2) per line
 * (bench_producer -w). Every figure is the median of -r runs, the transports
 * interleaved run by run. See docs/benchmarks.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <syncstream.h>
#include <syncstream/proc.h>

#define PRODUCERS 4
#define LINE 64
#define BLOCK_LINES 1024

extern char **environ;

static char g_line[LINE];
static size_t g_n = 500000;
static char g_nstr[32];
static char g_producer[PATH_MAX];
static char g_tool[PATH_MAX];
static char g_parallel[PATH_MAX];
static bool g_have_run, g_have_parallel;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_proc: %s: %s\n", what, why);
    exit(1);
}

static void check(int rc, const char *what)
{
    if (rc < 0)
        die(what, ss_strerror(rc));
}

/* --- mirrors ------------------------------------------------------------------ */

static ss_procbuf *new_procbuf(void)
{
    ss_procbuf_opts o = {0};
    o.buf.maxlen = 1000;
    ss_procbuf *pb;
    check(ss_procbuf_new(&pb, &o), "ss_procbuf_new");
    return pb;
}

/* Every child exited 0 and the buffer saw 4N lines plus one exit record each. */
static void verify_procbuf(ss_procbuf *pb, int first_id, const char *what)
{
    for (int i = 0; i < PRODUCERS; i++) {
        ss_child_status st;
        check(ss_procbuf_child(pb, first_id + i, &st), "ss_procbuf_child");
        if (!st.finished || !st.exited || st.exit_code != 0) {
            fprintf(stderr, "bench_proc: %s: child %d did not exit 0\n", what, i);
            exit(1);
        }
    }
    ss_linebuf_stats s;
    check(ss_linebuf_get_stats(ss_procbuf_linebuf(pb), &s), "ss_linebuf_get_stats");
    uint64_t want = (uint64_t)PRODUCERS * g_n + PRODUCERS;
    if (s.written != want || s.cut != 0) {
        fprintf(stderr, "bench_proc: %s: %llu records written (%llu cut), expected %llu\n", what,
                (unsigned long long)s.written, (unsigned long long)s.cut, (unsigned long long)want);
        exit(1);
    }
}

static double run_mirrors(bool block)
{
    static char blk[BLOCK_LINES * LINE];
    if (block)
        for (size_t i = 0; i < BLOCK_LINES; i++)
            memcpy(blk + i * LINE, g_line, LINE);
    ss_procbuf *pb = new_procbuf();
    fflush(NULL);
    double t0 = now_s();
    int first_id = -1;
    for (int i = 0; i < PRODUCERS; i++) {
        char name[16];
        snprintf(name, sizeof(name), "m%d", i);
        ss_mirror *m;
        int id;
        pid_t pid = ss_procbuf_fork(pb, name, 0, &m, &id);
        if (pid == 0) {
            if (!m)
                _exit(3);
            size_t left = g_n;
            while (left > 0) {
                size_t k = block ? (left < BLOCK_LINES ? left : BLOCK_LINES) : 1;
                if (ss_mirror_write(m, block ? blk : g_line, k * LINE) < 0)
                    _exit(4);
                left -= k;
            }
            _exit(ss_mirror_close(m) < 0 ? 5 : 0);
        }
        check(pid, "ss_procbuf_fork");
        if (i == 0)
            first_id = id;
    }
    check(ss_procbuf_wait(pb, -1), "ss_procbuf_wait");
    double dt = now_s() - t0;
    verify_procbuf(pb, first_id, block ? "mirrors block" : "mirrors");
    ss_procbuf_free(pb);
    return PRODUCERS * (double)g_n / dt;
}

/* --- spawn: bench_producer's stdout captured by the process buffer ------------ */

static double run_spawn(bool per_line)
{
    ss_procbuf *pb = new_procbuf();
    double t0 = now_s();
    int first_id = -1;
    for (int i = 0; i < PRODUCERS; i++) {
        char id[8];
        snprintf(id, sizeof(id), "%d", i + 1);
        char *argv[5];
        int a = 0;
        argv[a++] = g_producer;
        if (per_line)
            argv[a++] = (char *)"-w";
        argv[a++] = g_nstr;
        argv[a++] = id;
        argv[a] = NULL;
        ss_spawn_opts o = {.argv = argv, .flags = SS_PROC_NULL_STDIN};
        int cid;
        check(ss_procbuf_spawn(pb, &o, &cid), "ss_procbuf_spawn");
        if (i == 0)
            first_id = cid;
    }
    check(ss_procbuf_wait(pb, -1), "ss_procbuf_wait");
    double dt = now_s() - t0;
    verify_procbuf(pb, first_id, per_line ? "spawn (write per line)" : "spawn (blocks)");
    ss_procbuf_free(pb);
    return PRODUCERS * (double)g_n / dt;
}

/* --- run and parallel: a whole command line, stdout to a file ------------------ */

/*
 * The command lines measured, numbered 0 to N_CMDS - 1: bit 0 one write(2) per
 * line (bench_producer -w), bit 1 GNU parallel instead of syncstream run,
 * bit 2 --tag.
 */
#define N_CMDS 8
#define CMD_PER_LINE 1
#define CMD_PARALLEL 2
#define CMD_TAG 4

/* argv for `TOOL [run -j 4 [--tag] --] | [--line-buffer [--tag] -j 4]
 * bench_producer [-w] N ::: 1 2 3 4`. */
static void build_argv(char **argv, int cmd, char *nstr)
{
    int a = 0;
    if (cmd & CMD_PARALLEL) {
        argv[a++] = g_parallel;
        argv[a++] = (char *)"--line-buffer";
        if (cmd & CMD_TAG)
            argv[a++] = (char *)"--tag";
        argv[a++] = (char *)"-j";
        argv[a++] = (char *)"4";
    } else {
        argv[a++] = g_tool;
        argv[a++] = (char *)"run";
        argv[a++] = (char *)"-j";
        argv[a++] = (char *)"4";
        if (cmd & CMD_TAG)
            argv[a++] = (char *)"--tag";
        argv[a++] = (char *)"--";
    }
    argv[a++] = g_producer;
    if (cmd & CMD_PER_LINE)
        argv[a++] = (char *)"-w";
    argv[a++] = nstr;
    argv[a++] = (char *)":::";
    argv[a++] = (char *)"1";
    argv[a++] = (char *)"2";
    argv[a++] = (char *)"3";
    argv[a++] = (char *)"4";
    argv[a] = NULL;
}

/* Sum the counts of "N lines of output lost" notices (syncstream run's report
 * of a printer that fell behind) in the text err; copy any other line to our
 * stderr. */
static uint64_t scan_stderr(const char *prog, const char *err, size_t len)
{
    uint64_t lost = 0;
    const char *p = err, *end = err + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        unsigned long long k;
        char line[256];
        snprintf(line, sizeof(line), "%.*s", (int)(l < 255 ? l : 255), p);
        const char *colon = strstr(line, ": ");
        if (colon && strstr(line, " of output lost") && sscanf(colon + 2, "%llu", &k) == 1)
            lost += k;
        else
            fprintf(stderr, "bench_proc: %s said: %s\n", prog, line);
        p += l + 1;
    }
    return lost;
}

/* posix_spawn argv with stdin from /dev/null, stdout to out_fd (or /dev/null
 * when out_fd < 0), stderr read back by scan_stderr (*lost); waits; returns the
 * seconds taken, or -1 when the command did not exit 0. */
static double time_command(char **argv, int out_fd, uint64_t *lost)
{
    int err_fd = memfd_create("bench_proc_err", MFD_CLOEXEC);
    if (err_fd < 0)
        die("memfd_create", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    else
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    fflush(NULL);
    double t0 = now_s();
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        die(argv[0], strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid", strerror(errno));
    double dt = now_s() - t0;

    char err[16384];
    ssize_t k = pread(err_fd, err, sizeof(err), 0);
    close(err_fd);
    *lost = scan_stderr(argv[0], err, k > 0 ? (size_t)k : 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? dt : -1;
}

static double run_command(int cmd, uint64_t *lost)
{
    char *argv[16];
    build_argv(argv, cmd, g_nstr);
    double dt = time_command(argv, -1, lost);
    if (dt < 0)
        die(argv[0], "the command failed");
    return PRODUCERS * (double)g_n / dt;
}

/* Untimed: run the command with its stdout into memory. It must print whole
 * producer lines only (mixed lines end the benchmark), tagged, the tag "1\t"
 * to "4\t"; *printed counts them and *lost counts the lines it said it lost.
 * Returns false when the command failed. */
static bool verify_command(int cmd, size_t n, uint64_t *printed, uint64_t *lost)
{
    char nstr[32];
    snprintf(nstr, sizeof(nstr), "%zu", n);
    char *argv[16];
    build_argv(argv, cmd, nstr);
    int fd = memfd_create("bench_proc", MFD_CLOEXEC);
    if (fd < 0)
        die("memfd_create", strerror(errno));
    bool ok = time_command(argv, fd, lost) >= 0;
    off_t size = lseek(fd, 0, SEEK_END);
    size_t tag = cmd & CMD_TAG ? 2 : 0, step = tag + LINE;
    if (ok && size % step != 0)
        die(argv[0], "its output is not a whole number of lines");
    if (ok && size > 0) {
        char *p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED)
            die("mmap", strerror(errno));
        for (size_t off = 0; off < (size_t)size; off += step)
            if ((tag && (p[off] < '1' || p[off] > '0' + PRODUCERS || p[off + 1] != '\t')) ||
                memcmp(p + off + tag, g_line, LINE) != 0)
                die(argv[0], "a line of its output is not a producer's line (mixed lines?)");
        munmap(p, (size_t)size);
    }
    *printed = ok ? (uint64_t)size / step : 0;
    close(fd);
    return ok;
}

/* --- raw: one write(2) per line into a pipe per child, poll() and read --------- */

/* sock: socketpairs instead of pipes, and each line sent as a mirror would
 * (send(2) with MSG_NOSIGNAL of a 16-byte header and the line, 80 bytes). */
static double run_raw(bool sock)
{
    int fds[PRODUCERS][2];
    pid_t pids[PRODUCERS];
    static char rbuf[64 * 1024];
    fflush(NULL);
    double t0 = now_s();
    for (int i = 0; i < PRODUCERS; i++) {
        if ((sock ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds[i])
                  : pipe2(fds[i], O_CLOEXEC)) < 0)
            die(sock ? "socketpair" : "pipe2", strerror(errno));
        pids[i] = fork();
        if (pids[i] < 0)
            die("fork", strerror(errno));
        if (pids[i] == 0) {
            for (int j = 0; j <= i; j++)
                close(fds[j][0]);
            char frame[16 + LINE] = {'S', 1};
            memcpy(frame + 16, g_line, LINE);
            size_t len = sock ? sizeof(frame) : LINE;
            for (size_t k = 0; k < g_n; k++) {
                ssize_t w = sock ? send(fds[i][1], frame, len, MSG_NOSIGNAL)
                                 : write(fds[i][1], g_line, len);
                if (w < 0 && errno == EINTR) {
                    k--;
                    continue;
                }
                if (w != (ssize_t)len)
                    _exit(4);
            }
            _exit(0);
        }
        close(fds[i][1]);
    }
    struct pollfd pfd[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        pfd[i] = (struct pollfd){.fd = fds[i][0], .events = POLLIN};
    int open = PRODUCERS;
    size_t bytes = 0;
    while (open > 0) {
        if (poll(pfd, PRODUCERS, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll", strerror(errno));
        }
        for (int i = 0; i < PRODUCERS; i++) {
            if (pfd[i].fd < 0 || !pfd[i].revents)
                continue;
            ssize_t r = read(pfd[i].fd, rbuf, sizeof(rbuf));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                die("read", strerror(errno));
            if (r == 0) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
                open--;
            }
            bytes += (size_t)r;
        }
    }
    for (int i = 0; i < PRODUCERS; i++) {
        int status;
        while (waitpid(pids[i], &status, 0) < 0)
            if (errno != EINTR)
                die("waitpid", strerror(errno));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            die("raw", "a child did not exit 0");
    }
    double dt = now_s() - t0;
    if (bytes != PRODUCERS * g_n * (sock ? 16 + LINE : LINE))
        die("raw", "wrong byte count");
    return PRODUCERS * (double)g_n / dt;
}

/* --- driver ------------------------------------------------------------------ */

enum {
    T_MIRRORS,
    T_MIRRORS_BLOCK,
    T_SPAWN_BLOCK,
    T_SPAWN_LINE,
    T_RUN_BLOCK,
    T_RUN_LINE,
    T_PARALLEL_BLOCK,
    T_PARALLEL_LINE,
    T_RAW,
    T_RAW_SOCK,
    T_RUN_BLOCK_TAG,
    T_RUN_LINE_TAG,
    T_PARALLEL_BLOCK_TAG,
    T_PARALLEL_LINE_TAG,
    T_COUNT
};

/* The row of each command line (see N_CMDS). */
static const int g_cmd_row[N_CMDS] = {
    T_RUN_BLOCK,     T_RUN_LINE,     T_PARALLEL_BLOCK,     T_PARALLEL_LINE,
    T_RUN_BLOCK_TAG, T_RUN_LINE_TAG, T_PARALLEL_BLOCK_TAG, T_PARALLEL_LINE_TAG,
};

/* The command line of row t, or -1 for a row that runs none. */
static int cmd_of(int t)
{
    for (int k = 0; k < N_CMDS; k++)
        if (g_cmd_row[k] == t)
            return k;
    return -1;
}

static const struct {
    const char *key, *name, *writes;
} g_rows[T_COUNT] = {
    [T_MIRRORS] = {"a", "(a) mirrors", "ss_mirror_write per line"},
    [T_MIRRORS_BLOCK] = {"a2", "(a') mirrors", "ss_mirror_write per 1024 lines"},
    [T_SPAWN_BLOCK] = {"b", "(b) spawn, stdout", "fwrite, 64 KiB blocks"},
    [T_SPAWN_LINE] = {"b2", "(b') spawn, stdout", "write(2) per line"},
    [T_RUN_BLOCK] = {"c", "(c) syncstream run", "fwrite, 64 KiB blocks"},
    [T_RUN_LINE] = {"c2", "(c') syncstream run", "write(2) per line"},
    [T_PARALLEL_BLOCK] = {"d", "(d) parallel --line-buffer", "fwrite, 64 KiB blocks"},
    [T_PARALLEL_LINE] = {"d2", "(d') parallel --line-buffer", "write(2) per line"},
    [T_RAW] = {"e", "(e) raw pipes + poll", "write(2) per line"},
    [T_RAW_SOCK] = {"f", "(f) raw socketpairs + poll", "send(2) per 80-byte frame"},
    [T_RUN_BLOCK_TAG] = {"g", "(g) syncstream run --tag", "fwrite, 64 KiB blocks"},
    [T_RUN_LINE_TAG] = {"g2", "(g') syncstream run --tag", "write(2) per line"},
    [T_PARALLEL_BLOCK_TAG] = {"h", "(h) parallel --line-buffer --tag", "fwrite, 64 KiB blocks"},
    [T_PARALLEL_LINE_TAG] = {"h2", "(h') parallel --line-buffer --tag", "write(2) per line"},
};

/* -T: the rows to run, as their keys separated by commas; NULL: all. */
static const char *g_only;

static bool selected(int t)
{
    if (!g_only)
        return true;
    const char *p = g_only;
    size_t k = strlen(g_rows[t].key);
    while (*p) {
        size_t l = strcspn(p, ",");
        if (l == k && strncmp(p, g_rows[t].key, k) == 0)
            return true;
        p += l + (p[l] == ',');
    }
    return false;
}

static bool available(int t)
{
    if (!selected(t))
        return false;
    int cmd = cmd_of(t);
    if (cmd >= 0)
        return cmd & CMD_PARALLEL ? g_have_parallel : g_have_run;
    return true;
}

static double run_one(int t, uint64_t *lost)
{
    *lost = 0;
    if (cmd_of(t) >= 0)
        return run_command(cmd_of(t), lost);
    switch (t) {
    case T_MIRRORS:
        return run_mirrors(false);
    case T_MIRRORS_BLOCK:
        return run_mirrors(true);
    case T_SPAWN_BLOCK:
        return run_spawn(false);
    case T_SPAWN_LINE:
        return run_spawn(true);
    case T_RAW_SOCK:
        return run_raw(true);
    default:
        return run_raw(false);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The directory of this executable, with a trailing '/'. */
static void self_dir(char *dir, size_t size)
{
    ssize_t k = readlink("/proc/self/exe", dir, size - 1);
    if (k < 0)
        die("readlink /proc/self/exe", strerror(errno));
    dir[k] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[1] = '\0';
}

/* Look name up in PATH; true and path set when found. */
static bool find_in_path(const char *name, char *path, size_t size)
{
    const char *env = getenv("PATH");
    if (!env)
        return false;
    while (*env) {
        const char *colon = strchr(env, ':');
        size_t len = colon ? (size_t)(colon - env) : strlen(env);
        snprintf(path, size, "%.*s/%s", (int)len, env, name);
        if (len > 0 && access(path, X_OK) == 0)
            return true;
        env += len + (colon ? 1 : 0);
    }
    return false;
}

/* The first line of `prog --version`, for the header. */
static void version_of(const char *prog, char *out, size_t size)
{
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof(cmd), "'%s' --version 2>/dev/null", prog);
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (fgets(out, (int)size, p))
        out[strcspn(out, "\n")] = '\0';
    pclose(p);
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [-n lines_per_producer] [-r runs] [-t syncstream_tool] "
            "[-p bench_producer] [-P parallel] [-T a,a2,b,b2,c,c2,d,d2,e,f,g,g2,h,h2]\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    int runs = 3, opt;
    const char *tool = NULL, *producer = NULL, *parallel = NULL;
    while ((opt = getopt(argc, argv, "n:r:t:p:P:T:")) != -1) {
        switch (opt) {
        case 'n':
            g_n = strtoull(optarg, NULL, 10);
            break;
        case 'r':
            runs = atoi(optarg);
            break;
        case 't':
            tool = optarg;
            break;
        case 'p':
            producer = optarg;
            break;
        case 'P':
            parallel = optarg;
            break;
        case 'T':
            g_only = optarg;
            break;
        default:
            usage(argv[0]);
        }
    }
    if (optind != argc)
        usage(argv[0]);
    if (g_n == 0 || runs < 1) {
        fprintf(stderr, "bench_proc: -n and -r must be positive\n");
        return 2;
    }
    for (int i = 0; i < LINE - 1; i++)
        g_line[i] = (char)('a' + i % 26);
    g_line[LINE - 1] = '\n';
    snprintf(g_nstr, sizeof(g_nstr), "%zu", g_n);

    char dir[PATH_MAX / 2];
    self_dir(dir, sizeof(dir));
    snprintf(g_producer, sizeof(g_producer), "%s%s", producer ? "" : dir,
             producer ? producer : "bench_producer");
    snprintf(g_tool, sizeof(g_tool), "%s%s", tool ? "" : dir,
             tool ? tool : "../src/tool/syncstream");
    if (access(g_producer, X_OK) != 0)
        die(g_producer, "not found (build it, or give -p)");
    if (parallel)
        snprintf(g_parallel, sizeof(g_parallel), "%s", parallel);
    g_have_parallel = parallel ? access(g_parallel, X_OK) == 0
                               : find_in_path("parallel", g_parallel, sizeof(g_parallel));
    bool want_run = false, want_parallel = false;
    for (int k = 0; k < N_CMDS; k++)
        if (selected(g_cmd_row[k]))
            *(k & CMD_PARALLEL ? &want_parallel : &want_run) = true;

    /* Every command must print whole producer lines only, or be left out: a
     * short check, then one at full size into memory (untimed). */
    uint64_t p_small, l_small, full_printed[N_CMDS] = {0}, full_lost[N_CMDS] = {0};
    g_have_run = want_run && access(g_tool, X_OK) == 0;
    for (int k = 0; k < N_CMDS; k++) {
        if (!available(g_cmd_row[k]) || verify_command(k, 1000, &p_small, &l_small))
            continue;
        if (k & CMD_PARALLEL)
            die(g_parallel, "failed on a short run");
        g_have_run = false;
    }
    for (int k = 0; k < N_CMDS; k++)
        if (available(g_cmd_row[k]) && !verify_command(k, g_n, &full_printed[k], &full_lost[k]))
            die(k & CMD_PARALLEL ? g_parallel : g_tool, "failed on the full-size check");

    char pver[128] = "not installed";
    if (g_have_parallel)
        version_of(g_parallel, pver, sizeof(pver));
    printf("bench_proc: %d producers x %zu lines of %d bytes, median of %d runs, %ld CPUs, "
           "syncstream %s, %s\n",
           PRODUCERS, g_n, LINE, runs, sysconf(_SC_NPROCESSORS_ONLN), ss_version(), pver);
    if (!g_have_parallel && want_parallel)
        printf("parallel: n/a (GNU parallel is not installed; Debian package 'parallel')\n");
    if (!g_have_run && want_run)
        printf("syncstream run: n/a (%s missing or `run` failed)\n", g_tool);
    static const char *const check_names[N_CMDS] = {"run, blocks",
                                                    "run, write per line",
                                                    "parallel, blocks",
                                                    "parallel, write per line",
                                                    "run --tag, blocks",
                                                    "run --tag, write per line",
                                                    "parallel --tag, blocks",
                                                    "parallel --tag, write per line"};
    if (g_have_run || g_have_parallel)
        printf("full-size check, stdout into memory (lines printed / reported lost / of %llu):\n",
               (unsigned long long)(PRODUCERS * g_n));
    for (int k = 0; k < N_CMDS; k++)
        if (available(g_cmd_row[k]))
            printf("  %-30s %10llu / %llu\n", check_names[k], (unsigned long long)full_printed[k],
                   (unsigned long long)full_lost[k]);
    printf("\n");
    fflush(stdout);

    double *v[T_COUNT], *lv[T_COUNT];
    for (int t = 0; t < T_COUNT; t++)
        if (!(v[t] = calloc((size_t)runs, sizeof(double))) ||
            !(lv[t] = calloc((size_t)runs, sizeof(double))))
            die("calloc", strerror(ENOMEM));
    for (int r = 0; r < runs; r++)
        for (int t = 0; t < T_COUNT; t++) {
            uint64_t lost = 0;
            v[t][r] = available(t) ? run_one(t, &lost) : 0;
            lv[t][r] = (double)lost;
        }
    double m[T_COUNT], ml[T_COUNT], maxl[T_COUNT];
    for (int t = 0; t < T_COUNT; t++) {
        maxl[t] = 0;
        for (int r = 0; r < runs; r++)
            maxl[t] = lv[t][r] > maxl[t] ? lv[t][r] : maxl[t];
        m[t] = median(v[t], runs);
        ml[t] = median(lv[t], runs);
        free(v[t]);
        free(lv[t]);
    }

    printf(
        "| transport | producers write | lines/s | MB/s | vs raw | lines lost (median, max) |\n");
    printf("| --- | --- | ---: | ---: | ---: | ---: |\n");
    for (int t = 0; t < T_COUNT; t++) {
        if (!selected(t))
            continue;
        if (!available(t)) {
            printf("| %s | %s | n/a | n/a | n/a | n/a |\n", g_rows[t].name, g_rows[t].writes);
            continue;
        }
        char vs[32] = "n/a";
        if (available(T_RAW))
            snprintf(vs, sizeof(vs), "%.2fx", m[t] / m[T_RAW]);
        printf("| %s | %s | %.2f M/s | %.0f | %s | %.0f, %.0f |\n", g_rows[t].name,
               g_rows[t].writes, m[t] / 1e6, m[t] * LINE / 1e6, vs, ml[t], maxl[t]);
    }

    printf("\n| ratio | value | target |\n| --- | ---: | --- |\n");
    if (available(T_MIRRORS) && available(T_RAW))
        printf("| mirrors / raw | %.2fx | >= 0.5x: %s |\n", m[T_MIRRORS] / m[T_RAW],
               m[T_MIRRORS] / m[T_RAW] >= 0.5 ? "met" : "missed");
    else
        printf("| mirrors / raw | n/a | >= 0.5x: n/a |\n");
    /* issue 18's targets: run against parallel, 2x on block writers, 1.5x
     * with one write per line, tagged and untagged; a run that lost a line
     * misses its target whatever its speed */
    static const int run_cmds[] = {0, CMD_PER_LINE, CMD_TAG, CMD_TAG | CMD_PER_LINE};
    char targets[4][160];
    int n_targets = 0;
    for (size_t i = 0; i < sizeof(run_cmds) / sizeof(run_cmds[0]); i++) {
        int k = run_cmds[i], tr = g_cmd_row[k], tp = g_cmd_row[k | CMD_PARALLEL];
        double want = k & CMD_PER_LINE ? 1.5 : 2;
        char what[80];
        snprintf(what, sizeof(what), "run%s / parallel, %s", k & CMD_TAG ? " --tag" : "",
                 k & CMD_PER_LINE ? "write per line" : "block writes");
        if (!available(tr) || !available(tp)) {
            printf("| %s | n/a | >= %gx: n/a |\n", what, want);
            continue;
        }
        double ratio = m[tr] / m[tp];
        bool lossy = maxl[tr] > 0 || full_printed[k] != PRODUCERS * g_n;
        const char *verdict = lossy ? "missed (run lost lines)" : ratio >= want ? "met" : "missed";
        printf("| %s | %.2fx | >= %gx: %s |\n", what, ratio, want, verdict);
        snprintf(targets[n_targets++], sizeof(targets[0]),
                 "TARGET\tproc, 4 producers, %s\t%.2fx\t>=%gx parallel\t%s", what, ratio, want,
                 lossy ? "missed" : verdict);
    }
    if (available(T_SPAWN_LINE) && available(T_RAW))
        printf("| spawn / raw, write per line | %.2fx | (none) |\n", m[T_SPAWN_LINE] / m[T_RAW]);
    if (n_targets > 0)
        printf("\n");
    for (int i = 0; i < n_targets; i++)
        printf("%s\n", targets[i]);
    return 0;
}
