/*
 * args.c: argument parsing helpers shared by the subcommands.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <syncstream.h>

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

int tool_read_token(const char *cmd, const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return tool_fail("%s: cannot read the token file %s: %s", cmd, path,
                         ss_strerror(-errno));
    size_t n = fread(buf, 1, size - 1, f);
    bool more = fgetc(f) != EOF;
    fclose(f);
    if (more)
        return tool_fail("%s: the token file %s is longer than %zu bytes", cmd, path, size - 2);
    buf[n] = '\0';
    /* The token is the file's first line, without surrounding white space. */
    buf[strcspn(buf, "\r\n")] = '\0';
    size_t start = strspn(buf, " \t");
    size_t len = strlen(buf + start);
    while (len > 0 && (buf[start + len - 1] == ' ' || buf[start + len - 1] == '\t'))
        len--;
    memmove(buf, buf + start, len);
    buf[len] = '\0';
    if (len == 0)
        return tool_fail("%s: the token file %s is empty", cmd, path);
    return TOOL_EXIT_OK;
}
