/*
 * The Redis store: the host server's records in a Redis stream, shared by
 * every server started on the same key (docs/host-mode.md, "Redis").
 *
 * Records are stream entries whose id is "SEQ-0": the sequence number is the
 * entry id, given by a counter in the meta hash that the apply script
 * advances in the same atomic step as its XADDs, so numbers increase by one
 * per record across servers and restarts (they live in Redis, not here).
 * XADD MAXLEN ~ maxlen rotates the stream; reads count exactly maxlen.
 *
 * Partial lines live in Redis too, per mirror id (the mirrors hash) and one
 * anonymous one (the meta hash), never in a server: a server reads a partial
 * line, runs the shared line assembler on it with the batch, and hands the
 * records and the new partial line to the apply script, which stores them
 * only if the partial line is still the one read (its version: the mirror's
 * last batch number, or the anonymous line's counter). Otherwise another
 * server got there first and this one starts again from the new state. The
 * same script checks and sets the mirror's last batch number, so a batch is
 * stored exactly once whichever servers receive it.
 *
 * Live tail: one thread per store blocks in XREAD BLOCK on its own connection
 * and wakes this server's waiters when any server adds a record.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <syncstream/common.h>
#include <syncstream/linebuf.h>

#include "host/redis_conn.h"
#include "host/store.h"
#include "ring/ring.h"
#include "util/clock.h"
#include "util/lineasm.h"
#include "util/records.h"

/* Attempts at a batch whose partial line other servers keep changing. */
#define APPLY_ATTEMPTS 100
/* The watcher's pause between reconnections, doubling up to the maximum. */
#define WATCH_BACKOFF_MIN_MS 50
#define WATCH_BACKOFF_MAX_MS 2000

typedef struct redis_store {
    ss__host_store base;
    ss__redis_pool pool;
    char stream[SS__REDIS_KEY_MAX + 1];
    char meta[SS__REDIS_KEY_MAX + 16];
    char mirrors[SS__REDIS_KEY_MAX + 16];
    char lru[SS__REDIS_KEY_MAX + 16];
    const char *keys[4];
    size_t maxlen, max_line, max_mirrors, max_message;

    pthread_mutex_t mu;   /* guards what follows */
    pthread_cond_t grown; /* a record was added, or the store shuts down */
    uint64_t last_seq;    /* the newest seq known here */
    uint64_t cleared;     /* seq at the last clear known here */
    bool closed;
    int watch_fd; /* the watcher's socket, -1 when not connected */
    pthread_t watcher;
    bool watcher_started;
} redis_store;

/* A record assembled for the apply script; its text is in the assembly's
 * buffer at off. */
typedef struct out_rec {
    ss_kind kind;
    uint32_t flags;
    const char *source;
    size_t off, len;
} out_rec;

typedef struct assembly {
    out_rec *recs;
    size_t count, alloc;
    ss__buf text;
    const char *source; /* of the lines being emitted */
    uint32_t flags;     /* added to the lines being emitted (a flagged item's) */
} assembly;

/* A partial line as read from Redis. */
typedef struct partial_state {
    uint64_t version; /* the mirror's last batch, or the anonymous line's counter */
    bool known;       /* the mirror was remembered */
    const char *part;
    size_t len, col;
    bool cr;
    char hold[2]; /* as ss__lineasm's */
    size_t held;
    char source[SS_SOURCE_MAX];
} partial_state;

static const char *const kind_names[] = {"line", "warning", "error"};

/* ---- replies ---- */

static uint64_t reply_u64(const redisReply *r)
{
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer > 0 ? (uint64_t)r->integer : 0;
    if (r->type != REDIS_REPLY_STRING)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < r->len && r->str[i] >= '0' && r->str[i] <= '9'; i++)
        v = v * 10 + (uint64_t)(r->str[i] - '0');
    return v;
}

static bool is_array(const redisReply *r, size_t n)
{
    return r && r->type == REDIS_REPLY_ARRAY && r->elements >= n;
}

/* An entry [ID, [field, value, ...]] as a record's parts; false when it is not
 * one of ours. */
static bool entry_parse(const redisReply *e, uint64_t *seq, ss_record *rec)
{
    if (!is_array(e, 2) || e->element[0]->type != REDIS_REPLY_STRING || !is_array(e->element[1], 0))
        return false;
    *seq = reply_u64(e->element[0]);
    memset(rec, 0, sizeof(*rec));
    rec->text = "";
    const redisReply *f = e->element[1];
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(k->str, "text") == 0) {
            rec->text = v->str;
            rec->len = v->len;
        } else if (strcmp(k->str, "source") == 0) {
            ss__source_copy(rec->source, v->str);
        } else if (strcmp(k->str, "time") == 0) {
            rec->time_ns = (int64_t)reply_u64(v);
        } else if (strcmp(k->str, "flags") == 0) {
            rec->flags = (uint32_t)reply_u64(v) & (SS_REC_CONTINUED | SS_REC_STDERR | SS_REC_EXIT);
        } else if (strcmp(k->str, "kind") == 0) {
            for (int kd = 0; kd < 3; kd++)
                if (strcmp(v->str, kind_names[kd]) == 0)
                    rec->kind = (ss_kind)kd;
        }
    }
    return *seq > 0;
}

/* Entries (the first `count` of arr, in order, or reversed) into set, with the
 * partial line after them when part is not NULL. Returns the number of items
 * or -ENOMEM. */
static int entries_to_set(const redisReply *arr, size_t count, bool reversed,
                          const redisReply *part, int64_t part_time, ss_records *set)
{
    size_t bytes = part ? part->len : 0;
    for (size_t i = 0; i < count; i++) {
        const redisReply *e = arr->element[i];
        uint64_t seq;
        ss_record rec;
        if (entry_parse(e, &seq, &rec))
            bytes += rec.len;
    }
    ss__records_builder b;
    int rc = ss__records_begin(&b, set, count + (part != NULL), bytes);
    if (rc < 0)
        return rc;
    for (size_t j = 0; j < count; j++) {
        const redisReply *e = arr->element[reversed ? count - 1 - j : j];
        uint64_t seq;
        ss_record rec;
        if (entry_parse(e, &seq, &rec))
            ss__records_add(&b, seq, rec.time_ns, rec.kind, rec.flags, 0, rec.source, rec.text,
                            rec.len);
    }
    static const char no_source[SS_SOURCE_MAX];
    if (part)
        ss__records_add(&b, 0, part_time, SS_KIND_LINE, SS_REC_PARTIAL, 0, no_source, part->str,
                        part->len);
    return (int)set->count;
}

/* ---- running scripts and commands ---- */

/* What the server is told: a connection that failed is SS_ESTOREDOWN (a 503
 * that says so); the pool drops it and dials again next time. */
static int public_error(int rc)
{
    return rc != -ENOMEM && ss__redis_broken(rc) ? SS_ESTOREDOWN : rc;
}

static int run_script(redis_store *s, ss__redis_script_id id, int argc, const char *const *argv,
                      const size_t *lens, redisReply **ret)
{
    ss__redis_conn *c;
    int rc = ss__redis_pool_take(&s->pool, &c);
    if (rc < 0)
        return public_error(rc);
    rc = ss__redis_eval(&s->pool, c, id, s->keys, argc, argv, lens, ret);
    ss__redis_pool_give(&s->pool, c, ss__redis_broken(rc));
    return public_error(rc);
}

static int run_command(redis_store *s, int argc, const char *const *argv, redisReply **ret)
{
    ss__redis_conn *c;
    int rc = ss__redis_pool_take(&s->pool, &c);
    if (rc < 0)
        return public_error(rc);
    rc = ss__redis_command(c->ctx, argc, argv, ret);
    ss__redis_pool_give(&s->pool, c, ss__redis_broken(rc));
    return public_error(rc);
}

/* A script that takes only maxlen, or maxlen and two numbers. */
static int run_numbers(redis_store *s, ss__redis_script_id id, int argc, const uint64_t *nums,
                       redisReply **ret)
{
    char text[3][24];
    const char *argv[3];
    size_t lens[3];
    for (int i = 0; i < argc; i++) {
        snprintf(text[i], sizeof(text[i]), "%" PRIu64, nums[i]);
        argv[i] = text[i];
        lens[i] = strlen(text[i]);
    }
    return run_script(s, id, argc, argv, lens, ret);
}

/* What this server knows of the newest record: raise it and wake waiters. */
static void note_seq(redis_store *s, uint64_t seq, uint64_t cleared, bool exact)
{
    pthread_mutex_lock(&s->mu);
    if (exact || seq > s->last_seq)
        s->last_seq = seq;
    if (exact || cleared > s->cleared)
        s->cleared = cleared;
    pthread_cond_broadcast(&s->grown);
    pthread_mutex_unlock(&s->mu);
}

/* ---- apply ---- */

static int add_rec(assembly *a, ss_kind kind, uint32_t flags, const char *source, const char *text,
                   size_t len)
{
    if (a->count == a->alloc) {
        size_t n = a->alloc ? a->alloc * 2 : 64;
        out_rec *p = realloc(a->recs, n * sizeof(*p));
        if (!p)
            return -ENOMEM;
        a->recs = p;
        a->alloc = n;
    }
    size_t off = a->text.len;
    int rc = ss__buf_append(&a->text, text, len);
    if (rc < 0)
        return rc == -ENOBUFS ? SS_ETOOBIG : rc;
    a->recs[a->count++] = (out_rec){kind, flags, source, off, len};
    return 0;
}

static int emit_line(void *ctx, const char *text, size_t len, uint32_t flags)
{
    assembly *a = ctx;
    return add_rec(a, SS_KIND_LINE, flags | a->flags, a->source, text, len);
}

/* The source a mirror's records carry: the batch's, else the mirror id. */
static void batch_source(const ss__host_batch *b, char *dst)
{
    ss__source_copy(dst, b->mirror[0] == '\0' ? "" : b->has_source ? b->source : b->mirror);
}

static const char *str_or_empty(const redisReply *r, size_t *len)
{
    *len = r->type == REDIS_REPLY_STRING ? r->len : 0;
    return r->type == REDIS_REPLY_STRING ? r->str : "";
}

/* Read the partial line batch b continues. *ret_reply holds its memory. */
static int load_partial(redis_store *s, const ss__host_batch *b, partial_state *ps,
                        redisReply **ret_reply)
{
    char f[5][SS__HOST_MIRROR_MAX + 8];
    const char *argv[7] = {"HMGET"};
    if (b->mirror[0]) {
        static const char *const names[] = {"last", "part", "col", "cr", "src"};
        argv[1] = s->mirrors;
        for (int i = 0; i < 5; i++) {
            snprintf(f[i], sizeof(f[i]), "%s:%s", names[i], b->mirror);
            argv[2 + i] = f[i];
        }
    } else {
        static const char *const names[] = {"aver", "part", "pcol", "pcr", "src"};
        argv[1] = s->meta;
        for (int i = 0; i < 5; i++)
            argv[2 + i] = names[i];
    }
    redisReply *r;
    int rc = run_command(s, 7, argv, &r);
    if (rc < 0)
        return rc;
    if (!is_array(r, 5)) {
        freeReplyObject(r);
        return -EIO;
    }
    size_t ignored;
    memset(ps, 0, sizeof(*ps));
    ps->known = r->element[0]->type == REDIS_REPLY_STRING;
    ps->version = reply_u64(r->element[0]);
    ps->part = str_or_empty(r->element[1], &ps->len);
    ps->col = (size_t)reply_u64(r->element[2]);
    /* The assembler's pending state: "1" after a "\r" (a "\n" next is the
     * same break), then the bytes held back that may begin a multi-byte
     * break. */
    const redisReply *pending = r->element[3];
    if (pending->type == REDIS_REPLY_STRING && pending->len > 0) {
        ps->cr = pending->str[0] == '1';
        ps->held = pending->len - 1 < sizeof(ps->hold) ? pending->len - 1 : sizeof(ps->hold);
        memcpy(ps->hold, pending->str + 1, ps->held);
    }
    ss__source_copy(ps->source, b->mirror[0] ? str_or_empty(r->element[4], &ignored) : "");
    *ret_reply = r;
    return 0;
}

/* Turn the partial line read and batch b into records and a new partial line
 * (left in la). */
static int assemble(redis_store *s, const ss__host_batch *b, const partial_state *ps,
                    const char *source, ss__lineasm *la, assembly *a)
{
    int rc = 0;
    a->source = ps->source;
    if (ps->len > s->max_line) {
        /* Left by a server with a longer max_line: it ends here, whole. */
        rc = emit_line(a, ps->part, ps->len, 0);
    } else {
        memcpy(la->part, ps->part, ps->len);
        la->len = ps->len;
        la->col = ps->col < ps->len ? ps->col : ps->len;
        la->cr_pending = ps->cr;
        memcpy(la->hold, ps->hold, ps->held);
        la->held = ps->held;
    }
    /* A new source name: the old partial line ends under the old name. */
    if (rc == 0 && ps->known && strcmp(ps->source, source) != 0)
        rc = ss__lineasm_flush(la, emit_line, a);
    a->source = source;
    for (size_t i = 0; i < b->count && rc == 0; i++) {
        const ss__host_item *it = &b->items[i];
        const char *text = b->text.data ? b->text.data + it->off : "";
        switch (it->op) {
        case SS__POST_TEXT:
            if (!it->flags) {
                rc = ss__lineasm_feed(la, text, it->len, emit_line, a);
                break;
            }
            /* flagged (stderr, exit): it ends the partial line, its lines are
             * assembled on their own (a mirror sends them whole) */
            rc = ss__lineasm_flush(la, emit_line, a);
            ss__lineasm own;
            if (rc == 0 &&
                (rc = ss__lineasm_init(&own, s->max_line, SS__HOST_LINE_FLAGS, NULL)) == 0) {
                a->flags = it->flags;
                rc = ss__lineasm_feed(&own, text, it->len, emit_line, a);
                if (rc == 0)
                    rc = ss__lineasm_flush(&own, emit_line, a);
                a->flags = 0;
                ss__lineasm_done(&own);
            }
            break;
        case SS__POST_MESSAGE:
            rc = ss__lineasm_flush(la, emit_line, a);
            if (rc == 0)
                rc = add_rec(a, it->kind, it->flags, source, text, ss__trim_breaks(text, it->len));
            break;
        case SS__POST_CLOSE:
            rc = ss__lineasm_flush(la, emit_line, a);
            break;
        }
    }
    return rc;
}

/* The apply script's arguments for the assembled batch. */
enum { APPLY_FIXED = 10 };

static int send_apply(redis_store *s, const ss__host_batch *b, const partial_state *ps,
                      const char *source, const ss__lineasm *la, const assembly *a,
                      redisReply **ret)
{
    static const char *const flag_names[] = {"0", "1", "2",  "3",  "4",  "5",  "6",  "7",
                                             "8", "9", "10", "11", "12", "13", "14", "15"};
    char num[7][24];
    int64_t now = ss__now_ns(false);
    snprintf(num[0], sizeof(num[0]), "%zu", s->maxlen);
    snprintf(num[1], sizeof(num[1]), "%" PRIu64, b->number);
    snprintf(num[2], sizeof(num[2]), "%" PRIu64, ps->version);
    snprintf(num[3], sizeof(num[3]), "%zu", la->col);
    num[4][0] = la->cr_pending ? '1' : '0';
    memcpy(num[4] + 1, la->hold, la->held);
    snprintf(num[5], sizeof(num[5]), "%" PRId64, now);
    snprintf(num[6], sizeof(num[6]), "%zu", s->max_mirrors);
    int argc = APPLY_FIXED + 4 * (int)a->count;
    const char **argv = malloc((size_t)argc * sizeof(*argv));
    size_t *lens = malloc((size_t)argc * sizeof(*lens));
    if (!argv || !lens) {
        free(argv);
        free(lens);
        return -ENOMEM;
    }
    const char *fixed[APPLY_FIXED] = {num[0], b->mirror, num[1], num[2], la->part,
                                      num[3], num[4],    source, num[5], num[6]};
    for (int i = 0; i < APPLY_FIXED; i++) {
        argv[i] = fixed[i];
        /* the partial line and the pending bytes are not terminated (and may
         * hold NUL bytes) */
        lens[i] = i == 4 ? la->len : i == 6 ? 1 + la->held : strlen(fixed[i]);
    }
    for (size_t i = 0; i < a->count; i++) {
        const out_rec *r = &a->recs[i];
        const char **av = argv + APPLY_FIXED + 4 * i;
        size_t *al = lens + APPLY_FIXED + 4 * i;
        av[0] = kind_names[r->kind];
        av[1] = flag_names[r->flags & 15];
        av[2] = r->source;
        av[3] = a->text.data ? a->text.data + r->off : "";
        al[0] = strlen(av[0]);
        al[1] = strlen(av[1]);
        al[2] = strlen(av[2]);
        al[3] = r->len;
    }
    int rc = run_script(s, SS__RS_APPLY, argc, argv, lens, ret);
    free(argv);
    free(lens);
    return rc;
}

/* One attempt: read the partial line, assemble, store. Returns 0 with the
 * script's status in *status, or an error. */
static int apply_once(redis_store *s, const ss__host_batch *b, int *status, uint64_t *seq)
{
    char source[SS_SOURCE_MAX];
    batch_source(b, source);
    partial_state ps;
    redisReply *state;
    int rc = load_partial(s, b, &ps, &state);
    if (rc < 0)
        return rc;
    if (b->mirror[0] && ps.known && b->number <= ps.version) {
        freeReplyObject(state);
        *status = SS__RS_DUPLICATE; /* no need to assemble it */
        return 0;
    }
    ss__lineasm la;
    assembly a = {0};
    ss__buf_init(&a.text, b->text.len + ps.len + 64);
    rc = ss__lineasm_init(&la, s->max_line, SS__HOST_LINE_FLAGS, NULL);
    if (rc == 0) {
        rc = assemble(s, b, &ps, source, &la, &a);
        redisReply *r = NULL;
        if (rc == 0)
            rc = send_apply(s, b, &ps, source, &la, &a, &r);
        if (rc == 0 && !is_array(r, 3))
            rc = -EIO;
        if (rc == 0) {
            *status = (int)r->element[0]->integer;
            *seq = reply_u64(r->element[1]);
        }
        if (r)
            freeReplyObject(r);
        ss__lineasm_done(&la);
    }
    free(a.recs);
    ss__buf_free(&a.text);
    freeReplyObject(state);
    return rc;
}

static int redis_apply(ss__host_store *st, const ss__host_batch *b, bool *ret_duplicate)
{
    redis_store *s = (redis_store *)st;
    for (size_t i = 0; i < b->count; i++)
        if (b->items[i].op == SS__POST_MESSAGE && b->items[i].len > s->max_message &&
            ss__trim_breaks(b->text.data + b->items[i].off, b->items[i].len) > s->max_message)
            return SS_ETOOBIG;
    *ret_duplicate = false;
    for (int attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
        int status = 0;
        uint64_t seq = 0;
        int rc = apply_once(s, b, &status, &seq);
        if (rc < 0)
            return rc;
        if (status == SS__RS_DUPLICATE) {
            *ret_duplicate = true;
            return 0;
        }
        if (status == SS__RS_APPLIED) {
            note_seq(s, seq, 0, false);
            return 0;
        }
    }
    return -EAGAIN; /* the mirror retries later */
}

/* ---- reads ---- */

static int redis_read(ss__host_store *st, size_t n, ss_records *ret)
{
    redis_store *s = (redis_store *)st;
    ss_records_clear(ret);
    uint64_t nums[2] = {s->maxlen, n < s->maxlen ? n : s->maxlen};
    redisReply *r;
    int rc = run_numbers(s, SS__RS_READ, 2, nums, &r);
    if (rc < 0)
        return rc;
    if (!is_array(r, 4) || r->element[1]->type != REDIS_REPLY_STRING ||
        !is_array(r->element[3], 0)) {
        freeReplyObject(r);
        return -EIO;
    }
    /* The view of PROTOCOL.md, as ss_linebuf_read: records plus the partial
     * line, at most maxlen items, the newest n of them. */
    size_t records = (size_t)reply_u64(r->element[0]);
    const redisReply *part = r->element[1];
    bool partial = part->len > 0;
    if (partial && records > s->maxlen - 1)
        records = s->maxlen - 1;
    records -= ss__newest_items(records, &partial, n);
    const redisReply *entries = r->element[3];
    if (records > entries->elements)
        records = entries->elements;
    rc = entries_to_set(entries, records, true, partial ? part : NULL,
                        (int64_t)reply_u64(r->element[2]), ret);
    freeReplyObject(r);
    return rc;
}

static int redis_read_since(ss__host_store *st, uint64_t cursor, size_t max, ss_records *ret)
{
    redis_store *s = (redis_store *)st;
    ss_records_clear(ret);
    uint64_t nums[3] = {s->maxlen, cursor, max ? max : s->maxlen};
    redisReply *r;
    int rc = run_numbers(s, SS__RS_READ_SINCE, 3, nums, &r);
    if (rc < 0)
        return rc;
    if (!is_array(r, 3) || !is_array(r->element[2], 0)) {
        freeReplyObject(r);
        return -EIO;
    }
    uint64_t start = reply_u64(r->element[0]), seq = reply_u64(r->element[1]);
    const redisReply *entries = r->element[2];
    rc = entries_to_set(entries, entries->elements, false, NULL, 0, ret);
    if (rc >= 0) {
        if (ret->count) {
            ret->missed = ret->items[0].seq - (cursor + 1);
            ret->cursor = ret->items[ret->count - 1].seq;
        } else if (start <= seq) {
            /* Numbered but gone from the stream (trimmed by hand, or lost
             * by a Redis restart): skip them, counted. */
            ret->missed = seq - cursor;
            ret->cursor = seq;
        } else {
            ret->missed = start - (cursor + 1);
            ret->cursor = start - 1 > cursor ? start - 1 : cursor;
        }
    }
    freeReplyObject(r);
    return rc;
}

static int redis_wait(ss__host_store *st, uint64_t cursor, int timeout_ms)
{
    redis_store *s = (redis_store *)st;
    struct timespec deadline;
    if (timeout_ms > 0)
        deadline = ss__deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&s->mu);
    int rc;
    for (;;) {
        if (s->closed) {
            rc = SS_ECLOSED;
            break;
        }
        /* A record newer than the cursor that a clear has not removed. */
        if (s->last_seq > cursor && s->last_seq > s->cleared) {
            rc = 0;
            break;
        }
        if (timeout_ms == 0) {
            rc = -ETIMEDOUT;
            break;
        }
        int w = timeout_ms < 0 ? pthread_cond_wait(&s->grown, &s->mu)
                               : pthread_cond_timedwait(&s->grown, &s->mu, &deadline);
        if (w == ETIMEDOUT)
            timeout_ms = 0; /* look once more, then give up */
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* The STATE script: {seq, records in the window, partial line length, stop,
 * cleared, epoch}. */
static int read_state(redis_store *s, redisReply **ret)
{
    uint64_t args[2] = {s->maxlen, ss__host_new_epoch()};
    int rc = run_numbers(s, SS__RS_STATE, 2, args, ret);
    if (rc == 0 && !is_array(*ret, 6)) {
        freeReplyObject(*ret);
        rc = -EIO;
    }
    return rc;
}

static int redis_len(ss__host_store *st, size_t *ret)
{
    redisReply *r;
    int rc = read_state((redis_store *)st, &r);
    if (rc < 0)
        return rc;
    size_t maxlen = ((redis_store *)st)->maxlen;
    size_t records = (size_t)reply_u64(r->element[1]);
    bool partial = reply_u64(r->element[2]) > 0;
    if (partial && records > maxlen - 1)
        records = maxlen - 1;
    *ret = records + partial;
    freeReplyObject(r);
    return 0;
}

static int redis_stats(ss__host_store *st, ss__host_store_stats *ret)
{
    redis_store *s = (redis_store *)st;
    redisReply *r;
    int rc = read_state(s, &r);
    if (rc < 0)
        return rc;
    ret->last_seq = reply_u64(r->element[0]);
    ret->count = (size_t)reply_u64(r->element[1]);
    ret->maxlen = s->maxlen;
    ret->epoch = reply_u64(r->element[5]);
    note_seq(s, ret->last_seq, reply_u64(r->element[4]), false);
    freeReplyObject(r);
    return 0;
}

static int redis_clear(ss__host_store *st)
{
    redis_store *s = (redis_store *)st;
    redisReply *r;
    int rc = run_script(s, SS__RS_CLEAR, 0, NULL, NULL, &r);
    if (rc < 0)
        return rc;
    uint64_t seq = reply_u64(r);
    note_seq(s, seq, seq, false);
    freeReplyObject(r);
    return 0;
}

/* ---- the stop request: one field in Redis, shared by every server ---- */

static int redis_get_stop(ss__host_store *st, bool *ret)
{
    redis_store *s = (redis_store *)st;
    const char *argv[] = {"HGET", s->meta, "stop"};
    redisReply *r;
    int rc = run_command(s, 3, argv, &r);
    if (rc < 0)
        return rc;
    *ret = reply_u64(r) != 0;
    freeReplyObject(r);
    return 0;
}

static int redis_set_stop(ss__host_store *st, bool stop)
{
    redis_store *s = (redis_store *)st;
    const char *argv[] = {"HSET", s->meta, "stop", stop ? "1" : "0"};
    redisReply *r;
    int rc = run_command(s, 4, argv, &r);
    if (rc == 0)
        freeReplyObject(r);
    return rc;
}

/* ---- the watcher: XREAD BLOCK on its own connection ---- */

/* Follow the stream until the connection fails or the store shuts down. */
static void watch_connected(redis_store *s, redisContext *ctx)
{
    bool exact = true; /* Redis may have restarted with other data */
    for (;;) {
        const char *hm[] = {"HMGET", s->meta, "seq", "cleared"};
        redisReply *r;
        if (ss__redis_command(ctx, 4, hm, &r) < 0)
            return;
        uint64_t seq = is_array(r, 2) ? reply_u64(r->element[0]) : 0;
        uint64_t cleared = is_array(r, 2) ? reply_u64(r->element[1]) : 0;
        freeReplyObject(r);
        note_seq(s, seq, cleared, exact);
        exact = false;

        char id[32];
        snprintf(id, sizeof(id), "%" PRIu64 "-0", seq);
        const char *xr[] = {"XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", s->stream, id};
        if (ss__redis_command(ctx, 8, xr, &r) < 0)
            return;
        freeReplyObject(r);
    }
}

static void *watch_main(void *arg)
{
    redis_store *s = arg;
    int backoff = WATCH_BACKOFF_MIN_MS;
    pthread_mutex_lock(&s->mu);
    while (!s->closed) {
        pthread_mutex_unlock(&s->mu);
        redisContext *ctx = NULL;
        int rc = ss__redis_connect(&s->pool.uri, 0, &ctx);
        pthread_mutex_lock(&s->mu);
        if (rc == 0 && !s->closed) {
            s->watch_fd = ctx->fd;
            pthread_mutex_unlock(&s->mu);
            watch_connected(s, ctx);
            pthread_mutex_lock(&s->mu);
            s->watch_fd = -1;
            backoff = WATCH_BACKOFF_MIN_MS;
        }
        if (ctx) {
            pthread_mutex_unlock(&s->mu);
            redisFree(ctx);
            pthread_mutex_lock(&s->mu);
        }
        if (s->closed)
            break;
        /* Redis is away: try again later, or at once on shutdown. */
        struct timespec deadline = ss__deadline_after_ms(backoff);
        pthread_cond_timedwait(&s->grown, &s->mu, &deadline);
        backoff = backoff * 2 > WATCH_BACKOFF_MAX_MS ? WATCH_BACKOFF_MAX_MS : backoff * 2;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- life cycle ---- */

static void redis_shutdown(ss__host_store *st)
{
    redis_store *s = (redis_store *)st;
    pthread_mutex_lock(&s->mu);
    s->closed = true;
    /* Wakes the watcher out of XREAD BLOCK; it frees the socket itself. */
    if (s->watch_fd >= 0)
        shutdown(s->watch_fd, SHUT_RDWR);
    pthread_cond_broadcast(&s->grown);
    pthread_mutex_unlock(&s->mu);
    ss__redis_pool_shutdown(&s->pool);
}

static void redis_free(ss__host_store *st)
{
    redis_store *s = (redis_store *)st;
    if (!s)
        return;
    redis_shutdown(st);
    if (s->watcher_started)
        pthread_join(s->watcher, NULL);
    ss__redis_pool_done(&s->pool);
    pthread_cond_destroy(&s->grown);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static const ss__host_store_ops redis_ops = {
    .apply = redis_apply,
    .read = redis_read,
    .read_since = redis_read_since,
    .wait = redis_wait,
    .len = redis_len,
    .stats = redis_stats,
    .clear = redis_clear,
    .get_stop = redis_get_stop,
    .set_stop = redis_set_stop,
    .shutdown = redis_shutdown,
    .free = redis_free,
};

int ss__host_redis_store_new(ss__host_store **ret, const ss__host_redis_opts *opts)
{
    ss__redis_uri uri;
    if (!opts || ss__redis_uri_parse(opts->uri, &uri) < 0 ||
        opts->maxlen > SS__HOST_REDIS_MAXLEN_MAX)
        return -EINVAL;
    redis_store *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->base.ops = &redis_ops;
    s->maxlen = opts->maxlen ? opts->maxlen : SS_LINEBUF_DEFAULT_MAXLEN;
    s->max_line = opts->max_line ? opts->max_line : SS_LINEBUF_DEFAULT_MAX_LINE;
    s->max_mirrors = opts->mirrors ? opts->mirrors : 4096;
    s->max_message = SS_LINEBUF_DEFAULT_MAX_BYTES;
    char tag[SS__REDIS_KEY_MAX + 3];
    ss__redis_key_tag(uri.key, tag, sizeof(tag));
    memcpy(s->stream, uri.key, sizeof(s->stream));
    snprintf(s->meta, sizeof(s->meta), "%s:meta", tag);
    snprintf(s->mirrors, sizeof(s->mirrors), "%s:mirrors", tag);
    snprintf(s->lru, sizeof(s->lru), "%s:lru", tag);
    s->keys[0] = s->stream;
    s->keys[1] = s->meta;
    s->keys[2] = s->mirrors;
    s->keys[3] = s->lru;
    s->watch_fd = -1;
    ss__redis_pool_init(&s->pool, &uri);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->grown, &ca);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&s->watcher, NULL, watch_main, s);
    if (rc != 0) {
        redis_free(&s->base);
        return -rc;
    }
    s->watcher_started = true;
    *ret = &s->base;
    return 0;
}
