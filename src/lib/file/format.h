/*
 * The text format of a syncstream log file (docs/file-format.md): one header
 * line, then one record per line, each line checked by a CRC-32. Formatting and
 * parsing only; no I/O, so that the parser can be fuzzed on its own.
 *
 *     #syncstream-file 1 maxlen=1000 limit=2000 max-bytes=0 base=0
 *     1 2026-11-22T00:43:19.123456789Z worker-1 line hello world #1a2b3c4d
 *     2 2026-11-22T00:43:19.200000000Z worker-2 error,stderr Traceback:\n  boom #0badf00d
 *
 * A record line is SEQ TIME SOURCE KIND TEXT #CRC: TEXT and SOURCE are escaped
 * (backslash, line breaks, tabs and control bytes; SOURCE also spaces) so that a
 * line never holds a raw line break; the CRC (CRC-32C) covers every byte before
 * the '#'.
 */
#ifndef SS_FILE_FORMAT_H
#define SS_FILE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <syncstream/record.h>

#include "util/buf.h"

#define SS__FILE_MAGIC "#syncstream-file "
#define SS__FILE_VERSION 1u
/* The last line of a file that compaction or clear replaced by a new one. */
#define SS__FILE_MOVED "#syncstream-moved"
/* Longest header line we write or accept, its '\n' included. */
#define SS__FILE_HDR_MAX 256

typedef struct ss__file_hdr {
    uint64_t maxlen;    /* records a reader sees: the newest maxlen */
    uint64_t limit;     /* records in the file that start a compaction */
    uint64_t max_bytes; /* file size that starts a compaction; 0: none */
    uint64_t base;      /* every record in the file has seq > base */
} ss__file_hdr;

/* The fields of a record line besides its text. */
typedef struct ss__file_rec {
    uint64_t seq;
    int64_t time_ns;
    ss_kind kind;
    uint32_t flags;
    char source[SS_SOURCE_MAX];
} ss__file_rec;

/* The record flags a file line can carry (others are not stored). */
#define SS__FILE_FLAGS (SS_REC_CONTINUED | SS_REC_STDERR | (1u << 3))

/* Append the header line, '\n' included. Returns 0, -ENOBUFS or -ENOMEM. */
int ss__file_hdr_format(ss__buf *out, const ss__file_hdr *hdr);

/*
 * Parse a header line (without its '\n'). Returns 0, SS_EFORMAT when the line
 * does not start with SS__FILE_MAGIC or names a version we do not know, or
 * SS_ECORRUPT when it does but a field is missing or out of range.
 */
int ss__file_hdr_parse(const char *line, size_t len, ss__file_hdr *ret);

/* Whether the bytes begin like a syncstream file (a prefix of the magic). */
bool ss__file_magic_prefix(const char *data, size_t len);

/*
 * Caches the date part of the last time formatted, so that records written in the
 * same second skip the calendar arithmetic.
 */
typedef struct ss__time_cache {
    int64_t sec;      /* the second cached; INT64_MIN when none */
    char text[20];    /* "YYYY-MM-DDTHH:MM:SS" */
} ss__time_cache;

#define SS__TIME_CACHE_INIT {INT64_MIN, {0}}

/*
 * A line is made in two steps, so that a writer does the costly part (escaping)
 * before it takes the file lock, and only numbers and checks the line under it:
 * format_rest appends everything after SEQ and before the '#' (" TIME SOURCE KIND
 * TEXT "); finish appends SEQ, that rest, the CRC and the '\n'. source is
 * NUL-terminated (at most SS_SOURCE_MAX - 1 bytes are used). Both return 0,
 * -ENOBUFS or -ENOMEM (out unchanged).
 */
int ss__file_rec_format_rest(ss__buf *out, ss__time_cache *tc, int64_t time_ns, ss_kind kind,
                             uint32_t flags, const char *source, const char *text, size_t len);
int ss__file_rec_finish(ss__buf *out, uint64_t seq, const char *rest, size_t rest_len);

/* The most bytes format_rest appends for a source of src_len bytes and len of
 * text (SIZE_MAX when that does not fit in a size_t: the append then fails
 * with -ENOMEM), and the most finish adds to a rest (SEQ, CRC, '\n'). */
size_t ss__file_rest_max(size_t src_len, size_t len);
#define SS__FILE_FINISH_MAX 30u

/* Both steps at once: append one whole record line. */
int ss__file_rec_format(ss__buf *out, ss__time_cache *tc, uint64_t seq, int64_t time_ns,
                        ss_kind kind, uint32_t flags, const char *source, const char *text,
                        size_t len);

/*
 * Parse one record line (without its '\n'). When text is not NULL the unescaped
 * text is written there (at most len bytes; text may be line itself: unescaping
 * never writes ahead of what it reads) and its length stored in *ret_text_len.
 * Returns 0, or SS_ECORRUPT when the line is not a whole, well-formed record
 * with a matching CRC.
 */
int ss__file_rec_parse(const char *line, size_t len, ss__file_rec *ret, char *text,
                       size_t *ret_text_len);

/* Whether a line (without its '\n') is the moved marker. */
bool ss__file_is_moved(const char *line, size_t len);

#endif
