/*
 * Record timestamps: wall-clock nanoseconds since the epoch, cheaply.
 *
 * clock_gettime(CLOCK_REALTIME) costs 20-30 ns in a VM, more than storing a
 * whole record. Where the CPU has an invariant time-stamp counter (x86-64 whose
 * /proc/cpuinfo lists constant_tsc and nonstop_tsc), SS_TIME_PRECISE instead
 * extrapolates CLOCK_REALTIME from rdtsc: a counter read, a multiply and an add.
 *
 * An anchor pairs a counter value with CLOCK_REALTIME and CLOCK_MONOTONIC_RAW.
 * The counter's rate is measured against the raw clock (never stepped nor
 * slewed), first over about 2 ms until two measurements in a row agree (reads
 * fall back to clock_gettime meanwhile), then over each interval between
 * renewals. The first reader after
 * SS__WALLCLOCK_RENEW_MS renews the anchor, reading CLOCK_REALTIME again: a
 * step or slewing of the system clock moves only the anchor's time. A renewal
 * that finds the counter more than SS__WALLCLOCK_MAX_ERR_NS off the raw
 * clock's prediction (the VM paused) calibrates again from scratch. So a
 * timestamp is within SS__WALLCLOCK_MAX_ERR_NS of CLOCK_REALTIME, except that a
 * step of the system clock shows only from the next renewal. That holds where
 * the CPUs share one counter; where their counters differ, a stamp read on
 * another CPU than the anchor's is off by the difference (up to the span,
 * SS__WALLCLOCK_RENEW_MS; the buffer's ordering clamp keeps it monotonic).
 *
 * SYNCSTREAM_CLOCK=realtime in the environment (read once per process) turns
 * the counter off: SS_TIME_PRECISE then reads clock_gettime as SS_TIME_REALTIME
 * does. Every function is thread-safe, and a child forked while another thread
 * renews the anchor starts afresh (a pthread_atfork handler).
 */
#ifndef SS_UTIL_WALLCLOCK_H
#define SS_UTIL_WALLCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <syncstream/linebuf.h>

#define SS__WALLCLOCK_RENEW_MS 10
#define SS__WALLCLOCK_MAX_ERR_NS 100000

/* Whether SS_TIME_PRECISE reads the time-stamp counter in this process
 * (decided at the first call). */
bool ss__wallclock_tsc(void);

/* The time source a buffer asked for, as it will be read: SS_TIME_PRECISE
 * becomes SS_TIME_REALTIME where the counter is not used. */
ss_time_source ss__wallclock_resolve(ss_time_source src);

/* Now, in nanoseconds since the epoch, from a source ss__wallclock_resolve()
 * returned. */
int64_t ss__wallclock_ns(ss_time_source src);

#endif
