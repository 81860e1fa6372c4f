#include <errno.h>
#include <string.h>

#include <syncstream/common.h>

#include "proc/frame.h"

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int ss__frame_encode(ss__buf *out, const ss__frame *f)
{
    unsigned char hdr[SS__FRAME_HDR];
    hdr[0] = SS__FRAME_MAGIC;
    hdr[1] = f->type;
    hdr[2] = (unsigned char)f->kind;
    hdr[3] = (unsigned char)f->flags;
    put_le(hdr + 4, f->len, 4);
    put_le(hdr + 8, (uint64_t)f->time_ns, 8);
    size_t before = out->len;
    int rc = ss__buf_append(out, hdr, sizeof(hdr));
    if (rc == 0 && f->len)
        rc = ss__buf_append(out, f->text, f->len);
    if (rc < 0)
        out->len = before;
    return rc;
}

int ss__frame_parse(const char *data, size_t len, size_t max_payload, ss__frame *ret,
                    size_t *consumed)
{
    const unsigned char *p = (const unsigned char *)data;
    if (len >= 1 && p[0] != SS__FRAME_MAGIC)
        return SS_ECORRUPT;
    if (len < SS__FRAME_HDR)
        return 0;
    uint8_t type = p[1];
    if (type < SS__FRAME_RECORD || type > SS__FRAME_HELLO || p[2] > SS_KIND_ERROR ||
        (p[3] & ~(SS_REC_CONTINUED | SS_REC_STDERR | SS_REC_REDRAW)))
        return SS_ECORRUPT;
    uint64_t plen = get_le(p + 4, 4);
    if (plen > max_payload)
        return SS_ETOOBIG;
    if (len - SS__FRAME_HDR < plen)
        return 0;
    *ret = (ss__frame){
        .type = type,
        .kind = (ss_kind)p[2],
        .flags = p[3],
        .time_ns = (int64_t)get_le(p + 8, 8),
        .text = data + SS__FRAME_HDR,
        .len = (uint32_t)plen,
    };
    *consumed = SS__FRAME_HDR + (size_t)plen;
    return 1;
}
