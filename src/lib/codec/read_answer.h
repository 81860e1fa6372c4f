/*
 * codec/read_answer.h: the client's decoding of a host server's read answers
 * (PROTOCOL.md, docs/host-protocol.md):
 *
 *  - GET ROUTE[?n=N]:  {"message": "success", "data": [ITEM, ...]}
 *  - GET ROUTE?since=S (HOST-EXT): {"message": ..., "data": [ITEM, ...],
 *        "records": [RECORD, ...], "next": N, "missed": M[, "epoch": E]}
 *
 * A scanner built for the shape servers write (no tree, no allocation per
 * record) decodes the answer; whatever it does not take (an unknown or repeated
 * member, a number that is not a plain integer, a surrogate escape, invalid
 * JSON...) is decoded again by jansson, which accepts every valid answer and
 * says what is wrong with an invalid one. Both give the same result on every
 * answer the scanner takes (tests/fuzz/fuzz_read_answer.c checks this).
 *
 * No I/O, no global state: thread-safe.
 */
#ifndef SS_CODEC_READ_ANSWER_H
#define SS_CODEC_READ_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <syncstream/record.h>

/* How a read is decoded: the scanner first (SS__ANSWER_FAST), or jansson only
 * (SS__ANSWER_JANSSON: the reference the fuzz target compares with). */
typedef enum ss__answer_mode {
    SS__ANSWER_FAST = 0,
    SS__ANSWER_JANSSON = 1,
} ss__answer_mode;

/* A cursor read's numbers: next cursor, records missed, the server's epoch (0
 * when the answer has none). */
typedef struct ss__since_answer {
    uint64_t next, missed, epoch;
} ss__since_answer;

/*
 * ss__read_answer_decode - the ITEMs of a GET ROUTE answer (body, len bytes)
 * into *ret (cleared then filled; seq, time and source zero: the base protocol
 * has none). Returns the number of items, -EPROTO with why (why_size bytes)
 * saying what is wrong, or -ENOMEM; *ret is untouched on failure.
 */
int ss__read_answer_decode(const char *body, size_t len, ss__answer_mode mode, ss_records *ret,
                           char *why, size_t why_size);

/*
 * ss__since_answer_decode - the record objects of a cursor read's answer into
 * *ret (cleared then filled) and its numbers into *ans; the "data" ITEMs are
 * only checked. Returns as ss__read_answer_decode.
 */
int ss__since_answer_decode(const char *body, size_t len, ss__answer_mode mode, ss_records *ret,
                            ss__since_answer *ans, char *why, size_t why_size);

#endif
