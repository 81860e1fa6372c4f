/*
 * The line assembler: the one place where bytes become lines, for every mode.
 *
 * Bytes are fed in; every completed line is handed to an emit callback; the
 * unterminated rest stays as the partial line, at most max_line bytes.
 *
 *  - "\n" ends a line; "\r\n" ends it once (also when split across two feeds).
 *  - A lone "\r" moves the cursor back to column 0 as on a terminal: following
 *    bytes overwrite the partial line from its start, so a progress bar that
 *    redraws itself leaves one line holding its latest state. As on a terminal,
 *    a shorter redraw leaves the old tail: "100%\r50%\n" gives "50%%". With
 *    SS_LINE_CR_IS_BREAK a lone "\r" ends the line instead (sync-stream's way).
 *    With SS_LINE_CR_REDRAW it ends the line too, flagged SS_REC_REDRAW (the
 *    next record draws over it), unless empty; a "\r" that ends a feed waits
 *    for the next byte (or flush), so that a split "\r\n" is one plain break.
 *  - With SS_LINE_SPLITLINES every break of Python's str.splitlines ends the line,
 *    as sync-stream's host server splits: "\r" too, and "\v", "\f", "\x1c",
 *    "\x1d", "\x1e" and U+0085, U+2028, U+2029 in UTF-8. Up to two bytes that may
 *    begin one of the multi-byte breaks wait outside the partial line until the
 *    next feed (or flush) decides; a split break is found like a whole one.
 *  - A line longer than max_line is cut: each full max_line piece is emitted with
 *    SS_REC_CONTINUED and the next piece continues it. Nothing is dropped.
 *
 * The assembler does no I/O and no locking; its owner serializes calls.
 */
#ifndef SS_UTIL_LINEASM_H
#define SS_UTIL_LINEASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Receives one completed line (without its break). flags holds SS_REC_CONTINUED
 * for a cut piece. text is only valid during the call. A negative return stops
 * the feed and is returned by it. */
typedef int (*ss__emit_fn)(void *ctx, const char *text, size_t len, uint32_t flags);

typedef struct ss__lineasm {
    char *part; /* the partial line, capacity max_line */
    size_t len; /* bytes in the partial line */
    size_t col; /* where the next byte goes: < len after a lone "\r" */
    size_t max_line;
    unsigned line_flags;
    bool cr_pending; /* SS_LINE_CR_IS_BREAK: the last byte was a "\r" */
    bool cr_held;    /* SS_LINE_CR_REDRAW: the last feed ended in a lone "\r",
                        not yet known to be one: the next byte decides */
    char hold[2];    /* SS_LINE_SPLITLINES: the start of a possible multi-byte
                        break at the end of the last feed, not yet in part */
    size_t held;
    bool owns_part;
} ss__lineasm;

/*
 * Prepare an assembler. storage, when not NULL, is caller-owned memory of
 * max_line bytes for the partial line (a ring file's, so that it survives a
 * crash); when NULL the assembler allocates its own. Returns 0 or -ENOMEM.
 */
int ss__lineasm_init(ss__lineasm *la, size_t max_line, unsigned line_flags, char *storage);

/* Release what init allocated. */
void ss__lineasm_done(ss__lineasm *la);

/* Split len bytes of data into lines. Returns 0 or the first negative emit result;
 * after an emit error the rest of data is not consumed. */
int ss__lineasm_feed(ss__lineasm *la, const char *data, size_t len, ss__emit_fn emit, void *ctx);

/* Whether feeding len bytes of data would surely complete no line (no byte that
 * may start a break, no cut, nothing held back from the last feed): then a feed
 * emits nothing, and its caller may skip what only a completed line needs. */
bool ss__lineasm_plain(const ss__lineasm *la, const char *data, size_t len);

/* End the partial line if it is not empty (sync-stream's new_line). */
int ss__lineasm_flush(ss__lineasm *la, ss__emit_fn emit, void *ctx);

/* Forget the partial line. */
void ss__lineasm_reset(ss__lineasm *la);

/* The length of text without its trailing line breaks: a grouped record is
 * stored without them, wherever it is made. */
size_t ss__trim_breaks(const char *text, size_t len);

#endif
