/*
 * bench_producer: the child program of bench_proc. Writes N lines of 64 bytes
 * (63 characters and '\n') to stdout and exits 0.
 *
 *     bench_producer [-w] N [ID]
 *
 * By default stdout is fully buffered (64 KiB) and the lines go out with fwrite,
 * so the reader sees 64 KiB blocks that end in the middle of a line. With -w
 * every line is one write(2). ID (what GNU parallel and `syncstream run` append
 * after ":::") is accepted and ignored: every producer writes the same text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE 64

static char line[LINE];
static char block[64 * 1024];

int main(int argc, char **argv)
{
    int per_line = 0;
    int a = 1;
    if (a < argc && strcmp(argv[a], "-w") == 0) {
        per_line = 1;
        a++;
    }
    if (a >= argc || a + 2 < argc) {
        fprintf(stderr, "usage: bench_producer [-w] N [ID]\n");
        return 2;
    }
    char *end;
    unsigned long long n = strtoull(argv[a], &end, 10);
    if (*end != '\0') {
        fprintf(stderr, "bench_producer: bad N '%s'\n", argv[a]);
        return 2;
    }
    for (int i = 0; i < LINE - 1; i++)
        line[i] = (char)('a' + i % 26);
    line[LINE - 1] = '\n';

    if (per_line) {
        for (unsigned long long i = 0; i < n; i++) {
            ssize_t w = write(1, line, LINE);
            if (w < 0 && errno == EINTR) {
                i--;
                continue;
            }
            if (w != LINE) {
                perror("bench_producer: write");
                return 1;
            }
        }
        return 0;
    }
    setvbuf(stdout, block, _IOFBF, sizeof(block));
    for (unsigned long long i = 0; i < n; i++)
        if (fwrite(line, 1, LINE, stdout) != LINE) {
            perror("bench_producer: fwrite");
            return 1;
        }
    if (fflush(stdout) != 0) {
        perror("bench_producer: fflush");
        return 1;
    }
    return 0;
}
