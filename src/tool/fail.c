/*
 * fail.c: the tool's one error style, "syncstream: <message>" on stderr, and the
 * check that standard output was really written.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <syncstream.h>

#include "tool.h"

__attribute__((format(printf, 1, 0))) static void vsay(const char *fmt, va_list ap)
{
    /* Flush stdout first so that, on a terminal, the message comes after any
     * output already produced rather than in the middle of it. */
    fflush(stdout);
    fputs(TOOL_NAME ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int tool_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    return TOOL_EXIT_FAILURE;
}

int tool_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "Try '" TOOL_NAME " %s --help'.\n", cmd);
    else
        fputs("Try '" TOOL_NAME " --help'.\n", stderr);
    return TOOL_EXIT_USAGE;
}

int tool_finish_output(int status)
{
    /* errno after a failed fflush is the reason; ferror catches a failure that an
     * earlier buffered write already hit (and whose errno may be long gone). */
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return status;
    int err = errno;
    if (err)
        tool_fail("writing standard output: %s", ss_strerror(-err));
    else
        tool_fail("writing standard output failed");
    return TOOL_EXIT_FAILURE;
}
