/*
 * A store fence for data shared with other processes through a mapped file.
 *
 * Inside one process every access to a ring is under its mutex; the fence only
 * orders stores for a reader in another process (ss_linebuf_inspect_file on a
 * live ring). ThreadSanitizer cannot model fences and refuses to build them, and
 * it only watches this process, so under TSan a compiler barrier stands in.
 */
#ifndef SS_UTIL_FENCE_H
#define SS_UTIL_FENCE_H

#if defined(__SANITIZE_THREAD__)
#define SS__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SS__TSAN 1
#endif
#endif

#ifdef SS__TSAN
#define ss__shared_fence() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#else
#define ss__shared_fence() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

#endif
