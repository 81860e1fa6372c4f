/*
 * Fences for data shared with other processes through a mapped file:
 * ss__store_fence() keeps earlier stores before later ones (a writer moving
 * first_seq before reusing a record's space), ss__load_fence() earlier loads
 * before later ones (a reader re-checking first_seq after copying). They cost
 * nothing on x86, whose stores and loads are not reordered among themselves,
 * and a barrier instruction on weaker processors.
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
#define ss__store_fence() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define ss__load_fence() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#else
#define ss__store_fence() __atomic_thread_fence(__ATOMIC_RELEASE)
#define ss__load_fence() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif

#endif
