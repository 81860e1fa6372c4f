/*
 * Fuzz target for the telnet codec (src/lib/stream/telnet.c), the parser of
 * what a telnet or RFC 2217 server sends: whatever the bytes, and wherever
 * they are cut between two reads, decoding never writes past its input's
 * length, keeps a subnegotiation within SS__TELNET_SB_MAX, queues at most
 * SS__TELNET_OUT_MAX bytes of answers, and decodes the same data as one feed
 * would; the data encoded again decodes to itself under BINARY (byte-exact
 * both ways).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/rfc2217.h"
#include "stream/telnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_sb(void *ctx, uint8_t opt, const uint8_t *d, size_t len)
{
    (void)ctx;
    if (len > SS__TELNET_SB_MAX)
        abort();
    ss__rfc2217_set a;
    if (opt == SS__TELNET_COMPORT && ss__rfc2217_answer(d, len, &a) &&
        (a.cmd < SS__RFC2217_BAUD || a.cmd > SS__RFC2217_CONTROL))
        abort();
}

/* Decode in[0, n) in two feeds cut at cut, into out. Returns the data length,
 * or -1 after a decoding error. */
static ssize_t decode(ss__telnet *t, const uint8_t *in, size_t n, size_t cut, uint8_t *out)
{
    ssize_t a = ss__telnet_decode(t, in, cut, out);
    if (a < 0)
        return -1;
    if ((size_t)a > cut)
        abort();
    ssize_t b = ss__telnet_decode(t, in + cut, n - cut, out + a);
    if (b < 0)
        return -1;
    if ((size_t)b > n - cut)
        abort();
    if (t->out.len > SS__TELNET_OUT_MAX)
        abort();
    return a + b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool comport = data[0] & 1;
    size_t cut = size > 1 ? data[0] % size : 0;
    data++;
    size--;
    if (cut > size)
        cut = size;
    uint8_t *one = malloc(size + 1), *two = malloc(size + 1);
    ss__telnet t1, t2;
    if (!one || !two || ss__telnet_init(&t1, comport, on_sb, NULL) < 0 ||
        ss__telnet_init(&t2, comport, on_sb, NULL) < 0)
        abort();
    ssize_t n1 = decode(&t1, data, size, size, one);
    ssize_t n2 = decode(&t2, data, size, cut, two);
    if (n1 != n2 || (n1 > 0 && memcmp(one, two, (size_t)n1) != 0))
        abort();
    if (n1 > 0) {
        /* what came out, sent back to a codec the peer sends BINARY to */
        ss__telnet tx, rx;
        if (ss__telnet_init(&tx, false, NULL, NULL) < 0 ||
            ss__telnet_init(&rx, false, NULL, NULL) < 0)
            abort();
        static const uint8_t bin[] = {255, 251, 0};
        uint8_t sink[sizeof(bin)];
        if (ss__telnet_decode(&rx, bin, sizeof(bin), sink) != 0)
            abort();
        uint8_t *wire = malloc(2 * (size_t)n1), *back = malloc((size_t)n1 * 2);
        size_t used;
        if (!wire || !back)
            abort();
        size_t len = ss__telnet_encode(&tx, one, (size_t)n1, wire, 2 * (size_t)n1, &used);
        if (used != (size_t)n1 || len > 2 * (size_t)n1)
            abort();
        ssize_t nb = ss__telnet_decode(&rx, wire, len, back);
        if (nb != n1 || memcmp(back, one, (size_t)n1) != 0)
            abort();
        free(wire);
        free(back);
        ss__telnet_free(&tx);
        ss__telnet_free(&rx);
    }
    ss__telnet_free(&t1);
    ss__telnet_free(&t2);
    free(one);
    free(two);
    return 0;
}
