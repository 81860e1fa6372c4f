/*
 * bench_stream: stream mode over TCP on the loopback, beside a raw C socket
 * (the limit) and python3-pexpect on a socket (a peer), in the same run.
 *
 *   consume, read        a server thread sends B bytes (default 1 GiB) in
 *                        64 KiB writes; the client takes them 64 KiB at a time
 *                        (ss_stream_read / recv / pexpect read_nonblocking)
 *   consume, check       the same bytes taken as they come without a copy out
 *                        (ss_stream_check with a callback consuming them all)
 *   consume, read_until  the same bytes are records of 16 KiB, each ending
 *                        with "#END#\n"; the client takes record after record
 *                        (ss_stream_read_until / memmem over recv'd bytes /
 *                        pexpect expect_exact)
 *   round trip           write "ping\n", read until "ping\n" from an echo
 *                        server thread, N times (default 10000): median, p99
 *
 * pexpect is far slower, so it consumes B / 16 (marked in the table); its rate
 * is still bytes per second. Every figure is the median of -r runs (default 3),
 * the three clients interleaved. See docs/benchmarks.md.
 *
 *     bench_stream [-b BYTES] [-n PINGS] [-r RUNS] [-p PEER.py] [-o read|consume|until|ping]
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <syncstream.h>

#define CHUNK (64 * 1024)
#define RECORD (16 * 1024)
#define MARK "#END#\n"
#define MARK_LEN 6
#define PEXPECT_SHARE 16

static size_t g_bytes = 1024u * 1024u * 1024u;
static int g_pings = 10000;
static char g_chunk[CHUNK]; /* CHUNK / RECORD records */
static char g_peer[PATH_MAX + 32];
static const char *g_only; /* -o: run only this test (read, consume, until, ping) */

static bool want(const char *test)
{
    return !g_only || strcmp(g_only, test) == 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_stream: %s: %s\n", what, why);
    exit(1);
}

/* ---- servers: one connection each, on a thread ---- */

typedef enum { SERVE_BYTES, SERVE_ECHO } serve_kind;

typedef struct server {
    int lfd;
    int port;
    serve_kind kind;
    size_t bytes;
    pthread_t thread;
} server;

static void *serve(void *arg)
{
    server *sv = arg;
    int fd = accept(sv->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (sv->kind == SERVE_BYTES) {
        /* the client says when its clock starts: nothing waits in the socket
         * buffers before (a slow starter, pexpect, would gain from that) */
        char go;
        if (recv(fd, &go, 1, 0) != 1)
            sv->bytes = 0;
        for (size_t sent = 0; sent < sv->bytes;) {
            size_t n = sv->bytes - sent < CHUNK ? sv->bytes - sent : CHUNK;
            ssize_t w = send(fd, g_chunk, n, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            sent += (size_t)w;
        }
    } else {
        char buf[4096];
        ssize_t n;
        while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
            if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
                break;
    }
    close(fd);
    return NULL;
}

static void server_start(server *sv, serve_kind kind, size_t bytes)
{
    sv->kind = kind;
    sv->bytes = bytes;
    sv->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    if (sv->lfd < 0 || bind(sv->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(sv->lfd, 1) < 0 || getsockname(sv->lfd, (struct sockaddr *)&sa, &len) < 0)
        die("listen", strerror(errno));
    sv->port = ntohs(sa.sin_port);
    if (pthread_create(&sv->thread, NULL, serve, sv) != 0)
        die("pthread_create", "failed");
}

static void server_stop(server *sv)
{
    pthread_join(sv->thread, NULL);
    close(sv->lfd);
}

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("connect", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static ss_stream *stream_connect(int port)
{
    char p[16];
    snprintf(p, sizeof(p), "%d", port);
    ss_transport t;
    ss_stream *s;
    int rc = ss_transport_tcp_connect(&t, "127.0.0.1", p, NULL);
    if (rc == 0)
        rc = ss_stream_new(&s, NULL, &t, NULL);
    if (rc < 0)
        die("ss_stream", ss_strerror(rc));
    return s;
}

/* ---- consumers; each returns bytes per second ---- */

static double raw_read(size_t bytes)
{
    server sv;
    server_start(&sv, SERVE_BYTES, bytes);
    int fd = raw_connect(sv.port);
    static char buf[CHUNK];
    size_t got = 0;
    double t0 = now_s();
    send(fd, "g", 1, MSG_NOSIGNAL);
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
        got += (size_t)n;
    double dt = now_s() - t0;
    close(fd);
    server_stop(&sv);
    if (got != bytes)
        die("raw read", "short");
    return (double)got / dt;
}

/* The raw limit of record reading: recv into a buffer, memmem for the mark
 * from where the last search ended, hand each record over as a copy. */
static double raw_until(size_t bytes)
{
    server sv;
    server_start(&sv, SERVE_BYTES, bytes);
    int fd = raw_connect(sv.port);
    char *buf = malloc(4 * CHUNK);
    char *rec = malloc(RECORD);
    size_t len = 0, scan = 0, got = 0, records = 0;
    double t0 = now_s();
    send(fd, "g", 1, MSG_NOSIGNAL);
    for (;;) {
        char *hit = memmem(buf + scan, len - scan, MARK, MARK_LEN);
        if (hit) {
            size_t end = (size_t)(hit - buf) + MARK_LEN;
            memcpy(rec, buf, end);
            got += end;
            records++;
            memmove(buf, buf + end, len - end);
            len -= end;
            scan = 0;
            continue;
        }
        scan = len >= MARK_LEN - 1 ? len - (MARK_LEN - 1) : 0;
        ssize_t n = recv(fd, buf + len, 4 * CHUNK - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    double dt = now_s() - t0;
    close(fd);
    server_stop(&sv);
    free(buf);
    free(rec);
    if (got != bytes || records != bytes / RECORD)
        die("raw read_until", "short");
    return (double)got / dt;
}

static double ss_read(size_t bytes)
{
    server sv;
    server_start(&sv, SERVE_BYTES, bytes);
    ss_stream *s = stream_connect(sv.port);
    static char buf[CHUNK];
    size_t got = 0;
    double t0 = now_s();
    ss_stream_write(s, "g", 1, -1, NULL);
    ssize_t n;
    while ((n = ss_stream_read(s, buf, sizeof(buf), -1, NULL)) > 0)
        got += (size_t)n;
    double dt = now_s() - t0;
    ss_stream_free(s);
    server_stop(&sv);
    if (got != bytes || n != SS_EEOF)
        die("ss_stream_read", "short");
    return (double)got / dt;
}

/* Take every byte as it arrives without copying it out: ss_stream_check
 * with a callback that consumes the whole buffer each time. */
static int take_all(void *ctx, const char *data, size_t len, size_t *ret_consume)
{
    (void)data;
    if (len == 0)
        return 0; /* wait for bytes (or the end of the stream) */
    *(size_t *)ctx += len;
    *ret_consume = len;
    return 1;
}

static double ss_consume(size_t bytes)
{
    server sv;
    server_start(&sv, SERVE_BYTES, bytes);
    ss_stream *s = stream_connect(sv.port);
    size_t got = 0;
    int rc;
    double t0 = now_s();
    ss_stream_write(s, "g", 1, -1, NULL);
    while ((rc = ss_stream_check(s, take_all, &got, -1, NULL)) == 0)
        ;
    double dt = now_s() - t0;
    ss_stream_free(s);
    server_stop(&sv);
    if (got != bytes || rc != SS_EEOF)
        die("ss_stream_check", "short");
    return (double)got / dt;
}

static double ss_until(size_t bytes)
{
    server sv;
    server_start(&sv, SERVE_BYTES, bytes);
    ss_stream *s = stream_connect(sv.port);
    size_t got = 0;
    char *rec;
    size_t len;
    int rc;
    double t0 = now_s();
    ss_stream_write(s, "g", 1, -1, NULL);
    while ((rc = ss_stream_read_until(s, MARK, MARK_LEN, -1, &rec, &len, NULL)) == 0) {
        got += len;
        free(rec);
    }
    double dt = now_s() - t0;
    ss_stream_free(s);
    server_stop(&sv);
    if (got != bytes || rc != SS_EEOF)
        die("ss_stream_read_until", "short");
    return (double)got / dt;
}

/* ---- round trips; fill lat[] (seconds) ---- */

static void raw_ping(double *lat)
{
    server sv;
    server_start(&sv, SERVE_ECHO, 0);
    int fd = raw_connect(sv.port);
    char buf[64];
    for (int i = 0; i < g_pings; i++) {
        double t0 = now_s();
        if (send(fd, "ping\n", 5, MSG_NOSIGNAL) != 5)
            die("raw ping", "send");
        size_t have = 0;
        while (have < 5) {
            ssize_t n = recv(fd, buf + have, sizeof(buf) - have, 0);
            if (n <= 0)
                die("raw ping", "recv");
            have += (size_t)n;
        }
        lat[i] = now_s() - t0;
    }
    close(fd);
    server_stop(&sv);
}

static void ss_ping(double *lat)
{
    server sv;
    server_start(&sv, SERVE_ECHO, 0);
    ss_stream *s = stream_connect(sv.port);
    for (int i = 0; i < g_pings; i++) {
        double t0 = now_s();
        char *out;
        size_t len;
        if (ss_stream_write(s, "ping\n", 5, -1, NULL) != 0 ||
            ss_stream_read_until(s, "ping\n", 5, 10000, &out, &len, NULL) != 0)
            die("ss ping", "failed");
        free(out);
        lat[i] = now_s() - t0;
    }
    ss_stream_free(s);
    server_stop(&sv);
}

/* ---- pexpect, through bench/pexpect_peer.py ---- */

/* Run the peer script against a fresh server; returns its one number. */
static double pexpect_run(const char *mode, serve_kind kind, size_t bytes, double *ret_p99)
{
    server sv;
    server_start(&sv, kind, bytes);
    char cmd[PATH_MAX + 128];
    snprintf(cmd, sizeof(cmd), "python3 '%s' %s %d %zu %d", g_peer, mode, sv.port, bytes, g_pings);
    FILE *p = popen(cmd, "r");
    double a = -1, b = -1;
    if (!p || fscanf(p, "%lf %lf", &a, &b) < 1)
        a = -1;
    if (p && pclose(p) != 0)
        a = -1;
    /* a failed peer never connected: let the server thread go */
    if (a < 0) {
        int fd = raw_connect(sv.port);
        close(fd);
    }
    server_stop(&sv);
    if (ret_p99)
        *ret_p99 = b;
    return a;
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(double *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[(int)(q * (n - 1) + 0.5)];
}

static double median(double *v, int n)
{
    return quantile(v, n, 0.5);
}

static void fmt_rate(char *buf, size_t size, double r)
{
    if (r < 0)
        snprintf(buf, size, "n/a");
    else
        snprintf(buf, size, "%.0f MB/s", r / 1e6);
}

static void fmt_us(char *buf, size_t size, double s)
{
    if (s < 0)
        snprintf(buf, size, "n/a");
    else
        snprintf(buf, size, "%.1f us", s * 1e6);
}

static void fmt_ratio(char *buf, size_t size, double a, double b)
{
    if (a < 0 || b <= 0)
        snprintf(buf, size, "n/a");
    else
        snprintf(buf, size, "%.2fx", a / b);
}

int main(int argc, char **argv)
{
    int runs = 3, c;
    const char *peer = NULL;
    while ((c = getopt(argc, argv, "b:n:r:p:o:")) != -1) {
        switch (c) {
        case 'b':
            g_bytes = strtoull(optarg, NULL, 10);
            break;
        case 'n':
            g_pings = atoi(optarg);
            break;
        case 'r':
            runs = atoi(optarg);
            break;
        case 'p':
            peer = optarg;
            break;
        case 'o':
            g_only = optarg;
            break;
        default:
            fprintf(stderr, "usage: bench_stream [-b BYTES] [-n PINGS] [-r RUNS] [-p PEER.py] "
                            "[-o read|consume|until|ping]\n");
            return 2;
        }
    }
    g_bytes -= g_bytes % CHUNK;
    if (g_bytes == 0 || g_pings < 1 || runs < 1 || runs > 32)
        die("options", "-b, -n and -r must be positive (-r at most 32)");
    if (peer) {
        snprintf(g_peer, sizeof(g_peer), "%s", peer);
    } else {
        /* beside this program in the build tree: bench/pexpect_peer.py */
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        self[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        snprintf(g_peer, sizeof(g_peer), "%s/pexpect_peer.py", self);
    }
    for (size_t i = 0; i < CHUNK; i++)
        g_chunk[i] = (char)('a' + i % 26);
    for (size_t r = RECORD; r <= CHUNK; r += RECORD)
        memcpy(g_chunk + r - MARK_LEN, MARK, MARK_LEN);

    enum { OURS, RAW, PEX, NCLIENTS };
    double rd[NCLIENTS][32], ut[NCLIENTS][32], pmed[NCLIENTS][32], p99[NCLIENTS][32];
    double cs[32];
    double *lat = malloc(sizeof(double) * (size_t)g_pings);
    size_t pex_bytes = g_bytes / PEXPECT_SHARE - (g_bytes / PEXPECT_SHARE) % CHUNK;
    memset(rd, 0, sizeof(rd));
    memset(ut, 0, sizeof(ut));
    memset(pmed, 0, sizeof(pmed));
    memset(p99, 0, sizeof(p99));
    memset(cs, 0, sizeof(cs));
    for (int r = 0; r < runs; r++) {
        /* the raw read is the limit of consume too */
        if (want("read") || want("consume"))
            rd[RAW][r] = raw_read(g_bytes);
        if (want("read")) {
            rd[OURS][r] = ss_read(g_bytes);
            rd[PEX][r] = pexpect_run("read", SERVE_BYTES, pex_bytes, NULL);
        }
        if (want("consume"))
            cs[r] = ss_consume(g_bytes);
        if (want("until")) {
            ut[RAW][r] = raw_until(g_bytes);
            ut[OURS][r] = ss_until(g_bytes);
            ut[PEX][r] = pexpect_run("until", SERVE_BYTES, pex_bytes, NULL);
        }
        if (want("ping")) {
            raw_ping(lat);
            pmed[RAW][r] = median(lat, g_pings);
            p99[RAW][r] = quantile(lat, g_pings, 0.99);
            ss_ping(lat);
            pmed[OURS][r] = median(lat, g_pings);
            p99[OURS][r] = quantile(lat, g_pings, 0.99);
            pmed[PEX][r] = pexpect_run("ping", SERVE_ECHO, 0, &p99[PEX][r]);
        }
    }
    free(lat);
    double m_rd[NCLIENTS], m_ut[NCLIENTS], m_med[NCLIENTS], m_p99[NCLIENTS];
    double m_cs = median(cs, runs);
    for (int k = 0; k < NCLIENTS; k++) {
        m_rd[k] = median(rd[k], runs);
        m_ut[k] = median(ut[k], runs);
        m_med[k] = median(pmed[k], runs);
        m_p99[k] = median(p99[k], runs);
    }

    printf("bench_stream: TCP over the loopback, %zu MiB consumed (pexpect: %zu MiB), %d round "
           "trips, median of %d runs, %ld CPUs\n\n",
           g_bytes >> 20, pex_bytes >> 20, g_pings, runs, sysconf(_SC_NPROCESSORS_ONLN));
    printf("| test | ss_stream | raw socket | pexpect | ours / raw | ours / pexpect |\n");
    printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
    char a[32], b[32], p[32], x[32], y[32];
    fmt_rate(a, sizeof(a), m_rd[OURS]);
    fmt_rate(b, sizeof(b), m_rd[RAW]);
    fmt_rate(p, sizeof(p), m_rd[PEX]);
    fmt_ratio(x, sizeof(x), m_rd[OURS], m_rd[RAW]);
    fmt_ratio(y, sizeof(y), m_rd[OURS], m_rd[PEX]);
    printf("| consume, read 64 KiB | %s | %s | %s | %s | %s |\n", a, b, p, x, y);
    fmt_rate(a, sizeof(a), m_cs);
    fmt_ratio(x, sizeof(x), m_cs, m_rd[RAW]);
    fmt_ratio(y, sizeof(y), m_cs, m_rd[PEX]);
    printf("| consume, check + consume (no copy out) | %s | %s | %s | %s | %s |\n", a, b, p, x, y);
    fmt_rate(a, sizeof(a), m_ut[OURS]);
    fmt_rate(b, sizeof(b), m_ut[RAW]);
    fmt_rate(p, sizeof(p), m_ut[PEX]);
    fmt_ratio(x, sizeof(x), m_ut[OURS], m_ut[RAW]);
    fmt_ratio(y, sizeof(y), m_ut[OURS], m_ut[PEX]);
    printf("| consume, read_until 16 KiB records | %s | %s | %s | %s | %s |\n", a, b, p, x, y);
    fmt_us(a, sizeof(a), m_med[OURS]);
    fmt_us(b, sizeof(b), m_med[RAW]);
    fmt_us(p, sizeof(p), m_med[PEX]);
    fmt_ratio(x, sizeof(x), m_med[OURS], m_med[RAW]);
    fmt_ratio(y, sizeof(y), m_med[OURS], m_med[PEX]);
    printf("| round trip, median | %s | %s | %s | %s | %s |\n", a, b, p, x, y);
    fmt_us(a, sizeof(a), m_p99[OURS]);
    fmt_us(b, sizeof(b), m_p99[RAW]);
    fmt_us(p, sizeof(p), m_p99[PEX]);
    fmt_ratio(x, sizeof(x), m_p99[OURS], m_p99[RAW]);
    fmt_ratio(y, sizeof(y), m_p99[OURS], m_p99[PEX]);
    printf("| round trip, p99 | %s | %s | %s | %s | %s |\n", a, b, p, x, y);

    /* issue 18's targets: one table, then the TARGET lines bench/run-all reads */
    struct {
        const char *workload, *target;
        double ratio; /* ours / raw */
        bool at_most; /* a time: the ratio must be at most the limit */
        double limit;
        bool measured;
    } t[] = {
        {"read 64 KiB vs raw recv", ">=0.8x", m_rd[OURS] / m_rd[RAW], false, 0.8, want("read")},
        {"check + consume vs raw recv", ">=0.8x", m_cs / m_rd[RAW], false, 0.8, want("consume")},
        {"read_until 16 KiB records vs raw recv + memmem", ">=0.8x", m_ut[OURS] / m_ut[RAW], false,
         0.8, want("until")},
        {"round trip median vs raw socket", "<=1.5x", m_med[OURS] / m_med[RAW], true, 1.5,
         want("ping")},
    };
    size_t nt = sizeof(t) / sizeof(t[0]);
    bool met[sizeof(t) / sizeof(t[0])];
    printf("\n| target | value | met |\n| --- | ---: | --- |\n");
    for (size_t i = 0; i < nt; i++) {
        met[i] = t[i].at_most ? t[i].ratio <= t[i].limit : t[i].ratio >= t[i].limit;
        if (t[i].measured)
            printf("| %s %s | %.2fx | %s |\n", t[i].workload, t[i].target, t[i].ratio,
                   met[i] ? "yes" : "no");
    }
    printf("\n");
    for (size_t i = 0; i < nt; i++)
        if (t[i].measured)
            printf("TARGET\t%s\t%.2fx\t%s\t%s\n", t[i].workload, t[i].ratio, t[i].target,
                   met[i] ? "met" : "missed");
    return 0;
}
