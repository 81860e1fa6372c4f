/*
 * cmd_file.c: `syncstream file write | read | clear`, the shell's side of file
 * mode: one log file that processes on one machine, or on several sharing a
 * disk, write whole lines into, and that any of them reads.
 *
 * Signals. SIGINT and SIGTERM are blocked in every thread and taken by a
 * signal thread (sigwait), which records the first one, wakes the main loop
 * through a pipe and closes the buffer of a follower. `write` then stops
 * reading (passing the signal on to its command, whose output it keeps
 * draining), ends the partial lines, appends what it holds and exits with
 * 128 + the signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <syncstream.h>

#include "print.h"
#include "tool.h"

extern char **environ;

const char cmd_file_help[] =
    "Usage: " TOOL_NAME " file write PATH [OPTION]... [-- COMMAND [ARG]...]\n"
    "       " TOOL_NAME " file read PATH [-n N] [--follow] [--json]\n"
    "       " TOOL_NAME " file clear PATH\n"
    "\n"
    "One log file shared by processes on this machine or on machines that mount\n"
    "the same disk (NFS): each writer's lines go in whole, under a lock, each as\n"
    "one readable text line with its number, time, source and kind; the file keeps\n"
    "the newest records (it is compacted as it grows). See docs/file-mode.md.\n"
    "\n"
    "write: append standard input, or the output of COMMAND (its standard error\n"
    "flagged 'stderr'), line by line. The file is created if missing.\n"
    "  -s, --source=NAME   the records' source (default: COMMAND's name, or the\n"
    "                      host name for standard input)\n"
    "  -m, --maxlen=N      records kept, for a file this creates (default 1000)\n"
    "      --sync=MODE     never (default), batch (fsync after each block of\n"
    "                      input) or record (fsync after every line)\n"
    "  If the disk is full, write holds the lines and retries every half second,\n"
    "  saying so once on standard error. It holds as many lines as the file\n"
    "  keeps (4 MiB at most, then it stops reading), dropping the oldest for\n"
    "  newer ones, and says at the end how many it dropped; the file never\n"
    "  grows past its limit. Interrupted then, it says how many lines were not\n"
    "  written, prints them (numbered 0) and exits 130 (143).\n"
    "\n"
    "read: print the newest records, oldest first.\n"
    "  -n, --lines=N       only the newest N (default: all the file keeps)\n"
    "  -f, --follow        then print new records as they come, until interrupted\n"
    "      --json          JSON Lines instead of text (see syncstream(1))\n"
    "  Damaged lines are skipped and counted on standard error.\n"
    "\n"
    "clear: remove every record, for every reader (numbering goes on).\n"
    "\n"
    "write, read and clear:\n"
    "  -h, --help          show this help and exit\n"
    "\n"
    "Exit status: 0 success; 1 the file cannot be read or written, or is not a\n"
    "syncstream log file; 2 usage error; 3 write: COMMAND failed; 130 (143)\n"
    "interrupted by SIGINT (SIGTERM).\n"
    "\n"
    "Examples:\n"
    "  make 2>&1 | " TOOL_NAME " file write /shared/build.log --source $(hostname)\n"
    "  " TOOL_NAME " file write /shared/build.log -- make -j8\n"
    "  " TOOL_NAME " file read /shared/build.log -n 20 --follow\n"
    "  grep ' error' /shared/build.log      # the file is plain text\n";

/* ---- signals ---- */

typedef struct sig_ctx {
    sigset_t set;
    pthread_t thread;
    int wake[2];          /* the signal thread writes a byte on arrival */
    ss_filebuf *close_fb; /* closed on a signal (a follower), may be NULL */
    int signo;            /* the first signal, else 0 (atomic) */
} sig_ctx;

static void *signal_main(void *arg)
{
    sig_ctx *s = arg;
    int sig;
    while (sigwait(&s->set, &sig) == 0) {
        if (sig == SIGUSR1)
            break; /* asked to end */
        int none = 0;
        __atomic_compare_exchange_n(&s->signo, &none, sig, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST);
        if (write(s->wake[1], "s", 1) < 0) {
            /* the pipe is full: a wake-up is pending anyway */
        }
        if (s->close_fb)
            ss_filebuf_close(s->close_fb);
    }
    return NULL;
}

/* Block SIGINT and SIGTERM in this (the main) thread, before any other thread
 * exists, and start the thread that takes them. */
static int signals_start(sig_ctx *s, ss_filebuf *close_fb)
{
    sigemptyset(&s->set);
    sigaddset(&s->set, SIGINT);
    sigaddset(&s->set, SIGTERM);
    sigaddset(&s->set, SIGUSR1);
    s->close_fb = close_fb;
    s->signo = 0;
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    pthread_sigmask(SIG_BLOCK, &s->set, NULL);
    int rc = pthread_create(&s->thread, NULL, signal_main, s);
    if (rc != 0) {
        close(s->wake[0]);
        close(s->wake[1]);
        return -rc;
    }
    return 0;
}

static int signals_stop(sig_ctx *s)
{
    pthread_kill(s->thread, SIGUSR1);
    pthread_join(s->thread, NULL);
    close(s->wake[0]);
    close(s->wake[1]);
    return __atomic_load_n(&s->signo, __ATOMIC_SEQ_CST);
}

/* ---- write ---- */

typedef struct write_ctx {
    const char *path;
    ss_filebuf *fb;
    sig_ctx sig;
    bool warned;        /* the "cannot append, holding" message was shown */
    int held_error;     /* the last error that held lines, else 0 */
    uint64_t not_taken; /* lines of input refused (-ENOBUFS) after a signal */
} write_ctx;

/* Errors after which the lines are held by the library and retried. */
static bool is_held_error(int rc)
{
    return rc < 0 && rc != SS_ECLOSED && rc != -EINVAL && rc != -EBADF && rc != -ENOBUFS &&
           rc != -ENOMEM;
}

static void warn_held(write_ctx *c, int rc)
{
    if (rc != -ENOBUFS)
        c->held_error = rc;
    if (c->warned)
        return;
    c->warned = true;
    tool_fail("%s: cannot append (%s); holding the lines and retrying", c->path,
              ss_strerror(rc));
}

/* Sleep up to ms, or until a signal arrives. */
static void pause_ms(write_ctx *c, int ms)
{
    struct pollfd p = {.fd = c->sig.wake[0], .events = POLLIN};
    poll(&p, 1, ms);
}

static bool interrupted(const write_ctx *c)
{
    return __atomic_load_n(&c->sig.signo, __ATOMIC_SEQ_CST) != 0;
}

/* The lines in a block of input: its line breaks, and a last unfinished one. */
static uint64_t count_lines(const char *data, size_t len)
{
    uint64_t n = 0;
    for (const char *p = data, *end = data + len; (p = memchr(p, '\n', (size_t)(end - p))); p++)
        n++;
    return n + (len > 0 && data[len - 1] != '\n');
}

/* Write one block through w (or the default writer when w is NULL), waiting out
 * a full disk. Returns 0, or a negative error that ends the command. After a
 * signal, a block the writer cannot take is counted as not written (0). */
static int put(write_ctx *c, ss_filewriter *w, const char *data, size_t len)
{
    for (;;) {
        int rc = w ? ss_filewriter_write(w, data, len) : ss_filebuf_write(c->fb, data, len);
        if (rc == 0)
            return 0;
        if (is_held_error(rc)) {
            warn_held(c, rc); /* taken and held: the next write or flush retries */
            return 0;
        }
        if (rc != -ENOBUFS)
            return rc;
        /* nothing taken: the held lines must go first */
        warn_held(c, rc);
        if (interrupted(c)) {
            c->not_taken += count_lines(data, len);
            return 0;
        }
        pause_ms(c, 500);
        int f = w ? ss_filewriter_flush(w) : ss_filebuf_flush(c->fb);
        if (f < 0 && !is_held_error(f))
            return f;
    }
}

/* Append what w (or the default writer) holds, retrying while the disk is full;
 * after a signal, one last try. */
static int drain(write_ctx *c, ss_filewriter *w)
{
    for (;;) {
        int rc = w ? ss_filewriter_flush(w) : ss_filebuf_flush(c->fb);
        if (rc == 0 || !is_held_error(rc) || interrupted(c))
            return rc;
        warn_held(c, rc);
        pause_ms(c, 500);
    }
}

/*
 * The end of a write: held lines (still held after the last try: in held,
 * shown after the message, as `send` shows what it could not deliver) and
 * lines refused after a signal are not written; say how many and why.
 * Returns the exit status (a signal's is set by the caller).
 */
static int report_unwritten(write_ctx *c, const ss_records *held, size_t nheld, int rc)
{
    size_t shown = 0;
    for (size_t i = 0; i < nheld; i++)
        shown += held[i].count;
    uint64_t n = shown + c->not_taken;
    if (rc >= 0 && n == 0)
        return TOOL_EXIT_OK;
    if (rc < 0 && n == 0 && !is_held_error(rc))
        return tool_fail("%s: %s", c->path, ss_strerror(rc));
    int why = is_held_error(rc) ? rc : c->held_error;
    int sig = __atomic_load_n(&c->sig.signo, __ATOMIC_SEQ_CST);
    const char *abbrev = sig ? sigabbrev_np(sig) : NULL;
    tool_fail("%s: %" PRIu64 " line%s not written%s%s%s (%s)%s", c->path, n, n == 1 ? "" : "s",
              sig ? ": interrupted by SIG" : "", sig ? (abbrev ? abbrev : "?") : "",
              sig ? " while the file could not be written" : "",
              why ? ss_strerror(why) : "unknown error",
              shown == 0 ? "" : c->not_taken ? "; those it held follow" : "; they follow");
    for (size_t i = 0; i < nheld; i++)
        tool_print_records(stderr, TOOL_FORMAT_TEXT, &held[i]);
    c->not_taken = 0;
    return TOOL_EXIT_FAILURE;
}

static int write_stdin(write_ctx *c)
{
    static char buf[64 * 1024];
    bool stopped = false;
    while (!stopped) {
        struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                              {.fd = c->sig.wake[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return tool_fail("poll: %s", ss_strerror(-errno));
        if (p[1].revents)
            break; /* interrupted: keep what was read */
        if (!p[0].revents)
            continue;
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return tool_fail("standard input: %s", ss_strerror(-errno));
        if (n == 0)
            stopped = true;
        else if ((n = put(c, NULL, buf, (size_t)n)) < 0)
            return tool_fail("%s: %s", c->path, ss_strerror((int)n));
    }
    int rc = ss_filebuf_new_line(c->fb);
    if (rc < 0 && !is_held_error(rc) && rc != -ENOBUFS)
        return tool_fail("%s: %s", c->path, ss_strerror(rc));
    rc = drain(c, NULL);
    ss_records held = SS_RECORDS_INIT;
    if (ss_filebuf_unsent(c->fb, &held) < 0)
        tool_fail("%s: out of memory listing the lines not written", c->path);
    int status = report_unwritten(c, &held, 1, rc);
    ss_records_clear(&held);
    return status;
}

/* The child's exit as an exit status of ours and a sentence. */
static int child_status(int wstatus, const char *name)
{
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
        return TOOL_EXIT_OK;
    if (WIFEXITED(wstatus))
        tool_fail("%s exited with status %d", name, WEXITSTATUS(wstatus));
    else
        tool_fail("%s was killed by signal %d", name, WTERMSIG(wstatus));
    return TOOL_EXIT_JOB_FAILED;
}

static int write_command(write_ctx *c, const char *source, char **cmd)
{
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
        return tool_fail("pipe: %s", ss_strerror(-errno));
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none); /* the child gets SIGINT as usual */
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    int rc = posix_spawnp(&pid, cmd[0], &fa, &attr, cmd, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
        close(out[0]);
        close(err[0]);
        return tool_fail("%s: %s", cmd[0], ss_strerror(-rc));
    }

    ss_filewriter *w[2] = {NULL, NULL};
    int fds[2] = {out[0], err[0]};
    int status = TOOL_EXIT_OK;
    if ((rc = ss_filewriter_new(&w[0], c->fb, source, 0)) < 0 ||
        (rc = ss_filewriter_new(&w[1], c->fb, source, SS_REC_STDERR)) < 0) {
        status = tool_fail("%s: %s", c->path, ss_strerror(rc));
        kill(pid, SIGTERM);
    }
    static char buf[64 * 1024];
    bool forwarded = false;
    while (fds[0] >= 0 || fds[1] >= 0) {
        struct pollfd p[3] = {{.fd = fds[0], .events = POLLIN},
                              {.fd = fds[1], .events = POLLIN},
                              {.fd = forwarded ? -1 : c->sig.wake[0], .events = POLLIN}};
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            break;
        if (p[2].revents && !forwarded) {
            /* pass the signal on and keep reading what the command still says */
            kill(pid, __atomic_load_n(&c->sig.signo, __ATOMIC_SEQ_CST));
            forwarded = true;
        }
        for (int i = 0; i < 2; i++) {
            if (!p[i].revents)
                continue;
            ssize_t n = read(fds[i], buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(fds[i]);
                fds[i] = -1;
                continue;
            }
            if (w[i] && (rc = put(c, w[i], buf, (size_t)n)) < 0 && status == TOOL_EXIT_OK)
                status = tool_fail("%s: %s", c->path, ss_strerror(rc));
        }
    }
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    ss_records held[2] = {SS_RECORDS_INIT, SS_RECORDS_INIT};
    int held_rc = 0;
    for (int i = 0; i < 2; i++) {
        if (!w[i])
            continue;
        rc = ss_filewriter_new_line(w[i]);
        if (rc == 0 || is_held_error(rc) || rc == -ENOBUFS)
            rc = drain(c, w[i]);
        if (rc < 0 && !is_held_error(rc) && status == TOOL_EXIT_OK)
            status = tool_fail("%s: %s", c->path, ss_strerror(rc));
        if (is_held_error(rc))
            held_rc = rc;
        if (is_held_error(rc) && ss_filewriter_unsent(w[i], &held[i]) < 0)
            tool_fail("%s: out of memory listing the lines not written", c->path);
        ss_filewriter_close(w[i]);
    }
    int unwritten = report_unwritten(c, held, 2, held_rc);
    ss_records_clear(&held[0]);
    ss_records_clear(&held[1]);
    if (status == TOOL_EXIT_OK)
        status = unwritten;
    if (status == TOOL_EXIT_OK)
        status = child_status(wstatus, cmd[0]);
    return status;
}

static int parse_sync(const char *s, ss_file_sync *ret)
{
    static const char *const names[] = {"never", "batch", "record"};
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *ret = (ss_file_sync)i;
            return 0;
        }
    return -1;
}

static int open_error(const char *path, int rc)
{
    if (rc == SS_EFORMAT)
        return tool_fail("%s: not a syncstream log file (left untouched)", path);
    if (rc == SS_ECORRUPT)
        return tool_fail("%s: a syncstream log file whose header is damaged", path);
    return tool_fail("%s: %s", path, ss_strerror(rc));
}

static int file_write(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"source", required_argument, NULL, 's'},
        {"maxlen", required_argument, NULL, 'm'},
        {"sync", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ss_filebuf_opts opts = {0};
    const char *source = NULL;
    char host[64];
    int c;

    /* Options may come before or after PATH; everything after "--" is the
     * command, with its own options. */
    int dd = 1;
    while (dd < argc && strcmp(argv[dd], "--") != 0)
        dd++;
    char **cmd = dd < argc ? argv + dd + 1 : NULL;
    if (cmd && !*cmd)
        return tool_usage("file", "file write: no COMMAND after '--'");
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(dd, argv, ":s:m:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 's':
            source = optarg;
            break;
        case 'm':
            if (tool_parse_count(optarg, &opts.maxlen) < 0 || opts.maxlen == 0)
                return tool_usage("file", "file write: --maxlen wants a positive integer, "
                                          "not '%s'", optarg);
            break;
        case 'S':
            if (parse_sync(optarg, &opts.sync) < 0)
                return tool_usage("file", "file write: --sync is never, batch or record, "
                                          "not '%s'", optarg);
            break;
        case 'h':
            fputs(cmd_file_help, stdout);
            return tool_finish_output(TOOL_EXIT_OK);
        default:
            return tool_option_error("file", argv, c);
        }
    }
    const char *path = NULL;
    int bad = tool_one_operand(&(tool_operand){"file", "file write", "PATH", "which log file?",
                                               " (a command goes after '--')"},
                               argv, optind, dd, &path);
    if (bad != TOOL_EXIT_OK)
        return bad;
    if (!source)
        source = tool_default_source(cmd, host, sizeof(host));
    opts.source = source;

    write_ctx ctx = {.path = path};
    int rc = ss_filebuf_open(&ctx.fb, path, &opts);
    if (rc < 0)
        return open_error(path, rc);
    if ((rc = signals_start(&ctx.sig, NULL)) < 0) {
        ss_filebuf_free(ctx.fb);
        return tool_fail("signals: %s", ss_strerror(rc));
    }
    int status = cmd ? write_command(&ctx, source, cmd) : write_stdin(&ctx);
    int sig = signals_stop(&ctx.sig);
    ss_filebuf_stats st;
    if (ss_filebuf_get_stats(ctx.fb, &st) == 0) {
        bool no_room = st.compact_error == -ENOSPC || st.compact_error == -EDQUOT;
        if (st.compact_failed)
            tool_fail("%s: could not be compacted %" PRIu64 " time%s (%s)%s", path,
                      st.compact_failed, st.compact_failed == 1 ? "" : "s",
                      ss_strerror(st.compact_error),
                      no_room ? "" : "; it grows past its limit");
        if (st.dropped)
            tool_fail("%s: %" PRIu64 " line%s dropped while the file could not be written "
                      "(the oldest of those held; the file keeps %zu)",
                      path, st.dropped, st.dropped == 1 ? "" : "s", st.maxlen);
    }
    ss_filebuf_free(ctx.fb);
    /* interrupted: the signal's status, whatever else was reported */
    if (sig)
        status = TOOL_EXIT_SIGNAL_BASE + sig;
    return status;
}

/* ---- read ---- */

/* Say on stderr what could not be shown. */
static void report_damage(const char *path, ss_filebuf *fb, uint64_t *reported)
{
    ss_filebuf_stats st;
    if (ss_filebuf_get_stats(fb, &st) < 0 || st.damaged <= *reported)
        return;
    fprintf(stderr,
            TOOL_NAME ": %s: %" PRIu64 " damaged line%s skipped (the first at line %" PRIu64
            ")\n",
            path, st.damaged, st.damaged == 1 ? "" : "s", st.first_damaged_line);
    *reported = st.damaged;
}

static int file_read(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"lines", required_argument, NULL, 'n'},
        {"follow", no_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    size_t n = SS_READ_ALL;
    bool follow = false;
    tool_format fmt = TOOL_FORMAT_TEXT;
    int c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:fh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (tool_parse_count(optarg, &n) < 0)
                return tool_usage("file", "file read: -n wants a non-negative integer, not "
                                          "'%s'", optarg);
            break;
        case 'f':
            follow = true;
            break;
        case 'j':
            fmt = TOOL_FORMAT_JSON;
            break;
        case 'h':
            fputs(cmd_file_help, stdout);
            return tool_finish_output(TOOL_EXIT_OK);
        default:
            return tool_option_error("file", argv, c);
        }
    }
    const char *path = NULL;
    int bad = tool_one_operand(&(tool_operand){"file", "file read", "PATH", "which log file?",
                                               NULL},
                               argv, optind, argc, &path);
    if (bad != TOOL_EXIT_OK)
        return bad;

    ss_filebuf *fb = NULL;
    int rc = ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.flags = SS_FILE_READONLY});
    if (rc < 0)
        return open_error(path, rc);
    sig_ctx sig;
    if (follow && (rc = signals_start(&sig, fb)) < 0) {
        ss_filebuf_free(fb);
        return tool_fail("signals: %s", ss_strerror(rc));
    }

    ss_records set = SS_RECORDS_INIT;
    uint64_t damaged = 0;
    int status = TOOL_EXIT_OK;
    rc = ss_filebuf_read(fb, n, &set);
    if (rc < 0) {
        status = tool_fail("%s: %s", path, ss_strerror(rc));
    } else {
        if (tool_print_records(stdout, fmt, &set) < 0)
            status = TOOL_EXIT_FAILURE;
        report_damage(path, fb, &damaged);
    }
    uint64_t cursor = set.count ? set.items[set.count - 1].seq : 0;
    if (!set.count && rc >= 0) {
        /* nothing yet: follow from the newest number the file has used */
        ss_filebuf_stats st;
        if (ss_filebuf_get_stats(fb, &st) == 0)
            cursor = st.last_seq;
    }
    while (follow && status == TOOL_EXIT_OK) {
        if (fflush(stdout) != 0)
            break;
        rc = ss_filebuf_follow(fb, cursor, 0, -1, &set);
        if (rc == SS_ECLOSED)
            break; /* interrupted */
        if (rc < 0) {
            status = tool_fail("%s: %s", path, ss_strerror(rc));
            break;
        }
        if (set.missed)
            fprintf(stderr, TOOL_NAME ": %s: %" PRIu64 " record%s missed\n", path, set.missed,
                    set.missed == 1 ? "" : "s");
        if (tool_print_records(stdout, fmt, &set) < 0)
            status = TOOL_EXIT_FAILURE;
        cursor = set.cursor;
        report_damage(path, fb, &damaged);
    }
    ss_records_clear(&set);
    int signo = follow ? signals_stop(&sig) : 0;
    ss_filebuf_free(fb);
    status = tool_finish_output(status);
    if (signo && status == TOOL_EXIT_OK)
        status = TOOL_EXIT_SIGNAL_BASE + signo;
    return status;
}

/* ---- clear ---- */

static int file_clear(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(cmd_file_help, stdout);
        return tool_finish_output(TOOL_EXIT_OK);
    }
    const char *path = NULL;
    int bad = tool_one_operand(&(tool_operand){"file", "file clear", "PATH", "which log file?",
                                               NULL},
                               argv, 1, argc, &path);
    if (bad != TOOL_EXIT_OK)
        return bad;
    struct stat st;
    /* clear never creates a file */
    if (stat(path, &st) < 0)
        return tool_fail("%s: %s", path, ss_strerror(-errno));
    ss_filebuf *fb = NULL;
    int rc = ss_filebuf_open(&fb, path, NULL);
    if (rc < 0)
        return open_error(path, rc);
    rc = ss_filebuf_clear(fb);
    ss_filebuf_free(fb);
    if (rc < 0)
        return tool_fail("%s: cannot clear: %s", path, ss_strerror(rc));
    return TOOL_EXIT_OK;
}

int cmd_file(int argc, char **argv)
{
    if (argc < 2)
        return tool_usage("file", "file: write, read or clear?");
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        fputs(cmd_file_help, stdout);
        return tool_finish_output(TOOL_EXIT_OK);
    }
    if (strcmp(sub, "write") == 0)
        return file_write(argc - 1, argv + 1);
    if (strcmp(sub, "read") == 0)
        return file_read(argc - 1, argv + 1);
    if (strcmp(sub, "clear") == 0)
        return file_clear(argc - 1, argv + 1);
    return tool_usage("file", "file: '%s' is not write, read or clear", sub);
}
