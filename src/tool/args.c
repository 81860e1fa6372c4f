/*
 * args.c: argument parsing helpers shared by the subcommands.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

int tool_parse_count(const char *s, size_t *ret)
{
    size_t v = 0;

    /* strtoul would accept a sign, leading spaces and "-1" (as a huge number), so
     * the digits are read by hand. A number too large for size_t means "as many
     * as there are", so it saturates rather than fails. */
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        size_t d = (size_t)(*s - '0');
        if (v > (SIZE_MAX - d) / 10)
            v = SIZE_MAX;
        else
            v = v * 10 + d;
    }
    *ret = v;
    return 0;
}

/* Short options subcommands gave up when every letter got one meaning across
 * the tool (syncstream(1), SHORT OPTIONS): an old command line using one is
 * told the long option to write instead, not only "unknown option". */
static const struct retired_option {
    const char *cmd;
    char letter;
    const char *instead; /* the long option the letter used to stand for here */
    const char *now;     /* what the letter means now, and where */
} retired_options[] = {
    {"read", 'j', "--json", "run's --jobs"},
    {"inspect", 'j', "--json", "run's --jobs"},
    {"run", 'q', "--quote", "--quiet in connect and inspect"},
    {"connect", 's', "--send", "--source in send and file write"},
    {"connect", 't', "--timeout", "--token-file in read, send, stop and serve"},
    {"serve", 's', "--store", "--source in send and file write"},
    {"stop", 'r', "--reset", "serve's --route"},
};

static const struct retired_option *retired_option(const char *cmd, int letter)
{
    for (size_t i = 0; cmd && i < sizeof(retired_options) / sizeof(retired_options[0]); i++)
        if (retired_options[i].letter == letter && strcmp(retired_options[i].cmd, cmd) == 0)
            return &retired_options[i];
    return NULL;
}

int tool_option_error(const char *cmd, char **argv, int c)
{
    char word[64];
    const char *last = argv[optind - 1];

    /* getopt sets optopt to the character of a bad short option and to 0 for an
     * unknown long one, whose word is then the last argument consumed. A known
     * long option that lacks its argument (':') or was given one it does not take
     * ("--json=x") also sets optopt, to the option's value, so the word is
     * recognised by its "--". */
    bool long_word =
        optopt == 0 || (strncmp(last, "--", 2) == 0 && (c == ':' || strchr(last, '=')));
    if (long_word) {
        /* "--name" of "--name=value", without the value. */
        size_t i = 0;
        while (last[i] && last[i] != '=' && i < sizeof(word) - 1) {
            word[i] = last[i];
            i++;
        }
        word[i] = '\0';
    } else {
        snprintf(word, sizeof(word), "-%c", optopt);
    }

    if (c == ':')
        return tool_usage(cmd, "%s%soption '%s' needs an argument", cmd ? cmd : "", cmd ? ": " : "",
                          word);
    if (long_word && optopt != 0)
        return tool_usage(cmd, "%s%soption '%s' takes no argument", cmd ? cmd : "", cmd ? ": " : "",
                          word);
    const struct retired_option *r = long_word ? NULL : retired_option(cmd, optopt);
    if (r)
        return tool_usage(cmd, "%s: unknown option '%s': write %s (-%c is %s)", cmd, word,
                          r->instead, r->letter, r->now);
    return tool_usage(cmd, "%s%sunknown option '%s'", cmd ? cmd : "", cmd ? ": " : "", word);
}

int tool_one_operand(const tool_operand *op, char **argv, int first, int end, const char **ret)
{
    const char *prefix = op->prefix ? op->prefix : op->cmd;
    if (first >= end)
        return tool_usage(op->cmd, "%s: %s %s is missing", prefix, op->question, op->name);
    if (end - first > 1)
        return tool_usage(op->cmd, "%s: one %s only, got '%s' too%s", prefix, op->name,
                          argv[first + 1], op->too_many ? op->too_many : "");
    *ret = argv[first];
    return TOOL_EXIT_OK;
}

const char *tool_default_source(char *const *command, char *host, size_t size)
{
    if (command) {
        const char *slash = strrchr(command[0], '/');
        return slash ? slash + 1 : command[0];
    }
    if (gethostname(host, size) != 0)
        return "";
    host[size - 1] = '\0'; /* POSIX leaves a truncated name unterminated */
    return host;
}
