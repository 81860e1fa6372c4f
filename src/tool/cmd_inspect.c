/*
 * cmd_inspect.c: `syncstream inspect`, show what a crash-survival ring file holds.
 *
 * A program that keeps its ss_linebuf in a file (ss_linebuf_opts.path) leaves its
 * newest records and its partial line behind when it dies. This command reads
 * them back without modifying the file, whether the writer is dead or alive.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <syncstream.h>

#include "print.h"
#include "tool.h"

const char cmd_inspect_help[] =
    "Usage: " TOOL_NAME " inspect [OPTION]... FILE\n"
    "\n"
    "Show the records and the partial line kept in a crash-survival ring file\n"
    "(a line buffer created with ss_linebuf_opts.path), oldest first. The file is\n"
    "only read; its writer may be dead or still running.\n"
    "\n"
    "Options:\n"
    "  -n, --lines=N   show only the newest N records (default: all); the partial\n"
    "                  line, if any, is shown last\n"
    "      --json      print JSON Lines, one object per record, instead of text\n"
    "  -q, --quiet     do not print the summary line on standard error\n"
    "  -h, --help      show this help and exit\n"
    "\n"
    "Output (see syncstream(1), OUTPUT FORMATS):\n"
    "  text: SEQ TIME SOURCE KIND TEXT, one line per record; further lines of a\n"
    "        multi-line warning or error are indented by four spaces; the partial\n"
    "        line has SEQ '-' and KIND 'line,partial'\n"
    "  json: {\"seq\":N,\"time\":\"...\",\"time_ns\":N,\"source\":\"...\",\"kind\":\"...\",\n"
    "         \"text\":\"...\",\"continued\":B,\"partial\":B,\"stderr\":B,\"exit\":B}\n"
    "Then, on standard error, a summary: records shown, records held, the newest\n"
    "sequence number, and how many records were shed (rotated out by the full\n"
    "policy) or missed (overwritten while being read).\n"
    "\n"
    "Exit status: 0 shown, 1 the file cannot be read or is not a ring file,\n"
    "2 usage error.\n"
    "\n"
    "Examples:\n"
    "  " TOOL_NAME " inspect /var/tmp/job.ring\n"
    "  " TOOL_NAME " inspect -n 20 --json /var/tmp/job.ring | jq -r .text\n";

static const struct option long_opts[] = {
    {"lines", required_argument, NULL, 'n'},
    {"json", no_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Explain an ss_linebuf_inspect_file() failure the way a user needs it. */
static int inspect_error(const char *path, int err)
{
    switch (err) {
    case SS_EFORMAT:
        return tool_fail("%s: not a syncstream ring file (expected a file written by a line "
                         "buffer with a ring file path)",
                         path);
    case SS_ECORRUPT:
        return tool_fail("%s: the ring file is damaged (corrupt header); nothing can be read "
                         "from it",
                         path);
    default:
        return tool_fail("%s: %s", path, ss_strerror(err));
    }
}

int cmd_inspect(int argc, char **argv)
{
    size_t n = SS_READ_ALL;
    tool_format fmt = TOOL_FORMAT_TEXT;
    bool quiet = false;
    int c;

    /* Reset getopt for this argument vector; messages are ours, not getopt's. */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:qh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (tool_parse_count(optarg, &n) < 0)
                return tool_usage("inspect", "inspect: -n wants a non-negative integer, not '%s'",
                                  optarg);
            break;
        case 'j':
            fmt = TOOL_FORMAT_JSON;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(cmd_inspect_help, stdout);
            return tool_finish_output(TOOL_EXIT_OK);
        default:
            return tool_option_error("inspect", argv, c);
        }
    }
    const char *path = NULL;
    int bad = tool_one_operand(&(tool_operand){"inspect", NULL, "FILE", "which ring file?", NULL},
                               argv, optind, argc, &path);
    if (bad != TOOL_EXIT_OK)
        return bad;

    ss_records set = SS_RECORDS_INIT;
    ss_linebuf_stats st = {0};
    int r = ss_linebuf_inspect_file(path, n, &set, &st);
    if (r < 0)
        return inspect_error(path, r);

    int status = TOOL_EXIT_OK;
    if (tool_print_records(stdout, fmt, &set) < 0)
        status = TOOL_EXIT_FAILURE; /* reported by tool_finish_output below */
    status = tool_finish_output(status);

    if (!quiet && status == TOOL_EXIT_OK) {
        size_t shown = set.count;
        bool partial = shown > 0 && (set.items[shown - 1].flags & SS_REC_PARTIAL);
        if (partial)
            shown--;
        fprintf(stderr,
                "%s: %zu record%s shown%s, %zu held (maxlen %zu), last seq %" PRIu64 ", %" PRIu64
                " shed, %" PRIu64 " missed\n",
                path, shown, shown == 1 ? "" : "s", partial ? " + partial line" : "", st.count,
                st.maxlen, st.last_seq, st.shed, set.missed);
    }
    ss_records_clear(&set);
    return status;
}
