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
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <syncstream.h>

#include "child.h"
#include "print.h"
#include "tool.h"

const char cmd_file_help[] =
    "Usage: " TOOL_NAME " file write PATH [OPTION]... [-- COMMAND [ARG]...]\n"
    "       " TOOL_NAME " file read PATH [-n N] [-f|-F] [--json] [--color[=WHEN]]\n"
    "       " TOOL_NAME " file clear PATH\n"
    "\n"
    "One log file shared by processes on this machine or on machines that mount\n"
    "the same disk (NFS): each writer's lines go in whole, under a lock, each as\n"
    "one readable text line with its number, time, source and kind, then a tab and\n"
    "the message, which ends the line (grep 'error$' works); the file keeps the\n"
    "newest records (it is compacted as it grows). See docs/file-mode.md.\n"
    "\n"
    "write: append standard input, or the output of COMMAND (its standard error\n"
    "flagged 'stderr'), line by line, then COMMAND's exit record ('exited with\n"
    "status 2', kind error, flagged 'exit'). The file is created if missing.\n"
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
    "  -f, --follow[=descriptor]  then print new records as they come, until\n"
    "                      interrupted, through the file's compactions (a file\n"
    "                      rotated, removed or cut is not followed: use -F)\n"
    "  -F, --follow=name   the same, following the name as tail -F does: when the\n"
    "                      file is rotated (mv log log.1; a new log), removed and\n"
    "                      made again, or cut shorter, say so on standard error\n"
    "                      and go on from the new file's first record\n"
    "      --json          JSON Lines instead of text (see syncstream(1))\n"
    "      --color[=WHEN]  color stderr records (yellow) and a failed command's\n"
    "                      exit record (red): auto (default; when standard output\n"
    "                      is a terminal and NO_COLOR is not set), always or never\n"
    "  Damaged lines are skipped and counted on standard error.\n"
    "\n"
    "clear: remove every record, for every reader (numbering goes on).\n"
    "\n"
    "write, read and clear:\n"
    "  -h, --help          show this help and exit\n"
    "\n"
    "Exit status: 0 success; 1 the file cannot be read or written, or is not a\n"
    "syncstream log file; 2 usage error; 130 (143) interrupted by SIGINT\n"
    "(SIGTERM). write with a COMMAND: otherwise COMMAND's own status (128 + N\n"
    "when signal N killed it; 127 no such command, 126 it cannot run).\n"
    "\n"
    "Examples:\n"
    "  make 2>&1 | " TOOL_NAME " file write /shared/build.log --source $(hostname)\n"
    "  " TOOL_NAME " file write /shared/build.log -- make -j8\n"
    "  " TOOL_NAME " file read /shared/build.log -n 20 --follow\n"
    "  grep 'failed$' /shared/build.log     # plain text, each message ending its line\n";

/* ---- signals ---- */

typedef struct sig_ctx {
    sigset_t set;
    pthread_t thread;
    int wake[2];          /* the signal thread writes a byte on arrival */
    pthread_mutex_t mu;   /* guards close_fb, which a follower may swap */
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
        pthread_mutex_lock(&s->mu);
        if (s->close_fb)
            ss_filebuf_close(s->close_fb);
        pthread_mutex_unlock(&s->mu);
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
    pthread_mutex_init(&s->mu, NULL);
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
    tool_fail("%s: cannot append (%s); holding the lines and retrying", c->path, ss_strerror(rc));
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
              shown == 0     ? ""
              : c->not_taken ? "; those it held follow"
                             : "; they follow");
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

/* The child's exit as our exit status (the command's own, as a shell gives
 * it), with a sentence on stderr when it failed. */
static int child_status(int wstatus, const char *name)
{
    char text[TOOL_EXIT_TEXT_MAX];
    ss_kind kind;
    tool_child_exit_text(wstatus, text, &kind);
    if (kind != SS_KIND_LINE)
        tool_fail("%s %s", name, text);
    return tool_child_exit_status(wstatus);
}

/* Append the exit record of the command through its own writer, so that it
 * follows every line the command wrote; as put() and drain(), a full disk
 * holds it. Returns 0 or a negative error; a record still held is listed in
 * *held. */
static int write_exit_record(write_ctx *c, const char *source, int wstatus, ss_records *held)
{
    char text[TOOL_EXIT_TEXT_MAX];
    ss_kind kind;
    size_t len = tool_child_exit_text(wstatus, text, &kind);
    ss_filewriter *w;
    int rc = ss_filewriter_new(&w, c->fb, source, SS_REC_EXIT);
    if (rc < 0)
        return rc;
    rc = ss_filewriter_append(w, kind, text, len);
    if (rc == 0 || is_held_error(rc))
        rc = drain(c, w);
    if (is_held_error(rc) && ss_filewriter_unsent(w, held) < 0)
        tool_fail("%s: out of memory listing the lines not written", c->path);
    ss_filewriter_close(w);
    return rc;
}

/* write_command's state, for the pump's calls. */
typedef struct command_ctx {
    write_ctx *c;
    pid_t pid;
    ss_filewriter **w; /* [0] standard output's writer, [1] standard error's */
    int *status;
} command_ctx;

/* A chunk of the command's output to its writer. A failure is told once and
 * the output still read (NULL writers: nothing can be written), so that the
 * command is not stopped by a full pipe. */
static int write_output(void *ctx, int i, const char *buf, size_t len)
{
    command_ctx *cc = ctx;
    int rc;
    if (cc->w[i] && (rc = put(cc->c, cc->w[i], buf, len)) < 0 && *cc->status == TOOL_EXIT_OK)
        *cc->status = tool_fail("%s: %s", cc->c->path, ss_strerror(rc));
    return 0;
}

/* Pass our signal on, and keep reading what the command still says. */
static void forward_signal(void *ctx)
{
    command_ctx *cc = ctx;
    kill(cc->pid, __atomic_load_n(&cc->c->sig.signo, __ATOMIC_SEQ_CST));
}

static int write_command(write_ctx *c, const char *source, char **cmd)
{
    pid_t pid;
    int fds[2];
    int rc = tool_child_spawn(cmd, &pid, fds);
    if (rc < 0) {
        tool_fail("%s: %s", cmd[0], ss_strerror(rc));
        /* as a shell: 127 when there is no such command, 126 when it cannot run */
        return rc == -ENOENT ? TOOL_EXIT_NOT_FOUND : TOOL_EXIT_CANNOT_RUN;
    }

    ss_filewriter *w[2] = {NULL, NULL};
    int status = TOOL_EXIT_OK;
    if ((rc = ss_filewriter_new(&w[0], c->fb, source, 0)) < 0 ||
        (rc = ss_filewriter_new(&w[1], c->fb, source, SS_REC_STDERR)) < 0) {
        status = tool_fail("%s: %s", c->path, ss_strerror(rc));
        kill(pid, SIGTERM);
    }
    tool_child_pump(fds, &(tool_child_pump_opts){.on_output = write_output,
                                                 .ctx = &(command_ctx){c, pid, w, &status},
                                                 .wake_fd = c->sig.wake[0],
                                                 .on_wake = forward_signal});
    close(fds[0]);
    close(fds[1]);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    ss_records held[3] = {SS_RECORDS_INIT, SS_RECORDS_INIT, SS_RECORDS_INIT};
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
    if (w[0] && w[1]) {
        rc = write_exit_record(c, source, wstatus, &held[2]);
        if (rc < 0 && !is_held_error(rc) && status == TOOL_EXIT_OK)
            status = tool_fail("%s: %s", c->path, ss_strerror(rc));
        if (is_held_error(rc))
            held_rc = rc;
    }
    int unwritten = report_unwritten(c, held, 3, held_rc);
    for (int i = 0; i < 3; i++)
        ss_records_clear(&held[i]);
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
                return tool_usage("file",
                                  "file write: --maxlen wants a positive integer, "
                                  "not '%s'",
                                  optarg);
            break;
        case 'S':
            if (parse_sync(optarg, &opts.sync) < 0)
                return tool_usage("file",
                                  "file write: --sync is never, batch or record, "
                                  "not '%s'",
                                  optarg);
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
                      ss_strerror(st.compact_error), no_room ? "" : "; it grows past its limit");
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
            TOOL_NAME ": %s: %" PRIu64 " damaged line%s skipped (the first at line %" PRIu64 ")\n",
            path, st.damaged, st.damaged == 1 ? "" : "s", st.first_damaged_line);
    *reported = st.damaged;
}

/*
 * --follow=name: the path is followed across a rotation (`mv log log.1` and a
 * new log), a removal and a new file, and a file cut shorter, as `tail -F`
 * follows it; each is said on standard error. The handle itself moves to the
 * file the path names (the library does so for compactions anyway); what the
 * follower adds is starting again from that file's first record, since its
 * numbers start anew, and saying so.
 */
typedef struct name_follow {
    const char *path;
    sig_ctx *sig;
    dev_t dev; /* the file followed, as the path last named it */
    ino_t ino;
    uint64_t replaced; /* ss_filebuf_stats.replaced when last looked */
    bool gone;         /* the path names nothing: said once */
    bool reopening;    /* the handle failed (the file was cut below its header):
                          open the path anew */
} name_follow;

#define NAME_LOOK_MS 500 /* how often a name follower looks at the path */

static void name_note_file(name_follow *nf)
{
    struct stat st;
    if (stat(nf->path, &st) == 0) {
        nf->dev = st.st_dev;
        nf->ino = st.st_ino;
    }
}

/* Swap the follower's handle for nfb (either may be NULL), the signal thread's
 * too. */
static void swap_handle(name_follow *nf, ss_filebuf **fb, ss_filebuf *nfb)
{
    pthread_mutex_lock(&nf->sig->mu);
    ss_filebuf_free(*fb);
    *fb = nfb;
    nf->sig->close_fb = nfb;
    pthread_mutex_unlock(&nf->sig->mu);
}

/*
 * Look at the path after a wait: returns true when the records must be read
 * again from the first (a new file, or the file cut), having said why.
 */
static bool name_look(name_follow *nf, ss_filebuf **fb)
{
    struct stat st;
    bool exists = stat(nf->path, &st) == 0;
    if (!exists && !nf->gone) {
        tool_fail("%s: has become inaccessible: %s", nf->path, ss_strerror(-errno));
        nf->gone = true;
    }
    if (nf->reopening) {
        ss_filebuf *nfb;
        if (!exists ||
            ss_filebuf_open(&nfb, nf->path, &(ss_filebuf_opts){.flags = SS_FILE_READONLY}) < 0)
            return false; /* not there, or no header yet: look again later */
        swap_handle(nf, fb, nfb);
        nf->reopening = false;
        nf->replaced = 0;
    } else {
        ss_filebuf_stats fs;
        if (!*fb || ss_filebuf_get_stats(*fb, &fs) < 0 || fs.replaced == nf->replaced)
            return false;
        nf->replaced = fs.replaced;
    }
    bool same = exists && st.st_dev == nf->dev && st.st_ino == nf->ino;
    if (nf->gone)
        tool_fail("%s: has appeared; following new file", nf->path);
    else if (same)
        tool_fail("%s: file truncated", nf->path);
    else
        tool_fail("%s: has been replaced; following new file", nf->path);
    nf->gone = false;
    name_note_file(nf);
    return true;
}

static int file_read(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"lines", required_argument, NULL, 'n'},
        {"follow", optional_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"color", optional_argument, NULL, 'C'},
        {"colour", optional_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    size_t n = SS_READ_ALL;
    bool follow = false, by_name = false;
    tool_format fmt = TOOL_FORMAT_TEXT;
    int color = -1;
    int c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:fFh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (tool_parse_count(optarg, &n) < 0)
                return tool_usage("file",
                                  "file read: -n wants a non-negative integer, not "
                                  "'%s'",
                                  optarg);
            break;
        case 'f':
            follow = true;
            if (optarg && strcmp(optarg, "name") == 0)
                by_name = true;
            else if (optarg && strcmp(optarg, "descriptor") == 0)
                by_name = false;
            else if (optarg)
                return tool_usage("file",
                                  "file read: --follow is name or descriptor, not "
                                  "'%s'",
                                  optarg);
            break;
        case 'F':
            follow = by_name = true;
            break;
        case 'j':
            fmt = TOOL_FORMAT_JSON;
            break;
        case 'C':
            if ((color = tool_color_parse(optarg)) < -1)
                return tool_usage("file",
                                  "file read: --color wants auto, always or never, "
                                  "not '%s'",
                                  optarg);
            break;
        case 'h':
            fputs(cmd_file_help, stdout);
            return tool_finish_output(TOOL_EXIT_OK);
        default:
            return tool_option_error("file", argv, c);
        }
    }
    const char *path = NULL;
    int bad =
        tool_one_operand(&(tool_operand){"file", "file read", "PATH", "which log file?", NULL},
                         argv, optind, argc, &path);
    if (bad != TOOL_EXIT_OK)
        return bad;
    if (fmt == TOOL_FORMAT_TEXT && tool_color_on(color, STDOUT_FILENO))
        fmt = TOOL_FORMAT_COLOR;

    ss_filebuf *fb = NULL;
    int rc = ss_filebuf_open(&fb, path, &(ss_filebuf_opts){.flags = SS_FILE_READONLY});
    if (rc < 0)
        return open_error(path, rc);
    sig_ctx sig;
    if (follow && (rc = signals_start(&sig, fb)) < 0) {
        ss_filebuf_free(fb);
        return tool_fail("signals: %s", ss_strerror(rc));
    }
    name_follow nf = {.path = path, .sig = &sig};
    if (by_name)
        name_note_file(&nf);

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
        if (ss_filebuf_get_stats(fb, &st) == 0) {
            cursor = st.last_seq;
            nf.replaced = st.replaced;
        }
    } else if (by_name) {
        ss_filebuf_stats st;
        if (ss_filebuf_get_stats(fb, &st) == 0)
            nf.replaced = st.replaced;
    }
    while (follow && status == TOOL_EXIT_OK) {
        if (fflush(stdout) != 0)
            break;
        if (__atomic_load_n(&sig.signo, __ATOMIC_SEQ_CST))
            break; /* interrupted while the handle was being swapped */
        if (by_name && nf.reopening) {
            struct pollfd p = {.fd = sig.wake[0], .events = POLLIN};
            poll(&p, 1, NAME_LOOK_MS);
            rc = -ETIMEDOUT;
        } else {
            rc = ss_filebuf_follow(fb, cursor, 0, by_name ? NAME_LOOK_MS : -1, &set);
        }
        if (rc == SS_ECLOSED)
            break; /* interrupted */
        if (rc < 0 && rc != -ETIMEDOUT && by_name && !nf.reopening) {
            /* cut below its header, say: the file will be opened anew */
            swap_handle(&nf, &fb, NULL);
            nf.reopening = true;
        } else if (rc < 0 && rc != -ETIMEDOUT) {
            status = tool_fail("%s: %s", path, ss_strerror(rc));
            break;
        }
        if (rc > 0) {
            if (set.missed)
                fprintf(stderr, TOOL_NAME ": %s: %" PRIu64 " record%s missed\n", path, set.missed,
                        set.missed == 1 ? "" : "s");
            if (tool_print_records(stdout, fmt, &set) < 0)
                status = TOOL_EXIT_FAILURE;
            cursor = set.cursor;
        }
        if (by_name && name_look(&nf, &fb))
            cursor = 0;
        if (fb)
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
    int bad =
        tool_one_operand(&(tool_operand){"file", "file clear", "PATH", "which log file?", NULL},
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
