/*
 * RFC 2217's COM-PORT-OPTION: a serial port's settings and modem lines set
 * through a telnet subnegotiation (option 44), as ser2net serves them. The
 * messages only: no I/O (telnet_transport.c sends them and waits for the
 * answers).
 */
#ifndef SS_STREAM_RFC2217_H
#define SS_STREAM_RFC2217_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <syncstream/transport.h>

#include "stream/telnet.h"

/* The client's commands; the server answers a command with it + 100 and the
 * value it has now set. */
enum {
    SS__RFC2217_BAUD = 1,     /* 4 bytes, network order */
    SS__RFC2217_DATASIZE = 2, /* 5 to 8 */
    SS__RFC2217_PARITY = 3,   /* 1 none, 2 odd, 3 even */
    SS__RFC2217_STOPSIZE = 4, /* 1, 2 (3: 1.5) */
    SS__RFC2217_CONTROL = 5,  /* the values below */
};

/* SS__RFC2217_CONTROL's values. */
enum {
    SS__RFC2217_FLOW_NONE = 1,
    SS__RFC2217_FLOW_XONXOFF = 2,
    SS__RFC2217_FLOW_HARDWARE = 3,
    SS__RFC2217_BREAK_ON = 5,
    SS__RFC2217_BREAK_OFF = 6,
    SS__RFC2217_DTR_ON = 8,
    SS__RFC2217_DTR_OFF = 9,
    SS__RFC2217_RTS_ON = 11,
    SS__RFC2217_RTS_OFF = 12,
};

/* One setting to make. */
typedef struct ss__rfc2217_set {
    uint8_t cmd;
    uint32_t value;
} ss__rfc2217_set;

/* The most settings a URI makes: baud, data size, parity, stop size, flow. */
#define SS__RFC2217_MAX_SETS 5

/* The settings to ask the server for: those of o that a URI gave (given holds
 * SS__URI_SET_* bits), in ret (SS__RFC2217_MAX_SETS room). Flow control is
 * one setting: rtscts=1 is hardware, xonxoff=1 XON/XOFF, either given as 0
 * (and none as 1) none. Returns the count, or -EINVAL for both flow controls
 * at once (RFC 2217 sets one). */
int ss__rfc2217_settings(const ss_serial_opts *o, unsigned given, ss__rfc2217_set *ret);

/* Queue the request for s in t's output. Returns 0 or as ss__telnet_send_sb(). */
int ss__rfc2217_send(ss__telnet *t, const ss__rfc2217_set *s);

/* The server's subnegotiation data (after IAC SB 44) as an answer to one of our
 * commands: true with *ret (cmd our command, value what the server set) for a
 * well-formed answer to SS__RFC2217_BAUD..SS__RFC2217_CONTROL; false for
 * anything else (a notification of the line or modem state, a signature, a
 * short or long message). */
bool ss__rfc2217_answer(const uint8_t *data, size_t len, ss__rfc2217_set *ret);

/* The control value that sets line (SS_LINE_*) on or off, or 0 for another. */
uint8_t ss__rfc2217_line(int line, bool on);

#endif
