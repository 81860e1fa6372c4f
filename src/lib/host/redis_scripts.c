/*
 * The Redis store's scripts. Conventions shared by all of them:
 *  - a record is a stream entry with id "SEQ-0" and the fields kind ("line",
 *    "warning", "error"), flags (SS_REC_* bits), source, time (ns since the
 *    epoch) and text;
 *  - the meta hash holds seq (the last number given), cleared (seq at the last
 *    clear), stop ("1" when a stop is requested), the anonymous partial line
 *    (part, pcol, pcr, ptime) with its version aver, and tick (the recency
 *    clock of the mirrors);
 *  - the mirrors hash holds, per mirror id, last:ID (the last batch number
 *    stored), part:ID, col:ID, cr:ID (its partial line: cr:ID is "1" after a
 *    "\r", else "0", then the bytes the line assembler holds back because
 *    they may begin a multi-byte break) and src:ID (its source);
 *    the sorted set ranks the ids by recency, to forget the oldest.
 * Lua numbers are doubles: sequence and batch numbers stay exact up to 2^53.
 */
#include "host/redis_scripts.h"

#define KEYS "local stream, meta, mirrors, lru = KEYS[1], KEYS[2], KEYS[3], KEYS[4]\n"

/* The first visible seq: after the last clear and within the last maxlen. */
#define WINDOW                                                                                     \
    "local m = redis.call('HMGET', meta, 'seq', 'cleared', 'part', 'ptime', 'stop')\n"             \
    "local seq = tonumber(m[1] or '0')\n"                                                          \
    "local first = math.max(tonumber(m[2] or '0'), seq - tonumber(ARGV[1])) + 1\n"

/*
 * APPLY. ARGV: maxlen, mirror id ("" for the anonymous partial line), batch
 * number, the version read (the mirror's last batch, or aver), the new partial
 * line (part, col, cr), the mirror's source, time, the mirrors to remember,
 * then kind, flags, source, text for each record. The records were assembled
 * by the server from the state it read; when that state changed meanwhile
 * (another server applied first), nothing is stored and the server starts
 * again (CONFLICT). Answers {status, seq, stop}.
 */
static const char apply[] = KEYS
    "local id = ARGV[2]\n"
    "local stop = redis.call('HGET', meta, 'stop') or '0'\n"
    "if id ~= '' then\n"
    "  local last = tonumber(redis.call('HGET', mirrors, 'last:' .. id) or '0')\n"
    "  if tonumber(ARGV[3]) <= last then\n"
    "    redis.call('ZADD', lru, 'XX', redis.call('HINCRBY', meta, 'tick', 1), id)\n"
    "    return {1, 0, stop}\n"
    "  end\n"
    "  if last ~= tonumber(ARGV[4]) then return {2, 0, stop} end\n"
    "elseif tonumber(redis.call('HGET', meta, 'aver') or '0') ~= tonumber(ARGV[4]) then\n"
    "  return {2, 0, stop}\n"
    "end\n"
    "local seq = tonumber(redis.call('HGET', meta, 'seq') or '0')\n"
    /* Never behind the stream itself (a meta hash lost or deleted alone). */
    "local top = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)\n"
    "if top[1] then seq = math.max(seq, tonumber(string.match(top[1][1], '^(%d+)'))) end\n"
    "local function add(kind, flags, source, text)\n"
    "  seq = seq + 1\n"
    "  redis.call('XADD', stream, 'MAXLEN', '~', ARGV[1], string.format('%d-0', seq),\n"
    "             'kind', kind, 'flags', flags, 'source', source, 'time', ARGV[9], 'text', text)\n"
    "end\n"
    "for i = 11, #ARGV, 4 do add(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]) end\n"
    "if id ~= '' then\n"
    "  redis.call('HSET', mirrors, 'last:' .. id, ARGV[3], 'part:' .. id, ARGV[5],\n"
    "             'col:' .. id, ARGV[6], 'cr:' .. id, ARGV[7], 'src:' .. id, ARGV[8])\n"
    "  redis.call('ZADD', lru, redis.call('HINCRBY', meta, 'tick', 1), id)\n"
    /* Forget the least recently used mirrors; a partial line (with its held
     * bytes, as ss__lineasm_flush) becomes a record. */
    "  while redis.call('ZCARD', lru) > tonumber(ARGV[10]) do\n"
    "    local old = redis.call('ZPOPMIN', lru)[1]\n"
    "    local st = redis.call('HMGET', mirrors, 'part:' .. old, 'src:' .. old, 'cr:' .. old)\n"
    "    local text = (st[1] or '') .. string.sub(st[3] or '', 2)\n"
    "    if #text > 0 then add('line', '0', st[2] or '', text) end\n"
    "    redis.call('HDEL', mirrors, 'last:' .. old, 'part:' .. old, 'col:' .. old,\n"
    "               'cr:' .. old, 'src:' .. old)\n"
    "  end\n"
    "else\n"
    "  redis.call('HSET', meta, 'part', ARGV[5], 'pcol', ARGV[6], 'pcr', ARGV[7], 'ptime', "
    "ARGV[9])\n"
    "  redis.call('HINCRBY', meta, 'aver', 1)\n"
    "end\n"
    "redis.call('HSET', meta, 'seq', string.format('%d', seq))\n"
    "return {0, seq, stop}\n";

/*
 * READ: the newest records of the view. ARGV: maxlen, how many to fetch.
 * Answers {records in the window, partial line, its time, entries newest
 * first}.
 */
static const char read_view[] =
    KEYS WINDOW "local count = math.max(0, math.min(seq - first + 1, redis.call('XLEN', stream)))\n"
                "local entries = {}\n"
                "if tonumber(ARGV[2]) > 0 and count > 0 then\n"
                "  entries = redis.call('XREVRANGE', stream, '+', string.format('%d-0', first),\n"
                "                       'COUNT', ARGV[2])\n"
                "end\n"
                "return {count, m[3] or '', m[4] or '0', entries}\n";

/*
 * READ_SINCE: records with seq > cursor. ARGV: maxlen, cursor, at most how
 * many. Answers {the first seq that could be returned, the last seq given,
 * entries oldest first}.
 */
static const char read_since[] =
    KEYS WINDOW "local start = math.max(tonumber(ARGV[2]) + 1, first)\n"
                "local entries = {}\n"
                "if start <= seq then\n"
                "  entries = redis.call('XRANGE', stream, string.format('%d-0', start), '+', "
                "'COUNT', ARGV[3])\n"
                "end\n"
                "return {start, seq, entries}\n";

/* STATE. ARGV: maxlen, an epoch to take when the buffer has none yet (it is
 * new, or Redis lost it: its numbers start again). Answers {seq, records in
 * the window, partial line length, stop, cleared, epoch}. */
static const char state[] = KEYS WINDOW
    "local count = math.max(0, math.min(seq - first + 1, redis.call('XLEN', stream)))\n"
    "local epoch = redis.call('HGET', meta, 'epoch')\n"
    "if not epoch then\n"
    "  epoch = ARGV[2]\n"
    "  redis.call('HSET', meta, 'epoch', epoch)\n"
    "end\n"
    "return {seq, count, #(m[3] or ''), m[5] or '0', tonumber(m[2] or '0'), tonumber(epoch)}\n";

/* CLEAR: every record and the anonymous partial line go; numbers go on.
 * Answers the seq at the clear. */
static const char clear[] =
    KEYS "redis.call('XTRIM', stream, 'MAXLEN', 0)\n"
         "local seq = redis.call('HGET', meta, 'seq') or '0'\n"
         "redis.call('HSET', meta, 'cleared', seq, 'part', '', 'pcol', '0', 'pcr', '0')\n"
         "redis.call('HINCRBY', meta, 'aver', 1)\n"
         "return tonumber(seq)\n";

const char *const ss__redis_scripts[SS__RS_COUNT] = {
    [SS__RS_APPLY] = apply, [SS__RS_READ] = read_view, [SS__RS_READ_SINCE] = read_since,
    [SS__RS_STATE] = state, [SS__RS_CLEAR] = clear,
};
