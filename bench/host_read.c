/*
 * bench_host_read: reading a syncstream server's records, beside a plain GET
 * of the same bytes.
 *
 *     bench_host_read [RECORDS] [REPEATS] [SYNCSTREAM]
 *
 * One server (in its own process) holds RECORDS 64-byte records (default 1M),
 * sent by our mirror. Then, REPEATS times (default 3), interleaved, each in a
 * child process timed from fork to exit (wall and CPU):
 *   reader     ss_host_reader_read(SS_READ_ALL): one GET ROUTE, every record
 *   GET        libcurl GETting the same URL into a discarding callback
 *   tool       `syncstream read URL` (SYNCSTREAM, by default the tool built
 *              beside this program) with its output to /dev/null: a health
 *              GET, then cursor reads of 10000 records
 *   GET (cursor)  libcurl GETting the same health and cursor URLs, discarded
 * The server's own time is in both sides of each ratio; the ratio is what the
 * client adds to it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include <syncstream.h>

#include "host_mirrors.h"

#define CURSOR_LIMIT 10000

typedef struct job {
    const char *url;
    const char *tool;
    long records;
} job;

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    *(size_t *)ctx += size * n;
    return size * n;
}

/* GET url on c into a discarding callback: 0 on a 200, else 1. */
static int plain_get(CURL *c, const char *url, size_t *bytes)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, bytes);
    long status = 0;
    return curl_easy_perform(c) != CURLE_OK ||
           curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200;
}

static int run_reader(const job *j)
{
    ss_host_reader *r;
    if (ss_host_reader_new(&r, j->url, NULL) < 0)
        return 1;
    ss_records set = SS_RECORDS_INIT;
    int n = ss_host_reader_read(r, SS_READ_ALL, &set);
    int bad = n != j->records || set.items[0].len != BENCH_LINE_LEN - 1;
    if (bad)
        fprintf(stderr, "bench_host_read: the reader got %d records: %s\n", n,
                ss_host_reader_message(r));
    ss_records_clear(&set);
    ss_host_reader_free(r);
    return bad;
}

static int run_get(const job *j)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    size_t bytes = 0;
    int bad = plain_get(c, j->url, &bytes);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return bad || bytes < (size_t)j->records * BENCH_LINE_LEN;
}

static int run_tool(const job *j)
{
    if (!freopen("/dev/null", "w", stdout))
        return 1;
    execl(j->tool, j->tool, "read", j->url, (char *)NULL);
    return 127;
}

/* What `syncstream read` asks: the health, then cursor reads from 0. */
static int run_get_cursor(const job *j)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    char url[512];
    size_t bytes = 0;
    snprintf(url, sizeof(url), "%s-health", j->url);
    int bad = plain_get(c, url, &bytes);
    for (long since = 0; since < j->records && !bad; since += CURSOR_LIMIT) {
        snprintf(url, sizeof(url), "%s?since=%ld&limit=%d", j->url, since, CURSOR_LIMIT);
        bad = plain_get(c, url, &bytes);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return bad || bytes < (size_t)j->records * 2 * BENCH_LINE_LEN;
}

/* Run fn in a child: wall seconds and the child's CPU seconds, or -1. */
static double timed(int (*fn)(const job *), const job *j, double *cpu)
{
    double t0 = bench_now_s();
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn(j));
    int status;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return -1;
    *cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return bench_now_s() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define MAX_REPEATS 15

static double median(double *v, int n)
{
    double s[MAX_REPEATS];
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    long records = argc > 1 ? atol(argv[1]) : 1000000;
    int repeats = argc > 2 ? atoi(argv[2]) : 3;
    char tool[PATH_MAX];
    if (argc > 3) {
        snprintf(tool, sizeof(tool), "%s", argv[3]);
    } else {
        /* build-bench/bench/bench_host_read -> build-bench/src/tool/syncstream */
        ssize_t n = readlink("/proc/self/exe", tool, sizeof(tool) - 32);
        char *slash = n > 0 ? (tool[n] = '\0', strrchr(tool, '/')) : NULL;
        if (!slash) {
            fprintf(stderr, "bench_host_read: give the syncstream tool's path\n");
            return 2;
        }
        strcpy(slash, "/../src/tool/syncstream");
    }
    if (records <= 0 || repeats <= 0 || repeats > MAX_REPEATS || access(tool, X_OK) < 0) {
        fprintf(stderr, "usage: bench_host_read [RECORDS] [REPEATS (1-%d)] [SYNCSTREAM]\n",
                MAX_REPEATS);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int port;
    pid_t srv = bench_start_server(
        &(ss_host_server_opts){.listen = "127.0.0.1:0", .maxlen = (size_t)records}, &port);
    if (srv < 0) {
        fprintf(stderr, "bench_host_read: cannot start the server\n");
        return 1;
    }
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/sync-stream", port);
    if (bench_run_mirror(url, 0, records) != 0) {
        fprintf(stderr, "bench_host_read: filling the server failed\n");
        bench_stop_server(srv);
        return 1;
    }
    job j = {url, tool, records};
    static const struct {
        const char *name;
        int (*fn)(const job *);
    } rows[4] = {{"reader", run_reader},
                 {"GET", run_get},
                 {"tool", run_tool},
                 {"GET (cursor)", run_get_cursor}};
    double wall[4][MAX_REPEATS], cpu[4][MAX_REPEATS];
    printf("host read: %ld 64-byte records, %d runs (wall s / client CPU s)\n\n", records, repeats);
    printf("| run | reader | GET | reader / GET | tool | GET (cursor) | tool / GET (cursor) |\n");
    printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    fflush(stdout); /* before the children, which would print it again */
    for (int k = 0; k < repeats; k++) {
        for (int i = 0; i < 4; i++) {
            wall[i][k] = timed(rows[i].fn, &j, &cpu[i][k]);
            if (wall[i][k] < 0) {
                fprintf(stderr, "bench_host_read: %s failed\n", rows[i].name);
                bench_stop_server(srv);
                return 1;
            }
        }
        printf("| %d | %.2f / %.2f | %.2f / %.2f | %.2fx | %.2f / %.2f | %.2f / %.2f | %.2fx |\n",
               k + 1, wall[0][k], cpu[0][k], wall[1][k], cpu[1][k], wall[0][k] / wall[1][k],
               wall[2][k], cpu[2][k], wall[3][k], cpu[3][k], wall[2][k] / wall[3][k]);
        fflush(stdout);
    }
    bench_stop_server(srv);
    double ratio[2][MAX_REPEATS];
    for (int k = 0; k < repeats; k++) {
        ratio[0][k] = wall[0][k] / wall[1][k];
        ratio[1][k] = wall[2][k] / wall[3][k];
    }
    double r0 = median(ratio[0], repeats), r1 = median(ratio[1], repeats);
    printf("\nmedian: reader %.2f s, GET %.2f s, tool %.2f s, GET (cursor) %.2f s\n",
           median(wall[0], repeats), median(wall[1], repeats), median(wall[2], repeats),
           median(wall[3], repeats));
    printf("TARGET\treading %ldk records, ss_host_reader vs plain GET\t%.2fx\t<=1.5x GET\t%s\n",
           records / 1000, r0, r0 <= 1.5 ? "met" : "missed");
    printf("TARGET\treading %ldk records, syncstream read vs plain GETs\t%.2fx\t<=1.5x GET\t%s\n",
           records / 1000, r1, r1 <= 1.5 ? "met" : "missed");
    curl_global_cleanup();
    return 0;
}
