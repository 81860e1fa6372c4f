/*
 * mirror_child: a program the process-mode tests spawn with SS_PROC_MIRROR. It
 * finds its channel through SS_MIRROR_CHANNEL (ss_mirror_open_env) and acts out
 * one scenario, chosen by argv[1]:
 *
 *   lines [SOURCE]  lines (one written in pieces), a two-line warning, a tail
 *                   without newline sent by close, "plain stdout" on stdout and,
 *                   when SS_TEST_MARK is set, "mark=<value>"; exit 0
 *   open            print "open_env <result>" on stdout; exit 0
 *   noclose         one line, then exit 0 without closing the mirror
 *   stop            ignore SIGTERM, write "ready <n>" lines until a write fails;
 *                   exit 42 on SS_ESTOPPED, 1 on another error
 *   pause           one line "paused", then sleep until killed (SIGTERM not
 *                   ignored: a mirror is not sent SIGTERM by a stop)
 *   fds             open the mirror if SS_MIRROR_CHANNEL is set, then print
 *                   "inheritable fds:" and every fd above 2 without FD_CLOEXEC
 *                   (what a program it started would inherit); exit 0
 *
 * Any unexpected failure exits with a code from 10 up, reported by the test.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <syncstream.h>

static int write_str(ss_mirror *m, const char *s)
{
    return ss_mirror_write(m, s, strlen(s));
}

static int scenario_lines(const char *source)
{
    ss_mirror *m = NULL;
    if (ss_mirror_open_env(&m, source) != 0)
        return 10;
    if (write_str(m, "exec line 1\n") != 0)
        return 11;
    static const char pieces[] = "exec line 2, in pieces\n";
    for (size_t i = 0; i < sizeof(pieces) - 1; i += 5) {
        size_t n = sizeof(pieces) - 1 - i < 5 ? sizeof(pieces) - 1 - i : 5;
        if (ss_mirror_write(m, pieces + i, n) != 0)
            return 12;
    }
    static const char warn[] = "careful\nwith details";
    if (ss_mirror_append(m, SS_KIND_WARNING, warn, sizeof(warn) - 1) != 0)
        return 13;
    printf("plain stdout\n");
    const char *mark = getenv("SS_TEST_MARK");
    if (mark != NULL)
        printf("mark=%s\n", mark);
    fflush(stdout);
    if (write_str(m, "tail sent by close") != 0)
        return 14;
    if (ss_mirror_close(m) != 0)
        return 15;
    return 0;
}

static int scenario_open(void)
{
    ss_mirror *m = NULL;
    int r = ss_mirror_open_env(&m, NULL);
    printf("open_env %d\n", r);
    fflush(stdout);
    if (r == 0)
        ss_mirror_close(m);
    return 0;
}

static int scenario_noclose(void)
{
    ss_mirror *m = NULL;
    if (ss_mirror_open_env(&m, NULL) != 0)
        return 10;
    if (write_str(m, "sent before exit\n") != 0)
        return 11;
    _exit(0); /* no close, and no leak report for the mirror left open */
}

static int scenario_stop(void)
{
    ss_mirror *m = NULL;
    signal(SIGTERM, SIG_IGN);
    if (ss_mirror_open_env(&m, NULL) != 0)
        return 10;
    char line[64];
    for (unsigned n = 0;; n++) {
        int len = snprintf(line, sizeof(line), "ready %u\n", n);
        int r = ss_mirror_write(m, line, (size_t)len);
        if (r != 0) {
            ss_mirror_close(m);
            return r == SS_ESTOPPED ? 42 : 1;
        }
    }
}

static int scenario_pause(void)
{
    ss_mirror *m = NULL;
    if (ss_mirror_open_env(&m, NULL) != 0)
        return 10;
    if (write_str(m, "paused\n") != 0)
        return 11;
    for (;;)
        pause();
}

static int scenario_fds(void)
{
    ss_mirror *m = NULL;
    if (getenv(SS_MIRROR_ENV) != NULL && ss_mirror_open_env(&m, NULL) != 0)
        return 10;
    char line[512];
    int n = snprintf(line, sizeof(line), "inheritable fds:");
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return 11;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
            continue;
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0 && !(fl & FD_CLOEXEC) && n < (int)sizeof(line) - 16)
            n += snprintf(line + n, sizeof(line) - (size_t)n, " %d", fd);
    }
    closedir(d);
    printf("%s\n", line);
    fflush(stdout);
    if (m != NULL && ss_mirror_close(m) != 0)
        return 12;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (strcmp(argv[1], "lines") == 0)
        return scenario_lines(argc > 2 ? argv[2] : NULL);
    if (strcmp(argv[1], "open") == 0)
        return scenario_open();
    if (strcmp(argv[1], "noclose") == 0)
        return scenario_noclose();
    if (strcmp(argv[1], "stop") == 0)
        return scenario_stop();
    if (strcmp(argv[1], "pause") == 0)
        return scenario_pause();
    if (strcmp(argv[1], "fds") == 0)
        return scenario_fds();
    return 2;
}
