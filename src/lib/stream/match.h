/* The stream's incremental pattern search (match.c), shared with lines.c. */
#ifndef SS_STREAM_MATCH_H
#define SS_STREAM_MATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <syncstream/stream.h>

typedef struct ss__matcher {
    unsigned kind; /* SS_PATTERN_* */
    const char *pat;
    size_t plen;
    struct pcre2_real_code_8 *code; /* a regex's compiled form */
    struct pcre2_real_match_data_8 *md;
    bool utf; /* a regex compiled with PCRE2_UTF */
    /* A regex's partial match, resumed by PCRE2's DFA matcher over new bytes
     * only (see match.c): its workspace, and whether it holds the partial
     * match starting at scan, as far as dfa_end. */
    int *dfa_ws; /* NULL: the pattern is not fit for it */
    struct pcre2_real_match_data_8 *dfa_md;
    bool dfa_live;
    uint64_t dfa_end;
    uint64_t scan;       /* stream offset: no match starts before it */
    uint64_t start, end; /* stream offsets of the match found */
} ss__matcher;

/* Prepare a matcher for p (a regex is compiled). Returns 0, -EINVAL (empty
 * exact pattern, a regex that does not compile) or -ENOMEM. */
int ss__matcher_init(ss__matcher *m, const ss_pattern *p);
void ss__matcher_done(ss__matcher *m);

/*
 * With s->mu held: wait until one of the n matchers finds its pattern in the
 * read buffer (the one whose match ends first), until deadline (NULL: none).
 * Returns 0 with *ret_index set (the match is ms[*ret_index].start/end), or
 * -ETIMEDOUT, SS_EEOF, SS_ECLOSED, a read error, -ENOMEM, -ERANGE (PCRE2's
 * match limits), -EINVAL.
 */
int ss__search(ss_stream *s, ss__matcher *ms, size_t n, const struct timespec *deadline,
               int *ret_index);

/* read_until's body for matcher m (an exact pattern): lock, search, take, or
 * fail with the payload. */
int ss__read_match(ss_stream *s, ss__matcher *m, int timeout_ms, char **ret, size_t *ret_len,
                   ss_stream_payload *ret_payload);

#endif
