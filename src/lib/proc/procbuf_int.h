/* Inside the process buffer: shared by procbuf.c (the collector) and spawn.c. */
#ifndef SS_PROC_PROCBUF_INT_H
#define SS_PROC_PROCBUF_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <syncstream/proc.h>

#include "loop/loop_int.h"
#include "proc/frame.h"
#include "proc/mirror_int.h"
#include "util/buf.h"
#include "util/evloop.h"

typedef enum ss__chan_kind {
    SS__CHAN_OUT,    /* raw bytes of stdout (or a pty) */
    SS__CHAN_ERR,    /* raw bytes of stderr */
    SS__CHAN_MIRROR, /* frames from a mirror */
    SS__CHAN_PIDFD,  /* readable when the child exits */
} ss__chan_kind;

typedef struct ss__child ss__child;

typedef struct ss__chan {
    ss__child *child;
    ss__chan_kind kind;
    int fd;       /* -1 when closed */
    ss__evio io;  /* its watcher on the collector's loop */
    ss_writer *w; /* OUT and ERR: assembles the raw bytes */
    ss__buf in;   /* MIRROR: bytes of an incomplete frame */
    bool paused;  /* flow control: not watched until the reader catches up */
    bool cut;     /* no longer waited for (see cut_output): closed once the
                     drain_left bytes it held when cut are read */
    size_t drain_left;
} ss__chan;

struct ss__child {
    int id;
    pid_t pid;
    char name[SS_SOURCE_MAX];
    char mirror_source[SS_SOURCE_MAX]; /* source of mirror records: name, or
                                          the mirror's own (SOURCE frame) */
    ss__chan out, err, mirror, pidfd;
    int open_chans; /* of out, err, mirror */
    bool has_mirror;
    bool mirror_closed;
    bool exited; /* waitpid has reaped it; status in wstatus */
    int wstatus;
    bool status_lost;  /* reaped by someone else: wstatus unknown */
    bool finished;     /* exited, channels drained, exit record stored */
    bool termed;       /* got SIGTERM from a stop */
    bool output_cut;   /* exited, but its output was held open too long: cut */
    int64_t linger_at; /* exited, output still open: cut at this
                          CLOCK_MONOTONIC time in ms (0: not waiting so) */
    bool open_end;     /* its mirror sent something since its last end: its
                          channel ending now counts as an end too */
    /* A connected mirror (listen.c): a process that is not our child, never
     * signalled nor reaped, kept in pb->conns rather than pb->children. */
    bool connected;
    bool authed;   /* it presented the secret */
    bool detached; /* a reset dropped it: what it still sends is ignored */
};

/* The producer id of a child's records (record.h): its id + 1; 0 for a
 * connected mirror, which has no id. */
static inline uint32_t ss__child_producer(const ss__child *c)
{
    return c->id >= 0 ? (uint32_t)c->id + 1 : 0;
}

struct ss_procbuf {
    pthread_mutex_t mu;     /* guards the fields below and every child */
    pthread_cond_t changed; /* a child finished, or a force stop */
    ss_linebuf *lb;
    size_t max_line;
    size_t max_payload;
    ss_loop *loop;       /* the collector's loop (a reference) */
    ss__evloop *ev;      /* its core */
    ss__evtimer grace;   /* the stop's grace period, over at grace_at */
    int64_t grace_at;    /* CLOCK_MONOTONIC ms; 0: no grace period runs */
    ss__evtimer linger;  /* the earliest linger_at of a child */
    ss__evio listen_io;  /* the listening socket's watcher */
    int stopfd;          /* memfd of the stop page mirrors watch */
    uint32_t *stop_flag; /* that page, mapped read-write */
    ss__child **children;
    size_t nchildren, cap;
    int id_base; /* id of children[0]; ids go on after a reset */
    int running;
    int grace_ms;
    int linger_ms;  /* opts.linger_ms */
    size_t nlinger; /* children with linger_at set */
    bool flow_control;
    uint64_t consumed; /* flow control: the reader's cursor */
    size_t npaused;    /* flow control: channels not watched now */
    bool stopping, forced, quit;
    bool kill_due;       /* the stop's grace period is over */
    uint64_t ends;       /* mirror ends (see ss_procbuf_wait_ends) */
    unsigned line_flags; /* the buffer's, for connected mirrors */
    int listenfd;        /* ss_procbuf_listen's socket, -1 before */
    unsigned char secret[SS__MIRROR_SECRET];
    char address[SS_MIRROR_ADDRESS_MAX];
    ss__child **conns; /* connected mirrors, in no order */
    size_t nconns, conns_cap;
    char rbuf[64 * 1024]; /* the collector's read buffer */
};

/* Internal flag for ss__procbuf_add_child: a forked child, which holds a
 * mirror from its first instruction. */
#define SS__PROC_FORKED (1u << 16)

/* 0, or SS_ESTOPPED / SS_ECLOSED when no child may be added now. */
int ss__procbuf_check_open(ss_procbuf *pb);

/* Add a child whose channels are open fds (-1 for absent ones); takes pb->mu.
 * On failure the fds are closed and the child is SIGKILLed and reaped. */
int ss__procbuf_add_child(ss_procbuf *pb, pid_t pid, const char *name, int out_fd, int err_fd,
                          int mirror_fd, unsigned flags, int *ret_id);

/* procbuf.c's pieces that listen.c uses too (pb->mu held). */
int ss__procbuf_watch(ss_procbuf *pb, ss__evio *io, int fd);
int ss__procbuf_open_chan(ss_procbuf *pb, ss__child *c, ss__chan *ch, ss__chan_kind kind, int fd,
                          uint32_t rec_flags);
void ss__procbuf_free_child(ss_procbuf *pb, ss__child *c);

/* listen.c, with pb->mu held: accept every pending connection; check a
 * connected mirror's HELLO frame and answer it (0, or a negative error: close
 * it); a connection that ended (store its loss, free it); drop every
 * connection and draw a new secret (a reset). */
void ss__procbuf_accept(ss_procbuf *pb);
int ss__procbuf_hello(ss_procbuf *pb, ss__child *c, const ss__frame *f);
void ss__procbuf_conn_gone(ss_procbuf *pb, ss__child *c, bool lost);
void ss__procbuf_detach_conns(ss_procbuf *pb);

#endif
