/* The serial transport's settings, apart from any port so they can be tested
 * whole (a pseudo-terminal keeps only some of them). */
#ifndef SS_STREAM_SERIAL_H
#define SS_STREAM_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

#include <syncstream/transport.h>

/* Make tio raw with o's settings (every field given, none 0). Returns 0 or
 * -EINVAL for an unsupported rate, size, parity or stop bits. */
int ss__serial_termios(struct termios *tio, const ss_serial_opts *o);

/* True when baud is one of the standard rates the port can be set to. */
bool ss__serial_baud_ok(unsigned baud);

/* Those rates, space-separated, into buf (cut to size bytes, NUL-terminated),
 * for a message saying what is allowed. */
void ss__serial_rates_text(char *buf, size_t size);

#endif
