/* The serial transport's settings, apart from any port so they can be tested
 * whole (a pseudo-terminal keeps only some of them). */
#ifndef SS_STREAM_SERIAL_H
#define SS_STREAM_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

#include <syncstream/transport.h>

#include "stream/serial_baud.h"

/* The highest rate a port is asked for: beyond any UART made. */
#define SS__SERIAL_MAX_BAUD 100000000u

/* Make tio raw with o's settings (every field given, none 0). A rate that is
 * not a standard one (a B* constant) leaves tio at 38400: the port is then set
 * to it by ss__serial_set_any_baud(), and *ret_other (may be NULL) says so.
 * Returns 0 or -EINVAL for a rate, size, parity or stop bits out of range. */
int ss__serial_termios(struct termios *tio, const ss_serial_opts *o, bool *ret_other);

/* True when the port can be asked for baud: 1 to SS__SERIAL_MAX_BAUD. */
bool ss__serial_baud_ok(unsigned baud);

#endif
