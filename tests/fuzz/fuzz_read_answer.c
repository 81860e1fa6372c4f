/*
 * Fuzz target for the reader's decoding of read answers (codec/read_answer.h).
 *
 * The first byte chooses the answer: even a GET ROUTE answer, odd a cursor
 * read's. Checked on every input: the scanner's decode (with its jansson
 * fallback) gives exactly what jansson alone gives: the same result, the same
 * records (kind, flags, seq, time, source, text) and numbers, or the same
 * refusal; a text is NUL-terminated at its length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/read_answer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const ss_records *a, const ss_records *b)
{
    if (a->count != b->count)
        abort();
    for (size_t i = 0; i < a->count; i++) {
        const ss_record *x = &a->items[i], *y = &b->items[i];
        if (x->seq != y->seq || x->time_ns != y->time_ns || x->kind != y->kind ||
            x->flags != y->flags || memcmp(x->source, y->source, SS_SOURCE_MAX) != 0 ||
            x->len != y->len || memcmp(x->text, y->text, x->len) != 0 || x->text[x->len] != '\0')
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool since = data[0] & 1;
    const char *body = (const char *)data + 1;
    size--;
    ss_records fast = SS_RECORDS_INIT, slow = SS_RECORDS_INIT;
    ss__since_answer fa = {0}, sa = {0};
    char why_fast[256], why_slow[256];
    int a, b;
    if (since) {
        a = ss__since_answer_decode(body, size, SS__ANSWER_FAST, &fast, &fa, why_fast,
                                    sizeof(why_fast));
        b = ss__since_answer_decode(body, size, SS__ANSWER_JANSSON, &slow, &sa, why_slow,
                                    sizeof(why_slow));
    } else {
        a = ss__read_answer_decode(body, size, SS__ANSWER_FAST, &fast, why_fast, sizeof(why_fast));
        b = ss__read_answer_decode(body, size, SS__ANSWER_JANSSON, &slow, why_slow,
                                   sizeof(why_slow));
    }
    if (a != b ||
        (a >= 0 && (fa.next != sa.next || fa.missed != sa.missed || fa.epoch != sa.epoch)) ||
        (a < 0 && strcmp(why_fast, why_slow) != 0))
        abort();
    if (a >= 0)
        same(&fast, &slow);
    ss_records_clear(&fast);
    ss_records_clear(&slow);
    return 0;
}
