/*
 * Building ss_records sets: one allocation holds the items and a copy of every
 * text (each followed by a NUL), so ss_records_clear() is a single free.
 */
#ifndef SS_UTIL_RECORDS_H
#define SS_UTIL_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include <syncstream/record.h>

typedef struct ss__records_builder {
    ss_records *set;
    char *text_at; /* where the next text copy goes */
} ss__records_builder;

/* Clear set and reserve room for count records holding text_bytes of text in
 * all. Returns 0 or -ENOMEM (set left empty). */
int ss__records_begin(ss__records_builder *b, ss_records *set, size_t count, size_t text_bytes);

/* Append one record; at most count of them, text within the reserved total.
 * source points to SS_SOURCE_MAX bytes. */
void ss__records_add(ss__records_builder *b, uint64_t seq, int64_t time_ns, ss_kind kind,
                     uint32_t flags, uint32_t producer, const char *source, const char *text,
                     size_t len);

/* Copy a source name into dst (SS_SOURCE_MAX bytes), cut and NUL-terminated;
 * NULL is the empty name. */
void ss__source_copy(char *dst, const char *src);

#endif
