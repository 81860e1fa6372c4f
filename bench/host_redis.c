/*
 * bench_host_redis: host mode with the Redis store. Mirror processes send
 * 64-byte lines over loopback HTTP to syncstream servers (ss_host_server, each
 * in its own process) whose store is a redis-server started here (its own
 * directory and port; no persistence, so the figures are Redis's memory speed).
 *
 *     bench_host_redis [LINES_PER_MIRROR] [LINES_PER_PIPELINE]
 *
 * Rows (each mirror process is our mirror, ss_host_mirror, as in bench/host.c:
 * line-assembled, batched over one kept-alive connection, exactly once; it
 * counts from its start to the server's acknowledgement of its last line):
 *   memory 2 srv   4 mirrors into 2 servers with the memory store (2 each;
 *                  two separate buffers: the memory store cannot be shared)
 *   redis 2 srv    4 mirrors into 2 servers sharing one Redis key (2 each)
 *   redis 1 srv    4 mirrors into 1 server with the Redis store
 *   XADD raw       the limit: 4 processes, hiredis, pipelined
 *                  XADD MAXLEN ~ of the same lines, LINES_PER_PIPELINE per
 *                  pipeline (no HTTP, no script, no line assembly)
 *   redis-benchmark  the same XADD from redis-benchmark (-c 4 -P 64), when
 *                  it is installed
 * Ratios are over the XADD raw row. Each row checks that the servers hold
 * every line (their health's next_seq).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include <syncstream.h>

#include "host_mirrors.h"

#define MIRRORS 4
#define MAXLEN 100000

/* ---- redis-server ---- */

static char redis_dir[] = "/tmp/ss-bench-redis-XXXXXX";
static pid_t redis_pid;
static int redis_port;

static int free_port(void)
{
    /* Ask the kernel through a throwaway server: port 0 picks a free one. */
    ss_host_server *srv;
    if (ss_host_server_new(&srv, &(ss_host_server_opts){.listen = "127.0.0.1:0"}) < 0)
        return -1;
    int port = ss_host_server_port(srv);
    ss_host_server_free(srv);
    return port;
}

static int start_redis(void)
{
    if (!mkdtemp(redis_dir) || (redis_port = free_port()) < 0)
        return -1;
    char port[16];
    snprintf(port, sizeof(port), "%d", redis_port);
    redis_pid = fork();
    if (redis_pid == 0) {
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--dir",
               redis_dir, "--save", "", "--appendonly", "no", "--logfile", "redis.log",
               (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        redisContext *c = redisConnect("127.0.0.1", redis_port);
        redisReply *r = c && !c->err ? redisCommand(c, "PING") : NULL;
        bool ok = r && r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
        if (c)
            redisFree(c);
        if (ok)
            return 0;
        usleep(50 * 1000);
    }
    return -1;
}

static void stop_redis(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGTERM);
        waitpid(redis_pid, NULL, 0);
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", redis_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", redis_dir);
}

/* ---- servers, each in its own process, and mirror processes ---- */

/* n servers with store (NULL: memory); returns 0, or -1 with none left. */
static int start_servers(int n, const char *store, pid_t *pids, int *ports)
{
    for (int i = 0; i < n; i++) {
        pids[i] = bench_start_server(
            &(ss_host_server_opts){.listen = "127.0.0.1:0", .maxlen = MAXLEN, .store = store},
            &ports[i]);
        if (pids[i] < 0) {
            while (i-- > 0)
                bench_stop_server(pids[i]);
            return -1;
        }
    }
    return 0;
}

/* The health's next_seq of the server on port, or -1. */
static long long next_seq(int port)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/sync-stream", port);
    ss_host_reader *r;
    ss_host_health h;
    if (ss_host_reader_new(&r, url, NULL) < 0)
        return -1;
    int rc = ss_host_reader_health(r, &h);
    ss_host_reader_free(r);
    return rc < 0 ? -1 : (long long)h.next_seq;
}

typedef struct mirrors_ctx {
    const int *ports;
    int n_ports;
    long lines;
    int round;
} mirrors_ctx;

static int mirror_proc(int i, void *ctx)
{
    const mirrors_ctx *c = ctx;
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/sync-stream", c->ports[i % c->n_ports]);
    return bench_run_mirror(url, c->round * MIRRORS + i, c->lines);
}

/* MIRRORS mirror processes, mirror i into ports[i % n_ports]; seconds. */
static double run_mirrors(const int *ports, int n_ports, long lines, int round)
{
    return bench_run_procs(MIRRORS, mirror_proc, &(mirrors_ctx){ports, n_ports, lines, round});
}

/*
 * One row: MIRRORS mirror processes into n fresh servers with store (NULL:
 * memory, each server its own buffer; else one Redis key they share), then a
 * check that the servers hold every line. Returns seconds, or -1.
 */
static double run_row(int n, const char *store, long lines, int round, bool *held_all)
{
    pid_t pids[2];
    int ports[2];
    if (n > 2 || start_servers(n, store, pids, ports) < 0)
        return -1;
    double s = run_mirrors(ports, n, lines, round);
    /* next_seq is one past the last record: per buffer, and a shared key has one. */
    long long want = lines * MIRRORS + (store ? 1 : n), got = 0;
    if (store)
        got = next_seq(ports[n - 1]);
    else
        for (int i = 0; i < n; i++)
            got += next_seq(ports[i]);
    if (got != want)
        *held_all = false;
    for (int i = 0; i < n; i++)
        bench_stop_server(pids[i]);
    return s;
}

/* ---- the raw limit: pipelined XADD from hiredis ---- */

typedef struct xadd_ctx {
    long lines;
    long per_batch;
} xadd_ctx;

static int run_xadd(int id, void *ctx)
{
    const xadd_ctx *x = ctx;
    long lines = x->lines, per_batch = x->per_batch;
    redisContext *c = redisConnect("127.0.0.1", redis_port);
    if (!c || c->err)
        return 1;
    char line[BENCH_LINE_LEN], maxlen[16];
    snprintf(maxlen, sizeof(maxlen), "%d", MAXLEN);
    for (long i = 0; i < lines;) {
        long k = 0;
        for (; k < per_batch && i < lines; k++, i++) {
            bench_make_line(line, id, i);
            const char *argv[] = {"XADD", "rawbench", "MAXLEN", "~", maxlen, "*", "text", line};
            size_t lens[] = {4, 8, 6, 1, strlen(maxlen), 1, 4, BENCH_LINE_LEN - 1};
            redisAppendCommandArgv(c, 8, argv, lens);
        }
        for (; k > 0; k--) {
            redisReply *r;
            if (redisGetReply(c, (void **)&r) != REDIS_OK)
                return 1;
            freeReplyObject(r);
        }
    }
    redisFree(c);
    return 0;
}

static double run_xadds(long lines, long per_batch)
{
    return bench_run_procs(MIRRORS, run_xadd, &(xadd_ctx){lines, per_batch});
}

/* redis-benchmark's XADD requests per second, or -1 when it is missing. */
static double run_redis_benchmark(long requests)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "redis-benchmark -p %d -c %d -P 64 -n %ld -q XADD rbbench MAXLEN '~' %d '*' "
             "text mirror_0_line_000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx "
             "2>/dev/null",
             redis_port, MIRRORS, requests, MAXLEN);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char out[4096];
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    pclose(p);
    /* "XADD ...: 123456.78 requests per second, p50=..." (after \r updates) */
    char *at = strstr(out, " requests per second");
    if (!at)
        return -1;
    char *start = at;
    while (start > out && start[-1] != ' ')
        start--;
    return strtod(start, NULL);
}

static void row(const char *name, double lines_per_s, double limit)
{
    if (lines_per_s < 0) {
        printf("%-18s %14s\n", name, "failed");
        return;
    }
    printf("%-18s %14.0f %9.2f\n", name, lines_per_s, limit > 0 ? lines_per_s / limit : 0);
}

int main(int argc, char **argv)
{
    long lines = argc > 1 ? atol(argv[1]) : 200000;
    long per_batch = argc > 2 ? atol(argv[2]) : 1000;
    if (lines <= 0 || per_batch <= 0) {
        fprintf(stderr, "usage: bench_host_redis [LINES_PER_MIRROR] [LINES_PER_PIPELINE]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (start_redis() < 0) {
        fprintf(stderr, "bench_host_redis: redis-server did not start\n");
        stop_redis();
        return 1;
    }
    double total = (double)lines * MIRRORS;
    char uri1[128], uri2[128];
    snprintf(uri1, sizeof(uri1), "redis://127.0.0.1:%d/bench1", redis_port);
    snprintf(uri2, sizeof(uri2), "redis://127.0.0.1:%d/bench2", redis_port);
    bool held_all = true;

    printf("%d mirror processes x %ld lines of %d bytes, XADD pipelines of %ld, maxlen %d\n",
           MIRRORS, lines, BENCH_LINE_LEN, per_batch, MAXLEN);
    double raw_s = run_xadds(lines, per_batch);
    double raw = raw_s > 0 ? total / raw_s : -1;
    double mem_s = run_row(2, NULL, lines, 0, &held_all);
    double r2_s = run_row(2, uri2, lines, 1, &held_all);
    double r1_s = run_row(1, uri1, lines, 2, &held_all);
    double rb = run_redis_benchmark(lines * MIRRORS);

    printf("%-18s %14s %9s\n", "row", "lines/s", "vs XADD");
    row("memory 2 srv", mem_s > 0 ? total / mem_s : -1, raw);
    row("redis 2 srv", r2_s > 0 ? total / r2_s : -1, raw);
    row("redis 1 srv", r1_s > 0 ? total / r1_s : -1, raw);
    row("XADD raw", raw, raw);
    if (rb > 0)
        row("redis-benchmark", rb, raw);
    else
        printf("%-18s %14s\n", "redis-benchmark", "not installed");
    if (!held_all)
        printf("CHECK FAILED: a server does not hold every line\n");
    stop_redis();
    return held_all ? 0 : 1;
}
