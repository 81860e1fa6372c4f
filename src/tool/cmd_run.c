/*
 * cmd_run.c: `syncstream run`, run several commands at once and print their
 * merged output live, whole lines only.
 *
 * Shape. The jobs (jobs.h) run as children of one ss_procbuf: its collector
 * thread reads every child's stdout and stderr and stores whole lines as
 * records, tagged with the job's name ("3:make"), in one ss_linebuf. This thread
 * follows that buffer with a cursor (a blocking wait, no polling) and prints each
 * record as it comes. A record flagged SS_REC_EXIT says a job has finished: it is
 * then that the next job starts, so at most -j jobs run at once.
 *
 * Each job also keeps its last --keep lines in a small ss_linebuf of its own, so
 * that the summary at the end can show what a failed job printed last.
 *
 * GNU parallel's job control lives beside this file: run_order (-k holds the
 * lines of jobs whose turn has not come), run_halt (--halt), run_timeout
 * (--timeout: the printer's wait ends when a limit is due, and the job's
 * process group is signalled) and run_joblog (--joblog, --resume). A job of
 * the list may run more than once (--retries): started[] holds every try,
 * latest[] finds a job's current one, of_child[] the try whose child wrote a
 * record (by the record's producer id).
 *
 * Signals. SIGINT and SIGTERM are blocked in every thread (the collector thread
 * inherits the mask from this one) and a small thread waits for them with
 * sigwait(): it records the signal and calls ss_procbuf_stop(), which sends the
 * children SIGTERM, then SIGKILL after the grace period. Nothing happens in a
 * signal handler. The main loop sees the children end as usual, starts no new
 * job, prints the summary and returns 128 + the signal.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <syncstream.h>

#include "jobs.h"
#include "print.h"
#include "run_halt.h"
#include "run_joblog.h"
#include "run_order.h"
#include "run_progress.h"
#include "run_timeout.h"
#include "tool.h"

const char cmd_run_help[] =
    "Usage: " TOOL_NAME " run [OPTION]... -c 'COMMAND' [-c 'COMMAND']...\n"
    "       " TOOL_NAME " run [OPTION]... [--] CMD [ARG]... ::: ARG... [::: ARG...]...\n"
    "       " TOOL_NAME " run [OPTION]... [--] CMD [ARG]... < ARGUMENTS\n"
    "\n"
    "Run several commands at once and print their merged output live, whole lines\n"
    "only: a line is printed when it is complete, never mixed with another's.\n"
    "\n"
    "Jobs:\n"
    "  -c, --command='COMMAND'\n"
    "                  one job per -c, run by /bin/sh -c\n"
    "  CMD ::: A B     one job per argument (GNU parallel style); several ::: lists\n"
    "                  give every combination, the first list varying slowest.\n"
    "                  GNU parallel's replacement strings, in CMD's words: {} the\n"
    "                  job's arguments (joined by a space), {.} without extension,\n"
    "                  {/} without directory, {//} the directory, {/.} neither,\n"
    "                  {N} {N.} {N/} {N//} {N/.} the same on the argument from\n"
    "                  list N, {#} the job's number, {%} its slot (1 to -j);\n"
    "                  without any, the arguments are appended. CMD of several\n"
    "                  words runs without a shell. CMD given as one string with\n"
    "                  spaces or shell characters runs as parallel runs it, by\n"
    "                  /bin/sh -c, each argument quoted for the shell:\n"
    "                  run 'echo {} | tr a-z A-Z' ::: ab   prints AB\n"
    "  CMD             without :::, one argument per line of standard input\n"
    "  CMD :::: FILE...  each FILE a list, one argument per line ('-': standard\n"
    "                  input); ::: and :::: mix\n"
    "  :::+ A B, ::::+ FILE  linked to the list before: its Kth argument goes\n"
    "                  with that list's Kth instead of with each (the shortest\n"
    "                  of the linked lists sets their length)\n"
    "Every job's standard input is /dev/null.\n"
    "\n"
    "Options:\n"
    "  -j, --jobs=N     run N jobs at once (default: the number of online CPUs)\n"
    "  -a, --arg-file=FILE  a list from FILE, one argument per line, as ::::\n"
    "                   FILE; repeatable; these lists come before the others\n"
    "      --colsep=REGEX  cut each argument into columns where the (PCRE2)\n"
    "                   REGEX matches, blanks trimmed: {1} {2} ... are the\n"
    "                   columns, each list's in turn\n"
    "  -n, --max-args=N  N arguments (combinations) per job: {} is all of them,\n"
    "                   {1}... each; a {N} beyond them is empty (-n 0: none)\n"
    "  -N, --max-replace-args=N  the same, but a word holding {} is repeated\n"
    "                   for each argument, as parallel's -N: '[{}]' gives [a] [b]\n"
    "      --quote      never run CMD by a shell, even given as one string (as\n"
    "                   parallel's -q: the string is the program's name)\n"
    "      --tag        start every line with the job's arguments and a tab, as\n"
    "                   parallel --tag (the command, for -c); lines stay on\n"
    "                   the standard output or error they were written to\n"
    "      --tagstring=STR  the same, with STR as the tag; STR may hold the\n"
    "                   replacement strings: --tagstring '{#}' tags by job number\n"
    "      --jobtag     print every line on standard output after the job's\n"
    "                   number and name: '3:make| ' for its stdout, '3:make! '\n"
    "                   for its stderr, '3:make# ' for the notice that it failed\n"
    "      --color[=WHEN]  color the tags (also --colour): auto (default; when\n"
    "                   standard output is a terminal, NO_COLOR is unset or empty\n"
    "                   and TERM is not dumb), always, never\n"
    "      --ts         start every line with its time, ISO-8601 UTC\n"
    "      --json       print JSON Lines, one object per record, exit records\n"
    "                   included (\"exit\":true); tags, --ts, --color are ignored.\n"
    "                   Every record has \"job\" (its number) and \"args\" (its\n"
    "                   arguments); an exit record \"exit_code\" (a number) or\n"
    "                   \"signal\" (\"TERM\"), \"runtime\" (seconds), \"timed_out\"\n"
    "                   and \"try\"\n"
    "      --pty        run each job on a pseudo-terminal (its stdout and stderr\n"
    "                   merge; programs line-buffer and may color their output)\n"
    "      --keep=N     keep the last N lines of each job for the summary (default\n"
    "                   10; 0: none)\n"
    "      --linger=S   once a job has exited, wait at most S seconds (default 2)\n"
    "                   for a process it left running (a daemon, a background\n"
    "                   job) to close the job's output; then stop reading it\n"
    "                   and say so. End a -c command with 'wait' to have its\n"
    "                   background jobs waited for.\n"
    "      --raw-cr     print every state of a line that a job redraws with \\r\n"
    "                   (a progress bar), each ended by \\r as the job wrote it;\n"
    "                   the default when standard output (and standard error,\n"
    "                   unless --jobtag or --pty) is a terminal, where each\n"
    "                   redraw then shows live. Else only a line's last state\n"
    "                   is printed, with \\n.\n"
    "      --bar        a status line on standard error, when it is a terminal:\n"
    "                   a bar, jobs done of all, running, failed, time left\n"
    "                   (estimated from the jobs done), redrawn in place and\n"
    "                   erased at the end; elsewhere one line at the end\n"
    "      --eta        the same without the bar\n"
    "      --dry-run    print each job's command line, as a shell would take it,\n"
    "                   and run nothing (as parallel --dry-run; {%} is then\n"
    "                   the job's number modulo -j, plus 1)\n"
    "\n"
    "GNU parallel's job control:\n"
    "  -k, --keep-order print each job's output after all the output of the jobs\n"
    "                   before it (they still run at once; the job whose turn it\n"
    "                   is prints live). Held output beyond 16 MiB in all spills\n"
    "                   into deleted files in $TMPDIR: nothing is lost\n"
    "      --halt=WHEN,WHY=N  stop when N jobs (or N% of them) failed\n"
    "                   (fail=N), succeeded (success=N) or ended (done=N): WHEN\n"
    "                   soon starts no more jobs, now also stops the running ones\n"
    "                   (SIGTERM, SIGKILL 2 s later). Also parallel's 0, 1, 2,\n"
    "                   -1, -2. The exit status is then parallel's (see below)\n"
    "      --timeout=SECS  kill a job running longer (SIGTERM, SIGKILL 2 s later),\n"
    "                   a failure said as 'timed out'; SECS may end in s, m, h or\n"
    "                   d; P% is P percent of the median run time of the jobs\n"
    "                   that succeeded so far\n"
    "      --retries=N  run a failed job again, N tries in all; with -k only the\n"
    "                   last try's output is printed (as parallel), without it\n"
    "                   each try's is, and a new try is said on standard error\n"
    "      --joblog=FILE  log each finished job in parallel's tab-separated\n"
    "                   columns: Seq Host Starttime JobRuntime Send Receive\n"
    "                   Exitval Signal Command\n"
    "      --resume     with --joblog: skip the jobs FILE lists (by Seq); new\n"
    "                   lines are appended\n"
    "      --resume-failed  the same, but run again those that failed there\n"
    "  -h, --help       show this help and exit\n"
    "\n"
    "Output: without --jobtag, stdout lines go to standard output and stderr lines to\n"
    "standard error, unchanged; the end of a failed job is noted on standard error\n"
    "('" TOOL_NAME ": 3:make: exited with status 2'). At the end, when a job failed\n"
    "(non-zero status, killed, or could not be started), standard error gets, for\n"
    "each failed job, its tag, how it ended and its command line, its last lines\n"
    "indented by four spaces, then '" TOOL_NAME ": N of M commands failed'. Nothing\n"
    "more is printed when every job succeeded.\n"
    "\n"
    "Ctrl-C (SIGINT) or SIGTERM: the jobs get SIGTERM (SIGKILL 2 s later), no new\n"
    "job starts, their last lines and the summary are still printed. Output still\n"
    "held open after the SIGKILL (by a process that left the job's process group)\n"
    "is no longer read; if standard output is blocked 3 s after the signal, run\n"
    "exits at once without the summary.\n"
    "\n"
    "Exit status: 0 every job succeeded, 1 runtime failure, 2 usage error,\n"
    "3 at least one job failed, 130 interrupted by SIGINT (143 by SIGTERM),\n"
    "141 standard output was closed by its reader (as with '| head'): the jobs\n"
    "are stopped quietly, without the summary, as GNU parallel does.\n"
    "With --halt, GNU parallel's instead for the jobs: 0 none failed (or a\n"
    "success condition halted), the failing job's status with fail=1, the\n"
    "percentage of the jobs that failed with fail=P%, else the number of failed\n"
    "jobs (101 for more than 100).\n"
    "\n"
    "Examples:\n"
    "  " TOOL_NAME " run -j 4 --tag -- gzip -k {} ::: *.log\n"
    "  " TOOL_NAME " run -c 'make -C lib' -c 'make -C doc' -c 'make -C tests'\n"
    "  ls *.c | " TOOL_NAME " run --tag -- cc -c\n"
    "  " TOOL_NAME " run --json -- ping -c 3 ::: host1 host2 | jq -c .\n";

enum {
    OPT_TAG = 256,
    OPT_TAGSTRING,
    OPT_DRY_RUN,
    OPT_JOBTAG,
    OPT_COLOR,
    OPT_TS,
    OPT_JSON,
    OPT_PTY,
    OPT_KEEP,
    OPT_LINGER,
    OPT_RAW_CR,
    OPT_BAR,
    OPT_ETA,
    OPT_HALT,
    OPT_TIMEOUT,
    OPT_RETRIES,
    OPT_JOBLOG,
    OPT_RESUME,
    OPT_RESUME_FAILED,
};

static const struct option long_opts[] = {
    {"command", required_argument, NULL, 'c'},
    {"arg-file", required_argument, NULL, 'a'},
    {"colsep", required_argument, NULL, RUN_OPT_COLSEP},
    {"max-args", required_argument, NULL, 'n'},
    {"max-replace-args", required_argument, NULL, 'N'},
    {"jobs", required_argument, NULL, 'j'},
    {"quote", no_argument, NULL, 'q'},
    {"tag", no_argument, NULL, OPT_TAG},
    {"tagstring", required_argument, NULL, OPT_TAGSTRING},
    {"jobtag", no_argument, NULL, OPT_JOBTAG},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"color", optional_argument, NULL, OPT_COLOR},
    {"colour", optional_argument, NULL, OPT_COLOR},
    {"ts", no_argument, NULL, OPT_TS},
    {"json", no_argument, NULL, OPT_JSON},
    {"pty", no_argument, NULL, OPT_PTY},
    {"keep", required_argument, NULL, OPT_KEEP},
    {"linger", required_argument, NULL, OPT_LINGER},
    {"raw-cr", no_argument, NULL, OPT_RAW_CR},
    {"bar", no_argument, NULL, OPT_BAR},
    {"eta", no_argument, NULL, OPT_ETA},
    {"keep-order", no_argument, NULL, 'k'},
    {"halt", required_argument, NULL, OPT_HALT},
    {"halt-on-error", required_argument, NULL, OPT_HALT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"joblog", required_argument, NULL, OPT_JOBLOG},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"resume-failed", no_argument, NULL, OPT_RESUME_FAILED},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The most lines --keep may ask for, per job. */
#define KEEP_MAX 100000u
/* The longest --linger, in seconds (its milliseconds fit an int). */
#define LINGER_MAX 86400u
/* The jobs' grace period between SIGTERM and SIGKILL on a stop. */
#define GRACE_MS 2000
/* After a signal, how long the main thread may take to end (the grace period
 * and this margin) before the signal thread ends the process: when standard
 * output is a pipe nobody reads, the main thread's write never returns. */
#define SIGNAL_EXIT_MS (GRACE_MS + 1000)
/* Records the shared buffer holds. With flow control the collector never gets
 * further ahead of the printer than this: the jobs' pipes fill and their
 * writes wait, and no line is lost however fast they print. */
#define BUFFER_RECORDS (1u << 16)
/* Records taken per follow call. */
#define FOLLOW_BATCH 16384u
/* -k: the bytes of held output kept in memory, all jobs together; beyond, a
 * job's held output spills into a file (run_order.h). */
#define ORDER_MEM_MAX (16u << 20)
/* The most tries --retries may ask for. */
#define RETRIES_MAX 1000u

/* Tag colors, one per job in turn (SGR parameters). */
static const char *const palette[] = {"36", "32", "33", "34", "35", "96", "92", "93", "94", "95"};
#define N_COLORS (sizeof(palette) / sizeof(palette[0]))
#define SGR_MARK "1;31" /* the stderr and failure marks: bold red */

typedef struct job {
    char *display;           /* the command line, for the summary */
    char tag[SS_SOURCE_MAX]; /* "3:make": the source of its records */
    size_t seq;              /* its index in the job list ({#} - 1) */
    size_t tries;            /* this is its tries-th run (--retries), from 1 */
    bool retried;            /* it failed and runs again: not in the summary */
    int64_t start_real_ns, start_mono_ns;
    int64_t runtime_ns; /* once finished */
    int exitval, signo; /* once finished: as in parallel's joblog */
    bool timed_out;     /* --timeout killed it */
    bool halt_killed;   /* --halt now stopped it: not in the job log */
    int64_t kill_at_ns; /* after the timeout's SIGTERM: when to SIGKILL */
    uint64_t received;  /* bytes of output, for the joblog */
    char *json_more;    /* --json: ',"job":N,"args":[...]' */
    int child_id;       /* its procbuf id; -1 when it could not start */
    size_t slot;        /* its job slot ({%}), from 1; held while running */
    char *label;        /* --tag / --tagstring: parallel's tag; else NULL */
    bool running;
    bool failed;
    char status[96];  /* how it ended: "exited with status 2" */
    ss_linebuf *tail; /* its last lines (--keep), NULL when not kept */
    uint64_t lines;   /* lines it printed */
} job;

typedef struct run_ctx {
    /* options */
    size_t max_jobs;
    size_t keep;
    size_t linger_s;
    bool tag, ts, json, pty, color;
    bool ptag;               /* --tag / --tagstring: parallel's "LABEL\tline" */
    const char *tagstring;   /* --tagstring STR, else NULL ("{}") */
    bool dry_run;            /* --dry-run: print the commands, run none */
    bool quote;              /* --quote: a one-string template is not a shell command line */
    bool raw_cr;             /* --raw-cr: a line redrawn by "\r" is printed in each state */
    bool redraw;             /* each state of a redrawn line is printed, ended by "\r" */
    size_t redraw_num;       /* the number of the job whose redraw was printed last */
    FILE *redraw_out;        /* ... and where */
    bool bar, eta;           /* --bar, --eta */
    run_progress progress;   /* their status line */
    run_input_opts in_opts;  /* -a, --colsep, -n, -N */
    bool keep_order;         /* -k */
    run_halt halt;           /* --halt */
    run_timeout timeout;     /* --timeout */
    size_t retries;          /* --retries: tries in all, from 1 */
    const char *joblog_path; /* --joblog */
    run_resume resume;       /* --resume, --resume-failed */

    run_jobs jobs;
    run_joblog joblog;
    run_order order; /* -k */
    bool *skip;      /* --resume: jobs.total flags, the job is done already */
    size_t next_seq; /* the next job of the list to start */
    size_t *retry_q; /* jobs to run again (--retries), first in first out */
    size_t retry_head, n_retry, cap_retry;
    size_t *latest;   /* jobs.total: 1 + the index in started of its latest try */
    size_t *slot_job; /* max_jobs: the index in started of the job in each slot */
    size_t succeeded;
    size_t skipped;  /* --resume skipped them */
    bool halted;     /* --halt's condition was met: no new job starts */
    int halt_status; /* the exit status of the job that met it */
    job *started;    /* every try started so far, in order */
    size_t n_started;
    size_t cap_started;
    /* cap_started: 1 + the index in started of child id k's try (0: none).
     * A child id is at most its try's index: ids count spawned children. */
    size_t *of_child;
    size_t running;
    size_t failed;
    bool *slot_busy; /* max_jobs of them: slot k + 1 is held by a running job */

    ss_procbuf *pb;
    ss_linebuf *lb;
    /* --keep: a batch's lines go to their job's tail once per run of the same
     * job's records, only the last tail_cap of them (the tail keeps no more):
     * a tail append per line locked and copied each line once more. A ring of
     * tail_n records of started[tail_job], the next at tail_next; tail_cap 0
     * (no memory for it): each line is appended at once. */
    const ss_record **tail_pend;
    size_t tail_cap, tail_n, tail_next, tail_job;
    bool out_error;  /* standard output failed: print nothing more there */
    bool out_closed; /* ...because its reader left (| head): quiet, status 141 */
    bool broken;     /* a runtime failure of ours: exit status 1 */
    bool lost;       /* output was lost: exit status 1 too */

    /* The signal thread. */
    sigset_t sigs;
    pthread_t sig_thread;
    bool sig_thread_started;
    atomic_int signo; /* the first SIGINT / SIGTERM received, else 0 */
    atomic_bool quit;
} run_ctx;

/* ---- signals ---- */

/* Tell, if stderr takes it without blocking, and end the process. */
static void exit_blocked(int sig)
{
    static const char msg[] = TOOL_NAME ": interrupted, and standard output is blocked: "
                                        "exiting without the summary\n";
    struct pollfd p = {.fd = STDERR_FILENO, .events = POLLOUT};
    if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT)) {
        if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
            /* nothing more to try: we are exiting */
        }
    }
    _exit(TOOL_EXIT_SIGNAL_BASE + sig);
}

static void *signal_main(void *arg)
{
    run_ctx *c = arg;
    struct timespec left = {0};

    for (;;) {
        int sig = atomic_load(&c->signo);
        if (sig == 0) {
            if (sigwait(&c->sigs, &sig) != 0)
                continue;
        } else {
            /* After the first signal, the main thread has SIGNAL_EXIT_MS to end
             * (it says so by a thread-directed SIGTERM, see signal_thread_end). */
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            siginfo_t si;
            int r = sigtimedwait(&c->sigs, &si, &left);
            if (atomic_load(&c->quit))
                return NULL;
            if (r < 0 && errno == EAGAIN)
                exit_blocked(sig);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            int64_t spent =
                (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
            int64_t rest = (int64_t)left.tv_sec * 1000000000 + left.tv_nsec - spent;
            if (rest <= 0)
                exit_blocked(sig);
            left.tv_sec = rest / 1000000000;
            left.tv_nsec = rest % 1000000000;
            continue; /* another signal: the stop is already under way */
        }
        if (atomic_load(&c->quit))
            return NULL;
        /* Record the signal before stopping: a job that the main thread starts
         * after this store is not started; one started before it is stopped. */
        int none = 0;
        atomic_compare_exchange_strong(&c->signo, &none, sig);
        left.tv_sec = SIGNAL_EXIT_MS / 1000;
        left.tv_nsec = (long)(SIGNAL_EXIT_MS % 1000) * 1000000;
        ss_procbuf_stop(c->pb);
    }
}

static void signal_thread_end(run_ctx *c)
{
    if (!c->sig_thread_started)
        return;
    atomic_store(&c->quit, true);
    /* A thread-directed SIGTERM, blocked everywhere, wakes its sigwait(). */
    pthread_kill(c->sig_thread, SIGTERM);
    pthread_join(c->sig_thread, NULL);
    c->sig_thread_started = false;
}

static bool interrupted(run_ctx *c)
{
    return atomic_load(&c->signo) != 0;
}

/* ---- output ---- */

/* "3:make": the job number, ':', and as much of the name as fits, not cut in the
 * middle of a UTF-8 character. */
static void make_tag(char tag[SS_SOURCE_MAX], size_t num, const char *name)
{
    char digits[24];
    size_t nd = 0;

    do {
        digits[nd++] = (char)('0' + num % 10);
        num /= 10;
    } while (num > 0);
    size_t k = 0;
    while (nd > 0 && k < SS_SOURCE_MAX - 2)
        tag[k++] = digits[--nd];
    tag[k++] = ':';
    size_t room = SS_SOURCE_MAX - 1 - k, len = strlen(name);
    if (len > room) {
        len = room;
        while (len > 0 && ((unsigned char)name[len] & 0xc0) == 0x80)
            len--;
    }
    memcpy(tag + k, name, len);
    tag[k + len] = '\0';
}

/* The try whose child wrote a record: its producer id is the child id + 1. */
static job *job_of(run_ctx *c, uint32_t producer)
{
    if (producer == 0 || producer > c->cap_started || c->of_child[producer - 1] == 0)
        return NULL;
    return &c->started[c->of_child[producer - 1] - 1];
}

/* The prefix of one output line: time, tag and mark, as the options ask. The
 * caller holds the stream's lock. The uncolored tags, printed on every line of
 * a pipe or file, go without fprintf: formatting them was the tagged printer's
 * largest cost. */
static void put_prefix(run_ctx *c, FILE *out, const ss_record *rec, const job *jb, char mark)
{
    if (c->ts) {
        char t[TOOL_TIME_MAX];
        fputs_unlocked(tool_format_time(t, rec->time_ns), out);
        fputc_unlocked(' ', out);
    }
    if (c->ptag && jb && jb->label) {
        if (c->color) {
            fprintf(out, "\033[%sm%s\033[0m\t", palette[(size_t)(jb - c->started) % N_COLORS],
                    jb->label);
        } else {
            fputs_unlocked(jb->label, out);
            fputc_unlocked('\t', out);
        }
        return;
    }
    if (!c->tag)
        return;
    const char *tag = jb ? jb->tag : rec->source;
    if (c->color) {
        size_t num = jb ? (size_t)(jb - c->started) : 0;
        fprintf(out, "\033[%sm%s\033[0m", palette[num % N_COLORS], tag);
        if (mark != '|')
            fprintf(out, "\033[" SGR_MARK "m%c\033[0m ", mark);
        else
            fputs("| ", out);
    } else {
        fputs_unlocked(tag, out);
        fputc_unlocked(mark, out);
        fputc_unlocked(' ', out);
    }
}

/* Print the lines of text, each after the prefix. The caller holds the
 * stream's lock (see run_loop): stdio's per-call lock was the printer's
 * largest cost. */
static void put_lines(run_ctx *c, FILE *out, const ss_record *rec, const job *jb, char mark,
                      const char *text, size_t len)
{
    for (;;) {
        const char *nl = memchr(text, '\n', len);
        size_t l = nl ? (size_t)(nl - text) : len;
        put_prefix(c, out, rec, jb, mark);
        fwrite_unlocked(text, 1, l, out);
        fputc_unlocked(!nl && (rec->flags & SS_REC_REDRAW) ? '\r' : '\n', out);
        if (!nl)
            break;
        text += l + 1;
        len -= l + 1;
    }
}

/* A redrawn line was printed last, ended by "\r", and now something else is
 * to be printed: on a terminal, erase it, or the other line would be drawn
 * over it and keep its tail. The job's next state is then drawn below. */
static void end_redraw(run_ctx *c, const job *jb, FILE *out)
{
    if (!c->redraw_out ||
        (jb && c->redraw_num == (size_t)(jb - c->started) + 1 && c->redraw_out == out))
        return;
    if (isatty(fileno(c->redraw_out)))
        fputs("\033[K", c->redraw_out);
    c->redraw_out = NULL;
}

/* Whether this try of jb is its last (--retries): its output is then final. */
static bool last_try(const run_ctx *c, const job *jb)
{
    return jb->tries >= c->retries;
}

/* -k: NULL when jb's lines go out live, else the stream to format them into
 * before run_order_keep() holds them. */
static FILE *held(run_ctx *c, const job *jb)
{
    if (!c->keep_order || !jb || (last_try(c, jb) && run_order_live(&c->order, jb->seq)))
        return NULL;
    return run_order_scratch(&c->order);
}

/* --json: a record of jb with the job's number and arguments, and for its exit
 * record how it ended and its run time. */
static void print_json(FILE *out, const job *jb, const ss_record *rec)
{
    if (!jb) {
        tool_print_record(out, TOOL_FORMAT_JSON, rec);
        return;
    }
    tool_json_fields(out, rec);
    if (jb->json_more)
        fputs(jb->json_more, out);
    if ((rec->flags & SS_REC_EXIT) && !jb->running) {
        if (jb->signo) {
            const char *abbrev = sigabbrev_np(jb->signo);
            fputs(",\"signal\":", out);
            tool_json_string(out, abbrev ? abbrev : "?", strlen(abbrev ? abbrev : "?"));
        } else {
            fprintf(out, ",\"exit_code\":%d", jb->exitval);
        }
        fprintf(out, ",\"runtime\":%.3f,\"timed_out\":%s,\"try\":%zu", (double)jb->runtime_ns / 1e9,
                jb->timed_out ? "true" : "false", jb->tries);
    }
    fputs("}\n", out);
}

/* A line of a job's output, as the options ask. */
static void print_record(run_ctx *c, const job *jb, const ss_record *rec)
{
    if (c->out_error)
        return;
    FILE *hold = held(c, jb);
    bool err = rec->flags & SS_REC_STDERR;
    bool to_stderr = err && !c->tag && !c->json;
    if (c->json) {
        print_json(hold ? hold : stdout, jb, rec);
    } else {
        FILE *out = stdout;
        if (to_stderr) {
            /* Flushed first, so that where both streams go to one file the lines
             * stay in the order they were written. */
            if (!hold)
                fflush(stdout);
            out = stderr;
        }
        if (!hold)
            end_redraw(c, jb, out);
        put_lines(c, hold ? hold : out, rec, jb, err ? '!' : '|', rec->text, rec->len);
        if (!hold && (rec->flags & SS_REC_REDRAW)) {
            c->redraw_num = jb ? (size_t)(jb - c->started) + 1 : 0;
            c->redraw_out = out;
        } else if (!hold) {
            c->redraw_out = NULL; /* the line is ended */
        }
    }
    if (hold)
        run_order_keep(&c->order, jb->seq, to_stderr);
}

/* Say, live, that a job failed. */
static void print_failure(run_ctx *c, const job *jb, const ss_record *rec)
{
    if (c->out_closed)
        return; /* stopped by us: not worth a word */
    FILE *hold = held(c, jb);
    if (c->json) {
        if (rec && !c->out_error) {
            print_json(hold ? hold : stdout, jb, rec);
            if (hold)
                run_order_keep(&c->order, jb->seq, false);
        }
        return;
    }
    if (c->tag && !c->out_error) {
        ss_record r = {.time_ns = rec ? rec->time_ns : 0};
        if (!rec) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            r.time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        }
        if (!hold)
            end_redraw(c, NULL, stdout);
        put_lines(c, hold ? hold : stdout, &r, jb, '#', jb->status, strlen(jb->status));
        if (hold)
            run_order_keep(&c->order, jb->seq, false);
        return;
    }
    if (hold) {
        fprintf(hold, TOOL_NAME ": %s: %s\n", jb->tag, jb->status);
        run_order_keep(&c->order, jb->seq, true);
        return;
    }
    end_redraw(c, NULL, stderr);
    fflush(stdout);
    fprintf(stderr, TOOL_NAME ": %s: %s\n", jb->tag, jb->status);
}

/* Whether standard output is a pipe whose reader has gone. errno may be stale
 * when the failed write was an earlier fwrite(), so ask the pipe: Linux reports
 * POLLERR on a pipe's write end once no reader is left. */
static bool stdout_reader_gone(int err)
{
    if (err == EPIPE)
        return true;
    struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
}

/* Flush what this round printed; a failed standard output stops everything.
 * A reader that left (`| head -1`) is no failure: the jobs are stopped quietly
 * and run exits 141 as GNU parallel and seq do (128 + SIGPIPE). */
static void flush_output(run_ctx *c)
{
    if (c->out_error)
        return;
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return;
    int err = errno;
    c->out_error = true;
    if (stdout_reader_gone(err)) {
        c->out_closed = true;
    } else {
        c->broken = true;
        tool_fail("writing standard output: %s; stopping the jobs",
                  err ? ss_strerror(-err) : "write error");
    }
    ss_procbuf_stop(c->pb);
}

/* ---- jobs ---- */

static void job_set_status(job *jb, const ss_child_status *st)
{
    if (st->exited) {
        jb->failed = st->exit_code != 0;
        jb->exitval = st->exit_code;
        snprintf(jb->status, sizeof(jb->status), "exited with status %d", st->exit_code);
    } else if (st->term_signal) {
        const char *abbrev = sigabbrev_np(st->term_signal);
        jb->failed = true;
        jb->exitval = -1; /* parallel's joblog: killed */
        jb->signo = st->term_signal;
        snprintf(jb->status, sizeof(jb->status), "killed by signal %d (SIG%s)", st->term_signal,
                 abbrev ? abbrev : "?");
    } else {
        jb->failed = true;
        snprintf(jb->status, sizeof(jb->status), "ended in an unknown way");
    }
    if (jb->timed_out) {
        /* as parallel: a job killed for its time failed, whatever it returned */
        jb->failed = true;
        jb->exitval = -1;
        if (!jb->signo)
            jb->signo = SIGTERM;
        char was[sizeof(jb->status)];
        memcpy(was, jb->status, sizeof(was));
        if (snprintf(jb->status, sizeof(jb->status), "timed out, %s", was) < 0)
            jb->status[0] = '\0';
    }
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* -k: the job whose turn it now is prints live if its try is the last. */
static void order_advance(run_ctx *c, size_t seq)
{
    if (!c->keep_order)
        return;
    run_order_done(&c->order, seq);
    size_t next = c->order.next;
    if (next < c->jobs.total && c->latest[next] > 0) {
        const job *head = &c->started[c->latest[next] - 1];
        if (head->running && last_try(c, head))
            run_order_release(&c->order, next);
    }
}

/* Job jb has ended for good (it will not run again): the counts, the job log,
 * its place in -k's order, and --halt. */
static void job_done(run_ctx *c, job *jb)
{
    if (jb->failed)
        c->failed++;
    else
        c->succeeded++;
    if (!jb->failed && jb->child_id >= 0)
        run_timeout_note(&c->timeout, jb->runtime_ns);
    /* as parallel, a job --halt now killed is not logged: --resume runs it */
    if (!jb->halt_killed)
        run_joblog_write(&c->joblog, jb->seq + 1, jb->start_real_ns, jb->runtime_ns, jb->received,
                         jb->exitval, jb->signo, jb->display);
    order_advance(c, jb->seq);
    if (c->halted || !run_halt_reached(&c->halt, c->failed, c->succeeded, c->jobs.total))
        return;
    c->halted = true;
    c->halt_status = jb->signo         ? TOOL_EXIT_SIGNAL_BASE + jb->signo
                     : jb->exitval > 0 ? jb->exitval
                                       : jb->failed;
    if (!c->out_closed) {
        fflush(stdout);
        if (c->halt.when == RUN_HALT_NOW && c->running > 0)
            fprintf(stderr, TOOL_NAME ": --halt: %s; stopping the %zu running job%s\n", jb->tag,
                    c->running, c->running == 1 ? "" : "s");
        else if (c->running > 0)
            fprintf(stderr, TOOL_NAME ": --halt: %s; starting no more jobs, waiting for %zu\n",
                    jb->tag, c->running);
    }
    if (c->halt.when == RUN_HALT_NOW) {
        for (size_t k = 0; k < c->max_jobs; k++)
            if (c->slot_busy[k])
                c->started[c->slot_job[k]].halt_killed = true;
        ss_procbuf_stop(c->pb);
    }
}

/* --retries: jb failed and has tries left: queue it to run again. Its output
 * of this try stays out of -k's order (parallel prints only the last try's). */
static void run_again(run_ctx *c, job *jb, const ss_record *rec)
{
    jb->retried = true;
    if (c->keep_order)
        run_order_discard(&c->order, jb->seq);
    if (c->json) {
        if (rec && !c->out_error)
            print_json(stdout, jb, rec);
    } else if (!c->out_closed) {
        fflush(stdout);
        fprintf(stderr, TOOL_NAME ": %s: %s; running it again (try %zu of %zu)\n", jb->tag,
                jb->status, jb->tries + 1, c->retries);
    }
    if (c->n_retry + c->retry_head == c->cap_retry) {
        /* room first taken back from the front, else doubled */
        if (c->retry_head > 0) {
            memmove(c->retry_q, c->retry_q + c->retry_head, c->n_retry * sizeof(*c->retry_q));
            c->retry_head = 0;
        } else {
            size_t ncap = c->cap_retry ? c->cap_retry * 2 : 16;
            size_t *n = realloc(c->retry_q, ncap * sizeof(*n));
            if (!n) {
                jb->retried = false; /* it stays failed */
                job_done(c, jb);
                return;
            }
            c->retry_q = n;
            c->cap_retry = ncap;
        }
    }
    c->retry_q[c->retry_head + c->n_retry++] = jb->seq;
}

/*
 * Job jb has finished: rec is its exit record, or NULL when that record was
 * missed (then the job's status tells whether it has finished). Idempotent.
 */
static void job_finished(run_ctx *c, job *jb, const ss_record *rec)
{
    ss_child_status st;

    if (!jb->running)
        return;
    int r = ss_procbuf_child(c->pb, jb->child_id, &st);
    if (r == 0 && st.finished) {
        job_set_status(jb, &st);
        if (st.output_cut && !c->json && !c->out_closed) {
            fflush(stdout);
            fprintf(stderr,
                    TOOL_NAME ": %s: its output was still held open after it exited (by a "
                              "process it left running); no longer read\n",
                    jb->tag);
        }
    } else if (rec) {
        /* The record is authoritative: it is written when the child has ended. */
        jb->failed = rec->kind != SS_KIND_LINE;
        jb->exitval = jb->failed ? -1 : 0;
        size_t l = rec->len < sizeof(jb->status) - 1 ? rec->len : sizeof(jb->status) - 1;
        memcpy(jb->status, rec->text, l);
        jb->status[l] = '\0';
    } else {
        return; /* still running */
    }
    jb->running = false;
    jb->runtime_ns = mono_ns() - jb->start_mono_ns;
    c->running--;
    c->slot_busy[jb->slot - 1] = false;
    if (jb->failed && !last_try(c, jb) && !c->halted && !interrupted(c) && !c->out_error) {
        run_again(c, jb, rec);
        return;
    }
    if (jb->failed) {
        print_failure(c, jb, rec);
    } else {
        if (rec && c->json && !c->out_error) {
            FILE *hold = held(c, jb);
            print_json(hold ? hold : stdout, jb, rec);
            if (hold)
                run_order_keep(&c->order, jb->seq, false);
        }
        /* A job that succeeded is not in the summary: its lines can go. */
        ss_linebuf_free(jb->tail);
        jb->tail = NULL;
    }
    job_done(c, jb);
}

/* Some records were missed, perhaps exit records: ask the buffer which of the
 * running jobs have finished. */
static void recheck_jobs(run_ctx *c)
{
    for (size_t i = 0; i < c->n_started; i++)
        if (c->started[i].running)
            job_finished(c, &c->started[i], NULL);
}

enum { START_OK, START_DEFER, START_REFUSED };

/* Whether a job is left to start: one to run again first, else the next of
 * the list that --resume does not skip (skipped ones count as done for -k). */
static bool next_job(run_ctx *c, size_t *ret_seq)
{
    if (c->n_retry > 0) {
        *ret_seq = c->retry_q[c->retry_head];
        return true;
    }
    while (c->next_seq < c->jobs.total && c->skip && c->skip[c->next_seq]) {
        if (c->keep_order)
            order_advance(c, c->next_seq);
        c->next_seq++;
        c->skipped++;
    }
    *ret_seq = c->next_seq;
    return c->next_seq < c->jobs.total;
}

/* The job next_job() gave is started (or failed to): take it off. */
static void take_job(run_ctx *c)
{
    if (c->n_retry > 0) {
        c->retry_head++;
        c->n_retry--;
    } else {
        c->next_seq++;
    }
}

/* --json: the fields every record of job seq gets, or NULL (out of memory:
 * its records go without them). */
static char *json_more(const run_ctx *c, size_t seq)
{
    char *mem = NULL;
    size_t len = 0;
    run_argv args;
    if (run_jobs_args(&c->jobs, seq, &args) < 0)
        return NULL;
    FILE *f = open_memstream(&mem, &len);
    if (!f) {
        run_argv_free(&args);
        return NULL;
    }
    fprintf(f, ",\"job\":%zu,\"args\":[", seq + 1);
    for (size_t i = 0; i < args.n; i++) {
        if (i > 0)
            fputc(',', f);
        tool_json_string(f, args.v[i], strlen(args.v[i]));
    }
    fputc(']', f);
    run_argv_free(&args);
    if (fclose(f) != 0) {
        free(mem);
        return NULL;
    }
    return mem;
}

/*
 * Start job number c->n_started + 1. START_OK when it started or failed to start
 * (then it is counted as failed); START_DEFER when the system is out of
 * processes or fds for now and another job is running (try again when one ends);
 * START_REFUSED when a stop is in force. A negative errno on a failure of ours.
 */
static int start_next(run_ctx *c)
{
    if (c->n_started == c->cap_started) {
        size_t ncap = c->cap_started ? c->cap_started * 2 : 16;
        job *n = realloc(c->started, ncap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        c->started = n;
        size_t *m = realloc(c->of_child, ncap * sizeof(*m));
        if (!m)
            return -ENOMEM;
        memset(m + c->cap_started, 0, (ncap - c->cap_started) * sizeof(*m));
        c->of_child = m;
        c->cap_started = ncap;
    }
    size_t idx = c->n_started, seq;
    if (!next_job(c, &seq))
        return START_REFUSED;
    job *jb = &c->started[idx];
    run_job_cmd cmd;
    memset(jb, 0, sizeof(*jb));
    jb->child_id = -1;
    jb->seq = seq;
    jb->tries = c->latest[seq] ? c->started[c->latest[seq] - 1].tries + 1 : 1;
    /* The lowest free slot, as parallel gives {%}: one exists, as fewer than
     * max_jobs jobs run. */
    size_t slot = 0;
    while (c->slot_busy[slot])
        slot++;
    int r = run_jobs_cmd(&c->jobs, seq, slot + 1, &cmd);
    if (r < 0)
        return r;
    make_tag(jb->tag, seq + 1, cmd.name);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    jb->start_real_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    jb->start_mono_ns = mono_ns();

    ss_spawn_opts so = {
        .argv = cmd.argv,
        .name = jb->tag,
        .flags = SS_PROC_NULL_STDIN | (c->pty ? SS_PROC_PTY : 0u),
    };
    int id = -1;
    r = ss_procbuf_spawn(c->pb, &so, &id);
    if (r == SS_ESTOPPED) {
        run_job_cmd_free(&cmd);
        return START_REFUSED;
    }
    if ((r == -EMFILE || r == -ENFILE || r == -EAGAIN) && c->running > 0) {
        run_job_cmd_free(&cmd);
        return START_DEFER;
    }

    jb->display = cmd.display;
    cmd.display = NULL;
    c->n_started++;
    take_job(c);
    c->latest[seq] = idx + 1;
    if (c->json)
        jb->json_more = json_more(c, seq);
    if (r == 0) {
        jb->child_id = id;
        c->of_child[id] = idx + 1;
        jb->running = true;
        if (c->ptag)
            jb->label = run_jobs_label(&c->jobs, seq, slot + 1, c->tagstring);
        /* without its label (out of memory) a line goes untagged */
        jb->slot = slot + 1;
        c->slot_busy[slot] = true;
        c->slot_job[slot] = idx;
        c->running++;
        if (c->keep > 0) {
            /* coarse time: the tail's timestamps are never shown */
            int lr = ss_linebuf_new(
                &jb->tail, &(ss_linebuf_opts){.maxlen = c->keep, .time_source = SS_TIME_COARSE});
            if (lr < 0)
                jb->tail = NULL; /* the summary goes without its lines */
        }
        run_job_cmd_free(&cmd);
        return START_OK;
    }

    /* It could not start: a failed job, reported at once and in the summary.
     * Its joblog status is a shell's for the same failure. */
    jb->failed = true;
    if (r == -ENOENT) {
        snprintf(jb->status, sizeof(jb->status), "command not found");
        jb->exitval = 127;
    } else if (r == -EACCES) {
        snprintf(jb->status, sizeof(jb->status), "permission denied");
        jb->exitval = 126;
    } else {
        snprintf(jb->status, sizeof(jb->status), "cannot start: %s", ss_strerror(r));
        jb->exitval = -1;
    }
    tool_fail("%s: %s", cmd.argv[0], jb->status);
    run_job_cmd_free(&cmd);
    job_done(c, jb);
    return START_OK;
}

/* Append the lines noted by tail_note() to their job's tail. */
static void tail_flush(run_ctx *c)
{
    if (c->tail_n == 0)
        return;
    job *jb = &c->started[c->tail_job];
    size_t i = c->tail_next + c->tail_cap - c->tail_n;
    for (; c->tail_n > 0; c->tail_n--, i++) {
        const ss_record *rec = c->tail_pend[i % c->tail_cap];
        if (jb->tail)
            ss_linebuf_append(jb->tail, SS_KIND_LINE, rec->text, rec->len);
    }
}

/* A line of jb for its tail; rec stays valid until the batch ends. */
static void tail_note(run_ctx *c, job *jb, const ss_record *rec)
{
    if (c->tail_cap == 0) {
        ss_linebuf_append(jb->tail, SS_KIND_LINE, rec->text, rec->len);
        return;
    }
    size_t idx = (size_t)(jb - c->started);
    if (c->tail_n > 0 && c->tail_job != idx)
        tail_flush(c);
    c->tail_job = idx;
    c->tail_pend[c->tail_next] = rec;
    if (++c->tail_next == c->tail_cap)
        c->tail_next = 0;
    if (c->tail_n < c->tail_cap)
        c->tail_n++;
}

/* Handle one record of the shared buffer. */
static void handle_record(run_ctx *c, const ss_record *rec)
{
    job *jb = job_of(c, rec->producer);

    if (rec->flags & SS_REC_EXIT) {
        tail_flush(c); /* before the summary may read the tail, or it is freed */
        if (jb)
            job_finished(c, jb, rec);
        return;
    }
    print_record(c, jb, rec);
    if (jb) {
        jb->lines++;
        jb->received += rec->len + 1;
        /* the summary shows a redrawn line's last state only */
        if (jb->tail && !(rec->flags & SS_REC_REDRAW))
            tail_note(c, jb, rec);
    }
}

static run_counts counts(const run_ctx *c)
{
    return (run_counts){.total = c->jobs.total,
                        .done = c->succeeded + c->failed + c->skipped,
                        .running = c->running,
                        .failed = c->failed};
}

/* The status line, unless a redrawn line of a job's is where it would go. */
static void draw_progress(run_ctx *c, bool force)
{
    if (c->redraw_out || c->out_error)
        return;
    run_counts n = counts(c);
    run_progress_draw(&c->progress, stderr, &n, force);
}

/* Signal the process group of the running job jb. Its group is asked while
 * it has not finished: the group's number cannot be another's while any
 * process of it (the job, or one it left) is alive. */
static void signal_job(run_ctx *c, const job *jb, int sig)
{
    ss_child_status st;
    if (ss_procbuf_child(c->pb, jb->child_id, &st) == 0 && !st.finished && st.pid > 0)
        kill(-st.pid, sig);
}

/*
 * --timeout: SIGTERM to each job past the limit, SIGKILL to each that the
 * SIGTERM has not ended after the grace period. Returns how long the printer
 * may wait for output before the next of these is due, in milliseconds (-1:
 * none is).
 */
static int check_timeouts(run_ctx *c)
{
    int64_t limit = run_timeout_limit(&c->timeout);
    if (limit <= 0 || c->running == 0)
        return -1;
    int64_t now = mono_ns(), next = INT64_MAX;
    for (size_t k = 0; k < c->max_jobs; k++) {
        if (!c->slot_busy[k])
            continue;
        job *jb = &c->started[c->slot_job[k]];
        if (!jb->timed_out && now - jb->start_mono_ns >= limit) {
            jb->timed_out = true;
            jb->kill_at_ns = now + (int64_t)GRACE_MS * 1000000;
            signal_job(c, jb, SIGTERM);
        } else if (jb->timed_out && jb->kill_at_ns > 0 && now >= jb->kill_at_ns) {
            jb->kill_at_ns = 0;
            signal_job(c, jb, SIGKILL);
        }
        int64_t due = !jb->timed_out ? jb->start_mono_ns + limit : jb->kill_at_ns;
        if (due > 0 && due < next)
            next = due;
    }
    if (next == INT64_MAX)
        return -1;
    /* rounded up, so that the wait does not end just before it is due */
    int64_t ms = (next - now + 999999) / 1000000;
    return ms < 1 ? 1 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* Start jobs and print their output until every started job has finished. */
static void run_loop(run_ctx *c)
{
    ss_records set = SS_RECORDS_INIT;
    uint64_t cursor = 0;
    bool deferred = false;
    size_t seq;

    c->tail_cap = c->keep < FOLLOW_BATCH ? c->keep : FOLLOW_BATCH;
    if (c->tail_cap > 0 && !(c->tail_pend = calloc(c->tail_cap, sizeof(*c->tail_pend))))
        c->tail_cap = 0;

    for (;;) {
        while (!deferred && !interrupted(c) && !c->out_error && !c->broken && !c->halted &&
               c->running < c->max_jobs && next_job(c, &seq)) {
            int r = start_next(c);
            if (r < 0) {
                tool_fail("run: %s", ss_strerror(r));
                c->broken = true;
                ss_procbuf_stop(c->pb);
            } else if (r == START_DEFER) {
                deferred = true;
            } else if (r == START_REFUSED) {
                break;
            }
        }
        flush_output(c);
        /* Every job has finished, but when exit records were missed (see
         * recheck_jobs) their last lines may still wait in the buffer: take
         * them without blocking, nothing new can come. */
        bool drain = c->running == 0;
        draw_progress(c, false);

        int wait_ms = check_timeouts(c);
        /* A live status line wakes the printer to update the time left. */
        if (c->progress.live && (wait_ms < 0 || wait_ms > RUN_PROGRESS_DRAW_MS))
            wait_ms = RUN_PROGRESS_DRAW_MS;
        int n = ss_linebuf_follow(c->lb, cursor, FOLLOW_BATCH, drain ? 0 : wait_ms, &set);
        if (drain && (n == -ETIMEDOUT || n == 0))
            break;
        if (n == -ETIMEDOUT)
            continue; /* a timeout is due */
        if (n < 0) {
            tool_fail("run: reading the jobs' output: %s", ss_strerror(n));
            c->broken = true;
            break; /* ss_procbuf_free() kills what still runs */
        }
        cursor = set.cursor;
        if (set.missed > 0) {
            /* flow control should make this impossible: a failure of ours */
            c->lost = true;
            fflush(stdout);
            fprintf(stderr,
                    TOOL_NAME ": %" PRIu64 " line%s of output lost (printing fell behind)\n",
                    set.missed, set.missed == 1 ? "" : "s");
        }
        size_t before = c->running;
        if (set.count > 0)
            run_progress_clear(&c->progress, stderr);
        /* one lock of each stream per batch, not per line */
        flockfile(stdout);
        flockfile(stderr);
        for (size_t i = 0; i < set.count; i++)
            handle_record(c, &set.items[i]);
        tail_flush(c); /* the next follow frees the records */
        funlockfile(stderr);
        funlockfile(stdout);
        ss_procbuf_consumed(c->pb, cursor);
        if (set.missed > 0)
            recheck_jobs(c);
        if (c->running < before)
            deferred = false;
    }
    ss_records_clear(&set);
    free(c->tail_pend);
    c->tail_pend = NULL;
}

/* ---- the summary ---- */

static void print_tail(const job *jb)
{
    ss_records set = SS_RECORDS_INIT;

    if (!jb->tail)
        return;
    int n = ss_linebuf_read(jb->tail, SS_READ_ALL, &set);
    if (n < 0)
        return;
    if (set.count == 0)
        fputs("    (no output)\n", stderr);
    else if (jb->lines > set.count)
        fprintf(stderr, "    (last %zu of %" PRIu64 " lines)\n", set.count, jb->lines);
    for (size_t i = 0; i < set.count; i++) {
        fputs("    ", stderr);
        fwrite(set.items[i].text, 1, set.items[i].len, stderr);
        fputc('\n', stderr);
    }
    ss_records_clear(&set);
}

static void print_summary(run_ctx *c)
{
    size_t total = c->jobs.total;

    fflush(stdout);
    for (size_t i = 0; i < c->n_started; i++) {
        const job *jb = &c->started[i];
        if (!jb->failed || jb->retried)
            continue;
        fprintf(stderr, TOOL_NAME ": %s failed (%s): %s\n", jb->tag, jb->status,
                jb->display ? jb->display : "?");
        print_tail(jb);
    }
    const char *noun = total == 1 ? "command" : "commands";
    /* jobs still running were counted as failed when the run stopped reading */
    size_t ended = c->failed + c->succeeded + c->skipped + c->running;
    size_t not_run = ended < total ? total - ended : 0;
    int sig = atomic_load(&c->signo);
    if (sig) {
        const char *abbrev = sigabbrev_np(sig);
        fprintf(stderr, TOOL_NAME ": interrupted by SIG%s: %zu of %zu %s failed, %zu not started\n",
                abbrev ? abbrev : "?", c->failed, total, noun, not_run);
    } else if (c->failed > 0) {
        fprintf(stderr, TOOL_NAME ": %zu of %zu %s failed\n", c->failed, total, noun);
        if (c->halted && not_run > 0)
            fprintf(stderr, TOOL_NAME ": --halt: %zu of %zu %s not started\n", not_run, total,
                    noun);
    } else if (not_run > 0) {
        fprintf(stderr, TOOL_NAME ": %zu of %zu %s not started\n", not_run, total, noun);
    }
}

/* ---- the command ---- */

static int parse_options(run_ctx *c, int argc, char **argv, char ***ret_shell, size_t *ret_n_shell)
{
    int color_mode = -1; /* auto */
    char **shell = NULL;
    size_t n_shell = 0;
    int ch;

    /* '+': the first word that is not an option is CMD; its own options are its
     * business ("run -- ls -l" and "run ls -l" both work). */
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+:a:c:j:n:N:kh", long_opts, NULL)) != -1) {
        switch (ch) {
        case 'c': {
            char **n = realloc(shell, (n_shell + 1) * sizeof(*n));
            if (!n) {
                free(shell);
                return tool_fail("run: out of memory");
            }
            shell = n;
            shell[n_shell++] = optarg;
            break;
        }
        case 'j':
            if (tool_parse_count(optarg, &c->max_jobs) < 0 || c->max_jobs == 0) {
                free(shell);
                return tool_usage("run", "run: -j wants a positive integer, not '%s'", optarg);
            }
            break;
        case OPT_TAG:
            c->ptag = true;
            break;
        case OPT_TAGSTRING:
            c->ptag = true;
            c->tagstring = optarg;
            break;
        case OPT_JOBTAG:
            c->tag = true;
            break;
        case OPT_DRY_RUN:
            c->dry_run = true;
            break;
        case 'q':
            c->quote = true;
            break;
        case 'a':
        case 'n':
        case 'N':
        case RUN_OPT_COLSEP: {
            int r = run_input_option(&c->in_opts, ch, optarg);
            if (r != 0) {
                free(shell);
                return r;
            }
            break;
        }
        case 'k':
            c->keep_order = true;
            break;
        case OPT_HALT:
            if (run_halt_parse(optarg, &c->halt) < 0) {
                free(shell);
                return tool_usage("run",
                                  "run: --halt wants now or soon, then fail=, success= or "
                                  "done= and a count or a percentage (now,fail=1), "
                                  "not '%s'",
                                  optarg);
            }
            break;
        case OPT_TIMEOUT:
            run_timeout_free(&c->timeout);
            if (run_timeout_parse(optarg, &c->timeout) < 0) {
                free(shell);
                return tool_usage("run",
                                  "run: --timeout wants seconds (a suffix s, m, h or d "
                                  "allowed) or a percentage, not '%s'",
                                  optarg);
            }
            break;
        case OPT_RETRIES:
            if (tool_parse_count(optarg, &c->retries) < 0 || c->retries > RETRIES_MAX) {
                free(shell);
                return tool_usage("run", "run: --retries wants an integer from 0 to %u, not '%s'",
                                  RETRIES_MAX, optarg);
            }
            break;
        case OPT_JOBLOG:
            c->joblog_path = optarg;
            break;
        case OPT_RESUME:
            c->resume = RUN_RESUME;
            break;
        case OPT_RESUME_FAILED:
            c->resume = RUN_RESUME_FAILED;
            break;
        case OPT_COLOR:
            if (!optarg || strcmp(optarg, "always") == 0) {
                color_mode = 1;
            } else if (strcmp(optarg, "never") == 0) {
                color_mode = 0;
            } else if (strcmp(optarg, "auto") == 0) {
                color_mode = -1;
            } else {
                free(shell);
                return tool_usage("run", "run: --color wants auto, always or never, not '%s'",
                                  optarg);
            }
            break;
        case OPT_TS:
            c->ts = true;
            break;
        case OPT_JSON:
            c->json = true;
            break;
        case OPT_PTY:
            c->pty = true;
            break;
        case OPT_KEEP:
            if (tool_parse_count(optarg, &c->keep) < 0 || c->keep > KEEP_MAX) {
                free(shell);
                return tool_usage("run", "run: --keep wants an integer from 0 to %u, not '%s'",
                                  KEEP_MAX, optarg);
            }
            break;
        case OPT_RAW_CR:
            c->raw_cr = true;
            break;
        case OPT_BAR:
            c->bar = true;
            break;
        case OPT_ETA:
            c->eta = true;
            break;
        case OPT_LINGER:
            if (tool_parse_count(optarg, &c->linger_s) < 0 || c->linger_s > LINGER_MAX) {
                free(shell);
                return tool_usage("run", "run: --linger wants seconds from 0 to %u, not '%s'",
                                  LINGER_MAX, optarg);
            }
            break;
        case 'h':
            free(shell);
            fputs(cmd_run_help, stdout);
            return tool_finish_output(TOOL_EXIT_OK) == TOOL_EXIT_OK ? -1 : TOOL_EXIT_FAILURE;
        default:
            free(shell);
            return tool_option_error("run", argv, ch);
        }
    }
    if (c->ptag && c->tag) {
        free(shell);
        return tool_usage("run", "run: --jobtag goes with neither --tag nor --tagstring");
    }
    if (c->resume != RUN_RESUME_NONE && !c->joblog_path) {
        free(shell);
        return tool_usage("run", "run: --resume and --resume-failed need --joblog FILE");
    }
    /* parallel's --retries 0 is one try, as 1 is */
    if (c->retries == 0)
        c->retries = 1;
    if (color_mode < 0) {
        const char *term = getenv("TERM");
        const char *no_color = getenv("NO_COLOR");
        color_mode = isatty(STDOUT_FILENO) && !(no_color && *no_color) &&
                     !(term && strcmp(term, "dumb") == 0);
    }
    c->color = color_mode == 1;
    /* A terminal shows each state of a line redrawn by "\r" (a progress bar),
     * as the job's own terminal would; files and pipes get its last state
     * only, unless --raw-cr. Standard error counts where the jobs' stderr
     * lines go: its lines are redrawn there too. */
    c->redraw =
        !c->json &&
        (c->raw_cr || (isatty(STDOUT_FILENO) && (isatty(STDERR_FILENO) || c->tag || c->pty)));
    *ret_shell = shell;
    *ret_n_shell = n_shell;
    return 0;
}

/* --dry-run: every job's command line on standard output, none run. */
static int dry_run(run_ctx *c)
{
    for (size_t i = 0; i < c->jobs.total; i++) {
        run_job_cmd cmd;
        /* no job runs, so no slot is held: the slots are taken in turn */
        int r = run_jobs_cmd(&c->jobs, i, i % c->max_jobs + 1, &cmd);
        if (r < 0)
            return tool_fail("run: %s", ss_strerror(r));
        puts(cmd.display);
        run_job_cmd_free(&cmd);
        if (ferror(stdout))
            break; /* reported by tool_finish_output() */
    }
    return TOOL_EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
    run_ctx c = {.keep = 10, .linger_s = 2};
    char **shell = NULL;
    size_t n_shell = 0;
    int status;

    /* Each line of ours on standard error goes out in one write. */
    setvbuf(stderr, NULL, _IOLBF, 0);
    /* A closed standard output is a write error to report (and the jobs to
     * stop), not a SIGPIPE that kills us and leaves them running. Children
     * get default signal handling back when they are spawned. */
    signal(SIGPIPE, SIG_IGN);
    /* Output is flushed whenever the printer waits for the jobs, so a large
     * buffer costs no liveness; on a terminal stdio keeps line buffering. */
    static char out_buf[1 << 16];
    if (!isatty(STDOUT_FILENO))
        setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c.max_jobs = ncpu > 0 ? (size_t)ncpu : 1;
    int r = parse_options(&c, argc, argv, &shell, &n_shell);
    if (r != 0) {
        run_input_opts_free(&c.in_opts);
        return r < 0 ? TOOL_EXIT_OK : r; /* < 0: --help */
    }
    status =
        run_jobs_init(&c.jobs, shell, n_shell, c.quote, &c.in_opts, argc - optind, argv + optind);
    if (status != 0)
        goto out_jobs;
    if (c.jobs.total == 0)
        goto out_jobs; /* nothing to run: an empty standard input */
    if (c.dry_run) {
        status = dry_run(&c);
        goto out_jobs;
    }

    /* Blocked before the procbuf's collector thread exists, so that it inherits
     * the mask: only the signal thread ever takes these signals. */
    sigemptyset(&c.sigs);
    sigaddset(&c.sigs, SIGINT);
    sigaddset(&c.sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &c.sigs, NULL);

    /* More slots than jobs would never be used (and -j may be huge). */
    if (c.max_jobs > c.jobs.total)
        c.max_jobs = c.jobs.total;
    c.slot_busy = calloc(c.max_jobs, sizeof(*c.slot_busy));
    c.slot_job = calloc(c.max_jobs, sizeof(*c.slot_job));
    c.latest = calloc(c.jobs.total, sizeof(*c.latest));
    c.skip = c.resume != RUN_RESUME_NONE ? calloc(c.jobs.total, sizeof(*c.skip)) : NULL;
    if (!c.slot_busy || !c.slot_job || !c.latest || (c.resume != RUN_RESUME_NONE && !c.skip) ||
        (c.keep_order && run_order_init(&c.order, c.jobs.total, ORDER_MEM_MAX) < 0)) {
        status = tool_fail("run: out of memory");
        goto out_jobs;
    }
    if (c.joblog_path) {
        status = run_joblog_open(&c.joblog, c.joblog_path, c.resume, c.skip, c.jobs.total);
        if (status != 0)
            goto out_jobs;
    }
    ss_procbuf_opts po = {
        .buf = {.maxlen = BUFFER_RECORDS, .line_flags = c.redraw ? SS_LINE_CR_REDRAW : 0},
        .flow_control = true,
        .term_grace_ms = GRACE_MS,
        /* 0 s: cut at the exit (the library's negative); its 0 would wait for ever */
        .linger_ms = c.linger_s ? (int)c.linger_s * 1000 : -1,
    };
    r = ss_procbuf_new(&c.pb, &po);
    if (r < 0) {
        status = tool_fail("run: cannot start the process buffer: %s", ss_strerror(r));
        goto out_jobs;
    }
    c.lb = ss_procbuf_linebuf(c.pb);
    r = pthread_create(&c.sig_thread, NULL, signal_main, &c);
    if (r != 0) {
        status = tool_fail("run: cannot start the signal thread: %s", ss_strerror(-r));
        goto out_procbuf;
    }
    c.sig_thread_started = true;

    run_progress_init(&c.progress, c.bar, c.eta, stderr);
    run_loop(&c);
    if (c.keep_order && !c.out_error)
        run_order_finish(&c.order);

    signal_thread_end(&c);
    if (!c.out_closed) {
        run_counts n = counts(&c);
        run_progress_end(&c.progress, stderr, &n);
    }
    if (!c.out_closed)
        print_summary(&c);

    int sig = atomic_load(&c.signo);
    if (sig)
        status = TOOL_EXIT_SIGNAL_BASE + sig;
    else if (c.out_closed)
        status = TOOL_EXIT_SIGNAL_BASE + SIGPIPE;
    else if (c.broken || c.lost)
        status = TOOL_EXIT_FAILURE;
    else if (c.halt.when != RUN_HALT_NEVER)
        status = run_halt_status(&c.halt, c.halted, c.halt_status, c.failed, c.jobs.total);
    else if (c.failed > 0)
        status = TOOL_EXIT_JOB_FAILED;
    else
        status = TOOL_EXIT_OK;

out_procbuf:
    signal_thread_end(&c);
    ss_procbuf_free(c.pb);
    for (size_t i = 0; i < c.n_started; i++) {
        free(c.started[i].display);
        free(c.started[i].label);
        free(c.started[i].json_more);
        ss_linebuf_free(c.started[i].tail);
    }
    free(c.started);
out_jobs:
    if (run_joblog_close(&c.joblog, c.joblog_path) != 0 && status == TOOL_EXIT_OK)
        status = TOOL_EXIT_FAILURE;
    if (c.keep_order)
        run_order_free(&c.order);
    run_timeout_free(&c.timeout);
    free(c.retry_q);
    free(c.latest);
    free(c.of_child);
    free(c.skip);
    free(c.slot_job);
    free(c.slot_busy);
    run_jobs_free(&c.jobs);
    run_input_opts_free(&c.in_opts);
    free(shell);
    if (c.out_error)
        return status;
    /* A write error in the last lines is still a failure, unless one was
     * already reported. */
    int fin = tool_finish_output(status);
    return status >= TOOL_EXIT_SIGNAL_BASE ? status : fin;
}
