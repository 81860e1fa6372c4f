/*
 * host_args.c: what the host-mode client commands (send, read, stop, and
 * connect --send-to) share: their common options, the token file, the reader
 * and mirror they open, and how they report a failure.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <syncstream.h>

#include "print.h"
#include "tool.h"

static int read_token(const char *cmd, const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return tool_fail("%s: cannot read the token file %s: %s", cmd, path, ss_strerror(-errno));
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

int tool_host_token(const char *cmd, const char *token_file, char *buf, size_t size,
                    const char **ret)
{
    *ret = NULL;
    if (!token_file)
        return TOOL_EXIT_OK;
    int st = read_token(cmd, token_file, buf, size);
    if (st == TOOL_EXIT_OK)
        *ret = buf;
    return st;
}

int tool_host_reader(const char *cmd, const char *url, const char *token_file, const char *ca_file,
                     ss_host_reader **ret)
{
    char token[TOOL_TOKEN_MAX];
    ss_host_reader_opts opts = {.ca_file = ca_file};
    int st = tool_host_token(cmd, token_file, token, sizeof(token), &opts.token);
    if (st != TOOL_EXIT_OK)
        return st;
    int rc = ss_host_reader_new(ret, url, &opts);
    if (rc == -EINVAL)
        return tool_usage(cmd, "%s: '%s' is not an http:// or https:// URL", cmd, url);
    if (rc < 0)
        return tool_fail("%s: %s", cmd, ss_strerror(rc));
    return TOOL_EXIT_OK;
}

int tool_host_mirror(const char *cmd, const char *url, const tool_host_args *host,
                     const ss_host_mirror_opts *opts, ss_host_mirror **ret)
{
    char token[TOOL_TOKEN_MAX];
    ss_host_mirror_opts o = *opts;
    int st = tool_host_token(cmd, host->token_file, token, sizeof(token), &o.token);
    if (st != TOOL_EXIT_OK)
        return st;
    o.ca_file = host->ca_file;
    int rc = ss_host_mirror_new(ret, url, &o);
    if (rc == -EINVAL)
        return tool_usage(cmd, "%s: '%s' is not an http:// or https:// URL", cmd, url);
    if (rc < 0)
        return tool_fail("%s: %s", cmd, ss_strerror(rc));
    return TOOL_EXIT_OK;
}

void tool_host_mirror_unsent(const char *cmd, ss_host_mirror *m, const char *url, int err)
{
    ss_host_mirror_stats st;
    ss_host_mirror_get_stats(m, &st);
    ss_records set = SS_RECORDS_INIT;
    int n = ss_host_mirror_unsent(m, &set);
    if (n < 0)
        n = 0;
    if (err == -ETIMEDOUT)
        tool_fail("%s: %d line%s not delivered to %s before the timeout; the last error: %s", cmd,
                  n, n == 1 ? "" : "s", url, st.message[0] ? st.message : "none");
    else
        tool_fail("%s: %d line%s not delivered to %s: %s%s%s", cmd, n, n == 1 ? "" : "s", url,
                  ss_strerror(err), st.message[0] ? ": " : "", st.message);
    if (n > 0)
        tool_print_records(stderr, TOOL_FORMAT_TEXT, &set);
    ss_records_clear(&set);
}

int tool_host_fail(const char *cmd, const char *url, int err, const char *said)
{
    return tool_fail("%s: %s: %s%s%s", cmd, url, ss_strerror(err), said && said[0] ? ": " : "",
                     said ? said : "");
}

int tool_host_option(const char *cmd, const char *help, int c, char **argv, tool_host_args *a)
{
    switch (c) {
    case 't':
        a->token_file = optarg;
        return -1;
    case 'C':
        a->ca_file = optarg;
        return -1;
    case 'h':
        fputs(help, stdout);
        return tool_finish_output(TOOL_EXIT_OK);
    default:
        return tool_option_error(cmd, argv, c);
    }
}
