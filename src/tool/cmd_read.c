/*
 * cmd_read.c: `syncstream read`, print a host-mode server's records, and with
 * --follow go on printing them live (an ss_host_reader's cursor reads, then its
 * Server-Sent Events tail).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <syncstream.h>

#include "print.h"
#include "tool.h"

const char cmd_read_help[] =
    "Usage: " TOOL_NAME " read [OPTION]... URL\n"
    "\n"
    "Print the records of the host-mode server's buffer at URL (for example\n"
    "http://127.0.0.1:5000/sync-stream), oldest first.\n"
    "\n"
    "From a syncstream server every record comes with its sequence number, time\n"
    "and source, and the partial (unterminated) line is not shown. From a\n"
    "sync-stream 1.2 (Python) server the base protocol gives only the text and\n"
    "kind, partial line included; SEQ and TIME are then shown as '-'.\n"
    "\n"
    "Options:\n"
    "  -n, --lines=N          only the newest N records\n"
    "  -f, --follow           then print new records as they arrive, until\n"
    "                         interrupted (syncstream servers only); a dropped\n"
    "                         connection is resumed without a gap or a repeat\n"
    "      --json             print JSON Lines instead of text\n"
    "      --color[=WHEN]     color stderr records (yellow) and a failed command's\n"
    "                         exit record (red): auto (default; when standard\n"
    "                         output is a terminal and NO_COLOR is not set),\n"
    "                         always or never\n"
    "  -t, --token-file=FILE  send the bearer token in FILE's first line\n"
    "      --cacert=FILE      https: trust the certificate authorities in FILE (a\n"
    "                         self-signed server's own certificate)\n"
    "  -h, --help             show this help and exit\n"
    "\n"
    "Output: as " TOOL_NAME " inspect (see syncstream(1), OUTPUT FORMATS). Records\n"
    "that rotated out of the server's buffer before they could be read are\n"
    "reported on standard error.\n"
    "\n"
    "Exit status: 0 printed, 1 the server cannot be reached or refused the\n"
    "request, 2 usage error, 130 a --follow interrupted by SIGINT (143 by SIGTERM).\n"
    "\n"
    "Examples:\n"
    "  " TOOL_NAME " read -n 20 http://127.0.0.1:5000/sync-stream\n"
    "  " TOOL_NAME " read --follow --json http://127.0.0.1:5000/sync-stream | jq -r .text\n";

static const struct option long_opts[] = {
    {"lines", required_argument, NULL, 'n'},
    {"follow", no_argument, NULL, 'f'},
    {"json", no_argument, NULL, 'j'},
    {"color", optional_argument, NULL, 256},
    {"colour", optional_argument, NULL, 256},
    TOOL_HOST_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

static ss_host_reader *live_reader;
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
    ss_host_reader_cancel(live_reader);
}

typedef struct print_ctx {
    tool_format fmt;
    bool failed;
} print_ctx;

static int print_one(void *ctx, const ss_record *rec, uint64_t missed)
{
    print_ctx *p = ctx;
    if (!rec) {
        fflush(stdout);
        if (missed == SS_HOST_MISSED_RESTART)
            fputs(TOOL_NAME ": read: the server restarted: records it held after the last one "
                            "read are lost; reading on from the oldest of its new life\n",
                  stderr);
        else
            fprintf(stderr,
                    TOOL_NAME ": read: %" PRIu64 " records rotated out before they "
                              "could be read\n",
                    missed);
        return 0;
    }
    if (tool_print_record(stdout, p->fmt, rec) < 0 || fflush(stdout) != 0) {
        p->failed = true;
        return 1;
    }
    return 0;
}

/* The stored records from cursor on (up to the newest when we started),
 * through cursor reads. Returns 0 or an error; *cursor moves on. */
static int print_stored(ss_host_reader *r, uint64_t *cursor, uint64_t last, tool_format fmt)
{
    ss_records set = SS_RECORDS_INIT;
    int rc = 0;
    while (*cursor < last) {
        rc = ss_host_reader_follow(r, *cursor, 10000, 0, &set);
        if (rc <= 0)
            break;
        if (set.missed)
            print_one(&(print_ctx){fmt, false}, NULL, set.missed);
        if (tool_print_records(stdout, fmt, &set) < 0) {
            rc = -EIO;
            break;
        }
        *cursor = set.cursor;
        rc = 0;
    }
    ss_records_clear(&set);
    return rc;
}

int cmd_read(int argc, char **argv)
{
    size_t n = SS_READ_ALL;
    bool follow = false;
    tool_format fmt = TOOL_FORMAT_TEXT;
    tool_host_args host = {0};
    int color = -1;
    int c, st;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:ft:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (tool_parse_count(optarg, &n) < 0)
                return tool_usage("read", "read: -n wants a non-negative integer, not '%s'",
                                  optarg);
            break;
        case 'f':
            follow = true;
            break;
        case 'j':
            fmt = TOOL_FORMAT_JSON;
            break;
        case 256:
            if ((color = tool_color_parse(optarg)) < -1)
                return tool_usage("read", "read: --color wants auto, always or never, not '%s'",
                                  optarg);
            break;
        default:
            if ((st = tool_host_option("read", cmd_read_help, c, argv, &host)) >= 0)
                return st;
        }
    }
    const char *url = NULL;
    st = tool_one_operand(&(tool_operand){"read", NULL, "URL", "from where?", NULL}, argv, optind,
                          argc, &url);
    if (st != TOOL_EXIT_OK)
        return st;
    if (fmt == TOOL_FORMAT_TEXT && tool_color_on(color, STDOUT_FILENO))
        fmt = TOOL_FORMAT_COLOR;

    ss_host_reader *r;
    int rc = tool_host_reader("read", url, host.token_file, host.ca_file, &r);
    if (rc != TOOL_EXIT_OK)
        return rc;

    int status = TOOL_EXIT_OK;
    ss_host_health h;
    rc = ss_host_reader_health(r, &h);
    if (rc == -EOPNOTSUPP) {
        /* A base-protocol server: plain reads, no cursor. */
        if (follow) {
            ss_host_reader_free(r);
            return tool_fail("read: %s speaks only the base protocol (sync-stream 1.2): it has "
                             "no live tail to follow",
                             url);
        }
        ss_records set = SS_RECORDS_INIT;
        rc = ss_host_reader_read(r, n, &set);
        if (rc >= 0 && tool_print_records(stdout, fmt, &set) < 0)
            status = TOOL_EXIT_FAILURE;
        ss_records_clear(&set);
    } else if (rc == 0) {
        /* The newest n of the records held: older ones are not missed. */
        uint64_t last = h.next_seq ? h.next_seq - 1 : 0;
        uint64_t want = n < h.records ? n : h.records;
        uint64_t cursor = want >= last ? 0 : last - want;
        rc = print_stored(r, &cursor, last, fmt);
        if (rc == -EIO) {
            status = TOOL_EXIT_FAILURE;
            rc = 0;
        }
        if (rc == 0 && follow && status == TOOL_EXIT_OK) {
            fflush(stdout);
            live_reader = r;
            struct sigaction sa;
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = on_signal;
            sigaction(SIGINT, &sa, NULL);
            sigaction(SIGTERM, &sa, NULL);
            print_ctx p = {fmt, false};
            rc = ss_host_reader_tail(r, cursor, print_one, &p, NULL);
            if (p.failed) {
                status = TOOL_EXIT_FAILURE;
                rc = 0;
            } else if (rc == -ECANCELED && got_signal) {
                status = TOOL_EXIT_SIGNAL_BASE + got_signal;
                rc = 0;
            }
        }
    }
    if (rc < 0)
        status = tool_host_fail("read", url, rc, ss_host_reader_message(r));
    ss_host_reader_free(r);
    return tool_finish_output(status);
}
