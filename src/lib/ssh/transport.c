/* The ssh transport of ss_stream: an ss__ssh connection behind ss_transport_ops. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <syncstream/common.h>
#include <syncstream/ssh.h>
#include <syncstream/transport.h>

#include "ssh/ssh_int.h"
#include "util/clock.h"

typedef struct ssh_transport {
    ss__ssh *ssh;
    int next_chan; /* which staging buffer read() serves first: they take turns */
} ssh_transport;

static int t_fds(void *impl, ss_transport_fd *ret, size_t max)
{
    ss__ssh *s = ((ssh_transport *)impl)->ssh;
    if (max < 1)
        return 0;
    unsigned events = SS_TRANSPORT_READ;
    /* Writable matters only while the channel's window can take stdin bytes:
     * with the window shut, the server's window adjustment arrives as input. */
    if (ssh_channel_window_size(s->channel) > 0)
        events |= SS_TRANSPORT_WRITE;
    if (ss__ssh_write_pending(s))
        events |= SS_TRANSPORT_FLUSH;
    ret[0] = (ss_transport_fd){ss__ssh_fd(s), events};
    return 1;
}

/* Hand out staged bytes, stdout and stderr in turn. 0 when none is staged. */
static ssize_t take_staged(ssh_transport *t, void *buf, size_t n, int *ret_chan)
{
    for (int i = 0; i < 2; i++) {
        int chan = (t->next_chan + i) % 2;
        ss__buf *b = chan == SS_CHAN_ERR ? ss__ssh_stderr(t->ssh) : ss__ssh_stdout(t->ssh);
        if (!b->len)
            continue;
        size_t k = b->len < n ? b->len : n;
        memcpy(buf, b->data, k);
        ss__buf_take(b, k);
        *ret_chan = chan;
        t->next_chan = !chan;
        return (ssize_t)k;
    }
    return 0;
}

static ssize_t t_read(void *impl, void *buf, size_t n, int *ret_chan)
{
    ssh_transport *t = impl;
    ssize_t k = take_staged(t, buf, n, ret_chan);
    if (k > 0)
        return k;
    /* Staged bytes go out before an error or the end is reported. */
    int rc = ss__ssh_pump(t->ssh);
    k = take_staged(t, buf, n, ret_chan);
    if (k > 0)
        return k;
    if (rc < 0)
        return rc;
    ss_ssh_exit ex;
    if (ss__ssh_ended(t->ssh) && ss__ssh_exit(t->ssh, &ex) == 0)
        return 0;
    return -EAGAIN;
}

static ssize_t t_write(void *impl, const void *buf, size_t n)
{
    ssh_transport *t = impl;
    /* Take in the server's window adjustments first. */
    int rc = ss__ssh_pump(t->ssh);
    if (rc < 0)
        return rc;
    ssize_t k = ss__ssh_write(t->ssh, buf, n);
    return k == 0 ? -EAGAIN : k;
}

static int t_shutdown_write(void *impl)
{
    return ss__ssh_send_eof(((ssh_transport *)impl)->ssh);
}

/* A broken connection is not reported here: read() reports it once the
 * staged bytes are out, write() at once. */
static int t_flush(void *impl)
{
    (void)ss__ssh_pump(((ssh_transport *)impl)->ssh);
    return 0;
}

static int t_timeout_ms(void *impl)
{
    ss__ssh *s = ((ssh_transport *)impl)->ssh;
    int next;
    if (ss__ssh_timer(s, ss__mono_ms(), &next) < 0)
        return 0; /* dead: tick() reports it */
    return next;
}

static int t_tick(void *impl)
{
    ss__ssh *s = ((ssh_transport *)impl)->ssh;
    /* While the stream's buffers are full the socket is not watched: read
     * what arrived (a keepalive's answer among it) before judging the peer. */
    int rc = ss__ssh_pump(s);
    if (rc < 0)
        return rc;
    int next;
    return ss__ssh_timer(s, ss__mono_ms(), &next);
}

/* "TERM" -> SIGTERM; 0 when unknown. */
static int signal_number(const char *name)
{
    for (int sig = 1; sig < NSIG; sig++) {
        const char *abbrev = sigabbrev_np(sig);
        if (abbrev && strcmp(abbrev, name) == 0)
            return sig;
    }
    return 0;
}

static int t_exit_status(void *impl, int *ret)
{
    ss_ssh_exit ex;
    int rc = ss__ssh_exit(((ssh_transport *)impl)->ssh, &ex);
    if (rc < 0)
        return rc;
    int sig = ex.signal[0] ? signal_number(ex.signal) : 0;
    if (sig)
        *ret = sig; /* as waitpid() reports a death by that signal */
    else
        /* A command whose end the server did not report (or an unknown
         * signal) counts as 255, as ssh(1) exits then. */
        *ret = (ex.status >= 0 ? ex.status : 255) << 8;
    return 0;
}

static void t_close(void *impl)
{
    ssh_transport *t = impl;
    ss__ssh_close(t->ssh);
    free(t);
}

static const ss_transport_ops ssh_ops = {
    .kind = "ssh",
    .fds = t_fds,
    .read = t_read,
    .write = t_write,
    .flush = t_flush,
    .timeout_ms = t_timeout_ms,
    .tick = t_tick,
    .exit_status = t_exit_status,
    .close = t_close,
    .shutdown_write = t_shutdown_write,
};

int ss_transport_ssh(ss_transport *ret, const ss_ssh_opts *opts, char *why, size_t why_len)
{
    if (!ret)
        return -EINVAL;
    ssh_transport *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    int rc = ss__ssh_open(&t->ssh, opts, why, why_len);
    if (rc < 0) {
        free(t);
        return rc;
    }
    *ret = (ss_transport){.ops = &ssh_ops, .impl = t};
    return 0;
}

int ss__transport_ssh_uri(ss_transport *ret, const char *uri, int timeout_ms)
{
    ss_ssh_opts o = {.connect_timeout_ms = timeout_ms};
    char *storage;
    int rc = ss_ssh_parse_uri(uri, &o, &storage);
    if (rc < 0)
        return rc;
    rc = ss_transport_ssh(ret, &o, NULL, 0);
    free(storage);
    return rc;
}
