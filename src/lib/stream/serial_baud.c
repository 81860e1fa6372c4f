/*
 * Any baud rate on Linux: termios2 with BOTHER, which takes the rate as a
 * number (250000 for a 3D printer, 74880 for an ESP8266's boot messages)
 * where termios's speed_t knows only the standard B* rates. A file of its
 * own: <asm/termbits.h> and glibc's <termios.h> cannot be included together.
 */
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <errno.h>
#include <sys/ioctl.h>

#include "stream/serial_baud.h"

int ss__serial_set_any_baud(int fd, unsigned baud)
{
    struct termios2 t;
    if (ioctl(fd, TCGETS2, &t) < 0)
        return -errno;
    t.c_cflag &= ~(tcflag_t)(CBAUD | (CBAUD << IBSHIFT));
    t.c_cflag |= BOTHER | (BOTHER << IBSHIFT);
    t.c_ispeed = baud;
    t.c_ospeed = baud;
    return ioctl(fd, TCSETS2, &t) < 0 ? -errno : 0;
}

int ss__serial_get_baud(int fd, unsigned *ret)
{
    struct termios2 t;
    if (ioctl(fd, TCGETS2, &t) < 0)
        return -errno;
    *ret = t.c_ospeed;
    return 0;
}
