/*
 * The text format of a syncstream log file (docs/file-format.md): one header
 * line, then one record per line, each line checked by a CRC-32C. Formatting
 * and parsing only; no I/O, so that the parser can be fuzzed on its own.
 *
 * Version 2 (written by default) ends every line with the record's text, so
 * that grep's '$' anchors the message; a raw tab, which no field holds, starts
 * the text:
 *
 *     #syncstream-file 2 maxlen=1000 limit=2000 max-bytes=0 base=0
 *     1 2026-11-22T00:43:19.123456789Z worker-1 line 1a2b3c4d<TAB>hello world
 *
 * SEQ TIME SOURCE KIND CRC<TAB>TEXT; the CRC covers the line without " CRC".
 * KIND is the kind, its flags and, for a record with a producer id (record.h),
 * ",producer=N" ("line,stderr,producer=3"), in both versions; a record
 * without one is written as before the field existed.
 * Version 1 (still read, and written to files made with it):
 *
 *     1 2026-11-22T00:43:19.123456789Z worker-1 line hello world #1a2b3c4d
 *
 * SEQ TIME SOURCE KIND TEXT #CRC; the CRC covers every byte before the '#'.
 * TEXT and SOURCE are escaped (backslash, line breaks, tabs and control bytes;
 * SOURCE also spaces) so that a line never holds a raw line break or tab.
 */
#ifndef SS_FILE_FORMAT_H
#define SS_FILE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <syncstream/record.h>

#include "util/buf.h"

#define SS__FILE_MAGIC "#syncstream-file "
/* The version a new file gets; SS__FILE_VERSION_1 files are read and written
 * in their own version. */
#define SS__FILE_VERSION 2u
#define SS__FILE_VERSION_1 1u
/* The last line of a file that compaction or clear replaced by a new one. */
#define SS__FILE_MOVED "#syncstream-moved"
/* Longest header line we write or accept, its '\n' included. */
#define SS__FILE_HDR_MAX 256

typedef struct ss__file_hdr {
    unsigned version;   /* SS__FILE_VERSION or SS__FILE_VERSION_1 */
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
    uint32_t producer;
    char source[SS_SOURCE_MAX];
} ss__file_rec;

/* The record flags a file line can carry (others are not stored). */
#define SS__FILE_FLAGS (SS_REC_CONTINUED | SS_REC_STDERR | (1u << 3))

/* Append the header line, '\n' included. Returns 0, -ENOBUFS or -ENOMEM. */
int ss__file_hdr_format(ss__buf *out, const ss__file_hdr *hdr);

/*
 * Parse a header line (without its '\n'), version included. Returns 0,
 * SS_EFORMAT when the line does not start with SS__FILE_MAGIC or names a
 * version we do not know, or
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
    int64_t sec;   /* the second cached; INT64_MIN when none */
    char text[20]; /* "YYYY-MM-DDTHH:MM:SS" */
} ss__time_cache;

#define SS__TIME_CACHE_INIT {INT64_MIN, {0}}

/*
 * A line is made in two steps, so that a writer does the costly part (escaping)
 * before it takes the file lock, and only numbers and checks the line under it
 * in the file's version: format_rest appends the fields after SEQ, the same
 * for every version (" TIME SOURCE KIND<TAB>TEXT"); finish appends the line of
 * that version: SEQ, that rest laid out as the version wants, the CRC and the
 * '\n'. source is NUL-terminated (at most SS_SOURCE_MAX - 1 bytes are used).
 * Both return 0, -ENOBUFS or -ENOMEM (out unchanged).
 */
int ss__file_rec_format_rest(ss__buf *out, ss__time_cache *tc, int64_t time_ns, ss_kind kind,
                             uint32_t flags, uint32_t producer, const char *source,
                             const char *text, size_t len);
int ss__file_rec_finish(ss__buf *out, unsigned version, uint64_t seq, const char *rest,
                        size_t rest_len);

/* The most bytes format_rest appends for a source of src_len bytes and len of
 * text (SIZE_MAX when that does not fit in a size_t: the append then fails
 * with -ENOMEM), and the most finish adds to a rest (SEQ, CRC, a tab or space, '\n'). */
size_t ss__file_rest_max(size_t src_len, size_t len);
#define SS__FILE_FINISH_MAX 31u

/* Both steps at once: append one whole record line of that version. */
int ss__file_rec_format(ss__buf *out, ss__time_cache *tc, unsigned version, uint64_t seq,
                        int64_t time_ns, ss_kind kind, uint32_t flags, uint32_t producer,
                        const char *source, const char *text, size_t len);

/*
 * Parse one record line (without its '\n') of a file of that version (a line
 * of the other version is refused). When text is not NULL the unescaped
 * text is written there (at most len bytes; text may be line itself: unescaping
 * never writes ahead of what it reads) and its length stored in *ret_text_len.
 * Returns 0, or SS_ECORRUPT when the line is not a whole, well-formed record
 * with a matching CRC.
 */
int ss__file_rec_parse(unsigned version, const char *line, size_t len, ss__file_rec *ret,
                       char *text, size_t *ret_text_len);

/*
 * Only check a record line's CRC and read its seq (> 0) into *ret_seq: what
 * scanning the file needs, under the lock, for every line another writer
 * appended. A line whose CRC matches was written whole by a writer; its other
 * fields are checked when it is read (ss__file_rec_parse). Returns 0 or
 * SS_ECORRUPT.
 */
int ss__file_rec_seq(unsigned version, const char *line, size_t len, uint64_t *ret_seq);

/* Whether a line (without its '\n') is the moved marker. */
bool ss__file_is_moved(const char *line, size_t len);

#endif
