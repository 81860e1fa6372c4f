/*
 * Allocation-failure injection for the 'fault' suite (after SQLite's malloc
 * tests): a scenario runs once for every N = 1, 2, ..., the Nth allocation of
 * each run failing, until a run in which no allocation failed.
 *
 * The test programs link the static library with -Wl,--wrap for every
 * allocator the library calls (see meson.build): the library's calls reach
 * the __wrap_ functions of fault.c, which fail the armed one and pass the rest
 * to the real allocator (ASan's, so LeakSanitizer still sees every block).
 * jansson's allocations are routed through the same counter with
 * json_set_alloc_funcs(). Each scenario runs two passes: one with one-shot
 * failures (the allocations after the failed one succeed, so a scenario can
 * check that the object it was using still works), one with persistent
 * failures (every allocation from the Nth on fails: error paths and frees
 * must not need memory). The counter is shared by all threads.
 *
 * A run must end in one of two ways at each call it makes: the call succeeds,
 * or it returns -ENOMEM because the injected failure hit it (FAULT_STOP);
 * anything else (another error, a crash, a leak after the objects are freed,
 * lost or changed data) fails the test.
 */
#ifndef SS_FAULT_H
#define SS_FAULT_H

#include <stdbool.h>
#include <stddef.h>

#include "test.h"

/* One run of a scenario. Returns normally whether or not it stopped early;
 * it frees everything it made. */
typedef void (*fault_scenario)(void *ctx);

/*
 * fault_run - run scenario for N = 1, 2, ... with the Nth allocation after
 * the run starts failing, until a run makes no failing allocation, in both
 * passes; after each run check for leaks (LeakSanitizer, when the build has it). Returns how
 * many runs there were. Fails the test when a run leaks. With FAULT_VERBOSE
 * set in the environment it names each run before it starts; FAULT_FROM=N
 * starts at N (to look at one run in a debugger).
 */
unsigned long fault_run(const char *name, fault_scenario scenario, void *ctx);

/* Whether the injected failure of the current run has happened. */
bool fault_fired(void);

/* Stop counting allocations (setup and checks that are not under test), and
 * start again. Nested pairs are not supported. */
void fault_pause(void);
void fault_resume(void);

/*
 * FAULT_STOP(rc) - for the result of a call under test: false when rc >= 0;
 * true when rc is -ENOMEM and the injected failure has happened (the
 * scenario then checks what it can and cleans up); anything else fails the
 * test, naming the file and line.
 */
#define FAULT_STOP(rc) fault_stop_((long)(rc), #rc, __FILE__, __LINE__)
bool fault_stop_(long rc, const char *what, const char *file, int line);

#endif
