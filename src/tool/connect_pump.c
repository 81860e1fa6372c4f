/*
 * connect_pump.c: `syncstream connect` without steps, a live session. The main
 * thread prints what the stream receives; an input thread sends standard
 * input. Interactive (stdin a terminal): the terminal is raw, so every key
 * goes to the device as typed, and the escape key (Ctrl-] unless --escape
 * says another) opens a one-key menu: q quits, ? lists the keys. Otherwise, when standard
 * input ends, the session waits for the stream to end, at most --timeout.
 * A session that the stream's end ended exits with the program's status.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <syncstream.h>

#include "connect.h"
#include "tool.h"

typedef struct input {
    ss_stream *s;
    bool interactive;
    unsigned maps; /* --map */
    int escape;    /* the escape key (a control character) */
    bool escaped;  /* the escape key was typed: the next key is a command */
    /* toggled by the input thread's menu, read by both threads */
    _Atomic bool echo;  /* show typed keys */
    _Atomic bool hex;   /* show received bytes as hex */
    _Atomic int stamps; /* CONNECT_TS_* of the lines shown */
    int stamps_given;   /* --timestamps, or ISO: what the menu turns on */
    int timeout_ms;
    connect_share *share; /* --share: the clients of the console, or NULL */
    int wake[2];          /* the main thread writes here when the session is over */
    /* written by the input thread before it closes the stream, read by the
     * main thread after it sees the close */
    bool quit;
    bool timed_out;
} input;

static bool woken(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n;
    while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    return n != 0;
}

static void write_all(int fd, const char *p, size_t n);

static void say(const char *what, bool on)
{
    fprintf(stderr, "\n" TOOL_NAME ": %s %s\n", what, on ? "on" : "off");
}

/* A line of the port set to first for ms milliseconds, then back: a BREAK
 * (on, then off), a DTR or RTS pulse (off, then on: many boards reset). */
static void pulse(input *in, int line, bool first, int ms, const char *what)
{
    /* what was typed before goes first */
    (void)ss_stream_flush(in->s, 1000, NULL);
    int rc = ss_stream_set_line(in->s, line, first);
    if (rc == 0) {
        nanosleep(&(struct timespec){.tv_nsec = ms * 1000000L}, NULL);
        rc = ss_stream_set_line(in->s, line, !first);
    }
    if (rc < 0)
        fprintf(stderr, "\n" TOOL_NAME ": cannot send %s: %s\n", what, ss_strerror(rc));
    else
        fprintf(stderr, "\n" TOOL_NAME ": %s sent\n", what);
}

/* The key typed after the escape key. Returns false to quit. */
static bool menu_key(input *in, char c, char *out, size_t *out_len)
{
    switch (c) {
    case 'q':
        return false;
    case 'e':
        in->echo = !in->echo;
        say("local echo", in->echo);
        break;
    case 'h':
        in->hex = !in->hex;
        say("hex view", in->hex);
        break;
    case 'b':
        pulse(in, SS_LINE_BREAK, true, 250, "a BREAK");
        break;
    case 'd':
        pulse(in, SS_LINE_DTR, false, 100, "a DTR pulse");
        break;
    case 'r':
        pulse(in, SS_LINE_RTS, false, 100, "an RTS pulse");
        break;
    case 't':
        in->stamps = in->stamps ? CONNECT_TS_NONE : in->stamps_given;
        say("timestamps", in->stamps);
        break;
    case '?':
        fprintf(stderr,
                "\n" TOOL_NAME ": keys after the escape key (Ctrl-%c):\n"
                "  q  quit\n"
                "  e  local echo on/off (now %s)\n"
                "  h  hex view of what arrives on/off (now %s)\n"
                "  t  timestamps on/off (now %s)\n"
                "  b  send a BREAK (250 ms)\n"
                "  d  pulse DTR (off 100 ms)\n"
                "  r  pulse RTS (off 100 ms)\n"
                "  ?  this list\n"
                "  the escape key again: send it\n",
                in->escape + '@', in->echo ? "on" : "off", in->hex ? "on" : "off",
                in->stamps ? "on" : "off");
        break;
    default:
        if (c == in->escape)
            out[(*out_len)++] = c;
        else
            fprintf(stderr, "\n" TOOL_NAME ": no command for that key; Ctrl-%c ? lists them\n",
                    in->escape + '@');
        break;
    }
    return true;
}

/* Take the menu's keys out of buf (n bytes) into out; false: quit. */
static bool keys(input *in, const char *buf, size_t n, char *out, size_t *out_len)
{
    *out_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (in->escaped) {
            in->escaped = false;
            if (!menu_key(in, buf[i], out, out_len))
                return false;
        } else if (in->interactive && buf[i] == in->escape) {
            in->escaped = true;
        } else {
            out[(*out_len)++] = buf[i];
        }
    }
    return true;
}

static void *input_main(void *arg)
{
    input *in = arg;
    char buf[4096], typed[sizeof(buf)], mapped[2 * sizeof(buf)];
    for (;;) {
        struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                              {.fd = in->wake[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            return NULL;
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t ntyped;
        in->quit = !keys(in, buf, (size_t)n, typed, &ntyped);
        if (in->echo)
            write_all(STDOUT_FILENO, typed, ntyped);
        size_t len = connect_map_apply(in->maps, false, typed, ntyped, mapped);
        if ((len > 0 && ss_stream_write(in->s, mapped, len, -1, NULL) < 0) || in->quit)
            break;
    }
    /* A shared console serves its clients until the stream ends: the end of
     * our input (a session run from a service, </dev/null) is not its end. */
    if (!in->quit && in->share) {
        (void)woken(in->wake[0], -1);
        return NULL;
    }
    /* Standard input ended (or the menu's q): what is queued still goes out, then
     * the peer learns that no more will come (a program reading its input to
     * the end can finish), and the stream may still answer, for at most the
     * timeout. A transport without an end of input just stays open. */
    if (!in->quit)
        (void)ss_stream_shutdown_write(in->s, in->timeout_ms, NULL);
    if (!in->quit && !woken(in->wake[0], in->timeout_ms))
        in->timed_out = true;
    if (in->quit || in->timed_out)
        ss_stream_close(in->s);
    return NULL;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* The hex view: each byte as two hex digits and a space, a line break after
 * a received NL so that lines stay apart. */
static void show_hex(const char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char out[3 * 256 + 1];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        out[k++] = digits[c >> 4];
        out[k++] = digits[c & 15];
        out[k++] = ' ';
        if (c == '\n')
            out[k++] = '\n';
        if (k > sizeof(out) - 4) {
            write_all(STDOUT_FILENO, out, k);
            k = 0;
        }
    }
    write_all(STDOUT_FILENO, out, k);
}

/* Bytes that arrived: to the log as they came, then shown (hex, or mapped
 * and stamped); mapped has room for 2 * n bytes. */
static void received(input *in, connect_view *show, connect_view *logv, const char *p, size_t n,
                     char *mapped)
{
    if (logv->fd >= 0)
        connect_view_write(logv, p, n);
    if (in->share)
        connect_share_feed(in->share, p, n);
    if (in->hex) {
        show_hex(p, n);
        return;
    }
    show->stamps = in->stamps;
    connect_view_write(show, mapped, connect_map_apply(in->maps, true, p, n, mapped));
}

/* The stream's events (a serial device gone, back) as notices on stderr,
 * when they happen: a bridge hands them over on the I/O thread, so the
 * session learns of them while no byte arrives. Lines are the main loop's. */
static int notice(void *ctx, const char *source, ss_kind kind, uint32_t flags, const char *text,
                  size_t len)
{
    if (kind == SS_KIND_WARNING)
        fprintf(stderr, "\n" TOOL_NAME ": %.*s\n", (int)len, text);
    /* --send-to: the lines, and the events too, to the server */
    return connect_sink_line(ctx, source, kind, flags, text, len);
}

int connect_program_status(ss_stream *s)
{
    int status;
    if (ss_stream_exit_status(s, &status) != 0)
        return TOOL_EXIT_OK;
    if (WIFSIGNALED(status))
        return TOOL_EXIT_SIGNAL_BASE + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : TOOL_EXIT_OK;
}

int connect_pump(ss_stream *s, const connect_opts *o, bool interactive)
{
    input in = {.s = s,
                .interactive = interactive,
                .maps = o->maps,
                .escape = o->escape,
                .stamps = o->stamps,
                .stamps_given = o->stamps ? o->stamps : CONNECT_TS_ISO,
                .timeout_ms = o->timeout_ms};
    connect_view show = {.fd = STDOUT_FILENO, .line_start = true};
    connect_view logv = {.fd = -1, .strip = o->log_strip, .stamps = o->stamps, .line_start = true};
    if (o->log) {
        logv.fd = open(o->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (logv.fd < 0)
            return tool_fail("connect: cannot open the log '%s': %s", o->log, ss_strerror(-errno));
    }
    struct termios saved;
    bool raw = false;
    if (pipe2(in.wake, O_CLOEXEC) < 0) {
        if (logv.fd >= 0)
            close(logv.fd);
        return tool_fail("connect: %s", ss_strerror(-errno));
    }
    if (interactive && tcgetattr(STDIN_FILENO, &saved) == 0) {
        struct termios t = saved;
        /* raw input (every key as typed, Ctrl-C to the device); output as it was */
        t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
        t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
        /* output processing is left on, so the terminal makes "\n" a CR LF */
        fprintf(stderr, TOOL_NAME ": connected to %s; Ctrl-%c q quits, Ctrl-%c ? lists the keys\n",
                o->uri, o->escape + '@', o->escape + '@');
    }
    /* without notices the session still works: nothing to stop for */
    (void)ss_stream_bridge(s, &(ss_bridge_opts){.on_line = notice, .ctx = o->sink});
    int rc = o->share ? connect_share_start(&in.share, s, o) : TOOL_EXIT_OK;
    pthread_t thread;
    int err = rc == TOOL_EXIT_OK ? pthread_create(&thread, NULL, input_main, &in) : 0;
    if (rc != TOOL_EXIT_OK || err) {
        connect_share_stop(in.share);
        if (raw)
            tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        close(in.wake[0]);
        close(in.wake[1]);
        if (logv.fd >= 0)
            close(logv.fd);
        /* a share that did not start has said why */
        return rc != TOOL_EXIT_OK ? rc : tool_fail("connect: %s", ss_strerror(-err));
    }

    static char buf[65536], mapped[2 * sizeof(buf)];
    ssize_t n;
    ss_stream_payload pl = {0};
    while ((n = ss_stream_read(s, buf, sizeof(buf), -1, &pl)) > 0) {
        received(&in, &show, &logv, buf, (size_t)n, mapped);
        connect_copy_stderr(s);
    }
    /* closed by the input side: what was received and not yet shown */
    for (size_t off = 0; n == SS_ECLOSED && off < pl.read_len; off += sizeof(buf)) {
        size_t len = pl.read_len - off < sizeof(buf) ? pl.read_len - off : sizeof(buf);
        received(&in, &show, &logv, pl.read + off, len, mapped);
    }
    ss_stream_payload_clear(&pl);
    connect_copy_stderr(s);
    (void)!write(in.wake[1], "x", 1);
    pthread_join(thread, NULL);
    connect_share_stop(in.share);
    close(in.wake[0]);
    close(in.wake[1]);
    if (raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    if (logv.fd >= 0)
        close(logv.fd);

    if (n == SS_EEOF || (n == SS_ECLOSED && in.quit)) {
        if (interactive)
            fprintf(stderr, "\n" TOOL_NAME ": %s\n", in.quit ? "disconnected" : "the stream ended");
        return n == SS_EEOF ? connect_program_status(s) : TOOL_EXIT_OK;
    }
    if (n == SS_ECLOSED && in.timed_out) {
        tool_fail("connect: the stream did not end within %g s after the input did",
                  o->timeout_ms / 1000.0);
        return TOOL_EXIT_TIMEOUT;
    }
    return tool_fail("connect: %s: %s", o->uri, ss_strerror((int)n));
}
