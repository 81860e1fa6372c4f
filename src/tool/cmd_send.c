/*
 * cmd_send.c: `syncstream send`, standard input or a command's output to a
 * host-mode server, line by line, through an ss_host_mirror.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <syncstream.h>

#include "child.h"
#include "print.h"
#include "tool.h"

const char cmd_send_help[] =
    "Usage: " TOOL_NAME " send [OPTION]... URL [-- COMMAND [ARG]...]\n"
    "\n"
    "Send standard input, or the output of COMMAND (its standard error flagged\n"
    "'stderr') and then its exit record ('exited with status 2', kind error,\n"
    "flagged 'exit'), to the host-mode server whose buffer is at URL (for example\n"
    "http://127.0.0.1:5000/sync-stream), line by line. Lines are\n"
    "sent in batches by a background thread; while the server is down or\n"
    "restarting they wait in a bounded queue and are delivered in order, each once,\n"
    "when it is back. Against a sync-stream 1.2 (Python) server the base protocol\n"
    "is used (stderr and exit records then arrive as plain records). When a reader\n"
    "requests a stop (" TOOL_NAME " stop URL), sending ends\n"
    "and COMMAND gets SIGTERM.\n"
    "\n"
    "Options:\n"
    "  -s, --source=NAME      name the records' source (at most 31 bytes; default:\n"
    "                         COMMAND's name, or the host name for standard input)\n"
    "  -t, --token-file=FILE  send the bearer token in FILE's first line\n"
    "      --cacert=FILE      https: trust the certificate authorities in FILE (a\n"
    "                         self-signed server's own certificate)\n"
    "      --spool=FILE       when the memory queue (16 MiB) is full, go on queueing\n"
    "                         in FILE (up to 1 GiB; removed at the end)\n"
    "      --timeout=SECONDS  at the end, wait at most this long for the server to\n"
    "                         take the last lines (default 30; 0: forever)\n"
    "      --base             speak the base protocol even to a syncstream server\n"
    "  -h, --help             show this help and exit\n"
    "\n"
    "Lines that could not be delivered (the server refused them, or was still down\n"
    "at the end) are printed on standard error after the reason, in the text\n"
    "format of syncstream(1), so nothing is lost silently.\n"
    "\n"
    "Exit status: 0 everything delivered (and COMMAND succeeded), 1 some lines\n"
    "were not delivered, 2 usage error, 6 a stop was requested, 130 interrupted by\n"
    "SIGINT (143 by SIGTERM); otherwise COMMAND's own status (128 + N when signal\n"
    "N killed it; 127 no such command, 126 it cannot run).\n"
    "\n"
    "Examples:\n"
    "  make 2>&1 | " TOOL_NAME " send --source build http://10.0.0.5:5000/sync-stream\n"
    "  " TOOL_NAME " send -s test -t ~/.ss-token https://logs:5000/sync-stream -- make test\n";

static const struct option long_opts[] = {
    {"source", required_argument, NULL, 's'},
    {"spool", required_argument, NULL, 'S'},
    {"timeout", required_argument, NULL, 'T'},
    {"base", no_argument, NULL, 'b'},
    TOOL_HOST_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

/* SIGINT and SIGTERM end the input (read returns EINTR) instead of the tool,
 * so what was read is still delivered. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* A chunk of the command's output (or of standard input) to the mirror, its
 * standard error flagged. */
static int send_output(void *ctx, int i, const char *buf, size_t len)
{
    ss_host_mirror *m = ctx;
    return i == 0 ? ss_host_mirror_write(m, buf, len) : ss_host_mirror_write_stderr(m, buf, len);
}

int cmd_send(int argc, char **argv)
{
    ss_host_mirror_opts opts = {0};
    tool_host_args host = {0};
    size_t timeout_s = 30;
    int c, st;

    optind = 0;
    opterr = 0;
    /* Options may follow URL; "--" ends them, so COMMAND keeps its own. */
    while ((c = getopt_long(argc, argv, ":s:t:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (strlen(optarg) >= SS_SOURCE_MAX)
                return tool_usage("send", "send: --source holds at most %d bytes",
                                  SS_SOURCE_MAX - 1);
            opts.source = optarg;
            break;
        case 'S':
            opts.spool_path = optarg;
            break;
        case 'T':
            if (tool_parse_count(optarg, &timeout_s) < 0 || timeout_s > 86400 * 365)
                return tool_usage("send", "send: --timeout wants seconds, not '%s'", optarg);
            break;
        case 'b':
            opts.flags |= SS_HOST_FORCE_BASE;
            break;
        default:
            if ((st = tool_host_option("send", cmd_send_help, c, argv, &host)) >= 0)
                return st;
        }
    }
    /* URL, then COMMAND and its arguments. */
    const char *url = NULL;
    st = tool_one_operand(&(tool_operand){"send", NULL, "URL", "where to?", NULL}, argv, optind,
                          optind < argc ? optind + 1 : argc, &url);
    if (st != TOOL_EXIT_OK)
        return st;
    optind++;
    char **command = optind < argc ? argv + optind : NULL;
    char host_name[64];
    if (!opts.source)
        opts.source = tool_default_source(command, host_name, sizeof(host_name));

    opts.close_timeout_ms = timeout_s == 0 ? -1 : (int)timeout_s * 1000;

    ss_host_mirror *m;
    if ((st = tool_host_mirror("send", url, &host, &opts, &m)) != TOOL_EXIT_OK)
        return st;
    int rc;

    catch_signals();
    pid_t child = -1;
    /* standard input, or the command's stdout and stderr */
    int fds[2] = {STDIN_FILENO, -1};
    if (command && (rc = tool_child_spawn(command, &child, fds)) < 0) {
        ss_host_mirror_free(m);
        tool_fail("send: cannot run %s: %s", command[0], ss_strerror(rc));
        return rc == -ENOENT ? TOOL_EXIT_NOT_FOUND : TOOL_EXIT_CANNOT_RUN;
    }

    int werr = tool_child_pump(
        fds, &(tool_child_pump_opts){
                 .on_output = send_output, .ctx = m, .stop = &got_signal, .wake_fd = -1});
    bool stopped = werr == SS_ESTOPPED;

    int status = TOOL_EXIT_OK;
    if (child > 0) {
        if (stopped || got_signal || werr < 0)
            kill(child, SIGTERM);
        close(fds[0]);
        close(fds[1]);
        int ws;
        while (waitpid(child, &ws, 0) < 0 && errno == EINTR)
            ;
        /* how it ended, after its last lines, as run and file write say it */
        char text[TOOL_EXIT_TEXT_MAX];
        ss_kind kind;
        size_t len = tool_child_exit_text(ws, text, &kind);
        if (werr == 0) {
            werr = ss_host_mirror_new_line(m);
            if (werr == 0)
                werr = ss_host_mirror_append_flags(m, kind, SS_REC_EXIT, text, len);
            if (werr == SS_ESTOPPED)
                stopped = true;
        }
        if (kind != SS_KIND_LINE)
            tool_fail("send: %s %s", command[0], text);
        status = tool_child_exit_status(ws);
    }
    rc = ss_host_mirror_close(m);
    if (rc < 0) {
        tool_host_mirror_unsent("send", m, url, rc);
        status = TOOL_EXIT_FAILURE;
    } else if (werr < 0 && !stopped) {
        tool_fail("send: %s", ss_strerror(werr));
        status = TOOL_EXIT_FAILURE;
    } else if (stopped) {
        tool_fail("send: a stop was requested; sending ended");
        status = TOOL_EXIT_STOPPED;
    } else if (got_signal) {
        /* Before the command's status: it failed because it got SIGTERM. */
        status = TOOL_EXIT_SIGNAL_BASE + got_signal;
    }
    ss_host_mirror_free(m);
    return status;
}
