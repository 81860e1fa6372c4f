/*
 * Fuzz target for the host server's request decoder (src/lib/host/request.c):
 * whatever body a client POSTs, decoding never reads out of bounds, either
 * accepts a batch whose every item's text lies inside the decoded text, or
 * refuses with a message and an empty batch. Every body the fast path (for
 * batches of plain text items) accepts decodes to exactly the same batch with
 * jansson. Query integers (n, since, limit, wait, Last-Event-ID) go through the
 * same parser a first line picks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream.h>

#include "host/json_prepare.h"
#include "host/request.h"
#include "host/server_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact copy, so that ASan sees any over-read */
    char *body = malloc(size ? size : 1);
    if (!body)
        abort();
    memcpy(body, data, size);

    ss__host_batch b;
    char why[300];
    ss__host_batch_init(&b, 4096);
    why[0] = '\0';
    /* as the server does: the pre-scan (which may rewrite lone surrogates),
     * then the decoder */
    int rc = ss__host_json_prepare(body, size, why, sizeof(why));
    if (rc < 0 && why[0] == '\0')
        abort();
    if (rc == 0)
        rc = ss__host_batch_decode(&b, body, size, why, sizeof(why));
    if (rc == 0) {
        if (b.count == 0 || b.count > SS__HOST_BATCH_MAX)
            abort();
        size_t at = 0;
        for (size_t i = 0; i < b.count; i++) {
            if (b.items[i].off != at || b.items[i].len > b.text.len - at)
                abort();
            at += b.items[i].len;
        }
        if (at != b.text.len || (b.mirror[0] && b.number < 1))
            abort();
    } else if (rc == -EINVAL) {
        if (why[0] == '\0' || b.count != 0 || b.text.len != 0)
            abort();
    } else if (rc != -ENOBUFS && rc != -ENOMEM) {
        abort();
    }
    ss__host_batch_free(&b);

    /* differential: the fast path against jansson */
    ss__host_batch fast, slow;
    ss__host_batch_init(&fast, 4096);
    ss__host_batch_init(&slow, 4096);
    if (ss__host_batch_decode_fast(&fast, body, size) == 1) {
        if (ss__host_batch_decode_json(&slow, body, size, why, sizeof(why)) != 0)
            abort();
        if (strcmp(fast.mirror, slow.mirror) != 0 || fast.number != slow.number ||
            fast.has_source != slow.has_source ||
            memcmp(fast.source, slow.source, SS_SOURCE_MAX) != 0 || fast.count != slow.count ||
            fast.text.len != slow.text.len ||
            (fast.text.len && memcmp(fast.text.data, slow.text.data, fast.text.len) != 0))
            abort();
        for (size_t i = 0; i < fast.count; i++)
            if (fast.items[i].op != slow.items[i].op || fast.items[i].kind != slow.items[i].kind ||
                fast.items[i].off != slow.items[i].off || fast.items[i].len != slow.items[i].len)
                abort();
    }
    ss__host_batch_free(&fast);
    ss__host_batch_free(&slow);

    /* the integer parser on the text up to the first newline */
    char line[64];
    size_t n = 0;
    while (n < size && n < sizeof(line) - 1 && data[n] != '\n')
        n++;
    memcpy(line, data, n);
    line[n] = '\0';
    int64_t v;
    if (ss__host_parse_int(line, -1000, 1000, &v) == 0 && (v < -1000 || v > 1000))
        abort();
    free(body);
    return 0;
}
