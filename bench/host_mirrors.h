/*
 * host_mirrors.h: what the host-mode benchmarks (bench/host.c,
 * bench/host_redis.c) share: their 64-byte lines, a syncstream server in a
 * process of its own, our mirror sending a run of lines, and the timing of
 * processes started at once.
 */
#ifndef SS_BENCH_HOST_MIRRORS_H
#define SS_BENCH_HOST_MIRRORS_H

#include <sys/types.h>

#include <syncstream.h>

#define BENCH_LINE_LEN 64

/* Seconds on the monotonic clock. */
double bench_now_s(void);

/* Line i of a mirror: 63 printable bytes and "\n" into buf (BENCH_LINE_LEN). */
void bench_make_line(char *buf, int mirror, long i);

/* An ss_host_server with opts in a child process, which serves until killed.
 * Returns its pid and *ret_port, or -1 (the child reaped). */
pid_t bench_start_server(const ss_host_server_opts *opts, int *ret_port);

/* Kill and reap a bench_start_server() child. */
void bench_stop_server(pid_t pid);

/* Our mirror (ss_host_mirror) sends lines lines of mirror id to url, then
 * closes, waiting for the server to acknowledge the last one. Returns 0 when
 * every line was sent, else 1 (an exit status). */
int bench_run_mirror(const char *url, int id, long lines);

/* As bench_run_mirror, but once its mirror is set up it writes a byte to
 * ready_fd and waits for go_fd's end of file before it sends. */
int bench_run_mirror_after(const char *url, int id, long lines, int ready_fd, int go_fd);

/* Run fn(i, ctx) for i in 0..n-1, each in a child process started at once
 * that exits with fn's return. Returns the seconds from the first start to
 * the last exit, or -1 when a child failed. */
double bench_run_procs(int n, int (*fn)(int i, void *ctx), void *ctx);

#endif
