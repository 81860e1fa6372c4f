#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/records.h"

void ss_records_clear(ss_records *set)
{
    if (!set)
        return;
    free(set->mem_);
    memset(set, 0, sizeof(*set));
}

const char *ss_kind_name(ss_kind kind)
{
    switch (kind) {
    case SS_KIND_LINE:
        return "line";
    case SS_KIND_WARNING:
        return "warning";
    case SS_KIND_ERROR:
        return "error";
    }
    return "unknown";
}

void ss__source_copy(char *dst, const char *src)
{
    size_t n = src ? strnlen(src, SS_SOURCE_MAX - 1) : 0;
    memcpy(dst, src ? src : "", n);
    memset(dst + n, 0, SS_SOURCE_MAX - n);
}

int ss__records_begin(ss__records_builder *b, ss_records *set, size_t count, size_t text_bytes)
{
    ss_records_clear(set);
    b->set = set;
    b->text_at = NULL;
    if (count == 0)
        return 0;
    /* One NUL after every text, so a caller may treat a text as a C string. */
    set->mem_ = malloc(count * sizeof(ss_record) + text_bytes + count);
    if (!set->mem_)
        return -ENOMEM;
    set->items = set->mem_;
    b->text_at = (char *)(set->items + count);
    return 0;
}

void ss__records_add(ss__records_builder *b, uint64_t seq, int64_t time_ns, ss_kind kind,
                     uint32_t flags, uint32_t producer, const char *source, const char *text,
                     size_t len)
{
    ss_record *r = &b->set->items[b->set->count++];
    r->seq = seq;
    r->time_ns = time_ns;
    r->kind = kind;
    r->flags = flags;
    r->producer = producer;
    /* sources are stored NUL-padded to SS_SOURCE_MAX: one fixed copy, then a
     * terminator in case a damaged file's name filled all of it */
    memcpy(r->source, source, SS_SOURCE_MAX);
    r->source[SS_SOURCE_MAX - 1] = '\0';
    if (len)
        memcpy(b->text_at, text, len);
    b->text_at[len] = '\0';
    r->text = b->text_at;
    r->len = len;
    b->text_at += len + 1;
}
