/*
 * connect_share.c: `connect URI --share tcp://ADDR:PORT`, one console for
 * several clients at once, as conserver and ser2net share one. What the
 * device sends goes to every attached client (and still to our standard
 * output and --log); a client that attaches first gets the last
 * --share-backlog lines, kept in an ss_linebuf. What a client types goes to
 * the device as --share-write says: one (the client attached longest, handed
 * on when it leaves), all, or none. With --token-file, a client's first line
 * must be the token.
 *
 * Each client is an ss_stream on one shared loop: its write buffer (bounded,
 * CLIENT_CAP) is the client's backlog of output, written with no wait, so a
 * slow client never holds the device or the others up; one whose buffer
 * fills is dropped. One thread per client reads its input; one thread
 * accepts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <syncstream.h>

#include "connect.h"
#include "tool.h"

/* Output queued for one client that has not taken it: past this, it is
 * dropped. Holds the whole backlog (BACKLOG_BYTES) with room to spare. */
#define CLIENT_CAP (1024u * 1024u)
/* The backlog's text, and its longest line (a longer one is kept in pieces,
 * replayed joined). */
#define BACKLOG_BYTES (256u * 1024u)
#define BACKLOG_LINE 4096u
#define MAX_CLIENTS 64
/* How long a client has to send its token line. */
#define TOKEN_WAIT_MS 10000
/* ss_tcp_listener_accept() has no wake-up: the accept thread checks for the
 * end of the session this often. */
#define ACCEPT_TICK_MS 200
/* At the end, how long the clients together get to take what is queued. */
#define END_FLUSH_MS 2000

typedef struct client client;

struct client {
    connect_share *sh;
    ss_stream *s;
    pthread_t thread;
    unsigned id;
    uint64_t attached; /* attach order (0: not attached), under sh->mu */
    bool live;         /* gets the output, under sh->mu */
    bool told_ro;      /* told once that its input is not sent */
    _Atomic bool done; /* the thread has ended: join it */
    client *next;
};

struct connect_share {
    ss_stream *dev;
    const char *uri;
    ss_linebuf *lb;
    ss_stream_loop *loop;
    ss_tcp_listener *l;
    pthread_t accept_thread;
    _Atomic bool stop;
    int write_policy;
    size_t backlog;
    const char *token; /* NULL: none asked */
    char token_buf[TOOL_TOKEN_MAX];
    pthread_mutex_t mu; /* the fields below, and the order of output */
    client *all;        /* every client whose thread is not joined */
    client *holder;     /* CONNECT_SHARE_ONE: the client that writes */
    uint64_t attaches;
    unsigned next_id;
};

static void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void notice(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(TOOL_NAME ": share: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* A line for the client itself, in brackets as conserver's. */
static void tell(client *c, const char *text)
{
    char line[256];
    int n = snprintf(line, sizeof(line), "[" TOOL_NAME ": %s]\r\n", text);
    (void)ss_stream_write(c->s, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1, 0,
                          NULL);
}

/* tcp://HOST:PORT, tcp://[V6]:PORT into host and port. */
static int split_addr(const char *uri, char *host, size_t size, const char **port)
{
    const char *h = uri + 6, *end;
    if (*h == '[') {
        end = strchr(++h, ']');
        if (!end || end[1] != ':')
            return -EINVAL;
        *port = end + 2;
    } else {
        end = strrchr(h, ':');
        if (!end)
            return -EINVAL;
        *port = end + 1;
    }
    if (end == h || (size_t)(end - h) >= size || !**port)
        return -EINVAL;
    memcpy(host, h, (size_t)(end - h));
    host[end - h] = '\0';
    return 0;
}

int connect_share_check(connect_opts *o)
{
    if (!o->share) {
        if (o->share_write_arg || o->share_backlog_arg)
            return tool_usage("connect", "connect: --share-write and --share-backlog go with "
                                         "--share");
        if (o->token_file && strncmp(o->uri, "tcp://", 6) != 0)
            return tool_usage("connect", "connect: --token-file goes with --share, or with a "
                                         "tcp:// URI of a shared console");
        return TOOL_EXIT_OK;
    }
    if (o->nsteps || o->script)
        return tool_usage("connect", "connect: --share is for a session, not for a "
                                     "script (--script, --send, --expect)");
    char host[256];
    const char *port;
    if (strncmp(o->share, "tcp://", 6) != 0 || split_addr(o->share, host, sizeof(host), &port) < 0)
        return tool_usage("connect", "connect: --share wants tcp://ADDR:PORT, not '%s'", o->share);
    o->share_write = CONNECT_SHARE_ONE;
    if (o->share_write_arg) {
        const char *names[] = {"one", "all", "none"};
        int i = 0;
        while (i < 3 && strcmp(o->share_write_arg, names[i]) != 0)
            i++;
        if (i == 3)
            return tool_usage("connect", "connect: --share-write is one, all or none, not '%s'",
                              o->share_write_arg);
        o->share_write = i;
    }
    o->share_backlog = 50;
    if (o->share_backlog_arg) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(o->share_backlog_arg, &end, 10);
        if (errno || end == o->share_backlog_arg || *end || o->share_backlog_arg[0] == '-' ||
            v > 100000)
            return tool_usage("connect",
                              "connect: --share-backlog wants lines, 0 to 100000, not '%s'",
                              o->share_backlog_arg);
        o->share_backlog = v;
    }
    return TOOL_EXIT_OK;
}

int connect_share_send_token(ss_stream *s, const connect_opts *o)
{
    char token[TOOL_TOKEN_MAX + 1];
    const char *t;
    int rc = tool_host_token("connect", o->token_file, token, TOOL_TOKEN_MAX, &t);
    if (rc != TOOL_EXIT_OK || !t)
        return rc;
    size_t n = strlen(token);
    token[n++] = '\n';
    int err = ss_stream_write(s, token, n, -1, NULL);
    if (err < 0)
        return tool_fail("connect: %s: cannot send the token: %s", o->uri, ss_strerror(err));
    return TOOL_EXIT_OK;
}

/* The token line, without surrounding white space, compared in a time that
 * does not depend on where it differs. A line ends with LF or CR: a terminal
 * in raw mode (an interactive `connect`) sends CR for Enter, nc LF, and the
 * LF of a CR LF that came with it is taken too. */
static bool token_ok(client *c)
{
    connect_share *sh = c->sh;
    static const ss_pattern ends[] = {{.text = "\n"}, {.text = "\r"}};
    static const ss_pattern lf = {.text = "^\n", .kind = SS_PATTERN_REGEX};
    ss_stream_match m = {0};
    int rc = ss_stream_expect(c->s, ends, 2, TOKEN_WAIT_MS, &m, NULL);
    if (rc < 0) {
        if (rc != SS_ECLOSED)
            notice("client %u sent no token line: %s; dropped", c->id, ss_strerror(rc));
        return false;
    }
    if (rc == 1) {
        ss_stream_match crlf = {0};
        if (ss_stream_expect(c->s, &lf, 1, 0, &crlf, NULL) == 0)
            ss_stream_match_clear(&crlf);
    }
    char *line = m.data;
    size_t len = m.len - 1;
    size_t start = strspn(line, " \t");
    while (len > start && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    size_t want = strlen(sh->token);
    unsigned char diff = len - start != want;
    for (size_t i = 0; i < want && i < len - start; i++)
        diff |= (unsigned char)(line[start + i] ^ sh->token[i]);
    ss_stream_match_clear(&m);
    if (diff) {
        tell(c, "wrong token");
        (void)ss_stream_flush(c->s, 1000, NULL);
        notice("client %u sent a wrong token; dropped", c->id);
        return false;
    }
    return true;
}

/* The oldest attached client other than c, or NULL. Under sh->mu. */
static client *oldest_live(connect_share *sh, const client *c)
{
    client *best = NULL;
    for (client *k = sh->all; k; k = k->next)
        if (k != c && k->live && (!best || k->attached < best->attached))
            best = k;
    return best;
}

/* The backlog then the live output, with nothing missed or doubled between:
 * both are taken under sh->mu, as the feed writes. */
static int attach(client *c)
{
    connect_share *sh = c->sh;
    static const char *modes[] = {"read-write", "read-only: another client writes", "read-only"};
    pthread_mutex_lock(&sh->mu);
    int mode = sh->write_policy == CONNECT_SHARE_ALL    ? 0
               : sh->write_policy == CONNECT_SHARE_NONE ? 2
               : sh->holder                             ? 1
                                                        : 0;
    if (sh->write_policy == CONNECT_SHARE_ONE && !sh->holder)
        sh->holder = c;
    char head[300];
    snprintf(head, sizeof(head), "attached to %s, %s", sh->uri, modes[mode]);
    tell(c, head);
    ss_records recs = SS_RECORDS_INIT;
    int rc = sh->backlog ? ss_linebuf_read(sh->lb, sh->backlog, &recs) : 0;
    for (size_t i = 0; rc >= 0 && i < recs.count; i++) {
        const ss_record *r = &recs.items[i];
        rc = ss_stream_write(c->s, r->text, r->len, 0, NULL);
        /* a long line's pieces, and the unfinished last line, go on */
        if (rc == 0 && !(r->flags & (SS_REC_CONTINUED | SS_REC_PARTIAL)))
            rc = ss_stream_write(c->s, "\r\n", 2, 0, NULL);
    }
    ss_records_clear(&recs);
    if (rc >= 0) {
        c->live = true;
        c->attached = ++sh->attaches;
    } else if (sh->holder == c) {
        sh->holder = NULL;
    }
    pthread_mutex_unlock(&sh->mu);
    if (rc < 0)
        notice("client %u: cannot send the backlog: %s; dropped", c->id, ss_strerror(rc));
    else
        notice("client %u attached, %s", c->id, modes[mode]);
    return rc < 0 ? rc : 0;
}

static void detach(client *c)
{
    connect_share *sh = c->sh;
    pthread_mutex_lock(&sh->mu);
    bool was_live = c->live;
    c->live = false;
    client *next = NULL;
    if (sh->holder == c) {
        next = sh->holder = oldest_live(sh, c);
        if (next)
            tell(next, "you can write now");
    }
    pthread_mutex_unlock(&sh->mu);
    if (was_live)
        notice("client %u left", c->id);
    if (next)
        notice("client %u can write now", next->id);
    ss_stream_close(c->s);
}

/* What the client types, to the device as the write policy says. */
static void forward_input(client *c)
{
    connect_share *sh = c->sh;
    char buf[4096];
    ssize_t n;
    while ((n = ss_stream_read(c->s, buf, sizeof(buf), -1, NULL)) > 0) {
        pthread_mutex_lock(&sh->mu);
        bool may = sh->write_policy == CONNECT_SHARE_ALL ||
                   (sh->write_policy == CONNECT_SHARE_ONE && sh->holder == c);
        bool say = !may && !c->told_ro;
        c->told_ro |= say;
        pthread_mutex_unlock(&sh->mu);
        if (say)
            tell(c, "read-only: what you type is not sent");
        if (!may)
            continue;
        /* never waits: a device that takes no input must not stall the client */
        int rc = ss_stream_write(sh->dev, buf, (size_t)n, 0, NULL);
        if (rc < 0) {
            char why[200];
            snprintf(why, sizeof(why), "the device did not take %zd bytes: %s", n, ss_strerror(rc));
            tell(c, why);
        }
    }
}

static void *client_main(void *arg)
{
    client *c = arg;
    if ((!c->sh->token || token_ok(c)) && attach(c) == 0)
        forward_input(c);
    detach(c);
    c->done = true;
    return NULL;
}

/* Join and free the clients whose threads ended (all with every). */
static void reap(connect_share *sh, bool every)
{
    client *gone = NULL;
    pthread_mutex_lock(&sh->mu);
    for (client **p = &sh->all; *p;) {
        client *c = *p;
        if (every || c->done) {
            *p = c->next;
            c->next = gone;
            gone = c;
        } else {
            p = &c->next;
        }
    }
    pthread_mutex_unlock(&sh->mu);
    while (gone) {
        client *c = gone;
        gone = c->next;
        pthread_join(c->thread, NULL);
        ss_stream_free(c->s);
        free(c);
    }
}

static size_t count_clients(connect_share *sh)
{
    size_t n = 0;
    pthread_mutex_lock(&sh->mu);
    for (client *c = sh->all; c; c = c->next)
        n++;
    pthread_mutex_unlock(&sh->mu);
    return n;
}

static void add_client(connect_share *sh, ss_transport *t)
{
    client *c = calloc(1, sizeof(*c));
    if (!c) {
        t->ops->close(t->impl);
        return;
    }
    c->sh = sh;
    c->id = ++sh->next_id;
    ss_stream_opts so = {.name = "share", .read_cap = 64 * 1024, .write_cap = CLIENT_CAP};
    int rc = ss_stream_new(&c->s, sh->loop, t, &so);
    if (rc == 0 && count_clients(sh) >= MAX_CLIENTS) {
        tell(c, "too many clients; try later");
        (void)ss_stream_flush(c->s, 1000, NULL);
        notice("client %u refused: %d clients already", c->id, MAX_CLIENTS);
        rc = -EMFILE;
    } else if (rc == 0) {
        pthread_mutex_lock(&sh->mu);
        rc = -pthread_create(&c->thread, NULL, client_main, c);
        if (rc == 0) {
            c->next = sh->all;
            sh->all = c;
        }
        pthread_mutex_unlock(&sh->mu);
        if (rc < 0)
            notice("client %u: %s", c->id, ss_strerror(rc));
    }
    if (rc < 0) {
        ss_stream_free(c->s);
        free(c);
    }
}

static void *accept_main(void *arg)
{
    connect_share *sh = arg;
    while (!sh->stop) {
        reap(sh, false);
        ss_transport t;
        int rc = ss_tcp_listener_accept(sh->l, ACCEPT_TICK_MS, NULL, &t);
        if (rc == 0) {
            add_client(sh, &t);
        } else if (rc != -ETIMEDOUT && rc != -EINTR && rc != -ECONNABORTED) {
            notice("cannot accept a client: %s", ss_strerror(rc));
            /* out of descriptors, say: not a busy loop meanwhile */
            nanosleep(&(struct timespec){.tv_nsec = ACCEPT_TICK_MS * 1000000L}, NULL);
        }
    }
    return NULL;
}

static const char *const policy_names[] = {"one", "all", "none"};

int connect_share_start(connect_share **ret, ss_stream *dev, const connect_opts *o)
{
    char host[256];
    const char *port;
    /* checked by connect_share_check() */
    (void)split_addr(o->share, host, sizeof(host), &port);
    connect_share *sh = calloc(1, sizeof(*sh));
    if (!sh)
        return tool_fail("connect: out of memory");
    sh->dev = dev;
    sh->uri = o->uri;
    sh->write_policy = o->share_write;
    sh->backlog = o->share_backlog;
    pthread_mutex_init(&sh->mu, NULL);
    int rc =
        tool_host_token("connect", o->token_file, sh->token_buf, sizeof(sh->token_buf), &sh->token);
    if (rc != TOOL_EXIT_OK)
        goto out_free;
    ss_linebuf_opts lo = {.maxlen = sh->backlog ? sh->backlog : 1,
                          .max_line = BACKLOG_LINE,
                          .max_bytes = BACKLOG_BYTES};
    int err = ss_linebuf_new(&sh->lb, &lo);
    if (err == 0)
        err = ss_stream_loop_new(&sh->loop);
    if (err < 0) {
        rc = tool_fail("connect: --share: %s", ss_strerror(err));
        goto out_free;
    }
    err = ss_tcp_listener_new(&sh->l, host, port);
    if (err < 0) {
        rc = tool_fail("connect: cannot listen on %s: %s", o->share, ss_strerror(err));
        goto out_free;
    }
    err = -pthread_create(&sh->accept_thread, NULL, accept_main, sh);
    if (err < 0) {
        rc = tool_fail("connect: --share: %s", ss_strerror(err));
        goto out_free;
    }
    notice("%s on tcp://%s%s%s:%d (write: %s, backlog: %zu lines%s)", o->uri,
           strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
           ss_tcp_listener_port(sh->l), policy_names[sh->write_policy], sh->backlog,
           sh->token ? ", token asked" : "");
    *ret = sh;
    return TOOL_EXIT_OK;

out_free:
    ss_tcp_listener_free(sh->l);
    ss_stream_loop_free(sh->loop);
    ss_linebuf_free(sh->lb);
    pthread_mutex_destroy(&sh->mu);
    free(sh);
    return rc;
}

void connect_share_feed(connect_share *sh, const char *p, size_t n)
{
    pthread_mutex_lock(&sh->mu);
    (void)ss_linebuf_write(sh->lb, p, n);
    for (client *c = sh->all; c; c = c->next) {
        if (!c->live)
            continue;
        int rc = ss_stream_write(c->s, p, n, 0, NULL);
        if (rc == -ENOBUFS || rc == -ENOMEM) {
            /* its thread wakes from the close and detaches it */
            c->live = false;
            notice("client %u fell %u KiB behind; dropped (the others go on)", c->id,
                   CLIENT_CAP / 1024);
            ss_stream_close(c->s);
        }
    }
    pthread_mutex_unlock(&sh->mu);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void connect_share_stop(connect_share *sh)
{
    if (!sh)
        return;
    sh->stop = true;
    pthread_join(sh->accept_thread, NULL);
    /* what the device said last still reaches the clients that keep up */
    int64_t deadline = now_ms() + END_FLUSH_MS;
    pthread_mutex_lock(&sh->mu);
    for (client *c = sh->all; c; c = c->next) {
        if (c->live) {
            int64_t left = deadline - now_ms();
            (void)ss_stream_flush(c->s, left > 0 ? (int)left : 0, NULL);
        }
        ss_stream_close(c->s);
    }
    pthread_mutex_unlock(&sh->mu);
    reap(sh, true);
    ss_tcp_listener_free(sh->l);
    ss_stream_loop_free(sh->loop);
    ss_linebuf_free(sh->lb);
    pthread_mutex_destroy(&sh->mu);
    free(sh);
}
