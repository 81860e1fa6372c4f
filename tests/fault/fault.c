/* The allocation-failure injector and its driver (see fault.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fault.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FAULT_HAVE_LSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FAULT_HAVE_LSAN 1
#endif
#ifdef FAULT_HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/* The real allocators, under --wrap (meson.build lists the wrapped ones). */
void *__real_malloc(size_t n);
void *__real_calloc(size_t count, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t count, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

/* Allocations counted since the run began, and the one that fails (0: none);
 * persistent: that one and every later one fail. */
static uint64_t calls, target;
static bool paused, fired, persistent;

static bool fail_this(void)
{
    if (__atomic_load_n(&paused, __ATOMIC_ACQUIRE))
        return false;
    uint64_t t = __atomic_load_n(&target, __ATOMIC_ACQUIRE);
    uint64_t n = __atomic_add_fetch(&calls, 1, __ATOMIC_ACQ_REL);
    if (t == 0 || n < t || (n > t && !__atomic_load_n(&persistent, __ATOMIC_ACQUIRE)))
        return false;
    __atomic_store_n(&fired, true, __ATOMIC_RELEASE);
    return true;
}

void *__wrap_malloc(size_t n)
{
    return fail_this() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t count, size_t n)
{
    return fail_this() ? NULL : __real_calloc(count, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    /* realloc(p, 0) frees: not an allocation that can fail */
    if (n == 0 && p)
        return __real_realloc(p, n);
    return fail_this() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fail_this() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return fail_this() ? NULL : __real_strndup(s, n);
}

static void *json_alloc(size_t n)
{
    return fail_this() ? NULL : __real_malloc(n);
}

bool fault_fired(void)
{
    return __atomic_load_n(&fired, __ATOMIC_ACQUIRE);
}

void fault_pause(void)
{
    __atomic_store_n(&paused, true, __ATOMIC_RELEASE);
}

void fault_resume(void)
{
    __atomic_store_n(&paused, false, __ATOMIC_RELEASE);
}

bool fault_stop_(long rc, const char *what, const char *file, int line)
{
    if (rc >= 0)
        return false;
    if (rc == -ENOMEM && fault_fired())
        return true;
    fail_msg("%s:%d: %s returned %ld (%s) with allocation %llu failing%s%s", file, line, what, rc,
             ss_strerror((int)rc), (unsigned long long)__atomic_load_n(&target, __ATOMIC_ACQUIRE),
             persistent ? " and every later one" : "", fault_fired() ? "" : " (not reached yet)");
    return true;
}

static void arm(uint64_t n)
{
    __atomic_store_n(&fired, false, __ATOMIC_RELEASE);
    __atomic_store_n(&calls, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&target, n, __ATOMIC_RELEASE);
    fault_resume();
}

static void disarm(void)
{
    __atomic_store_n(&target, 0, __ATOMIC_RELEASE);
}

/* One pass over N = 1, 2, ... (see fault_run). */
static unsigned long run_pass(const char *name, fault_scenario scenario, void *ctx)
{
    unsigned long n;
    bool verbose = getenv("FAULT_VERBOSE") != NULL;
    const char *from = getenv("FAULT_FROM");
    for (n = from ? strtoul(from, NULL, 10) : 1;; n++) {
        if (verbose)
            print_message("%s: allocation %lu fails%s\n", name, n,
                          persistent ? ", and every later one" : "");
        arm(n);
        scenario(ctx);
        bool hit = fault_fired();
        uint64_t total = __atomic_load_n(&calls, __ATOMIC_ACQUIRE);
        disarm();
#ifdef FAULT_HAVE_LSAN
        if (__lsan_do_recoverable_leak_check())
            fail_msg("%s: a leak with allocation %lu failing (of %llu)", name, n,
                     (unsigned long long)total);
#endif
        if (!hit) {
            print_message("%s%s: %lu runs, %llu allocations\n", name,
                          persistent ? " (persistent)" : "", n, (unsigned long long)total);
            return n;
        }
    }
}

unsigned long fault_run(const char *name, fault_scenario scenario, void *ctx)
{
    json_set_alloc_funcs(json_alloc, free);
    persistent = false;
    unsigned long n = run_pass(name, scenario, ctx);
    persistent = true;
    n += run_pass(name, scenario, ctx);
    persistent = false;
    return n;
}
