/*
 * Matching reads: read_until and expect. A matcher remembers, as a stream
 * offset, where the next search must start, so that within a call no byte is
 * examined again and again as bytes keep arriving:
 *  - an exact pattern resumes plen - 1 bytes before the end (a match may
 *    straddle two arrivals), with memmem;
 *  - a regular expression is run by PCRE2 with PCRE2_PARTIAL_HARD: a start
 *    position either fails for good or is reported as a partial match
 *    reaching the end of the bytes; the next search resumes at the earliest
 *    partial start, never before. Rerunning pcre2_match from the partial start
 *    at every arrival would examine a long partial match ("BEGIN.*END"
 *    arriving a byte at a time) again and again. So the partial match is also
 *    followed by PCRE2's DFA matcher, which can resume (PCRE2_DFA_RESTART)
 *    over the new bytes alone: while it says "still partial, no complete match
 *    from that start", pcre2_match would say the same, and is not run.
 *    Anything else (a complete match, or none) runs pcre2_match once, whose
 *    answer counts.
 *
 * A backtracking matcher tries start positions one by one, and each attempt
 * may run to the end of the bytes: 500 KB of digits against "[0-9]+ms" is
 * 500 K attempts of up to 500 KB each, quadratic. The look-back is therefore
 * bounded by SS_STREAM_REGEX_WINDOW (W):
 *  - pcre2_match never sees more than CUT (1.5 W) bytes past its first start
 *    position: an attempt still undecided at that cut is partial there (hard
 *    partial matching), so no attempt runs further than CUT;
 *  - a start whose attempt reaches more than W bytes past it undecided is
 *    given up, and with it every start up to W / 2 before the furthest byte
 *    it reached. Giving up only that start would let the next start, just as
 *    long, cost as much again (the quadratic case); jumping half a window
 *    means the next give-up comes only after W / 2 more bytes, so the cost of
 *    re-searching W bytes is spread over W / 2 new ones.
 * So a flood that keeps a match partial costs a constant per byte, a failing
 * attempt costs at most CUT, and between two pcre2_match calls the call's
 * deadline is checked: no search holds a timeout up by more than one call.
 * At the end of the stream one last search runs without partial matching, so
 * "[0-9]+" at the very end matches what is there.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream/common.h>
#include <syncstream/stream.h>

#include "stream/match.h"
#include "stream/stream_int.h"

#define DFA_WS_INTS 1000 /* pcre2test's size: enough for all but huge patterns */

/* Resuming with the DFA matcher sees only the new bytes (and one before
 * them): patterns that look further back (lookbehind, \b), or at line starts
 * across arrivals, or at UTF-8 characters cut between them, are searched by
 * pcre2_match alone. Without memory, too. */
static void dfa_drop(ss__matcher *m)
{
    pcre2_match_data_free(m->dfa_md);
    free(m->dfa_ws);
    m->dfa_md = NULL;
    m->dfa_ws = NULL;
    m->dfa_live = false;
}

static void dfa_init(ss__matcher *m)
{
    uint32_t lookbehind = 1, options = PCRE2_MULTILINE;
    pcre2_pattern_info(m->code, PCRE2_INFO_MAXLOOKBEHIND, &lookbehind);
    pcre2_pattern_info(m->code, PCRE2_INFO_ALLOPTIONS, &options);
    if (m->utf || lookbehind > 0 || (options & PCRE2_MULTILINE))
        return;
    m->dfa_md = pcre2_match_data_create(1, NULL);
    m->dfa_ws = malloc(DFA_WS_INTS * sizeof(int));
    if (!m->dfa_md || !m->dfa_ws)
        dfa_drop(m);
}

int ss__matcher_init(ss__matcher *m, const ss_pattern *p)
{
    memset(m, 0, sizeof(*m));
    if (!p || !p->text)
        return -EINVAL;
    m->kind = p->kind;
    m->pat = p->text;
    m->plen = p->len ? p->len : strlen(p->text);
    if (p->kind == SS_PATTERN_EXACT)
        return m->plen ? 0 : -EINVAL;
    if (p->kind != SS_PATTERN_REGEX)
        return -EINVAL;
    int err;
    PCRE2_SIZE erroff;
    uint32_t options = p->pcre2_options;
    /* UTF-8 patterns meet device output: line noise, a character cut by the
     * end of the stream or split between arrivals. Invalid bytes then just
     * never match, instead of failing the whole search. */
    if (options & PCRE2_UTF)
        options |= PCRE2_MATCH_INVALID_UTF;
    m->utf = options & PCRE2_UTF;
    m->code = pcre2_compile((PCRE2_SPTR)m->pat, m->plen, options, &err, &erroff, NULL);
    if (!m->code)
        return err == PCRE2_ERROR_NOMEMORY ? -ENOMEM : -EINVAL;
    m->md = pcre2_match_data_create_from_pattern(m->code, NULL);
    if (!m->md) {
        pcre2_code_free(m->code);
        m->code = NULL;
        return -ENOMEM;
    }
    dfa_init(m);
    return 0;
}

void ss__matcher_done(ss__matcher *m)
{
    dfa_drop(m);
    pcre2_match_data_free(m->md);
    pcre2_code_free(m->code);
    m->md = NULL;
    m->code = NULL;
}

/* Where a UTF-8 character cut by the end of data begins (len if none): with
 * PCRE2_MATCH_INVALID_UTF such a tail is no match rather than a partial one,
 * so the next search must look at it again once the rest has come. */
static size_t utf8_cut_tail(const char *data, size_t len)
{
    for (size_t back = 1; back <= 3 && back <= len; back++) {
        unsigned char c = (unsigned char)data[len - back];
        if ((c & 0xc0) == 0x80)
            continue; /* a continuation byte: the lead is further back */
        size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        return need > back ? len - back : len;
    }
    return len;
}

static int pcre2_error(int rc)
{
    switch (rc) {
    case PCRE2_ERROR_NOMEMORY:
        return -ENOMEM;
    case PCRE2_ERROR_MATCHLIMIT:
    case PCRE2_ERROR_DEPTHLIMIT:
    case PCRE2_ERROR_HEAPLIMIT:
        return -ERANGE;
    default:
        return -EINVAL;
    }
}

/* pcre2_match found a partial match at start: follow it with the DFA
 * matcher, which must agree (partial, at that start, no complete match). */
static void dfa_follow(ss__matcher *m, const char *data, size_t len, uint64_t base, uint64_t start)
{
    m->dfa_live = false;
    if (!m->dfa_ws)
        return;
    int rc = pcre2_dfa_match(m->code, (PCRE2_SPTR)data, len, (PCRE2_SIZE)(start - base),
                             PCRE2_PARTIAL_SOFT, m->dfa_md, NULL, m->dfa_ws, DFA_WS_INTS);
    if (rc == PCRE2_ERROR_PARTIAL && pcre2_get_ovector_pointer(m->dfa_md)[0] == start - base) {
        m->dfa_live = true;
        m->dfa_end = base + len;
    } else if (rc < 0 && rc != PCRE2_ERROR_PARTIAL && rc != PCRE2_ERROR_NOMATCH) {
        /* an item the DFA matcher does not support, or too small a workspace */
        dfa_drop(m);
    }
}

/* The partial match at m->scan, resumed over the bytes that came since:
 * true when it is still partial, with no complete match (pcre2_match's answer
 * would be the same partial match). */
static bool dfa_resume(ss__matcher *m, const char *data, uint64_t base, uint64_t end)
{
    if (!m->dfa_live || m->scan < base || m->dfa_end < base + 1 || end <= m->dfa_end)
        return false;
    /* the subject starts one byte back, so that what the last byte was is known
     * (a start_offset of 1 is where the DFA matcher goes on) */
    size_t from = (size_t)(m->dfa_end - base) - 1;
    int rc = pcre2_dfa_match(m->code, (PCRE2_SPTR)data + from, (size_t)(end - base) - from, 1,
                             PCRE2_DFA_RESTART | PCRE2_PARTIAL_SOFT | PCRE2_NOTBOL, m->dfa_md, NULL,
                             m->dfa_ws, DFA_WS_INTS);
    m->dfa_live = rc == PCRE2_ERROR_PARTIAL;
    if (m->dfa_live)
        m->dfa_end = end;
    return m->dfa_live;
}

/* How far past its first start position one pcre2_match call looks. More
 * than the window, so that an attempt still undecided there is either too
 * long (given up) or resumed with a later cut. */
#define CUT (SS_STREAM_REGEX_WINDOW + SS_STREAM_REGEX_WINDOW / 2)

static bool deadline_passed(const struct timespec *deadline)
{
    if (!deadline)
        return false;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* Search the bytes from m->scan on for an exact pattern. Returns 1 (found) or 0. */
static int step_exact(ss_stream *s, ss__matcher *m)
{
    const char *data = ss__rdata(s);
    uint64_t base = s->base, end = base + ss__rlen(s);
    uint64_t from = m->scan < base ? base : m->scan;
    const char *hit = memmem(data + (from - base), (size_t)(end - from), m->pat, m->plen);
    if (hit) {
        m->start = base + (uint64_t)(hit - data);
        m->end = m->start + m->plen;
        return 1;
    }
    /* a match may begin in the last plen - 1 bytes and end in the next arrival */
    uint64_t keep = m->plen - 1;
    m->scan = end - from > keep ? end - keep : from;
    return 0;
}

/* Search the bytes from m->scan on for a regex (see the top of the file).
 * Returns 1 (found), 0, -ETIMEDOUT (the deadline passed between two
 * pcre2_match calls) or another negative error. */
static int step_regex(ss_stream *s, ss__matcher *m, bool final, const struct timespec *deadline)
{
    const char *data = ss__rdata(s);
    size_t len = ss__rlen(s);
    uint64_t base = s->base, end = base + len;
    uint64_t from = m->scan < base ? base : m->scan;

    if (!final && from == m->scan && end - from <= SS_STREAM_REGEX_WINDOW &&
        dfa_resume(m, data, base, end))
        return 0;
    m->dfa_live = false;
    for (;;) {
        uint64_t cut = end - from > CUT ? from + CUT : end;
        /* a character cut in two at the cut would be invalid, not partial */
        if (m->utf && cut < end)
            cut = base + utf8_cut_tail(data, (size_t)(cut - base));
        uint32_t options = !final || cut < end ? PCRE2_PARTIAL_HARD : 0;
        int rc = pcre2_match(m->code, (PCRE2_SPTR)data, (size_t)(cut - base),
                             (PCRE2_SIZE)(from - base), options, m->md, NULL);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
        if (rc >= 0) {
            m->start = base + ov[0];
            m->end = base + ov[1];
            return 1;
        }
        if (rc == PCRE2_ERROR_PARTIAL) {
            uint64_t start = base + ov[0];
            if (cut - start > SS_STREAM_REGEX_WINDOW) {
                /* too long a match: give up this start and half a window more */
                uint64_t next = cut - SS_STREAM_REGEX_WINDOW / 2;
                from = next > start ? next : start + 1;
            } else if (cut < end) {
                from = start; /* decided by a later cut, which goes further */
            } else {
                dfa_follow(m, data, len, base, start);
                m->scan = start;
                return 0;
            }
        } else if (rc == PCRE2_ERROR_NOMATCH) {
            /* no start position up to the cut can ever match */
            if (cut == end) {
                m->scan = base + (m->utf ? utf8_cut_tail(data, len) : len);
                return 0;
            }
            from = cut;
        } else {
            return pcre2_error(rc);
        }
        if (deadline_passed(deadline))
            return -ETIMEDOUT;
    }
}

int ss__search(ss_stream *s, ss__matcher *ms, size_t n, const struct timespec *deadline,
               int *ret_index)
{
    uint64_t searched_end = 0;
    bool searched = false, searched_final = false;
    for (;;) {
        if (s->closed)
            return SS_ECLOSED;
        int end_rc = ss__read_end(s);
        bool final = end_rc != 0;
        uint64_t end = s->base + ss__rlen(s);
        /* Only new bytes (or the end of the stream) are worth a search. */
        if (!searched || end != searched_end || (final && !searched_final)) {
            int best = -1;
            for (size_t i = 0; i < n; i++) {
                int rc = ms[i].kind == SS_PATTERN_EXACT ? step_exact(s, &ms[i])
                                                        : step_regex(s, &ms[i], final, deadline);
                if (rc < 0)
                    return rc;
                if (rc > 0 && (best < 0 || ms[i].end < ms[best].end))
                    best = (int)i;
            }
            if (best >= 0) {
                *ret_index = best;
                return 0;
            }
            searched = true;
            searched_end = end;
            searched_final = final;
        }
        if (end_rc)
            return end_rc;
        if (ss__read_full(s))
            return -ENOBUFS;
        int rc = ss__wait_readable(s, deadline);
        if (rc < 0)
            return rc;
    }
}

int ss__read_match(ss_stream *s, ss__matcher *m, int timeout_ms, char **ret, size_t *ret_len,
                   ss_stream_payload *ret_payload)
{
    struct timespec ts;
    const struct timespec *deadline = ss__deadline(timeout_ms, &ts);
    pthread_mutex_lock(&s->mu);
    int rc = ss__pending_error(s);
    int index;
    if (rc == 0)
        rc = ss__search(s, m, 1, deadline, &index);
    if (rc == 0) {
        size_t len = (size_t)(m->end - s->base);
        rc = ss__take_string(s, len, ret);
        if (rc == 0)
            *ret_len = len;
    } else {
        rc = ss__fail(s, rc, ret_payload, NULL, 0, NULL, 0);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ss_stream_read_until(ss_stream *s, const void *pattern, size_t plen, int timeout_ms, char **ret,
                         size_t *ret_len, ss_stream_payload *ret_payload)
{
    if (!s || !pattern || plen == 0 || !ret || !ret_len)
        return -EINVAL;
    ss__matcher m;
    ss_pattern p = {.text = pattern, .len = plen, .kind = SS_PATTERN_EXACT};
    int rc = ss__matcher_init(&m, &p);
    if (rc == 0)
        rc = ss__read_match(s, &m, timeout_ms, ret, ret_len, ret_payload);
    return rc;
}

void ss_stream_match_clear(ss_stream_match *m)
{
    if (!m)
        return;
    free(m->data);
    memset(m, 0, sizeof(*m));
}

int ss_stream_expect(ss_stream *s, const ss_pattern *patterns, size_t n, int timeout_ms,
                     ss_stream_match *ret, ss_stream_payload *ret_payload)
{
    if (!s || !patterns || n == 0 || n > INT32_MAX || !ret)
        return -EINVAL;
    ss__matcher *ms = calloc(n, sizeof(*ms));
    if (!ms)
        return -ENOMEM;
    int rc = 0;
    size_t ready = 0;
    for (; ready < n && rc == 0; ready++)
        rc = ss__matcher_init(&ms[ready], &patterns[ready]);
    if (rc < 0)
        goto out_free;

    struct timespec ts;
    const struct timespec *deadline = ss__deadline(timeout_ms, &ts);
    pthread_mutex_lock(&s->mu);
    rc = ss__pending_error(s);
    int index = -1;
    if (rc == 0)
        rc = ss__search(s, ms, n, deadline, &index);
    if (rc == 0) {
        size_t len = (size_t)(ms[index].end - s->base);
        size_t start = (size_t)(ms[index].start - s->base);
        char *data;
        rc = ss__take_string(s, len, &data);
        if (rc == 0) {
            *ret =
                (ss_stream_match){.index = index, .data = data, .len = len, .match_start = start};
            rc = index;
        }
    } else {
        rc = ss__fail(s, rc, ret_payload, NULL, 0, NULL, 0);
    }
    pthread_mutex_unlock(&s->mu);

out_free:
    for (size_t i = 0; i < ready; i++)
        ss__matcher_done(&ms[i]);
    free(ms);
    return rc;
}
