/*
 * The telnet codec: see telnet.h.
 */
#include <errno.h>
#include <string.h>

#include "stream/telnet.h"

/* The receiver's states. */
enum { R_DATA, R_IAC, R_OPT, R_SB_OPT, R_SB_DATA, R_SB_IAC };

static void queue(ss__telnet *t, const uint8_t *p, size_t n)
{
    if (t->err)
        return;
    int rc = ss__buf_append(&t->out, p, n);
    if (rc < 0)
        t->err = rc;
}

static void send_cmd(ss__telnet *t, uint8_t cmd, uint8_t opt)
{
    uint8_t m[3] = {SS__TELNET_IAC, cmd, opt};
    queue(t, m, sizeof(m));
}

/* Whether we agree to enable opt on our side (the peer's DO). */
static bool accept_us(const ss__telnet *t, uint8_t opt)
{
    return opt == SS__TELNET_BINARY || opt == SS__TELNET_SGA ||
           (opt == SS__TELNET_COMPORT && t->comport);
}

/* Whether we agree to the peer enabling opt (its WILL). Its ECHO is welcome:
 * we never echo locally, so a server that echoes shows what was typed. */
static bool accept_him(uint8_t opt)
{
    return opt == SS__TELNET_BINARY || opt == SS__TELNET_SGA || opt == SS__TELNET_ECHO;
}

/* The peer said WILL (on true) or WONT about its side, or DO / DONT about ours:
 * RFC 1143's answers for one side, whose state is *st. yes/no are the commands
 * we answer with (DO/DONT for his side, WILL/WONT for ours). */
static void negotiate(ss__telnet *t, uint8_t *st, bool on, bool acceptable, uint8_t yes, uint8_t no,
                      uint8_t opt)
{
    switch (*st) {
    case SS__TELNET_NO:
        if (!on)
            break;
        if (acceptable) {
            *st = SS__TELNET_YES;
            send_cmd(t, yes, opt);
        } else {
            send_cmd(t, no, opt);
        }
        break;
    case SS__TELNET_YES:
        if (!on) {
            *st = SS__TELNET_NO;
            send_cmd(t, no, opt);
        }
        break;
    case SS__TELNET_WANTYES:
        /* our request answered either way */
        *st = on ? SS__TELNET_YES : SS__TELNET_NO;
        break;
    default: /* SS__TELNET_WANTNO: a YES answering our NO is a peer's error */
        *st = SS__TELNET_NO;
        break;
    }
}

static void option(ss__telnet *t, uint8_t cmd, uint8_t opt)
{
    switch (cmd) {
    case SS__TELNET_WILL:
    case SS__TELNET_WONT:
        negotiate(t, &t->him[opt], cmd == SS__TELNET_WILL, accept_him(opt), SS__TELNET_DO,
                  SS__TELNET_DONT, opt);
        break;
    default: /* DO, DONT */
        negotiate(t, &t->us[opt], cmd == SS__TELNET_DO, accept_us(t, opt), SS__TELNET_WILL,
                  SS__TELNET_WONT, opt);
        break;
    }
}

/* The byte after an IAC (not IAC itself, a data byte). */
static void command(ss__telnet *t, uint8_t b)
{
    if (b >= SS__TELNET_WILL && b <= SS__TELNET_DONT) {
        t->cmd = b;
        t->rstate = R_OPT;
    } else if (b == SS__TELNET_SB) {
        t->rstate = R_SB_OPT;
    } else {
        /* NOP, GA, AYT, a stray SE...: nothing to do for a byte stream */
        t->rstate = R_DATA;
    }
}

static void sb_end(ss__telnet *t, bool complete)
{
    if (complete && !t->sb_over && t->on_sb)
        t->on_sb(t->ctx, t->sb_opt, t->sb, t->sb_len);
    if (t->sb_over)
        t->sb_dropped++;
    t->sb_len = 0;
    t->sb_over = false;
}

static void sb_byte(ss__telnet *t, uint8_t b)
{
    if (t->sb_len < sizeof(t->sb))
        t->sb[t->sb_len++] = b;
    else
        t->sb_over = true;
}

int ss__telnet_init(ss__telnet *t, bool comport, ss__telnet_sb_fn on_sb, void *ctx)
{
    memset(t, 0, sizeof(*t));
    ss__buf_init(&t->out, SS__TELNET_OUT_MAX);
    t->comport = comport;
    t->on_sb = on_sb;
    t->ctx = ctx;
    static const uint8_t both[] = {SS__TELNET_BINARY, SS__TELNET_SGA};
    for (size_t i = 0; i < sizeof(both); i++) {
        t->us[both[i]] = SS__TELNET_WANTYES;
        send_cmd(t, SS__TELNET_WILL, both[i]);
        t->him[both[i]] = SS__TELNET_WANTYES;
        send_cmd(t, SS__TELNET_DO, both[i]);
    }
    if (comport) {
        t->us[SS__TELNET_COMPORT] = SS__TELNET_WANTYES;
        send_cmd(t, SS__TELNET_WILL, SS__TELNET_COMPORT);
    }
    return t->err;
}

void ss__telnet_free(ss__telnet *t)
{
    ss__buf_free(&t->out);
}

ssize_t ss__telnet_decode(ss__telnet *t, const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n && !t->err; i++) {
        uint8_t b = in[i];
        switch (t->rstate) {
        case R_DATA:
            if (b == SS__TELNET_IAC) {
                t->rstate = R_IAC;
                break;
            }
            /* RFC 854's NVT sends a bare CR as CR NUL: the NUL is no data */
            if (t->cr && b == 0 && t->him[SS__TELNET_BINARY] != SS__TELNET_YES) {
                t->cr = false;
                break;
            }
            t->cr = b == '\r';
            out[o++] = b;
            break;
        case R_IAC:
            if (b == SS__TELNET_IAC) {
                t->cr = false;
                out[o++] = b;
                t->rstate = R_DATA;
            } else {
                command(t, b);
            }
            break;
        case R_OPT:
            option(t, t->cmd, b);
            t->rstate = R_DATA;
            break;
        case R_SB_OPT:
            t->sb_opt = b;
            t->sb_len = 0;
            t->sb_over = false;
            t->rstate = R_SB_DATA;
            break;
        case R_SB_DATA:
            if (b == SS__TELNET_IAC)
                t->rstate = R_SB_IAC;
            else
                sb_byte(t, b);
            break;
        default: /* R_SB_IAC */
            if (b == SS__TELNET_IAC) {
                sb_byte(t, b);
                t->rstate = R_SB_DATA;
            } else if (b == SS__TELNET_SE) {
                sb_end(t, true);
                t->rstate = R_DATA;
            } else {
                /* RFC 855 allows only IAC IAC and IAC SE inside: the peer
                 * lost its place, so the subnegotiation is dropped and the
                 * command read as one */
                sb_end(t, false);
                command(t, b);
            }
            break;
        }
    }
    return t->err ? t->err : (ssize_t)o;
}

size_t ss__telnet_encode(ss__telnet *t, const uint8_t *in, size_t n, uint8_t *out, size_t size,
                         size_t *ret_used)
{
    (void)t;
    size_t i = 0, o = 0;
    for (; i < n; i++) {
        bool iac = in[i] == SS__TELNET_IAC;
        if (o + 1 + iac > size)
            break;
        out[o++] = in[i];
        if (iac)
            out[o++] = SS__TELNET_IAC;
    }
    *ret_used = i;
    return o;
}

int ss__telnet_send_sb(ss__telnet *t, uint8_t opt, const uint8_t *data, size_t len)
{
    uint8_t head[3] = {SS__TELNET_IAC, SS__TELNET_SB, opt};
    static const uint8_t tail[2] = {SS__TELNET_IAC, SS__TELNET_SE};
    static const uint8_t iac = SS__TELNET_IAC;
    queue(t, head, sizeof(head));
    for (size_t i = 0; i < len; i++) {
        queue(t, &data[i], 1);
        if (data[i] == SS__TELNET_IAC)
            queue(t, &iac, 1);
    }
    queue(t, tail, sizeof(tail));
    return t->err;
}
