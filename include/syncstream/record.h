/*
 * syncstream/record.h: the record model every mode shares.
 *
 * A record is one completed line, or one grouped warning or error (several lines
 * joined by '\n', stored and delivered as one record). Every record carries a
 * sequence number that increases by one per stored record of its buffer, a
 * wall-clock timestamp, the name and the id of the producer that wrote it and
 * its bytes.
 * The bytes are not necessarily UTF-8 and may contain NUL; a record's text never
 * holds its terminating line break.
 *
 * Records are handed out in an ss_records set that owns all of their memory.
 */
#ifndef SYNCSTREAM_RECORD_H
#define SYNCSTREAM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ss_kind {
    SS_KIND_LINE = 0,
    SS_KIND_WARNING = 1,
    SS_KIND_ERROR = 2,
} ss_kind;

enum {
    /* The line was longer than the assembler's maximum: this record holds one piece
     * of it and the next record from the same source continues it. */
    SS_REC_CONTINUED = 1u << 0,
    /* Not a stored record but the current partial (unterminated) line, shown as the
     * newest item of a full read. Its seq is 0. */
    SS_REC_PARTIAL = 1u << 1,
    /* The producer's stream was stderr (or an equivalent error channel). */
    SS_REC_STDERR = 1u << 2,
    /* The record reports the end of a producer (a child process, a job): its
     * exit status or signal (see proc.h). */
    SS_REC_EXIT = 1u << 3,
    /* The line ended in a lone "\r" (SS_LINE_CR_REDRAW): the next record from
     * the same source and stream draws over it, as on a terminal. */
    SS_REC_REDRAW = 1u << 4,
};

/* Line assembly options (the line_flags of ss_linebuf_opts, ss_filebuf_opts and
 * the other modes' options). */
enum {
    SS_LINE_CR_IS_BREAK = 1u << 0, /* a lone "\r" ends the line, as sync-stream does */
    /* every break of Python's str.splitlines ends the line, as sync-stream's
     * server splits: "\r", "\v", "\f", "\x1c"-"\x1e", and U+0085, U+2028,
     * U+2029 in UTF-8 (implies SS_LINE_CR_IS_BREAK) */
    SS_LINE_SPLITLINES = 1u << 1,
    /* a lone "\r" ends the line as a redraw: the record, flagged
     * SS_REC_REDRAW, is drawn over by the next one from the same writer (a
     * progress bar's states, each kept instead of only the last); an empty one
     * is no record, "\r\n" is a plain break. Not with the two above. */
    SS_LINE_CR_REDRAW = 1u << 2,
};

/* What a full record store does with a new record. Both are counted in the
 * store's stats (shed). */
typedef enum ss_full_policy {
    SS_FULL_DROP_OLDEST = 0, /* rotate: the oldest record leaves (sync-stream's way) */
    SS_FULL_DROP_NEWEST = 1, /* refuse: the new record is dropped, the ring stays */
} ss_full_policy;

/* A source name holds at most this many bytes, terminator included; longer names
 * are cut. */
#define SS_SOURCE_MAX 32

typedef struct ss_record {
    uint64_t seq;    /* 1, 2, 3... per buffer; 0 for a partial line */
    int64_t time_ns; /* CLOCK_REALTIME when the record was completed */
    ss_kind kind;
    uint32_t flags; /* SS_REC_* bits */
    /* Which producer of its buffer wrote it, so that a reader need not parse
     * the source name: an ss_writer's id (ss_writer_id(), 1, 2...), a process
     * buffer's child id + 1 (its output, its mirror's records and its exit
     * record alike, see proc.h); 0 for the buffer's default writer and where
     * no id is known: file mode (a log shared by processes has no common
     * numbering), records read from a host server (the wire does not carry
     * it), a ring file's partial line. */
    uint32_t producer;
    char source[SS_SOURCE_MAX]; /* NUL-terminated producer name, may be empty */
    const char *text;           /* len bytes, followed by a NUL not counted in len */
    size_t len;
} ss_record;

/*
 * A set of records returned by a read. All pointers inside stay valid until
 * ss_records_clear(). Initialize with SS_RECORDS_INIT (or zero it) before its
 * first use; a set may be reused for several reads, each read clears it first.
 */
typedef struct ss_records {
    ss_record *items; /* oldest first */
    size_t count;
    /* Cursor reads: how many records newer than the cursor had already been
     * rotated out (or cleared) before this read; they are lost to this reader. */
    uint64_t missed;
    /* Cursor reads: the cursor to pass to the next read (the seq of the newest
     * record returned, or the cursor given when none was returned). */
    uint64_t cursor;
    void *mem_; /* private */
} ss_records;

#define SS_RECORDS_INIT {0}

/*
 * ss_records_clear - free the memory held by a set and reset it to empty.
 *
 * Not thread-safe for the same set. Accepts NULL.
 */
void ss_records_clear(ss_records *set);

/*
 * ss_kind_name - "line", "warning" or "error"; "unknown" for another value.
 */
const char *ss_kind_name(ss_kind kind);

#ifdef __cplusplus
}
#endif

#endif
