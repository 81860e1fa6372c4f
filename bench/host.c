/*
 * bench_host: host mode, mirrors on this machine sending 64-byte lines to one
 * syncstream server (ss_host_server in a child process) over loopback HTTP.
 *
 *     bench_host [LINES_PER_MIRROR] [SECONDS_FOR_WRK]
 *
 * Rows, for 1 and 4 mirror processes:
 *   batch     our mirror (ss_host_mirror): line-assembled, batched, exactly once
 *   per-line  one POST per line over a kept-alive connection, what the Python
 *             mirror puts on the wire (it also GETs the state before each line;
 *             that request is left out here, so this is its upper bound): with
 *             libcurl (curl), and on a plain socket (raw) at about wrk's cost
 *   wrk       the limit: wrk (1 and 4 connections) posting the same one-line
 *             body to a trivial libmicrohttpd handler (same threading model as
 *             the server: a thread per connection) that only answers 201
 *   batch->trivial  our mirror into the trivial handler below: the mirror's own
 *             ceiling, with no server-side work
 *   wrk->srv  wrk posting the same one-line body to our server: the server's
 *             own cost per request, without a mirror's client-side cost
 * Ratios: batch lines/s over wrk requests/s, and per-line (and wrk->srv) over
 * wrk.
 * Each mirror process counts from its start to the server's acknowledgement of
 * its last line (ss_host_mirror_close()).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include <syncstream.h>

#include "host_mirrors.h"

/* The base-protocol POST body of line i: {"type":"str","data":{"value":LINE}}. */
static int line_body(char body[256], int mirror, long i)
{
    char line[BENCH_LINE_LEN];
    bench_make_line(line, mirror, i);
    line[BENCH_LINE_LEN - 1] = '\0';
    return snprintf(body, 256, "{\"type\":\"str\",\"data\":{\"value\":\"%s\\n\"}}", line);
}

/* ---- mirror processes ---- */

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    return size * n;
}

/* One base-protocol POST per line over a kept-alive connection. */
static int run_per_line(const char *url, int id, long lines)
{
    CURL *c = curl_easy_init();
    if (!c)
        return 1;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    char body[256];
    int bad = 0;
    for (long i = 0; i < lines && !bad; i++) {
        int n = line_body(body, id, i);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n);
        long status = 0;
        bad = curl_easy_perform(c) != CURLE_OK ||
              curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 201;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return bad;
}

/*
 * One base-protocol POST per line on a plain kept-alive socket, the request
 * written whole and the answer read by its Content-Length: the same wire
 * pattern at about wrk's cost per request, without a client library's.
 */
static int run_per_line_raw(int port, int id, long lines)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        return 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char body[256], req[512], ans[4096];
    int bad = 0;
    for (long i = 0; i < lines && !bad; i++) {
        int bn = line_body(body, id, i);
        int n = snprintf(req, sizeof(req),
                         "POST /sync-stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                         bn, body);
        bad = write(fd, req, (size_t)n) != n;
        /* Read the head, then as much body as it announces. */
        size_t got = 0;
        char *end = NULL;
        while (!bad && !end) {
            ssize_t r = read(fd, ans + got, sizeof(ans) - 1 - got);
            bad = r <= 0;
            got += r > 0 ? (size_t)r : 0;
            ans[got] = '\0';
            end = strstr(ans, "\r\n\r\n");
        }
        if (bad || strncmp(ans, "HTTP/1.1 201", 12) != 0)
            return 1;
        const char *cl = strcasestr(ans, "Content-Length:");
        size_t want = (size_t)(end + 4 - ans) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
        while (!bad && got < want) {
            ssize_t r = read(fd, ans, sizeof(ans) - 1 < want - got ? sizeof(ans) - 1 : want - got);
            bad = r <= 0;
            got += r > 0 ? (size_t)r : 0;
        }
    }
    close(fd);
    return bad;
}

typedef struct mirrors_ctx {
    const char *url;
    int port;
    long lines;
    int mode; /* 0 our mirror, 1 per-line curl, 2 per-line raw */
} mirrors_ctx;

static int mirror_proc(int k, void *ctx)
{
    const mirrors_ctx *c = ctx;
    return c->mode == 0   ? bench_run_mirror(c->url, k, c->lines)
           : c->mode == 1 ? run_per_line(c->url, k, c->lines)
                          : run_per_line_raw(c->port, k, c->lines);
}

/* Run `procs` mirror processes at once; returns lines per second or -1. */
static double run_mirrors(const char *url, int port, int procs, long lines, int mode)
{
    double t = bench_run_procs(procs, mirror_proc, &(mirrors_ctx){url, port, lines, mode});
    return t < 0 ? -1 : (double)procs * (double)lines / t;
}

/* ---- the limit: wrk against a trivial libmicrohttpd handler ---- */

static enum MHD_Result trivial(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **state)
{
    static int first;
    if (*state == NULL) {
        *state = &first;
        return MHD_YES;
    }
    if (*size) {
        *size = 0; /* the body is read and dropped */
        return MHD_YES;
    }
    static const char answer[] = "{\"message\": \"success\"}";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof(answer) - 1, (void *)answer, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, 201, r);
    MHD_destroy_response(r);
    return ret;
}

/* wrk's requests per second with `conns` connections, or -1. */
static double run_wrk(int port, int conns, int seconds, const char *lua)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "wrk -t%d -c%d -d%ds -s %s http://127.0.0.1:%d/sync-stream 2>&1",
             conns < 2 ? 1 : 2, conns, seconds, lua, port);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[256];
    double rps = -1;
    while (fgets(line, sizeof(line), p))
        if (sscanf(line, "Requests/sec: %lf", &rps) == 1)
            break;
    while (fgets(line, sizeof(line), p))
        ;
    pclose(p);
    return rps;
}

int main(int argc, char **argv)
{
    long lines = argc > 1 ? atol(argv[1]) : 500000;
    int seconds = argc > 2 ? atoi(argv[2]) : 5;
    if (lines <= 0 || seconds <= 0) {
        fprintf(stderr, "usage: bench_host [LINES_PER_MIRROR] [SECONDS_FOR_WRK]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);

    /* The limit first, with the same body a per-line POST carries. */
    char lua[] = "/tmp/bench_host_XXXXXX.lua";
    int fd = mkstemps(lua, 4);
    char line[BENCH_LINE_LEN];
    bench_make_line(line, 0, 0);
    line[BENCH_LINE_LEN - 1] = '\0';
    dprintf(fd,
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
            "wrk.body = '{\"type\":\"str\",\"data\":{\"value\":\"%s\\\\n\"}}'\n",
            line);
    close(fd);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
                         NULL, trivial, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bench_host: cannot start the trivial handler\n");
        return 1;
    }
    int trivial_port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    double wrk1 = run_wrk(trivial_port, 1, seconds, lua);
    double wrk4 = run_wrk(trivial_port, 4, seconds, lua);
    char trivial_url[64];
    snprintf(trivial_url, sizeof(trivial_url), "http://127.0.0.1:%d/sync-stream", trivial_port);
    double alone1 = run_mirrors(trivial_url, trivial_port, 1, lines, 0);
    double alone4 = run_mirrors(trivial_url, trivial_port, 4, lines, 0);
    MHD_stop_daemon(d);
    if (wrk1 < 0 || wrk4 < 0 || alone1 < 0 || alone4 < 0) {
        fprintf(stderr, "bench_host: wrk did not run (is it installed?)\n");
        unlink(lua);
        return 1;
    }

    double rate[4][2]; /* [batch, per-line, per-line raw, wrk->srv][1, 4 mirrors] */
    static const int procs[2] = {1, 4};
    for (int mode = 0; mode < 4; mode++) {
        for (int i = 0; i < 2; i++) {
            /* A fresh server per run, holding every line of the run. */
            long n = mode == 0 ? lines : lines / 20;
            /* wrk's run is timed: the server keeps its maxlen of records. */
            int port;
            pid_t srv =
                bench_start_server(&(ss_host_server_opts){.listen = "127.0.0.1:0",
                                                          .maxlen = (size_t)(procs[i] * n) + 16},
                                   &port);
            if (srv < 0) {
                fprintf(stderr, "bench_host: cannot start the server\n");
                return 1;
            }
            char url[64];
            snprintf(url, sizeof(url), "http://127.0.0.1:%d/sync-stream", port);
            rate[mode][i] = mode == 3 ? run_wrk(port, procs[i], seconds, lua)
                                      : run_mirrors(url, port, procs[i], n, mode);
            bench_stop_server(srv);
            if (rate[mode][i] < 0) {
                fprintf(stderr, "bench_host: a mirror (or wrk) failed\n");
                unlink(lua);
                return 1;
            }
        }
    }
    unlink(lua);

    printf("host mode: %ld 64-byte lines per batching mirror (%ld per per-line mirror), "
           "wrk %d s\n\n",
           lines, lines / 20, seconds);
    printf("| mirrors | batch lines/s | batch->trivial lines/s | per-line (curl) lines/s | "
           "per-line (raw) lines/s | wrk->srv req/s | wrk req/s (limit) | batch / wrk | "
           "per-line curl / wrk | per-line raw / wrk | wrk->srv / wrk |\n");
    printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int i = 0; i < 2; i++) {
        double w = i == 0 ? wrk1 : wrk4;
        printf("| %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |\n",
               procs[i], rate[0][i], i == 0 ? alone1 : alone4, rate[1][i], rate[2][i], rate[3][i],
               w, rate[0][i] / w, rate[1][i] / w, rate[2][i] / w, rate[3][i] / w);
    }
    printf("\ntargets: batch >= 500000 lines/s; per-line >= 0.5 x wrk req/s\n");
    curl_global_cleanup();
    return 0;
}
