/* Moving bytes on an open SSH connection, keepalives, the command's end. */
#include <errno.h>
#include <libssh/server.h> /* ssh_send_keepalive(), usable by clients too */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <syncstream/common.h>

#include "ssh/ssh_int.h"
#include "util/clock.h"

/* Latch the first fatal error with a sentence; later calls report it again. */
static int fail(ss__ssh *s, int err, const char *what)
{
    if (s->error)
        return s->error;
    s->error = err;
    int n = snprintf(s->why, sizeof(s->why), "%s (%s)", what, ssh_get_error(s->session));
    /* libssh refuses to hand out what it holds once the session broke; it was
     * only there while the caller let the staging buffers fill. Say how much. */
    int held_out = ssh_channel_poll(s->channel, 0), held_err = ssh_channel_poll(s->channel, 1);
    long held = (held_out > 0 ? held_out : 0) + (held_err > 0 ? held_err : 0);
    if (held > 0 && n > 0 && (size_t)n < sizeof(s->why))
        snprintf(s->why + n, sizeof(s->why) - (size_t)n,
                 "; %ld received bytes were still inside libssh and are lost", held);
    return err;
}

static bool broken(const ss__ssh *s)
{
    return (ssh_get_status(s->session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0;
}

/* Move the bytes libssh kept while the staging buffer was full (they are
 * newer than everything staged, so they go at the end). */
static int pull(ss__ssh *s, int is_stderr)
{
    ss__buf *b = is_stderr ? &s->err : &s->out;
    char chunk[16384];
    while (b->len < b->cap) {
        int held = ssh_channel_poll(s->channel, is_stderr);
        if (held == SSH_EOF || held == 0)
            return 0;
        if (held < 0)
            return SSH_ERROR;
        size_t room = b->cap - b->len;
        uint32_t want = (uint32_t)(room < sizeof(chunk) ? room : sizeof(chunk));
        int n = ssh_channel_read_nonblocking(s->channel, chunk, want, is_stderr);
        if (n == SSH_EOF || n == 0)
            return 0;
        if (n < 0)
            return SSH_ERROR;
        if (ss__buf_append(b, chunk, (size_t)n) != 0)
            return SSH_ERROR;
    }
    return 0;
}

int ss__ssh_pump(ss__ssh *s)
{
    if (s->error)
        return s->error;
    int rc = ssh_event_dopoll(s->event, 0);
    if (rc != SSH_ERROR && !broken(s))
        rc = pull(s, 0) == SSH_ERROR || pull(s, 1) == SSH_ERROR ? SSH_ERROR : SSH_OK;
    if (rc == SSH_ERROR || broken(s)) {
        /* The connection going away after the command ended loses nothing. */
        if (s->exited && ssh_channel_is_eof(s->channel) && !broken(s))
            return 0;
        return fail(s, SS_ECONNLOST, "the SSH connection broke");
    }
    return 0;
}

int ss__ssh_fd(const ss__ssh *s)
{
    return ssh_get_fd(s->session);
}

bool ss__ssh_write_pending(const ss__ssh *s)
{
    return (ssh_get_poll_flags(s->session) & SSH_WRITE_PENDING) != 0;
}

short ss__ssh_events(const ss__ssh *s)
{
    return (short)(POLLIN | (ss__ssh_write_pending(s) ? POLLOUT : 0));
}

bool ss__ssh_ended(const ss__ssh *s)
{
    return ssh_channel_is_eof(s->channel) != 0;
}

ssize_t ss__ssh_write(ss__ssh *s, const void *p, size_t n)
{
    if (s->error)
        return s->error;
    if (n == 0 || ssh_channel_window_size(s->channel) == 0)
        return 0;
    uint32_t chunk = n > 65536 ? 65536 : (uint32_t)n;
    int rc = ssh_channel_write(s->channel, p, chunk);
    if (rc >= 0)
        return rc;
    if (broken(s))
        return fail(s, SS_ECONNLOST, "the SSH connection broke while writing");
    /* The channel is closed (the command ended): the connection itself is fine. */
    return -EPIPE;
}

int ss__ssh_send_eof(ss__ssh *s)
{
    if (s->error)
        return s->error;
    if (ssh_channel_send_eof(s->channel) == SSH_OK)
        return 0;
    return broken(s) ? fail(s, SS_ECONNLOST, "the SSH connection broke") : -EPIPE;
}

int ss__ssh_exit(const ss__ssh *s, ss_ssh_exit *ret)
{
    if (!s->exited)
        return -EAGAIN;
    *ret = s->exit_info;
    return 0;
}

/* libssh answers a reply to a keepalive only on the next global request it
 * is asked for, which it then does not send: the second call sends when the
 * first merely collected that reply, and only polls when a keepalive is
 * already outstanding. */
static void send_keepalive(ss__ssh *s)
{
    ssh_send_keepalive(s->session);
    ssh_send_keepalive(s->session);
}

int ss__ssh_timer(ss__ssh *s, int64_t now_ms, int *ret_next_ms)
{
    *ret_next_ms = -1;
    if (s->error)
        return s->error;
    if (s->received.in_bytes != s->seen_in) {
        s->seen_in = s->received.in_bytes;
        s->last_rx_ms = now_ms;
        s->missed = 0;
    }
    if (s->keepalive_ms < 0 || s->exited)
        return 0;
    int64_t due = s->last_rx_ms + (int64_t)s->keepalive_ms * (s->missed + 1);
    if (now_ms >= due) {
        if (s->missed >= s->keepalive_max) {
            char what[128];
            snprintf(what, sizeof(what),
                     "the server answered none of %d keepalives sent %d ms apart", s->missed,
                     s->keepalive_ms);
            return fail(s, SS_ECONNLOST, what);
        }
        send_keepalive(s);
        s->missed++;
        due += s->keepalive_ms;
    }
    *ret_next_ms = (int)(due - now_ms);
    return 0;
}

int ss__ssh_wait(ss__ssh *s, int timeout_ms)
{
    int next;
    int rc = ss__ssh_timer(s, ss__mono_ms(), &next);
    if (rc < 0)
        return rc;
    int t = timeout_ms;
    if (next >= 0 && (t < 0 || next < t))
        t = next;
    struct pollfd p = {.fd = ss__ssh_fd(s), .events = ss__ssh_events(s)};
    if (poll(&p, 1, t) < 0 && errno != EINTR)
        return -errno;
    rc = ss__ssh_pump(s);
    if (rc < 0)
        return rc;
    return ss__ssh_timer(s, ss__mono_ms(), &next);
}

const char *ss__ssh_error(const ss__ssh *s)
{
    return s->why;
}
