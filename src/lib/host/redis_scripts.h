/*
 * host/redis_scripts.h: the Lua scripts of the Redis store. Each runs
 * atomically in Redis, so every change of the buffer (records, sequence
 * counter, partial lines, mirror batch numbers) is made all at once, whichever
 * server sends it. docs/host-mode.md ("Redis") describes the keys they use.
 *
 * Every script takes the same four keys, in this order: the stream, the meta
 * hash, the mirrors hash, the mirrors' recency sorted set.
 */
#ifndef SS_HOST_REDIS_SCRIPTS_H
#define SS_HOST_REDIS_SCRIPTS_H

typedef enum ss__redis_script_id {
    SS__RS_APPLY,
    SS__RS_READ,
    SS__RS_READ_SINCE,
    SS__RS_STATE,
    SS__RS_CLEAR,
    SS__RS_COUNT,
} ss__redis_script_id;

/* The script's Lua text. */
extern const char *const ss__redis_scripts[SS__RS_COUNT];

/* What the apply script answers first. */
enum { SS__RS_APPLIED = 0, SS__RS_DUPLICATE = 1, SS__RS_CONFLICT = 2 };

#endif
