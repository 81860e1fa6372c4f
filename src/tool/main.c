/*
 * main.c: the syncstream command-line tool: global options and subcommand
 * dispatch.
 *
 *     syncstream [--help | --version]
 *     syncstream help [COMMAND]
 *     syncstream COMMAND [OPTION]... [ARG]...
 *
 * A subcommand is one row of the table below; adding one means writing its
 * cmd_*.c (a run function and a help text), declaring both in tool.h, adding the
 * row here, a COMMANDS entry in doc/syncstream.1 and tests in tests/tool/.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <syncstream.h>

#include "tool.h"

static const tool_cmd commands[] = {
    {"connect", "drive a TCP socket, serial port or program: scripted (--send/--expect) or live",
     cmd_connect_help, cmd_connect},
    {"file", "write to, read or clear a log file shared by processes and machines", cmd_file_help,
     cmd_file},
    {"inspect", "show the records and partial line left in a crash-survival ring file",
     cmd_inspect_help, cmd_inspect},
    {"read", "print the records of a host-mode server, or follow them live", cmd_read_help,
     cmd_read},
    {"run", "run several commands at once, print their output live, whole lines only", cmd_run_help,
     cmd_run},
    {"send", "send standard input or a command's output to a host-mode server", cmd_send_help,
     cmd_send},
    {"serve", "serve a line buffer over HTTP (sync-stream's host protocol) with a live web page",
     cmd_serve_help, cmd_serve},
    {"stop", "ask every mirror of a host-mode server to stop", cmd_stop_help, cmd_stop},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const tool_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void print_main_help(FILE *out)
{
    fputs("Usage: " TOOL_NAME " COMMAND [OPTION]... [ARG]...\n"
          "       " TOOL_NAME " help [COMMAND]\n"
          "       " TOOL_NAME " --help | --version\n"
          "\n"
          "Gather the output of many producers into one ordered, bounded record of\n"
          "lines, and look at what was recorded.\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s  %s\n", commands[i].name, commands[i].summary);
    fputs("  help        show the help of a command\n"
          "\n"
          "Options:\n"
          "  -h, --help     show this help and exit\n"
          "  -V, --version  show the version and exit\n"
          "\n"
          "Run '" TOOL_NAME " help COMMAND' or '" TOOL_NAME " COMMAND --help' for the\n"
          "options and an example of a command.\n"
          "\n"
          "Exit status:\n"
          "  0  success\n"
          "  1  runtime failure (a file cannot be read or is not in the expected\n"
          "     format, output cannot be written)\n"
          "  2  usage error (unknown command or option, bad argument)\n"
          "  3  run: at least one of the commands failed\n"
          "  4  connect: an expectation was not met in time, or the stream did not end\n"
          "     within --timeout after the input\n"
          "  5  connect: the stream ended before an expectation was met\n"
          "  6  send: a stop was requested\n"
          "  N  connect without steps: the status of the program at the other end\n"
          "     (exec:, ssh://): its exit code, or 128 + the signal that killed it;\n"
          "     send, file write -- COMMAND: COMMAND's status (127: no such command)\n"
          "  130  run, send, read, file: interrupted by SIGINT (128 + the signal; 143 for\n"
          "       SIGTERM)\n"
          "\n"
          "See syncstream(1) for the output formats.\n",
          out);
}

/* `syncstream help [COMMAND]`. */
static int run_help(int argc, char **argv)
{
    if (argc < 2) {
        print_main_help(stdout);
        return tool_finish_output(TOOL_EXIT_OK);
    }
    if (argc > 2)
        return tool_usage(NULL, "help: one COMMAND only, got '%s' too", argv[2]);
    if (strcmp(argv[1], "help") == 0) {
        fputs("Usage: " TOOL_NAME " help [COMMAND]\n"
              "\n"
              "Show the help of COMMAND, or the list of commands.\n"
              "\n"
              "Example:\n"
              "  " TOOL_NAME " help inspect\n",
              stdout);
        return tool_finish_output(TOOL_EXIT_OK);
    }
    const tool_cmd *cmd = find_command(argv[1]);
    if (!cmd)
        return tool_usage(NULL, "help: '%s' is not a " TOOL_NAME " command", argv[1]);
    fputs(cmd->help, stdout);
    return tool_finish_output(TOOL_EXIT_OK);
}

int main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;

    /* '+': stop at the first non-option, the command; its own options are its
     * business. opterr = 0: every message is ours, in our one style. */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:hV", long_opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            print_main_help(stdout);
            return tool_finish_output(TOOL_EXIT_OK);
        case 'V':
            printf(TOOL_NAME " %s\n", ss_version());
            return tool_finish_output(TOOL_EXIT_OK);
        default:
            return tool_option_error(NULL, argv, c);
        }
    }
    if (optind == argc) {
        /* No command: say what is possible rather than only that it is wrong. */
        return tool_usage(NULL, "no command given");
    }

    char **sub_argv = argv + optind;
    int sub_argc = argc - optind;
    if (strcmp(sub_argv[0], "help") == 0)
        return run_help(sub_argc, sub_argv);
    const tool_cmd *cmd = find_command(sub_argv[0]);
    if (!cmd)
        return tool_usage(NULL, "'%s' is not a " TOOL_NAME " command", sub_argv[0]);
    return cmd->run(sub_argc, sub_argv);
}
