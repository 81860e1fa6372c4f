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

/* ---- the list ---- */

int run_jobs_init(run_jobs *jobs, char **shell, size_t n_shell, bool no_shell,
                  const run_input_opts *in_opts, int argc, char **argv)
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
        if (in_opts->n_arg_files || in_opts->colsep || in_opts->max_mode)
            return tool_usage("run", "run: -a, --colsep, -n and -N go with CMD [ARG]..., "
                                     "not with -c");
        jobs->total = n_shell;
        return 0;
    }
    if (argc == 0)
        return tool_usage("run", "run: no command given: use -c 'COMMAND' or "
                                 "-- CMD [ARG]... [::: ARG...]");

    /* The template is everything before the first separator; each opens a source. */
    size_t n_tmpl = 0;
    while (n_tmpl < (size_t)argc && !run_input_is_sep(argv[n_tmpl]))
        n_tmpl++;
    if (n_tmpl == 0)
        return tool_usage("run", "run: no command before '%s'", argv[0]);
    jobs->tmpl = argv;
    jobs->n_tmpl = n_tmpl;
    /* One word that a shell would read as more than a program's name is a
     * shell command line, as parallel runs every command: 'echo {} | tr a-z A-Z'. */
    jobs->use_shell = !no_shell && n_tmpl == 1 && strpbrk(argv[0], " \t\n|&;<>()$`\\\"'*?[~");

    int r = run_input_init(&jobs->in, in_opts, argc - (int)n_tmpl, argv + n_tmpl);
    if (r != 0)
        return r;
    jobs->total = jobs->in.total;
    /* With --colsep, -n or -N a job's number of arguments varies: any {N} is
     * one (empty beyond them), as parallel's. */
    jobs->limit = jobs->in.any_n ? SIZE_MAX : jobs->in.n_src;
    for (size_t i = 0; i < n_tmpl; i++)
        if (run_repl_has(argv[i], jobs->limit))
            jobs->placeholders = 1;
    return 0;
}

void run_jobs_free(run_jobs *jobs)
{
    run_input_free(&jobs->in);
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

/* The words template word t gives: one, or with -N one per argument when it
 * holds {} {.} ... (parallel's context replace). Stored at argv[*k] on. */
static int tmpl_words(const run_jobs *jobs, size_t t, const run_repl *repl, char **argv, size_t *k)
{
    const char *w = jobs->tmpl[t];

    if (!jobs->placeholders) {
        argv[*k] = strdup(w);
        return argv[(*k)++] ? 0 : -ENOMEM;
    }
    if (!jobs->in.each_word || repl->nargs == 0 || !run_repl_has_all(w)) {
        argv[*k] = run_repl_expand(w, repl);
        return argv[(*k)++] ? 0 : -ENOMEM;
    }
    run_repl each = *repl;
    for (size_t a = 1; a <= repl->nargs; a++) {
        each.one = a;
        argv[*k] = run_repl_expand(w, &each);
        if (!argv[(*k)++])
            return -ENOMEM;
    }
    return 0;
}

int run_jobs_cmd(const run_jobs *jobs, size_t i, size_t slot, run_job_cmd *ret)
{
    run_job_cmd cmd = {0};

    if (jobs->n_shell > 0) {
        char *line = strdup(jobs->shell[i]);
        return line ? shell_job(line, ret) : -ENOMEM;
    }

    run_argv args;
    if (run_input_args(&jobs->in, i, &args) < 0)
        return -ENOMEM;
    run_repl repl = {
        .args = args.v, .nargs = args.n, .seq = i + 1, .slot = slot, .limit = jobs->limit};
    if (jobs->use_shell) {
        repl.quote = true;
        repl.words = jobs->in.each_word;
        char *line = shell_line(jobs, &repl);
        run_argv_free(&args);
        return line ? shell_job(line, ret) : -ENOMEM;
    }

    /* At most: each word repeated for each argument (-N), or them appended. */
    size_t n = jobs->n_tmpl * (jobs->in.each_word && args.n > 1 ? args.n : 1) +
               (jobs->placeholders ? 0 : args.n);
    cmd.argv = calloc(n + 1, sizeof(*cmd.argv));
    if (!cmd.argv)
        goto out_nomem;
    size_t k = 0;
    for (size_t t = 0; t < jobs->n_tmpl; t++)
        if (tmpl_words(jobs, t, &repl, cmd.argv, &k) < 0)
            goto out_nomem;
    if (!jobs->placeholders) {
        for (size_t l = 0; l < args.n; l++) {
            cmd.argv[k] = strdup(args.v[l]);
            if (!cmd.argv[k++])
                goto out_nomem;
        }
    }
    run_argv_free(&args);
    cmd.display = quote_argv(cmd.argv);
    if (!cmd.display)
        goto out_nomem;
    short_name(cmd.name, cmd.argv[0], strlen(cmd.argv[0]));
    *ret = cmd;
    return 0;

out_nomem:
    run_argv_free(&args);
    run_job_cmd_free(&cmd);
    return -ENOMEM;
}

int run_jobs_args(const run_jobs *jobs, size_t i, run_argv *ret)
{
    if (jobs->n_shell > 0) {
        run_argv a = {.v = malloc(sizeof(*a.v)), .mem = strdup(jobs->shell[i]), .n = 1};
        if (!a.v || !a.mem) {
            run_argv_free(&a);
            return -ENOMEM;
        }
        a.v[0] = a.mem;
        *ret = a;
        return 0;
    }
    return run_input_args(&jobs->in, i, ret);
}

char *run_jobs_label(const run_jobs *jobs, size_t i, size_t slot, const char *tagstring)
{
    run_repl repl = {.seq = i + 1, .slot = slot, .limit = jobs->limit};

    if (jobs->n_shell > 0)
        return tagstring ? run_repl_expand(tagstring, &repl) : strdup(jobs->shell[i]);
    run_argv args;
    if (run_input_args(&jobs->in, i, &args) < 0)
        return NULL;
    repl.args = args.v;
    repl.nargs = args.n;
    char *label = run_repl_expand(tagstring ? tagstring : "{}", &repl);
    run_argv_free(&args);
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
