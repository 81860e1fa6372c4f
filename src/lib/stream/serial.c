/*
 * The serial transport: a termios port in raw mode. When the device goes away
 * (a USB adapter pulled: a read gives EIO or end of file, a write EIO), the fd
 * is closed, a DOWN event is queued, and the same path is opened again every
 * reopen_ms through the transport's timer until it is back (an UP event).
 * Meanwhile there is nothing to watch: the stream's writes stay queued. Events
 * leave through next_event(), apart from the bytes: a full read buffer (which
 * stops read()) delays none of them and cuts none short.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <syncstream/common.h>
#include <syncstream/transport.h>

#include "stream/serial.h"

#define DEFAULT_BAUD 115200
#define DEFAULT_REOPEN_MS 200
/* Events not yet taken. The loop takes them at every service, so two (a DOWN
 * and its UP) is the most that ever wait; the oldest goes if more pile up. */
#define MAX_EVENTS 4

typedef struct serial_event {
    int chan; /* SS_CHAN_DOWN / SS_CHAN_UP */
    char text[160];
} serial_event;

typedef struct serial {
    char *path;
    ss_serial_opts o;
    int fd;              /* -1 while the device is away */
    int64_t next_try_ns; /* CLOCK_MONOTONIC: the next reopen attempt */
    int write_err;       /* a write found the device gone; the I/O thread closes it */
    serial_event events[MAX_EVENTS];
    size_t ev_head, ev_count;
} serial;

static const struct {
    unsigned rate;
    speed_t speed;
} rates[] = {
    {50, B50},           {75, B75},           {110, B110},         {134, B134},
    {150, B150},         {200, B200},         {300, B300},         {600, B600},
    {1200, B1200},       {1800, B1800},       {2400, B2400},       {4800, B4800},
    {9600, B9600},       {19200, B19200},     {38400, B38400},     {57600, B57600},
    {115200, B115200},   {230400, B230400},   {460800, B460800},   {500000, B500000},
    {576000, B576000},   {921600, B921600},   {1000000, B1000000}, {1152000, B1152000},
    {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000},
    {3500000, B3500000}, {4000000, B4000000},
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define NRATES (sizeof(rates) / sizeof(rates[0]))

bool ss__serial_baud_ok(unsigned baud)
{
    return baud >= 1 && baud <= SS__SERIAL_MAX_BAUD;
}

int ss__serial_termios(struct termios *tio, const ss_serial_opts *o, bool *ret_other)
{
    speed_t speed = B38400;
    bool known = false;
    for (size_t i = 0; i < NRATES; i++)
        if (rates[i].rate == o->baud) {
            speed = rates[i].speed;
            known = true;
        }
    if (ret_other)
        *ret_other = !known;
    if (!ss__serial_baud_ok(o->baud) || o->data_bits < 5 || o->data_bits > 8 || o->stop_bits < 1 ||
        o->stop_bits > 2 || (unsigned)o->parity > SS_PARITY_ODD)
        return -EINVAL;
    cfmakeraw(tio);
    static const tcflag_t sizes[] = {CS5, CS6, CS7, CS8};
    tio->c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
    tio->c_cflag |= CLOCAL | CREAD | sizes[o->data_bits - 5];
    if (o->parity != SS_PARITY_NONE)
        tio->c_cflag |= PARENB | (o->parity == SS_PARITY_ODD ? PARODD : 0);
    if (o->stop_bits == 2)
        tio->c_cflag |= CSTOPB;
    if (o->rtscts)
        tio->c_cflag |= CRTSCTS;
    tio->c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    if (o->xonxoff)
        tio->c_iflag |= IXON | IXOFF;
    tio->c_cc[VMIN] = 1;
    tio->c_cc[VTIME] = 0;
    if (cfsetispeed(tio, speed) < 0 || cfsetospeed(tio, speed) < 0)
        return -EINVAL;
    return 0;
}

static int configure(int fd, const serial *s)
{
    struct termios tio;
    bool other;
    if (tcgetattr(fd, &tio) < 0)
        return -errno;
    int rc = ss__serial_termios(&tio, &s->o, &other);
    if (rc < 0)
        return rc;
    if (tcsetattr(fd, TCSANOW, &tio) < 0)
        return -errno;
    return other ? ss__serial_set_any_baud(fd, s->o.baud) : 0;
}

/* Open and configure the port. Returns the fd or a negative errno. */
static int open_port(const serial *s)
{
    int fd = open(s->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = configure(fd, s);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

static void push_event(serial *s, int chan, const char *what, int err)
{
    if (s->ev_count == MAX_EVENTS) {
        s->ev_head = (s->ev_head + 1) % MAX_EVENTS;
        s->ev_count--;
    }
    serial_event *ev = &s->events[(s->ev_head + s->ev_count++) % MAX_EVENTS];
    ev->chan = chan;
    if (err)
        snprintf(ev->text, sizeof(ev->text), "serial %s %s (%s)", s->path, what, ss_strerror(err));
    else
        snprintf(ev->text, sizeof(ev->text), "serial %s %s", s->path, what);
}

/* The device is gone: close it and start trying to reopen it. */
static void went_away(serial *s, int err)
{
    close(s->fd);
    s->fd = -1;
    s->next_try_ns = mono_ns() + (int64_t)s->o.reopen_ms * 1000000;
    push_event(s, SS_CHAN_DOWN, "went away; reopening", err);
}

/* A write found the device gone: close it now, on the I/O thread. */
static void check_write_err(serial *s)
{
    if (s->write_err && s->fd >= 0) {
        went_away(s, s->write_err);
        s->write_err = 0;
    }
}

static int serial_fds(void *impl, ss_transport_fd *ret, size_t max)
{
    serial *s = impl;
    if (s->fd < 0 || max < 1)
        return 0;
    ret[0] = (ss_transport_fd){s->fd, SS_TRANSPORT_READ | SS_TRANSPORT_WRITE};
    return 1;
}

static ssize_t serial_read(void *impl, void *buf, size_t n, int *ret_chan)
{
    serial *s = impl;
    check_write_err(s);
    if (s->fd < 0)
        return -EAGAIN;
    ssize_t r = read(s->fd, buf, n);
    *ret_chan = SS_CHAN_OUT;
    if (r > 0)
        return r;
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return -EAGAIN;
    /* end of file (a hang-up) or an error: the device is gone */
    int err = r < 0 ? -errno : 0;
    if (s->o.reopen_ms < 0)
        return err ? err : -EIO;
    went_away(s, err);
    return -EAGAIN;
}

static int serial_next_event(void *impl, char *text, size_t size)
{
    serial *s = impl;
    check_write_err(s);
    if (s->ev_count == 0)
        return 0;
    serial_event *ev = &s->events[s->ev_head];
    s->ev_head = (s->ev_head + 1) % MAX_EVENTS;
    s->ev_count--;
    snprintf(text, size, "%s", ev->text);
    return ev->chan;
}

static ssize_t serial_write(void *impl, const void *buf, size_t n)
{
    serial *s = impl;
    if (s->fd < 0 || s->write_err)
        return -EAGAIN;
    ssize_t w = write(s->fd, buf, n);
    if (w >= 0)
        return w;
    if (errno == EAGAIN || errno == EINTR)
        return -EAGAIN;
    int err = -errno;
    if (s->o.reopen_ms < 0)
        return err;
    /* A write may run on a caller's thread, which must not close the fd (the
     * loop may still watch it): the next read, on the I/O thread, does. */
    s->write_err = err;
    return -EAGAIN;
}

static int serial_timeout(void *impl)
{
    serial *s = impl;
    if (s->fd >= 0)
        return -1;
    int64_t left = s->next_try_ns - mono_ns();
    return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

static int serial_tick(void *impl)
{
    serial *s = impl;
    if (s->fd >= 0)
        return 0;
    int fd = open_port(s);
    if (fd < 0) {
        s->next_try_ns = mono_ns() + (int64_t)s->o.reopen_ms * 1000000;
        return 0;
    }
    s->fd = fd;
    push_event(s, SS_CHAN_UP, "is back (reopened)", 0);
    return 0;
}

static int serial_set_line(void *impl, int line, bool on)
{
    serial *s = impl;
    if (s->fd < 0)
        return -ENOTCONN;
    int rc;
    if (line == SS_LINE_BREAK) {
        rc = ioctl(s->fd, on ? TIOCSBRK : TIOCCBRK);
    } else {
        int bit = line == SS_LINE_DTR ? TIOCM_DTR : TIOCM_RTS;
        rc = ioctl(s->fd, on ? TIOCMBIS : TIOCMBIC, &bit);
    }
    return rc < 0 ? -errno : 0;
}

static void serial_close(void *impl)
{
    serial *s = impl;
    if (s->fd >= 0)
        close(s->fd);
    free(s->path);
    free(s);
}

static const ss_transport_ops serial_ops = {
    .kind = "serial",
    .fds = serial_fds,
    .read = serial_read,
    .write = serial_write,
    .timeout_ms = serial_timeout,
    .tick = serial_tick,
    .close = serial_close,
    .next_event = serial_next_event,
    .set_line = serial_set_line,
};

int ss_transport_serial_open(ss_transport *ret, const char *path, const ss_serial_opts *opts)
{
    static const ss_serial_opts defaults = {0};
    if (!ret || !path || !path[0])
        return -EINVAL;
    ss_serial_opts o = opts ? *opts : defaults;
    if (!o.baud)
        o.baud = DEFAULT_BAUD;
    if (!o.data_bits)
        o.data_bits = 8;
    if (!o.stop_bits)
        o.stop_bits = 1;
    if (!o.reopen_ms)
        o.reopen_ms = DEFAULT_REOPEN_MS;
    struct termios check = {0};
    int rc = ss__serial_termios(&check, &o, NULL);
    if (rc < 0)
        return rc;
    serial *s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return -ENOMEM;
    }
    s->o = o;
    s->fd = open_port(s);
    if (s->fd < 0) {
        rc = s->fd;
        free(s->path);
        free(s);
        return rc;
    }
    *ret = (ss_transport){&serial_ops, s};
    return 0;
}
