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

int tool_option_error(const char *cmd, char **argv, int c)
{
    char word[64];
    const char *last = argv[optind - 1];

    /* getopt sets optopt to the character of a bad short option and to 0 for an
     * unknown long one, whose word is then the last argument consumed. A known
     * long option that lacks its argument (':') or was given one it does not take
     * ("--json=x") also sets optopt, to the option's value, so the word is
     * recognised by its "--". */
    bool long_word = optopt == 0 ||
                     (strncmp(last, "--", 2) == 0 && (c == ':' || strchr(last, '=')));
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
        return tool_usage(cmd, "%s%soption '%s' needs an argument", cmd ? cmd : "",
                          cmd ? ": " : "", word);
    if (long_word && optopt != 0)
        return tool_usage(cmd, "%s%soption '%s' takes no argument", cmd ? cmd : "",
                          cmd ? ": " : "", word);
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
