/*
 * The mirror wire format: how a mirror child sends whole records to its parent.
 *
 * A frame is a 16-byte header and a payload:
 *   byte 0      'S' (a check that both ends speak this format)
 *   byte 1      type: RECORD, CLOSE (the mirror closed cleanly, or ended
 *               one use: ss_mirror_end), SOURCE (the payload renames the
 *               child's records) or HELLO (a connected mirror's first frame,
 *               its secret; the buffer's answer, max_line and line_flags as
 *               8 and 4 bytes little-endian, comes with the stop page's fd)
 *   byte 2      kind (ss_kind) of a RECORD
 *   byte 3      record flags (SS_REC_CONTINUED, SS_REC_STDERR, SS_REC_REDRAW)
 *   bytes 4-7   payload length, little-endian
 *   bytes 8-15  time_ns of a RECORD, little-endian
 * Each mirror has its own pipe or connection, so frames of different mirrors
 * never mix.
 * Encoding and parsing do no I/O.
 */
#ifndef SS_PROC_FRAME_H
#define SS_PROC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <syncstream/record.h>

#include "util/buf.h"

#define SS__FRAME_HDR 16
#define SS__FRAME_MAGIC 'S'

enum ss__frame_type {
    SS__FRAME_RECORD = 1,
    SS__FRAME_CLOSE = 2,
    SS__FRAME_SOURCE = 3,
    SS__FRAME_HELLO = 4,
};

typedef struct ss__frame {
    uint8_t type;
    ss_kind kind;
    uint32_t flags;
    int64_t time_ns;
    const char *text; /* points into the parsed bytes */
    uint32_t len;
} ss__frame;

/* Append one frame to out. Returns 0, -ENOBUFS or -ENOMEM (out unchanged). */
int ss__frame_encode(ss__buf *out, const ss__frame *f);

/*
 * Parse the frame at the start of data. Returns 1 and sets *ret and *consumed
 * when a whole frame is there, 0 when more bytes are needed, SS_ECORRUPT for
 * bytes that are not a valid frame, SS_ETOOBIG for a payload over max_payload.
 */
int ss__frame_parse(const char *data, size_t len, size_t max_payload, ss__frame *ret,
                    size_t *consumed);

#endif
