/* The serial transport's settings, apart from any port so they can be tested
 * whole (a pseudo-terminal keeps only some of them). */
#ifndef SS_STREAM_SERIAL_H
#define SS_STREAM_SERIAL_H

#include <termios.h>

#include <syncstream/transport.h>

/* Make tio raw with o's settings (every field given, none 0). Returns 0 or
 * -EINVAL for an unsupported rate, size, parity or stop bits. */
int ss__serial_termios(struct termios *tio, const ss_serial_opts *o);

#endif
