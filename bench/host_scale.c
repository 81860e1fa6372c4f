/*
 * bench_host_scale: one syncstream server's lines/s as its sending clients
 * grow from 4 to 64.
 *
 *     bench_host_scale [LINES] [REPEATS]
 *
 * LINES 64-byte lines in all (default 2M), split evenly between 4 and then 64
 * mirror processes (ss_host_mirror, what `syncstream send` runs), all started
 * at once into a fresh server (in its own process) holding every line;
 * REPEATS times (default 3), interleaved. A run counts from the moment every
 * mirror process has its mirror set up (forking 64 processes on a loaded
 * machine takes seconds, which are not the server's) to the last mirror's
 * close (the server acknowledged its last line); the server's and the
 * mirrors' CPU seconds over the run are shown beside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <syncstream.h>

#include "host_mirrors.h"

#define MAX_REPEATS 15

/*
 * Start procs mirror processes, each sending lines lines to url once its
 * mirror is set up; time from the moment every one is ready to the last exit
 * (process and mirror set-up are not the server's lines/s). Returns the
 * seconds or -1.
 */
static double run_mirrors(const char *url, int procs, long lines)
{
    int ready[2], go[2];
    if (pipe(ready) < 0 || pipe(go) < 0)
        return -1;
    pid_t pids[64];
    int bad = 0;
    for (int i = 0; i < procs; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            close(ready[0]);
            close(go[1]);
            _exit(bench_run_mirror_after(url, i, lines, ready[1], go[0]));
        }
        bad |= pids[i] < 0;
    }
    close(ready[1]);
    close(go[0]);
    char c;
    for (int i = 0; i < procs && !bad; i++)
        bad = read(ready[0], &c, 1) != 1;
    double t0 = bench_now_s();
    close(go[1]);
    for (int i = 0; i < procs; i++) {
        int status;
        if (pids[i] > 0 &&
            (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0))
            bad = 1;
    }
    close(ready[0]);
    return bad ? -1 : bench_now_s() - t0;
}

/* The CPU seconds (user and system, every thread) pid used so far, or -1. */
static double cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    /* The fields after the command's ")": utime and stime are the 12th and
     * 13th. */
    char *p = strrchr(buf, ')');
    unsigned long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The CPU seconds of the children reaped so far. */
static double children_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* One run with procs mirrors: lines/s, the server's and the mirrors' CPU
 * seconds, or -1. */
static double run(int procs, long lines, double *server_cpu, double *mirrors_cpu)
{
    int port;
    pid_t srv = bench_start_server(
        &(ss_host_server_opts){.listen = "127.0.0.1:0", .maxlen = (size_t)lines + 16}, &port);
    if (srv < 0)
        return -1;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/sync-stream", port);
    double c0 = cpu_s(srv), m0 = children_cpu_s();
    double t = run_mirrors(url, procs, lines / procs);
    *server_cpu = cpu_s(srv) - c0;
    *mirrors_cpu = children_cpu_s() - m0;
    bench_stop_server(srv);
    return t < 0 ? -1 : (double)(lines / procs * procs) / t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long lines = argc > 1 ? atol(argv[1]) : 2000000;
    int repeats = argc > 2 ? atoi(argv[2]) : 3;
    if (lines < 64 || repeats <= 0 || repeats > MAX_REPEATS) {
        fprintf(stderr, "usage: bench_host_scale [LINES (>= 64)] [REPEATS (1-%d)]\n", MAX_REPEATS);
        return 2;
    }
    /* As bench_host: libcurl's (and TLS's) set-up once, inherited by every
     * mirror process, so that a run times lines, not 64 library set-ups. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("host server: %ld 64-byte lines from 4, then 64 mirror processes, %d runs\n\n", lines,
           repeats);
    printf("| run | 4 clients lines/s | server / mirrors CPU s | 64 clients lines/s | "
           "server / mirrors CPU s | 64 / 4 |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n");
    fflush(stdout);
    double ratio[MAX_REPEATS];
    for (int k = 0; k < repeats; k++) {
        double cpu4 = 0, cpu64 = 0, m4 = 0, m64 = 0;
        double r4 = run(4, lines, &cpu4, &m4);
        double r64 = run(64, lines, &cpu64, &m64);
        if (r4 < 0 || r64 < 0) {
            fprintf(stderr, "bench_host_scale: a mirror or the server failed\n");
            return 1;
        }
        ratio[k] = r64 / r4;
        printf("| %d | %.0f | %.2f / %.2f | %.0f | %.2f / %.2f | %.2f |\n", k + 1, r4, cpu4, m4,
               r64, cpu64, m64, ratio[k]);
        fflush(stdout);
    }
    qsort(ratio, (size_t)repeats, sizeof(double), cmp_double);
    double med =
        repeats % 2 ? ratio[repeats / 2] : (ratio[repeats / 2 - 1] + ratio[repeats / 2]) / 2;
    printf("\nTARGET\tserver lines/s, 64 send clients vs 4\t%.2fx\t>=0.8x\t%s\n", med,
           med >= 0.8 ? "met" : "missed");
    curl_global_cleanup();
    return 0;
}
