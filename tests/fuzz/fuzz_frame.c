/*
 * Fuzz target for the mirror frame parser (src/lib/proc/frame.c): whatever
 * bytes a child sends, parsing never reads out of bounds, never accepts a frame
 * longer than its input or its cap, and a frame it accepts encodes back to the
 * same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream.h>

#include "proc/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const size_t max_payload = 1024;
    size_t off = 0;
    while (off < size) {
        /* a copy of exactly the rest, so that ASan sees any over-read */
        char *rest = malloc(size - off);
        if (!rest)
            abort();
        memcpy(rest, data + off, size - off);
        ss__frame f;
        size_t used = 0;
        int rc = ss__frame_parse(rest, size - off, max_payload, &f, &used);
        if (rc == 1) {
            if (used > size - off || f.len > max_payload || used != SS__FRAME_HDR + f.len)
                abort();
            ss__buf out;
            ss__buf_init(&out, SS__FRAME_HDR + max_payload);
            if (ss__frame_encode(&out, &f) < 0 || out.len != used ||
                memcmp(out.data, rest, used) != 0)
                abort();
            ss__buf_free(&out);
            off += used;
        }
        free(rest);
        if (rc != 1)
            break;
    }
    return 0;
}
