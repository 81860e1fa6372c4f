/*
 * replace.h: GNU parallel's replacement strings in `syncstream run` templates.
 *
 *   {}    the job's arguments, joined by one space
 *   {.}   ... each without its extension ("a/b.tar.gz" -> "a/b.tar")
 *   {/}   ... each without its directory ("a/b.c" -> "b.c")
 *   {//}  ... each's directory, as dirname(1) ("a/b.c" -> "a", "b" -> ".")
 *   {/.}  ... each without directory nor extension ("a/b.c" -> "b")
 *   {#}   the job's sequence number, from 1
 *   {%}   the job's slot, from 1 to the -j limit
 *   {N} {N.} {N/} {N//} {N/.}  the same on the argument from list N
 *
 * The rules are parallel's: {.} removes a last ".EXT" where EXT holds neither
 * '/' nor '.'; {/} removes everything up to the last '/'. A {N} beyond the
 * limit (the number of lists, unless the caller says otherwise), and any other
 * {...}, is left as it is (parallel makes such a {N} empty): awk's
 * '{print $1}' must survive. A {N} within the limit but beyond the job's
 * arguments (--colsep, -n: their number varies) is empty, as parallel's.
 *
 * Thread safety: pure functions.
 */
#ifndef SS_TOOL_REPLACE_H
#define SS_TOOL_REPLACE_H

#include <stdbool.h>
#include <stddef.h>

/* What a job's replacement strings stand for. */
typedef struct run_repl {
    char *const *args; /* one per list */
    size_t nargs;
    size_t seq;   /* {#} */
    size_t slot;  /* {%} */
    bool quote;   /* each argument put in quoted for a POSIX shell */
    size_t limit; /* {N} up to limit is a replacement string; 0: nargs */
    size_t one;   /* from 1: {} {.} ... stand for argument `one` alone; 0: all */
    /* parallel's -N in a shell line: a word (between blanks) holding {} {.}
     * ... is repeated for each argument, `one` set to each in turn */
    bool words;
} run_repl;

/*
 * run_shell_quote - s (n bytes) as one word for a POSIX shell: as it is when
 * made of safe characters only, else in single quotes with ' as '\''. Writes
 * into out unless it is NULL; returns the length either way (no terminator).
 */
size_t run_shell_quote(const char *s, size_t n, char *out);

/* Whether s holds a replacement string, {N} counting up to limit. */
bool run_repl_has(const char *s, size_t limit);

/* Whether s holds one standing for all the arguments: {} {.} {/} {//} {/.}. */
bool run_repl_has_all(const char *s);

/* s with its replacement strings expanded; NULL when out of memory. */
char *run_repl_expand(const char *s, const run_repl *r);

#endif
