/*
 * jobs.h: the job list of `syncstream run`, built from its command line.
 *
 * Three sources of jobs, one list:
 *
 *   -c 'SHELL COMMAND' (repeated)   each string is one job, run as /bin/sh -c STRING
 *   CMD [ARG]... ::: A B ::: C D    a template and argument lists (GNU parallel's
 *                                   ":::"): one job per combination of one argument
 *                                   from each list, the first list varying slowest
 *   CMD [ARG]...  (no ":::")        a template and one argument per line of
 *                                   standard input
 *
 * In a template, GNU parallel's replacement strings (replace.h: "{}", "{N}",
 * "{.}", "{/}", "{#}"...) stand for the job's arguments and numbers; they may
 * sit inside a word ("out/{/.}.log"). A template without any of them gets the
 * arguments appended. A template of several words is executed directly (no
 * shell), so an argument is never split or globbed. A template of one word that
 * a shell would read as more than a program name ("echo {} | tr a-z A-Z") is a
 * shell command line, as GNU parallel runs every command: run by /bin/sh -c,
 * with each argument put in quoted for the shell (unless no_shell, parallel's -q).
 *
 * The list does not hold one argv per job: a job's argv is built when it starts
 * (run_jobs_cmd), so a large cartesian product costs only its lists.
 *
 * Thread safety: none needed; the tool uses the list from one thread.
 */
#ifndef SS_TOOL_JOBS_H
#define SS_TOOL_JOBS_H

#include <stdbool.h>
#include <stddef.h>

#include <syncstream/record.h>

/* The most standard input may hold as arguments, in bytes. */
#define RUN_STDIN_MAX (64u * 1024u * 1024u)

typedef struct run_arglist {
    char **args; /* borrowed from argv, or owned (read from stdin) */
    size_t n;
} run_arglist;

typedef struct run_jobs {
    char **shell; /* -c strings (borrowed from argv) */
    size_t n_shell;
    char **tmpl; /* the template CMD [ARG]... (borrowed from argv) */
    size_t n_tmpl;
    run_arglist *lists; /* the ::: lists, or the one list read from stdin */
    size_t n_lists;
    int placeholders; /* the template holds a replacement string */
    bool use_shell;   /* the template is one shell command line */
    char *stdin_mem;  /* owned: the bytes read from stdin (args point into it) */
    size_t total;     /* the number of jobs */
} run_jobs;

/* One started job's command as the tool shows and runs it. */
typedef struct run_job_cmd {
    char **argv;              /* NULL-terminated, owned */
    char *display;            /* the command line for people, owned */
    char name[SS_SOURCE_MAX]; /* the command's short name: "make" */
} run_job_cmd;

/*
 * run_jobs_init - build the list from the -c strings (n_shell of them) and the
 * positional arguments left after the options (argc words of argv: the template
 * and its ::: lists). Reads standard input to its end when there is a template
 * without ":::". Usage errors and read errors are reported (tool_usage /
 * tool_fail) and returned as TOOL_EXIT_USAGE / TOOL_EXIT_FAILURE; 0 on success.
 * Free with run_jobs_free() in every case.
 */
int run_jobs_init(run_jobs *jobs, char **shell, size_t n_shell, bool no_shell, int argc,
                  char **argv);

void run_jobs_free(run_jobs *jobs);

/*
 * run_jobs_cmd - the command of job i (0-based, i < jobs->total), run in job
 * slot `slot` (what {%} stands for, from 1), into *ret.
 * Returns 0 or -ENOMEM (nothing to free then). Free with run_job_cmd_free().
 */
int run_jobs_cmd(const run_jobs *jobs, size_t i, size_t slot, run_job_cmd *ret);

void run_job_cmd_free(run_job_cmd *cmd);

/*
 * run_jobs_args - the arguments of job i, one per list (the -c string for a -c
 * job), into *ret_n. The array is malloc'd (free it alone: the strings are the
 * list's); NULL: ENOMEM.
 */
char **run_jobs_args(const run_jobs *jobs, size_t i, size_t *ret_n);

/*
 * run_jobs_label - the tag of job i as GNU parallel's --tag shows it: its
 * arguments joined by a space (the -c string for a -c job), or tagstring with
 * its replacement strings expanded when not NULL. Malloc'd; NULL: ENOMEM.
 */
char *run_jobs_label(const run_jobs *jobs, size_t i, size_t slot, const char *tagstring);

#endif
