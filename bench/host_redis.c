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
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>

#include <syncstream.h>

#define LINE_LEN 64
#define MIRRORS 4
#define MAXLEN 100000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Line i of a mirror: 63 printable bytes and "\n". */
static void make_line(char *buf, int mirror, long i)
{
    int n = snprintf(buf, LINE_LEN, "mirror %d line %09ld ", mirror, i);
    memset(buf + n, 'x', (size_t)(LINE_LEN - 1 - n));
    buf[LINE_LEN - 1] = '\n';
}

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

/* ---- servers, each in its own process ---- */

static pid_t start_server(const char *store, int *ret_port)
{
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        ss_host_server *srv;
        int rc = ss_host_server_new(&srv, &(ss_host_server_opts){.listen = "127.0.0.1:0",
                                                                  .maxlen = MAXLEN,
                                                                  .store = store});
        int port = rc < 0 ? -1 : ss_host_server_port(srv);
        if (write(fds[1], &port, sizeof(port)) != sizeof(port) || rc < 0)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    int port = -1;
    if (read(fds[0], &port, sizeof(port)) != sizeof(port) || port < 0)
        port = -1;
    close(fds[0]);
    *ret_port = port;
    return pid;
}

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
    char *out = ctx;
    size_t len = strlen(out), add = size * n;
    if (len + add < 512) {
        memcpy(out + len, p, add);
        out[len + add] = '\0';
    }
    return add;
}

/* GET url-health's next_seq. */
static long long next_seq(int port)
{
    char url[128], body[512] = "";
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/sync-stream-health", port);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    const char *p = strstr(body, "\"next_seq\":");
    return rc == CURLE_OK && p ? strtoll(p + 11, NULL, 10) : -1;
}

/* ---- a mirror process: our mirror (ss_host_mirror), as bench/host.c ---- */

static int run_mirror(int port, int id, long lines)
{
    char url[128], src[16];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/sync-stream", port);
    snprintf(src, sizeof(src), "m%d", id);
    ss_host_mirror *m;
    if (ss_host_mirror_new(&m, url, &(ss_host_mirror_opts){.source = src,
                                                           .close_timeout_ms = -1}) < 0)
        return 1;
    char line[LINE_LEN];
    for (long i = 0; i < lines; i++) {
        make_line(line, id, i);
        if (ss_host_mirror_write(m, line, LINE_LEN) < 0)
            return 1;
    }
    int rc = ss_host_mirror_close(m);
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    ss_host_mirror_free(m);
    return rc < 0 || st.records_sent != (uint64_t)lines ? 1 : 0;
}

/* MIRRORS mirror processes, mirror i into ports[i % n_ports]; seconds. */
static double run_mirrors(const int *ports, int n_ports, long lines, int round)
{
    pid_t pids[MIRRORS];
    double t0 = now_s();
    for (int i = 0; i < MIRRORS; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            _exit(run_mirror(ports[i % n_ports], round * MIRRORS + i, lines));
    }
    int bad = 0;
    for (int i = 0; i < MIRRORS; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        bad |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    return bad ? -1 : now_s() - t0;
}

/* ---- the raw limit: pipelined XADD from hiredis ---- */

static int run_xadd(int id, long lines, long per_batch)
{
    redisContext *c = redisConnect("127.0.0.1", redis_port);
    if (!c || c->err)
        return 1;
    char line[LINE_LEN], maxlen[16];
    snprintf(maxlen, sizeof(maxlen), "%d", MAXLEN);
    for (long i = 0; i < lines;) {
        long k = 0;
        for (; k < per_batch && i < lines; k++, i++) {
            make_line(line, id, i);
            const char *argv[] = {"XADD", "rawbench", "MAXLEN", "~", maxlen, "*", "text", line};
            size_t lens[] = {4, 8, 6, 1, strlen(maxlen), 1, 4, LINE_LEN - 1};
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
    pid_t pids[MIRRORS];
    double t0 = now_s();
    for (int i = 0; i < MIRRORS; i++) {
        pids[i] = fork();
        if (pids[i] == 0)
            _exit(run_xadd(i, lines, per_batch));
    }
    int bad = 0;
    for (int i = 0; i < MIRRORS; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        bad |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    return bad ? -1 : now_s() - t0;
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
    curl_global_init(CURL_GLOBAL_ALL);
    double total = (double)lines * MIRRORS;
    char uri[128];
    int ports[2];
    pid_t servers[2];
    int rc = 0;

    printf("%d mirror processes x %ld lines of %d bytes, XADD pipelines of %ld, maxlen %d\n",
           MIRRORS, lines, LINE_LEN, per_batch, MAXLEN);
    double raw_s = run_xadds(lines, per_batch);
    double raw = raw_s > 0 ? total / raw_s : -1;

    /* memory: 2 servers, each its own buffer */
    for (int i = 0; i < 2; i++)
        servers[i] = start_server(NULL, &ports[i]);
    double mem_s = run_mirrors(ports, 2, lines, 0);
    if (next_seq(ports[0]) + next_seq(ports[1]) != (long long)total + 2)
        rc = 1;
    for (int i = 0; i < 2; i++) {
        kill(servers[i], SIGKILL);
        waitpid(servers[i], NULL, 0);
    }

    /* redis: 2 servers on one key */
    snprintf(uri, sizeof(uri), "redis://127.0.0.1:%d/bench2", redis_port);
    for (int i = 0; i < 2; i++)
        servers[i] = start_server(uri, &ports[i]);
    double r2_s = run_mirrors(ports, 2, lines, 1);
    if (next_seq(ports[1]) != (long long)total + 1)
        rc = 1;
    for (int i = 0; i < 2; i++) {
        kill(servers[i], SIGKILL);
        waitpid(servers[i], NULL, 0);
    }

    /* redis: 1 server */
    snprintf(uri, sizeof(uri), "redis://127.0.0.1:%d/bench1", redis_port);
    servers[0] = start_server(uri, &ports[0]);
    double r1_s = run_mirrors(ports, 1, lines, 2);
    if (next_seq(ports[0]) != (long long)total + 1)
        rc = 1;
    kill(servers[0], SIGKILL);
    waitpid(servers[0], NULL, 0);

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
    if (rc)
        printf("CHECK FAILED: a server does not hold every line\n");
    curl_global_cleanup();
    stop_redis();
    return rc;
}
