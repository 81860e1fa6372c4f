/*
 * cmd_stop.c: `syncstream stop`, request (or withdraw) the stop of every
 * mirror sending to a host-mode server.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <syncstream.h>

#include "tool.h"

const char cmd_stop_help[] =
    "Usage: " TOOL_NAME " stop [OPTION]... URL\n"
    "\n"
    "Ask every mirror sending to the host-mode server's buffer at URL to stop: the\n"
    "next write of each returns 'stopped' (" TOOL_NAME " send ends and stops its\n"
    "command). Works with syncstream and sync-stream 1.2 (Python) servers alike.\n"
    "The request stays until withdrawn with --reset.\n"
    "\n"
    "Options:\n"
    "      --reset            withdraw the stop request instead\n"
    "  -t, --token-file=FILE  send the bearer token in FILE's first line\n"
    "      --cacert=FILE      https: trust the certificate authorities in FILE (a\n"
    "                         self-signed server's own certificate)\n"
    "  -h, --help             show this help and exit\n"
    "\n"
    "Exit status: 0 done, 1 the server cannot be reached or refused, 2 usage error.\n"
    "\n"
    "Examples:\n"
    "  " TOOL_NAME " stop http://127.0.0.1:5000/sync-stream\n"
    "  " TOOL_NAME " stop --reset http://127.0.0.1:5000/sync-stream\n";

static const struct option long_opts[] = {
    {"reset", no_argument, NULL, 'r'},
    TOOL_HOST_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

int cmd_stop(int argc, char **argv)
{
    bool reset = false;
    tool_host_args host = {0};
    int c, st;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            reset = true;
            break;
        default:
            if ((st = tool_host_option("stop", cmd_stop_help, c, argv, &host)) >= 0)
                return st;
        }
    }
    const char *url = NULL;
    st = tool_one_operand(&(tool_operand){"stop", NULL, "URL", "which server?", NULL}, argv, optind,
                          argc, &url);
    if (st != TOOL_EXIT_OK)
        return st;

    ss_host_reader *r;
    int rc = tool_host_reader("stop", url, host.token_file, host.ca_file, &r);
    if (rc != TOOL_EXIT_OK)
        return rc;
    rc = reset ? ss_host_reader_reset(r) : ss_host_reader_stop(r);
    int status = TOOL_EXIT_OK;
    if (rc < 0)
        status = tool_host_fail("stop", url, rc, ss_host_reader_message(r));
    ss_host_reader_free(r);
    return status;
}
