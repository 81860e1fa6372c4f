/*
 * Fuzz target for the reader's Server-Sent Events parser (hostclient/sse.h)
 * and the record objects its events carry (codec/record_json.h).
 *
 * The first byte chooses the size of the pieces the rest is fed in (a network
 * splits a stream anywhere). Checked on every input: the events seen are the
 * same however the stream is split, an event's data never exceeds the bound,
 * a record event's data either decodes or is refused, without a crash, and an
 * event id parses only when it has the form of one (SEQ or EPOCH-SEQ).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec/record_json.h"
#include "hostclient/sse.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENT 512

/* Every event, flattened: type, id and data, each followed by a NUL. */
static int collect(void *ctx, const char *event, const char *id, const char *text, size_t len)
{
    ss__buf *log = ctx;
    if (len > MAX_EVENT)
        abort();
    if (strcmp(event, "record") == 0) {
        json_error_t jerr;
        json_t *j = json_loadb(text, len, 0, &jerr);
        ss_record rec;
        const char *why;
        if (j && ss__record_obj_decode(j, &rec, &why) == 0 && rec.len != strlen(rec.text) &&
            memchr(rec.text, '\0', rec.len) == NULL)
            abort(); /* a decoded text is NUL-terminated at its length */
        json_decref(j);
    }
    /* An id parses only as SEQ or EPOCH-SEQ: digits, at most one dash inside. */
    uint64_t epoch, seq;
    if (ss__sse_parse_id(id, &epoch, &seq) == 0) {
        size_t digits = strspn(id, "0123456789");
        if (digits == 0 || (id[digits] && (id[digits] != '-' || !id[digits + 1] ||
                                           id[digits + 1 + strspn(id + digits + 1, "0123456789")])))
            abort();
    }
    ss__buf_append(log, event, strlen(event) + 1);
    ss__buf_append(log, id, strlen(id) + 1);
    ss__buf_append(log, text, len + 1);
    return 0;
}

/* Feed the stream in pieces of `piece` bytes; returns the feed's result. */
static int run(const uint8_t *data, size_t size, size_t piece, ss__buf *log)
{
    ss__sse p;
    if (ss__sse_init(&p, MAX_EVENT, collect, log) < 0)
        abort();
    int rc = 0;
    for (size_t off = 0; off < size && rc == 0; off += piece) {
        size_t n = size - off < piece ? size - off : piece;
        rc = ss__sse_feed(&p, (const char *)data + off, n);
    }
    ss__sse_done(&p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t piece = (size_t)(data[0] % 16) + 1;
    data++;
    size--;
    ss__buf whole, split;
    ss__buf_init(&whole, SIZE_MAX);
    ss__buf_init(&split, SIZE_MAX);
    int a = run(data, size, size ? size : 1, &whole);
    int b = run(data, size, piece, &split);
    if (a != b || whole.len != split.len ||
        (whole.len && memcmp(whole.data, split.data, whole.len) != 0))
        abort();
    ss__buf_free(&whole);
    ss__buf_free(&split);
    return 0;
}
