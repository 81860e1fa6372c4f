/*
 * bench_file: file mode. P = 1, 2 and 4 writer processes each append N lines
 * of 64 bytes (63 characters and '\n') to one log file on a local disk.
 *
 *   ours            ss_filebuf_write, one call per line, maxlen large enough
 *                   that the file is never compacted
 *   ours compacting the same with maxlen 1000 (compaction every 1000 lines:
 *                   the newest 1000 copied to a new file, fsync, rename)
 *   raw             the limit: the same processes doing fcntl lock + write(2)
 *                   + unlock per line (open file description locks, O_APPEND)
 *
 * Each figure is the median of -r runs, the three interleaved run by run; all
 * in the same run of the program. Then the read latency: the newest 100
 * records of a full file (maxlen 1000, 2000 lines in it, as just before a
 * compaction) through an open handle, and through a fresh handle (open, read,
 * free). See docs/benchmarks.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <syncstream.h>

#define LINE 64

static char g_line[LINE];
static size_t g_n = 100000;
static int g_runs = 3;
static char g_dir[256] = "/var/tmp";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_file: %s: %s\n", what, why);
    exit(1);
}

typedef enum kind { OURS, OURS_COMPACT, RAW, N_KINDS } kind;
static const char *const kind_names[] = {"ours", "ours compacting", "raw lock+write+unlock"};

static void child_ours(const char *path, size_t maxlen, int go_fd)
{
    ss_filebuf *fb = NULL;
    if (ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.maxlen = maxlen, .source = "bench"}) < 0)
        _exit(3);
    char c;
    if (read(go_fd, &c, 1) < 0)
        _exit(4);
    for (size_t i = 0; i < g_n; i++)
        if (ss_filebuf_write(fb, g_line, LINE) < 0)
            _exit(5);
    ss_filebuf_free(fb);
    _exit(0);
}

static void child_raw(const char *path, int go_fd)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        _exit(3);
    char c;
    if (read(go_fd, &c, 1) < 0)
        _exit(4);
    struct flock lk = {.l_whence = SEEK_SET}, un = {.l_type = F_UNLCK, .l_whence = SEEK_SET};
    lk.l_type = F_WRLCK;
    for (size_t i = 0; i < g_n; i++) {
        if (fcntl(fd, F_OFD_SETLKW, &lk) < 0 || write(fd, g_line, LINE) != LINE ||
            fcntl(fd, F_OFD_SETLK, &un) < 0)
            _exit(5);
    }
    close(fd);
    _exit(0);
}

/* One timed run: P processes start together (they block on a pipe until it is
 * closed); the time runs from the release to the last exit. Returns lines/s. */
static double run_once(kind k, int procs)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/bench_file.%d.log", g_dir, (int)getpid());
    unlink(path);
    if (k != RAW) {
        /* the file exists before the writers race to create it */
        ss_filebuf *fb = NULL;
        size_t maxlen = k == OURS ? g_n * (size_t)procs + 1 : 1000;
        int rc = ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.maxlen = maxlen});
        if (rc < 0)
            die(path, ss_strerror(rc));
        ss_filebuf_free(fb);
    }
    int go[2];
    if (pipe(go) < 0)
        die("pipe", ss_strerror(-errno));
    pid_t pids[8];
    for (int p = 0; p < procs; p++) {
        pids[p] = fork();
        if (pids[p] < 0)
            die("fork", ss_strerror(-errno));
        if (pids[p] == 0) {
            close(go[1]);
            if (k == RAW)
                child_raw(path, go[0]);
            child_ours(path, k == OURS ? g_n * (size_t)procs + 1 : 1000, go[0]);
        }
    }
    close(go[0]);
    usleep(100000); /* every child is open and waiting */
    double t0 = now_s();
    close(go[1]);
    for (int p = 0; p < procs; p++) {
        int st;
        if (waitpid(pids[p], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            die(kind_names[k], "a writer failed");
    }
    double dt = now_s() - t0;

    /* check: every line is there */
    if (k != RAW) {
        ss_filebuf *fb = NULL;
        ss_filebuf_stats st;
        if (ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.flags = SS_FILE_READONLY}) < 0 ||
            ss_filebuf_get_stats(fb, &st) < 0 || st.last_seq != g_n * (size_t)procs ||
            st.damaged != 0)
            die(kind_names[k], "lines missing or damaged");
        ss_filebuf_free(fb);
    }
    unlink(path);
    return (double)(g_n * (size_t)procs) / dt;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void read_latency(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/bench_file_read.%d.log", g_dir, (int)getpid());
    unlink(path);
    ss_filebuf *fb = NULL;
    /* limit 2001: the file can hold 2000 lines, the state just before a
     * compaction, the largest a file of maxlen 1000 gets */
    if (ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.maxlen = 1000, .limit = 2001}) < 0)
        die(path, "open");
    for (int i = 0; i < 2000; i++)
        if (ss_filebuf_write(fb, g_line, LINE) < 0)
            die(path, "write");
    ss_filebuf_free(fb);

    enum { SAMPLES = 2000 };
    static double warm[SAMPLES], cold[SAMPLES];
    ss_filebuf *r = NULL;
    if (ss_filebuf_open(&r, path, &(ss_filebuf_opts){.flags = SS_FILE_READONLY}) < 0)
        die(path, "open");
    ss_records set = SS_RECORDS_INIT;
    for (int i = 0; i < SAMPLES; i++) {
        double t0 = now_s();
        if (ss_filebuf_read(r, 100, &set) != 100)
            die(path, "read");
        warm[i] = (now_s() - t0) * 1e6;
    }
    ss_filebuf_free(r);
    for (int i = 0; i < SAMPLES; i++) {
        double t0 = now_s();
        if (ss_filebuf_open(&r, path, &(ss_filebuf_opts){.flags = SS_FILE_READONLY}) < 0 ||
            ss_filebuf_read(r, 100, &set) != 100)
            die(path, "read");
        ss_filebuf_free(r);
        cold[i] = (now_s() - t0) * 1e6;
    }
    ss_records_clear(&set);
    unlink(path);
    qsort(warm, SAMPLES, sizeof(double), cmp_double);
    qsort(cold, SAMPLES, sizeof(double), cmp_double);
    printf("\nread the newest 100 records of a full file (1000 kept, 2000 lines), %d samples:\n\n",
           SAMPLES);
    printf("| handle | median (us) | p99 (us) |\n| --- | ---: | ---: |\n");
    printf("| open (view up to date) | %.1f | %.1f |\n", warm[SAMPLES / 2],
           warm[SAMPLES * 99 / 100]);
    printf("| fresh (open + read + free) | %.1f | %.1f |\n", cold[SAMPLES / 2],
           cold[SAMPLES * 99 / 100]);
}

int main(int argc, char **argv)
{
    int c;
    while ((c = getopt(argc, argv, "n:r:d:")) != -1) {
        switch (c) {
        case 'n':
            g_n = strtoul(optarg, NULL, 10);
            break;
        case 'r':
            g_runs = atoi(optarg);
            break;
        case 'd':
            snprintf(g_dir, sizeof(g_dir), "%s", optarg);
            break;
        default:
            fprintf(stderr, "usage: bench_file [-n LINES] [-r RUNS] [-d DIR]\n");
            return 2;
        }
    }
    if (g_n == 0 || g_runs < 1 || g_runs > 64)
        die("options", "-n and -r must be positive");
    memset(g_line, 'x', LINE - 1);
    g_line[LINE - 1] = '\n';

    printf("bench_file: %zu lines of %d bytes per process, median of %d runs, %ld CPUs, "
           "syncstream %s, files in %s\n\n",
           g_n, LINE, g_runs, sysconf(_SC_NPROCESSORS_ONLN), ss_version(), g_dir);
    printf("| writers | ours | ours compacting | raw lock+write+unlock | ours/raw | "
           "compacting/raw |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n");
    const int procs_list[] = {1, 2, 4};
    double ours_4 = 0, compact_4 = 0;
    for (int pi = 0; pi < 3; pi++) {
        int procs = procs_list[pi];
        double rates[N_KINDS][64];
        for (int r = 0; r < g_runs; r++)
            for (int k = 0; k < N_KINDS; k++)
                rates[k][r] = run_once((kind)k, procs);
        double m[N_KINDS];
        for (int k = 0; k < N_KINDS; k++)
            m[k] = median(rates[k], g_runs);
        printf("| %d | %.2f M/s | %.2f M/s | %.2f M/s | %.2fx | %.2fx |\n", procs, m[OURS] / 1e6,
               m[OURS_COMPACT] / 1e6, m[RAW] / 1e6, m[OURS] / m[RAW], m[OURS_COMPACT] / m[RAW]);
        fflush(stdout);
        if (procs == 4) {
            ours_4 = m[OURS] / m[RAW];
            compact_4 = m[OURS_COMPACT] / m[RAW];
        }
    }
    read_latency();
    /* issue 18's targets, for bench/run-all */
    printf("\nTARGET\tfile mode, 4 writers vs raw lock+append\t%.2fx\t>=0.5x\t%s\n", ours_4,
           ours_4 >= 0.5 ? "met" : "missed");
    printf("TARGET\tfile mode, 4 writers, compaction every 1000 lines vs raw\t%.2fx\t>=0.5x\t%s\n",
           compact_4, compact_4 >= 0.5 ? "met" : "missed");
    return 0;
}
