/*
 * run_args.h: the input sources of `syncstream run`, as GNU parallel's.
 *
 *   ::: A B C          a list of arguments on the command line
 *   :::: FILE...       each FILE (one argument per line) is a source, as -a FILE
 *   -a / --arg-file F  the same, given as an option; these come first
 *   :::+ / ::::+       linked to the source before: element k goes with element
 *                      k of that source instead of with each of its elements; the
 *                      shortest of the linked sources sets their length
 *   -  (as a FILE)     standard input (once at the most)
 *   no source at all   standard input, one argument per line
 *
 * The sources (each with the sources linked to it) give every combination of
 * one element of each, the first varying slowest: the "records". With --colsep
 * REGEX each element is cut into columns where REGEX matches, each column
 * trimmed of blanks at both ends, and a record's arguments are the columns of
 * its elements in turn. A job takes one record, or -n / -N N records (its
 * arguments are theirs in turn; -n 0 / -N 0: one record, no argument).
 *
 * Nothing is built per record in advance: a job's arguments are made when it
 * starts (run_input_args), so a large product costs only its sources.
 *
 * Thread safety: none needed; the tool uses it from one thread.
 */
#ifndef SS_TOOL_RUN_ARGS_H
#define SS_TOOL_RUN_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* The most bytes one file (or standard input) may hold as arguments. */
#define RUN_INPUT_MAX (64u * 1024u * 1024u)

/* The options of run that choose the input (-a, --colsep, -n, -N). */
typedef struct run_input_opts {
    const char **arg_files; /* -a FILE, in order (borrowed from argv) */
    size_t n_arg_files;
    const char *colsep; /* --colsep REGEX, else NULL */
    size_t max_args;    /* -n / -N N */
    int max_mode;       /* 0: neither given, 'n' or 'N' */
} run_input_opts;

typedef struct run_source {
    char **items; /* borrowed from argv, or pointing into a file's memory */
    size_t n;
    bool linked;     /* :::+ / ::::+: element k goes with element k of the source before */
    bool owns_items; /* items is an array of ours (a file's lines) */
} run_source;

typedef struct run_input {
    run_source *src;
    size_t n_src;
    char **mem; /* the files' contents, owned */
    size_t n_mem;
    bool stdin_used;
    pcre2_code *colsep;
    pcre2_match_data *md;
    size_t per_job;   /* records per job (1 without -n / -N) */
    bool no_args;     /* -n 0 / -N 0: a job takes a record but gives no argument */
    bool each_word;   /* -N: a word holding {} is repeated for each argument */
    bool any_n;       /* --colsep, -n, -N: a {N} beyond a job's arguments is empty */
    size_t n_records; /* the number of combinations */
    size_t total;     /* the number of jobs */
} run_input;

/* One job's arguments: v[0..n) point into mem or into the sources. */
typedef struct run_argv {
    char **v;
    size_t n;
    char *mem;
} run_argv;

/*
 * run_input_option - take option ch ('a', 'n', 'N', or RUN_OPT_COLSEP) with its
 * argument into opts. Returns 0, or TOOL_EXIT_USAGE after saying why (a bad
 * number, -n with -N, out of memory for -a).
 */
#define RUN_OPT_COLSEP 0x1c01
int run_input_option(run_input_opts *opts, int ch, const char *arg);

void run_input_opts_free(run_input_opts *opts);

/*
 * run_input_init - the sources: opts' files, then the words of argv[0..argc)
 * (the part of the command line from the first separator on: ":::", ":::+",
 * "::::" or "::::+"); standard input when there is no source at all.
 * Returns 0 or a TOOL_EXIT_* status after saying why (a usage error, an
 * unreadable file, a bad --colsep). Free with run_input_free() in every case.
 */
int run_input_init(run_input *in, const run_input_opts *opts, int argc, char **argv);

void run_input_free(run_input *in);

/* Whether s is one of the separators that open a source. */
bool run_input_is_sep(const char *s);

/*
 * run_input_args - the arguments of job i (0-based, i < in->total) into *ret.
 * Returns 0 or -ENOMEM (nothing to free then). Free with run_argv_free().
 */
int run_input_args(const run_input *in, size_t i, run_argv *ret);

void run_argv_free(run_argv *a);

#endif
