/*
 * jobs.c: the job list of `syncstream run` (see jobs.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <syncstream.h>

#include "jobs.h"
#include "replace.h"
#include "tool.h"

#define LIST_SEP ":::"

/* ---- reading the arguments from standard input ---- */

/* Read all of fd 0 into jobs->stdin_mem and make one list of its lines. */
static int read_stdin_list(run_jobs *jobs)
{
    size_t cap = 4096, len = 0;
    char *mem = malloc(cap);

    if (!mem)
        return tool_fail("run: out of memory reading standard input");
    for (;;) {
        if (len == cap) {
            if (cap >= RUN_STDIN_MAX) {
                free(mem);
                return tool_fail("run: standard input holds more than %u MiB of arguments",
                                 RUN_STDIN_MAX / (1024u * 1024u));
            }
            size_t ncap = cap * 2 > RUN_STDIN_MAX ? RUN_STDIN_MAX : cap * 2;
            char *n = realloc(mem, ncap);
            if (!n) {
                free(mem);
                return tool_fail("run: out of memory reading standard input");
            }
            mem = n;
            cap = ncap;
        }
        ssize_t r = read(STDIN_FILENO, mem + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            free(mem);
            return tool_fail("run: reading arguments from standard input: %s", ss_strerror(-err));
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }

    /* One argument per line; a last line without "\n" counts too. The lines are
     * cut in place: each "\n" becomes the terminator of its argument. */
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (mem[i] == '\n')
            n++;
    if (len > 0 && mem[len - 1] != '\n')
        n++;
    char *full = realloc(mem, len + 1); /* room for the last terminator */
    if (!full) {
        free(mem);
        return tool_fail("run: out of memory reading standard input");
    }
    mem = full;
    mem[len] = '\0';
    char **args = calloc(n ? n : 1, sizeof(*args));
    if (!args) {
        free(mem);
        return tool_fail("run: out of memory reading standard input");
    }
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= len && k < n; i++) {
        if (i == len || mem[i] == '\n') {
            mem[i] = '\0';
            args[k++] = mem + start;
            start = i + 1;
        }
    }
    jobs->stdin_mem = mem;
    jobs->lists[0].args = args;
    jobs->lists[0].n = n;
    return 0;
}

/* ---- the list ---- */

int run_jobs_init(run_jobs *jobs, char **shell, size_t n_shell, bool no_shell, int argc,
                  char **argv)
{
    memset(jobs, 0, sizeof(*jobs));
    jobs->shell = shell;
    jobs->n_shell = n_shell;

    if (n_shell > 0) {
        if (argc > 0)
            return tool_usage("run",
                              "run: give commands either with -c or as CMD [ARG]..., "
                              "not both (found '%s' after the options)",
                              argv[0]);
        jobs->total = n_shell;
        return 0;
    }
    if (argc == 0)
        return tool_usage("run", "run: no command given: use -c 'COMMAND' or "
                                 "-- CMD [ARG]... [::: ARG...]");

    /* The template is everything before the first ":::"; every ":::" opens a list. */
    size_t n_tmpl = 0;
    while (n_tmpl < (size_t)argc && strcmp(argv[n_tmpl], LIST_SEP) != 0)
        n_tmpl++;
    if (n_tmpl == 0)
        return tool_usage("run", "run: no command before '" LIST_SEP "'");
    jobs->tmpl = argv;
    jobs->n_tmpl = n_tmpl;
    /* One word that a shell would read as more than a program's name is a
     * shell command line, as parallel runs every command: 'echo {} | tr a-z A-Z'. */
    jobs->use_shell = !no_shell && n_tmpl == 1 && strpbrk(argv[0], " \t\n|&;<>()$`\\\"'*?[~");

    size_t n_lists = 0;
    for (size_t i = n_tmpl; i < (size_t)argc; i++)
        if (strcmp(argv[i], LIST_SEP) == 0)
            n_lists++;
    jobs->lists = calloc(n_lists ? n_lists : 1, sizeof(*jobs->lists));
    if (!jobs->lists)
        return tool_fail("run: out of memory");

    if (n_lists == 0) {
        jobs->n_lists = 1;
        if (isatty(STDIN_FILENO))
            fputs(TOOL_NAME ": run: reading arguments from the terminal, one per line; "
                            "end with Ctrl-D\n",
                  stderr);
        int r = read_stdin_list(jobs);
        if (r != 0)
            return r;
    } else {
        jobs->n_lists = n_lists;
        size_t k = 0;
        for (size_t i = n_tmpl; i < (size_t)argc; i++) {
            if (strcmp(argv[i], LIST_SEP) == 0) {
                jobs->lists[k].args = argv + i + 1;
                k++;
            } else {
                jobs->lists[k - 1].n++;
            }
        }
        for (size_t l = 0; l < n_lists; l++)
            if (jobs->lists[l].n == 0)
                return tool_usage("run", "run: argument list %zu after '" LIST_SEP "' is empty",
                                  l + 1);
    }

    size_t total = 1;
    for (size_t l = 0; l < jobs->n_lists; l++) {
        size_t n = jobs->lists[l].n;
        if (n != 0 && total > SIZE_MAX / n)
            return tool_usage("run", "run: too many combinations of arguments");
        total *= n;
    }
    jobs->total = total;
    for (size_t i = 0; i < n_tmpl; i++)
        if (run_repl_has(argv[i], jobs->n_lists))
            jobs->placeholders = 1;
    return 0;
}

void run_jobs_free(run_jobs *jobs)
{
    if (jobs->stdin_mem && jobs->lists)
        free(jobs->lists[0].args);
    free(jobs->stdin_mem);
    free(jobs->lists);
    memset(jobs, 0, sizeof(*jobs));
}

/* argv as a shell would need it typed (see run_shell_quote). */
static char *quote_argv(char *const *argv)
{
    size_t len = 1;

    for (size_t i = 0; argv[i]; i++)
        len += 1 + run_shell_quote(argv[i], strlen(argv[i]), NULL);
    char *out = malloc(len), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; argv[i]; i++) {
        if (i > 0)
            *o++ = ' ';
        o += run_shell_quote(argv[i], strlen(argv[i]), o);
    }
    *o = '\0';
    return out;
}

/* The base name of the first len bytes of s, into name (cut to fit). */
static void short_name(char name[SS_SOURCE_MAX], const char *s, size_t len)
{
    const char *base = s;

    for (size_t i = 0; i < len; i++)
        if (s[i] == '/' && i + 1 < len)
            base = s + i + 1;
    len -= (size_t)(base - s);
    while (len > 1 && base[len - 1] == '/')
        len--;
    if (len > SS_SOURCE_MAX - 1)
        len = SS_SOURCE_MAX - 1;
    memcpy(name, base, len);
    name[len] = '\0';
}

/* The job that runs line (owned, freed in every case) as /bin/sh -c line. */
static int shell_job(char *line, run_job_cmd *ret)
{
    run_job_cmd cmd = {0};

    cmd.display = line;
    cmd.argv = calloc(4, sizeof(*cmd.argv));
    if (!cmd.argv)
        goto out_nomem;
    static const char *const words[3] = {"/bin/sh", "-c", NULL};
    for (size_t k = 0; k < 3; k++) {
        /* Filled in order, so the free below stops at the first NULL. */
        cmd.argv[k] = strdup(words[k] ? words[k] : line);
        if (!cmd.argv[k])
            goto out_nomem;
    }
    /* The name is the shell command's first word: "make" of "make -j4 all". */
    const char *w = line + strspn(line, " \t\n");
    size_t wl = strcspn(w, " \t\n;&|()<>");
    short_name(cmd.name, w, wl);
    if (!cmd.name[0])
        memcpy(cmd.name, "sh", 3);
    *ret = cmd;
    return 0;

out_nomem:
    run_job_cmd_free(&cmd);
    return -ENOMEM;
}

/* The shell command line of a template given as one string: its replacement
 * strings expanded with quoted values, or the quoted arguments appended. */
static char *shell_line(const run_jobs *jobs, const run_repl *repl)
{
    if (jobs->placeholders)
        return run_repl_expand(jobs->tmpl[0], repl);
    size_t len = strlen(jobs->tmpl[0]) + 1;
    for (size_t l = 0; l < repl->nargs; l++)
        len += 1 + run_shell_quote(repl->args[l], strlen(repl->args[l]), NULL);
    char *out = malloc(len);
    if (!out)
        return NULL;
    char *o = stpcpy(out, jobs->tmpl[0]);
    for (size_t l = 0; l < repl->nargs; l++) {
        *o++ = ' ';
        o += run_shell_quote(repl->args[l], strlen(repl->args[l]), o);
    }
    *o = '\0';
    return out;
}

int run_jobs_cmd(const run_jobs *jobs, size_t i, size_t slot, run_job_cmd *ret)
{
    run_job_cmd cmd = {0};

    if (jobs->n_shell > 0) {
        char *line = strdup(jobs->shell[i]);
        return line ? shell_job(line, ret) : -ENOMEM;
    }

    /* The job's arguments, one from each list: the last list varies fastest. */
    size_t n_lists = jobs->n_lists;
    char **args = calloc(n_lists, sizeof(*args));
    if (!args)
        goto out_nomem;
    size_t rest = i;
    for (size_t l = n_lists; l-- > 0;) {
        args[l] = jobs->lists[l].args[rest % jobs->lists[l].n];
        rest /= jobs->lists[l].n;
    }
    run_repl repl = {.args = args, .nargs = n_lists, .seq = i + 1, .slot = slot};
    if (jobs->use_shell) {
        repl.quote = true;
        char *line = shell_line(jobs, &repl);
        free(args);
        return line ? shell_job(line, ret) : -ENOMEM;
    }

    size_t n = jobs->n_tmpl + (jobs->placeholders ? 0 : n_lists);
    cmd.argv = calloc(n + 1, sizeof(*cmd.argv));
    if (!cmd.argv) {
        free(args);
        goto out_nomem;
    }
    size_t k = 0;
    for (size_t t = 0; t < jobs->n_tmpl; t++) {
        cmd.argv[k] = jobs->placeholders ? run_repl_expand(jobs->tmpl[t], &repl)
                                         : strdup(jobs->tmpl[t]);
        if (!cmd.argv[k++]) {
            free(args);
            goto out_nomem;
        }
    }
    if (!jobs->placeholders) {
        for (size_t l = 0; l < n_lists; l++) {
            cmd.argv[k] = strdup(args[l]);
            if (!cmd.argv[k++]) {
                free(args);
                goto out_nomem;
            }
        }
    }
    free(args);
    cmd.display = quote_argv(cmd.argv);
    if (!cmd.display)
        goto out_nomem;
    short_name(cmd.name, cmd.argv[0], strlen(cmd.argv[0]));
    *ret = cmd;
    return 0;

out_nomem:
    run_job_cmd_free(&cmd);
    return -ENOMEM;
}

char **run_jobs_args(const run_jobs *jobs, size_t i, size_t *ret_n)
{
    if (jobs->n_shell > 0) {
        char **one = malloc(sizeof(*one));
        if (one)
            one[0] = jobs->shell[i];
        *ret_n = 1;
        return one;
    }
    char **args = calloc(jobs->n_lists ? jobs->n_lists : 1, sizeof(*args));
    if (!args)
        return NULL;
    size_t rest = i;
    for (size_t l = jobs->n_lists; l-- > 0;) {
        args[l] = jobs->lists[l].args[rest % jobs->lists[l].n];
        rest /= jobs->lists[l].n;
    }
    *ret_n = jobs->n_lists;
    return args;
}

char *run_jobs_label(const run_jobs *jobs, size_t i, size_t slot, const char *tagstring)
{
    run_repl repl = {.seq = i + 1, .slot = slot};

    if (jobs->n_shell > 0)
        return tagstring ? run_repl_expand(tagstring, &repl) : strdup(jobs->shell[i]);
    char **args = run_jobs_args(jobs, i, &repl.nargs);
    if (!args)
        return NULL;
    repl.args = args;
    char *label = run_repl_expand(tagstring ? tagstring : "{}", &repl);
    free(args);
    return label;
}

void run_job_cmd_free(run_job_cmd *cmd)
{
    if (cmd->argv)
        for (size_t i = 0; cmd->argv[i]; i++)
            free(cmd->argv[i]);
    free(cmd->argv);
    free(cmd->display);
    memset(cmd, 0, sizeof(*cmd));
}
