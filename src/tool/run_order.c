/*
 * run_order.c: GNU parallel's -k (see run_order.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <syncstream.h>

#include "run_order.h"
#include "tool.h"

/* Held output is a sequence of chunks: this header, then len bytes. */
typedef struct chunk {
    size_t len;
    bool to_stderr;
} chunk;

struct run_hold {
    char *mem; /* chunks in memory, until spilled */
    size_t len, cap;
    size_t last; /* 1 + the offset of the last chunk in mem, 0: none */
    FILE *spill; /* once spilled, every chunk goes here */
};

int run_order_init(run_order *o, size_t total, size_t mem_max)
{
    memset(o, 0, sizeof(*o));
    o->total = total;
    o->mem_max = mem_max;
    o->holds = calloc(total ? total : 1, sizeof(*o->holds));
    o->done = calloc(total ? total : 1, 1);
    o->scratch = open_memstream(&o->scratch_mem, &o->scratch_len);
    if (!o->holds || !o->done || !o->scratch) {
        run_order_free(o);
        return -ENOMEM;
    }
    return 0;
}

static void hold_free(run_order *o, run_hold *h)
{
    if (!h)
        return;
    o->mem -= h->len;
    free(h->mem);
    if (h->spill)
        fclose(h->spill);
    free(h);
}

void run_order_free(run_order *o)
{
    if (o->holds)
        for (size_t i = 0; i < o->total; i++)
            hold_free(o, o->holds[i]);
    free(o->holds);
    free(o->done);
    if (o->scratch)
        fclose(o->scratch);
    free(o->scratch_mem);
    memset(o, 0, sizeof(*o));
}

bool run_order_live(const run_order *o, size_t i)
{
    return i == o->next;
}

FILE *run_order_scratch(run_order *o)
{
    return o->scratch;
}

/* An unnamed file in $TMPDIR (else /tmp) for a job's spilled output. */
static FILE *spill_file(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/syncstream-run.XXXXXX", dir) >= sizeof(path))
        return NULL;
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return NULL;
    unlink(path);
    FILE *f = fdopen(fd, "w+");
    if (!f)
        close(fd);
    return f;
}

/* Move h's chunks from memory into a file. False when that failed. */
static bool spill(run_order *o, run_hold *h)
{
    FILE *f = spill_file();
    if (!f || fwrite(h->mem, 1, h->len, f) != h->len) {
        if (f)
            fclose(f);
        if (!o->spill_failed)
            tool_fail("run: -k: cannot make a file in $TMPDIR for held output: %s; "
                      "keeping it in memory",
                      ss_strerror(-(errno ? errno : EIO)));
        o->spill_failed = true;
        return false;
    }
    o->mem -= h->len;
    free(h->mem);
    h->mem = NULL;
    h->len = h->cap = h->last = 0;
    h->spill = f;
    return true;
}

static bool mem_append(run_order *o, run_hold *h, const void *p, size_t n)
{
    if (h->len + n > h->cap) {
        size_t ncap = h->cap ? h->cap : 4096;
        while (ncap < h->len + n)
            ncap *= 2;
        char *m = realloc(h->mem, ncap);
        if (!m)
            return false;
        h->mem = m;
        h->cap = ncap;
    }
    memcpy(h->mem + h->len, p, n);
    h->len += n;
    o->mem += n;
    return true;
}

void run_order_keep(run_order *o, size_t i, bool to_stderr)
{
    fflush(o->scratch);
    size_t len = o->scratch_len;
    /* the memory stream's length follows its position: back to 0 for the next */
    fseeko(o->scratch, 0, SEEK_SET);
    if (len == 0 || i >= o->total)
        return;
    run_hold *h = o->holds[i];
    if (!h) {
        h = calloc(1, sizeof(*h));
        if (!h) {
            tool_fail("run: -k: out of memory; a line of job %zu is lost", i + 1);
            return;
        }
        o->holds[i] = h;
    }
    chunk ch = {.len = len, .to_stderr = to_stderr};
    if (!h->spill && o->mem + sizeof(ch) + len > o->mem_max && h->len > 0)
        spill(o, h);
    if (h->spill) {
        if (fwrite(&ch, sizeof(ch), 1, h->spill) == 1 &&
            fwrite(o->scratch_mem, 1, len, h->spill) == len)
            return;
        tool_fail("run: -k: writing held output to its file failed; a line of job %zu is lost",
                  i + 1);
        return;
    }
    if (h->last > 0) {
        /* a line to the same stream as the last extends its chunk: a header
         * per line would double the memory short lines take */
        chunk prev;
        memcpy(&prev, h->mem + h->last - 1, sizeof(prev));
        if (prev.to_stderr == to_stderr && mem_append(o, h, o->scratch_mem, len)) {
            prev.len += len;
            memcpy(h->mem + h->last - 1, &prev, sizeof(prev));
            return;
        }
    }
    size_t at = h->len;
    if (!mem_append(o, h, &ch, sizeof(ch)) || !mem_append(o, h, o->scratch_mem, len)) {
        o->mem -= h->len - at; /* no header without its bytes */
        h->len = at;
        tool_fail("run: -k: out of memory; a line of job %zu is lost", i + 1);
        return;
    }
    h->last = at + 1;
}

void run_order_discard(run_order *o, size_t i)
{
    if (i >= o->total)
        return;
    hold_free(o, o->holds[i]);
    o->holds[i] = NULL;
}

static void put(const char *p, size_t n, bool to_stderr)
{
    if (to_stderr) {
        fflush(stdout);
        fwrite(p, 1, n, stderr);
    } else {
        fwrite(p, 1, n, stdout);
    }
}

/* Print what job i holds, and forget it. */
static void release(run_order *o, size_t i)
{
    run_hold *h = o->holds[i];
    if (!h)
        return;
    for (size_t at = 0; at + sizeof(chunk) <= h->len;) {
        chunk ch;
        memcpy(&ch, h->mem + at, sizeof(ch));
        at += sizeof(ch);
        put(h->mem + at, ch.len, ch.to_stderr);
        at += ch.len;
    }
    if (h->spill) {
        char buf[1 << 16];
        chunk ch;
        rewind(h->spill);
        while (fread(&ch, sizeof(ch), 1, h->spill) == 1) {
            for (size_t left = ch.len; left > 0;) {
                size_t n = fread(buf, 1, left < sizeof(buf) ? left : sizeof(buf), h->spill);
                if (n == 0) {
                    tool_fail("run: -k: reading held output of job %zu back failed", i + 1);
                    goto out;
                }
                put(buf, n, ch.to_stderr);
                left -= n;
            }
        }
    }
out:
    hold_free(o, h);
    o->holds[i] = NULL;
}

void run_order_done(run_order *o, size_t i)
{
    if (i >= o->total)
        return;
    o->done[i] = 1;
    while (o->next < o->total && o->done[o->next])
        release(o, o->next++);
}

void run_order_release(run_order *o, size_t i)
{
    if (i == o->next && i < o->total)
        release(o, i);
}

void run_order_finish(run_order *o)
{
    for (; o->next < o->total; o->next++)
        release(o, o->next);
}
