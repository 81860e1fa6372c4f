/*
 * connect_script.h: the script that `syncstream connect` runs, from a
 * `--script FILE` (connect_script_parse.c parses it) or from the --send /
 * --expect options (each a statement); connect_script.c runs it. The format
 * is described in docs/connect-scripts.md.
 *
 * The parser does no I/O and never prints: it is fed the file's bytes and
 * says what is wrong as "NAME:LINE: message" (tests/fuzz/fuzz_connect_script.c
 * fuzzes it).
 */
#ifndef SS_TOOL_CONNECT_SCRIPT_H
#define SS_TOOL_CONNECT_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

/* The largest script file read (bytes). */
#define CS_MAX_FILE (1024 * 1024)
/* Steps a script may run unless `max-steps` says otherwise: each statement
 * or action executed counts one, so a loop that never ends is stopped. */
#define CS_DEFAULT_MAX_STEPS 100000ul
#define CS_MAX_MAX_STEPS 1000000000ul

typedef enum cs_op {
    CS_SEND,    /* text: the bytes */
    CS_EXPECT,  /* branches */
    CS_TIMEOUT, /* n: the expectations' timeout from now on, ms */
    CS_GOTO,    /* target */
    CS_RETRY,   /* target, n: at most this many times */
    CS_AGAIN,   /* run the enclosing expect again (a branch's action only) */
    CS_EXIT,    /* n: the status; -1: the one `wait` took (0 without) */
    CS_WAIT,    /* wait for the end of the stream and take the program's status */
    CS_ECHO,    /* text: printed on standard error with a newline */
} cs_op;

typedef enum cs_pat {
    CS_PAT_EXACT,
    CS_PAT_REGEX,
    CS_PAT_TIMEOUT, /* taken when no pattern matched in time */
    CS_PAT_EOF,     /* taken when the stream ended first */
} cs_pat;

typedef struct cs_stmt cs_stmt;

typedef struct cs_branch {
    cs_pat pat;
    char *text; /* the pattern (exact: unescaped; regex: as written), NUL-ended */
    size_t len;
    cs_stmt *acts; /* run in order when the branch is taken */
    size_t nacts;
} cs_branch;

struct cs_stmt {
    cs_op op;
    char *where; /* for messages: "FILE:LINE" or "step N (--expect 'X')" */
    char *text;  /* CS_SEND, CS_ECHO: NUL-ended; CS_GOTO, CS_RETRY: the label until resolved */
    size_t len;
    long n;
    size_t target;       /* CS_GOTO, CS_RETRY: index of the statement (nstmts: the end) */
    unsigned long taken; /* CS_RETRY: times taken so far (the runner's count) */
    cs_branch *br;       /* CS_EXPECT */
    size_t nbr;
};

typedef struct cs_script {
    cs_stmt *st;
    size_t n;
    unsigned long max_steps;
} cs_script;

/*
 * cs_parse - parse a script of len bytes named name (for the messages).
 * Returns 0 and *ret (free with cs_free()); -EINVAL with why set to
 * "NAME:LINE: what is wrong" (cut to whylen); -ENOMEM.
 */
int cs_parse(const char *name, const char *text, size_t len, cs_script **ret, char *why,
             size_t whylen);

/* cs_free - free a script. Accepts NULL. */
void cs_free(cs_script *sc);

/* A new empty script (max_steps at its default), or NULL when out of memory. */
cs_script *cs_new(void);

/* Append a statement of op to sc with where (copied) and text (copied, len
 * bytes; NULL: none). Returns it, or NULL when out of memory. */
cs_stmt *cs_add(cs_script *sc, cs_op op, const char *where, const char *text, size_t len);

/* Append a branch to an expect statement, its pattern copied. Returns it, or
 * NULL when out of memory. */
cs_branch *cs_add_branch(cs_stmt *ex, cs_pat pat, const char *text, size_t len);

/* Turn \n \r \t \e \\ \xHH (and \" when quote_ok) of in[0..n) into their
 * bytes. *ret is malloc'ed and NUL-ended. Returns 0, -EINVAL for another
 * escape, -ENOMEM. */
int cs_unescape(const char *in, size_t n, bool quote_ok, char **ret, size_t *ret_len);

#endif
