/*
 * The in-memory host store: one ss_linebuf holds the records and the anonymous
 * partial line (its default writer); each mirror id gets an ss_writer for its own
 * partial line, remembered with the last batch number stored in a table of at
 * most `mirrors` entries (a hash for lookup, a list for least-recently-used
 * eviction).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream/common.h>
#include <syncstream/linebuf.h>

#include "host/store.h"
#include "linebuf/linebuf_int.h"
#include "util/clock.h"
#include "util/lineasm.h"

typedef struct mirror_entry {
    char id[SS__HOST_MIRROR_MAX + 1];
    char source[SS_SOURCE_MAX];
    uint64_t last_batch;
    ss_writer *w;
    struct mirror_entry *hash_next;
    struct mirror_entry *lru_prev, *lru_next; /* lru_next: less recently used */
} mirror_entry;

typedef struct mem_store {
    ss__host_store base;
    ss_linebuf *lb;
    pthread_mutex_t mu; /* guards the table and stop; held across a mirror's batch */
    mirror_entry **buckets;
    size_t n_buckets; /* a power of two */
    size_t n_mirrors;
    size_t max_mirrors;
    mirror_entry *lru_head, *lru_tail;
    bool stop;
    uint64_t epoch; /* the buffer lives as long as the store */
    size_t max_line;
} mem_store;

static uint64_t hash_id(const char *id)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 1099511628211ULL;
    return h;
}

static void lru_unlink(mem_store *s, mirror_entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        s->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        s->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(mem_store *s, mirror_entry *e)
{
    e->lru_next = s->lru_head;
    e->lru_prev = NULL;
    if (s->lru_head)
        s->lru_head->lru_prev = e;
    s->lru_head = e;
    if (!s->lru_tail)
        s->lru_tail = e;
}

static mirror_entry **bucket_of(mem_store *s, const char *id)
{
    return &s->buckets[hash_id(id) & (s->n_buckets - 1)];
}

/* Forget a mirror: its partial line becomes a record (nothing is lost). */
static void forget(mem_store *s, mirror_entry *e)
{
    mirror_entry **p = bucket_of(s, e->id);
    while (*p != e)
        p = &(*p)->hash_next;
    *p = e->hash_next;
    lru_unlink(s, e);
    ss_writer_close(e->w);
    free(e);
    s->n_mirrors--;
}

static mirror_entry *lookup(mem_store *s, const char *id)
{
    for (mirror_entry *e = *bucket_of(s, id); e; e = e->hash_next)
        if (strcmp(e->id, id) == 0)
            return e;
    return NULL;
}

static int add_mirror(mem_store *s, const char *id, const char *source, mirror_entry **ret)
{
    mirror_entry *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    int rc = ss_writer_new(&e->w, s->lb, source, 0);
    if (rc < 0) {
        free(e);
        return rc;
    }
    memcpy(e->id, id, strlen(id) + 1);
    memcpy(e->source, source, SS_SOURCE_MAX);
    if (s->n_mirrors == s->max_mirrors)
        forget(s, s->lru_tail);
    mirror_entry **b = bucket_of(s, id);
    e->hash_next = *b;
    *b = e;
    lru_push_front(s, e);
    s->n_mirrors++;
    *ret = e;
    return 0;
}

/* The source a mirror's records carry: the batch's, else the mirror id. */
static void batch_source(const ss__host_batch *b, char *dst)
{
    memset(dst, 0, SS_SOURCE_MAX);
    const char *src = b->has_source ? b->source : b->mirror;
    size_t n = strnlen(src, SS_SOURCE_MAX - 1);
    memcpy(dst, src, n);
}

typedef struct flagged_ctx {
    mem_store *s;
    const char *source;
    uint32_t flags;
    uint32_t producer; /* the feed's writer's id */
} flagged_ctx;

static int store_flagged_line(void *ctx, const char *text, size_t len, uint32_t flags)
{
    flagged_ctx *f = ctx;
    return ss__linebuf_store(f->s->lb, SS_KIND_LINE, flags | f->flags, f->source, f->producer,
                             ss__now_ns(false), text, len);
}

/*
 * A flagged item (stderr or exit): it ends the writer's partial line, then its
 * records are stored with the flags, a text's lines assembled on their own (a
 * mirror sends them whole; an unterminated end is a record of its own).
 */
static int apply_flagged(mem_store *s, ss_writer *w, const ss__host_item *it, const char *text,
                         const char *source)
{
    int rc = w ? ss_writer_new_line(w) : ss_linebuf_new_line(s->lb);
    if (rc < 0)
        return rc;
    if (it->op == SS__POST_MESSAGE)
        return ss__linebuf_store(s->lb, it->kind, it->flags, source, ss_writer_id(w),
                                 ss__now_ns(false), text, ss__trim_breaks(text, it->len));
    ss__lineasm la;
    if ((rc = ss__lineasm_init(&la, s->max_line, SS__HOST_LINE_FLAGS, NULL)) < 0)
        return rc;
    flagged_ctx f = {s, source, it->flags, ss_writer_id(w)};
    rc = ss__lineasm_feed(&la, text, it->len, store_flagged_line, &f);
    if (rc == 0)
        rc = ss__lineasm_flush(&la, store_flagged_line, &f);
    ss__lineasm_done(&la);
    return rc;
}

/* Apply the items through writer w, or through the default writer when w is
 * NULL; source names the records of flagged items. Consecutive text items are
 * one write (their text is contiguous), so a batch of lines takes the buffer's
 * lock once. */
static int apply_items(mem_store *s, ss_writer *w, const ss__host_batch *b, const char *source)
{
    int rc = 0;
    for (size_t i = 0; i < b->count && rc == 0; i++) {
        const ss__host_item *it = &b->items[i];
        const char *text = b->text.data ? b->text.data + it->off : "";
        if (it->flags && it->op != SS__POST_CLOSE) {
            rc = apply_flagged(s, w, it, text, source);
            continue;
        }
        switch (it->op) {
        case SS__POST_TEXT: {
            size_t len = it->len;
            while (i + 1 < b->count && b->items[i + 1].op == SS__POST_TEXT &&
                   !b->items[i + 1].flags)
                len += b->items[++i].len;
            rc = w ? ss_writer_write(w, text, len) : ss_linebuf_write(s->lb, text, len);
            break;
        }
        case SS__POST_MESSAGE:
            rc = w ? ss_writer_append(w, it->kind, text, it->len)
                   : ss_linebuf_append(s->lb, it->kind, text, it->len);
            break;
        case SS__POST_CLOSE:
            rc = w ? ss_writer_new_line(w) : ss_linebuf_new_line(s->lb);
            break;
        }
    }
    return rc;
}

static int mem_apply(ss__host_store *st, const ss__host_batch *b, bool *ret_duplicate)
{
    mem_store *s = (mem_store *)st;
    /* Refuse a message that can never fit before storing anything: a batch is
     * all or nothing. */
    for (size_t i = 0; i < b->count; i++)
        if (b->items[i].op == SS__POST_MESSAGE && ss__linebuf_too_big(s->lb, b->items[i].len))
            return SS_ETOOBIG;
    *ret_duplicate = false;
    if (b->mirror[0] == '\0')
        return apply_items(s, NULL, b, "");

    char source[SS_SOURCE_MAX];
    batch_source(b, source);
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    mirror_entry *e = lookup(s, b->mirror);
    if (e && b->number <= e->last_batch) {
        *ret_duplicate = true;
        lru_unlink(s, e);
        lru_push_front(s, e);
        goto out_unlock;
    }
    if (e && memcmp(e->source, source, SS_SOURCE_MAX) != 0) {
        /* A new source name: the old partial line ends under the old name. */
        uint64_t last = e->last_batch;
        forget(s, e);
        rc = add_mirror(s, b->mirror, source, &e);
        if (rc == 0)
            e->last_batch = last;
    } else if (e) {
        lru_unlink(s, e);
        lru_push_front(s, e);
    } else {
        rc = add_mirror(s, b->mirror, source, &e);
    }
    if (rc == 0)
        rc = apply_items(s, e->w, b, source);
    if (rc == 0)
        e->last_batch = b->number;
out_unlock:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int mem_read(ss__host_store *st, size_t n, ss_records *ret)
{
    return ss_linebuf_read(((mem_store *)st)->lb, n, ret);
}

static int mem_read_since(ss__host_store *st, uint64_t cursor, size_t max, ss_records *ret)
{
    return ss_linebuf_read_since(((mem_store *)st)->lb, cursor, max, ret);
}

static int mem_wait(ss__host_store *st, uint64_t cursor, int timeout_ms)
{
    return ss_linebuf_wait(((mem_store *)st)->lb, cursor, timeout_ms);
}

static int mem_len(ss__host_store *st, size_t *ret)
{
    return ss_linebuf_len(((mem_store *)st)->lb, ret);
}

static int mem_stats(ss__host_store *st, ss__host_store_stats *ret)
{
    ss_linebuf_stats ls;
    int rc = ss_linebuf_get_stats(((mem_store *)st)->lb, &ls);
    if (rc < 0)
        return rc;
    ret->count = ls.count;
    ret->maxlen = ls.maxlen;
    ret->last_seq = ls.last_seq;
    ret->epoch = ((mem_store *)st)->epoch;
    return 0;
}

static int mem_clear(ss__host_store *st)
{
    return ss_linebuf_clear(((mem_store *)st)->lb);
}

static int mem_get_stop(ss__host_store *st, bool *ret)
{
    mem_store *s = (mem_store *)st;
    pthread_mutex_lock(&s->mu);
    *ret = s->stop;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static int mem_set_stop(ss__host_store *st, bool stop)
{
    mem_store *s = (mem_store *)st;
    pthread_mutex_lock(&s->mu);
    s->stop = stop;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static void mem_shutdown(ss__host_store *st)
{
    ss_linebuf_close(((mem_store *)st)->lb);
}

static void mem_free(ss__host_store *st)
{
    mem_store *s = (mem_store *)st;
    if (!s)
        return;
    while (s->lru_head)
        forget(s, s->lru_head);
    ss_linebuf_free(s->lb);
    pthread_mutex_destroy(&s->mu);
    free(s->buckets);
    free(s);
}

static const ss__host_store_ops mem_ops = {
    .apply = mem_apply,
    .read = mem_read,
    .read_since = mem_read_since,
    .wait = mem_wait,
    .len = mem_len,
    .stats = mem_stats,
    .clear = mem_clear,
    .get_stop = mem_get_stop,
    .set_stop = mem_set_stop,
    .shutdown = mem_shutdown,
    .free = mem_free,
};

int ss__host_mem_store_new(ss__host_store **ret, const ss__host_mem_opts *opts)
{
    mem_store *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->base.ops = &mem_ops;
    s->epoch = ss__host_new_epoch();
    s->max_mirrors = opts->mirrors ? opts->mirrors : 4096;
    s->max_line = opts->max_line ? opts->max_line : SS_LINEBUF_DEFAULT_MAX_LINE;
    s->n_buckets = 1;
    while (s->n_buckets < s->max_mirrors)
        s->n_buckets *= 2;
    s->buckets = calloc(s->n_buckets, sizeof(*s->buckets));
    ss_linebuf_opts lo = {
        .maxlen = opts->maxlen,
        .max_line = opts->max_line,
        .line_flags = SS__HOST_LINE_FLAGS,
    };
    int rc = s->buckets ? ss_linebuf_new(&s->lb, &lo) : -ENOMEM;
    if (rc < 0) {
        free(s->buckets);
        free(s);
        return rc;
    }
    pthread_mutex_init(&s->mu, NULL);
    *ret = &s->base;
    return 0;
}
