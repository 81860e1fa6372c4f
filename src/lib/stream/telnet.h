/*
 * The telnet protocol (RFC 854, 855; option states after RFC 1143's Q method,
 * without its queue): a codec that does no I/O, fed with what the peer sent,
 * handing back the data bytes and queueing its own answers, so that it can be
 * tested and fuzzed on its own (tests/fuzz/fuzz_telnet.c). The transport in
 * telnet_transport.c moves the bytes.
 *
 * Received: IAC IAC is a data byte 255; IAC WILL/WONT/DO/DONT get the answers
 * below; IAC SB OPT ... IAC SE is handed whole to the on_sb callback (up to
 * SS__TELNET_SB_MAX bytes; a longer one is dropped whole and counted); every
 * other command (NOP, GA, AYT...) is dropped. While the peer has not agreed to
 * send BINARY, a NUL after a CR is dropped (the NVT's "CR NUL" is a bare CR).
 *
 * Sent: a data byte 255 goes as IAC IAC, and every other byte as it is, also a
 * CR before BINARY is agreed: RFC 854 wants CR NUL there, but ser2net and the
 * device servers like it pass the NUL on to the device, and our requests for
 * BINARY are the first bytes sent, so a compliant server is in BINARY by the
 * time it reads the data.
 *
 * Options: we offer and accept BINARY and SUPPRESS-GO-AHEAD both ways, accept
 * the peer's ECHO, and with comport set offer COM-PORT-OPTION (RFC 2217); any
 * other option is refused (WONT, DONT). A request for a state the option is
 * already in gets no answer, so two sides never loop.
 *
 * Not thread-safe: its owner serializes calls.
 */
#ifndef SS_STREAM_TELNET_H
#define SS_STREAM_TELNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/buf.h"

enum {
    SS__TELNET_IAC = 255,
    SS__TELNET_DONT = 254,
    SS__TELNET_DO = 253,
    SS__TELNET_WONT = 252,
    SS__TELNET_WILL = 251,
    SS__TELNET_SB = 250,
    SS__TELNET_SE = 240,
};

/* Options. */
enum {
    SS__TELNET_BINARY = 0,
    SS__TELNET_ECHO = 1,
    SS__TELNET_SGA = 3,
    SS__TELNET_COMPORT = 44,
};

/* The longest subnegotiation kept (its bytes after IAC SB OPT): RFC 2217's are
 * at most 5 bytes, apart from a signature text. */
#define SS__TELNET_SB_MAX 256

/* The most our answers may pile up unsent before decoding fails: a peer that
 * floods requests and never reads is stopped here. */
#define SS__TELNET_OUT_MAX (64u * 1024u)

/* An option's state on one side. */
typedef enum ss__telnet_state {
    SS__TELNET_NO = 0,
    SS__TELNET_YES = 1,
    SS__TELNET_WANTYES = 2, /* we asked, no answer yet */
    SS__TELNET_WANTNO = 3,  /* we asked to stop, no answer yet */
} ss__telnet_state;

/* A complete subnegotiation: option opt, its len bytes (IAC IAC undone). */
typedef void (*ss__telnet_sb_fn)(void *ctx, uint8_t opt, const uint8_t *data, size_t len);

typedef struct ss__telnet {
    ss__buf out;      /* our answers and requests, to send before any new data */
    bool comport;     /* offer COM-PORT-OPTION */
    uint8_t us[256];  /* the options' state on our side (WILL) */
    uint8_t him[256]; /* on the peer's side (DO) */
    ss__telnet_sb_fn on_sb;
    void *ctx;

    /* the receiver */
    uint8_t rstate;
    uint8_t cmd;  /* WILL/WONT/DO/DONT waiting for its option */
    bool cr;      /* the last data byte was a CR (non-binary: a NUL may follow) */
    bool sb_over; /* the subnegotiation outgrew sb: dropped at its end */
    uint8_t sb_opt;
    size_t sb_len;
    uint8_t sb[SS__TELNET_SB_MAX];
    uint64_t sb_dropped; /* subnegotiations dropped as too long */
    int err;             /* an answer could not be queued: decoding stops */
} ss__telnet;

/* Start a codec; on_sb (may be NULL) gets the subnegotiations. Queues our
 * opening requests in t->out: WILL and DO BINARY and SGA, WILL COM-PORT-OPTION
 * with comport. Returns 0 or -ENOMEM. */
int ss__telnet_init(ss__telnet *t, bool comport, ss__telnet_sb_fn on_sb, void *ctx);

void ss__telnet_free(ss__telnet *t);

/* Decode n received bytes from in: the data bytes go to out (at most n of
 * them; out may be in, decoding in place). Answers are queued in t->out.
 * Returns the count of data bytes, or -ENOBUFS when t->out holds more than
 * SS__TELNET_OUT_MAX bytes (the peer does not read our answers), -ENOMEM. */
ssize_t ss__telnet_decode(ss__telnet *t, const uint8_t *in, size_t n, uint8_t *out);

/* Encode data for sending into out (size bytes, at least 2): IAC doubled.
 * Takes as much of in as fits (never half of an IAC IAC) and sets *ret_used
 * to the count taken. Returns the bytes written to out. */
size_t ss__telnet_encode(ss__telnet *t, const uint8_t *in, size_t n, uint8_t *out, size_t size,
                         size_t *ret_used);

/* Queue IAC SB opt data IAC SE in t->out (the data's IACs doubled). Returns 0,
 * -ENOBUFS (over SS__TELNET_OUT_MAX) or -ENOMEM. */
int ss__telnet_send_sb(ss__telnet *t, uint8_t opt, const uint8_t *data, size_t len);

#endif
