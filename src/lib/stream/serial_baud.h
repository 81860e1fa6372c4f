/* Any baud rate through termios2 (serial_baud.c), apart from serial.h: the
 * kernel's <asm/termbits.h> and glibc's <termios.h> cannot meet in one file. */
#ifndef SS_STREAM_SERIAL_BAUD_H
#define SS_STREAM_SERIAL_BAUD_H

/* Set fd's input and output rate to any baud (termios2, BOTHER; the driver
 * makes the nearest rate it can), or read the output rate back. Return 0 or
 * a negative errno from the ioctl. */
int ss__serial_set_any_baud(int fd, unsigned baud);
int ss__serial_get_baud(int fd, unsigned *ret);

#endif
