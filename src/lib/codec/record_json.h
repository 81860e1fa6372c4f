/*
 * codec/record_json.h: the JSON shapes of host mode, shared by the server
 * (host/) and the client (hostclient/), so neither includes the other.
 *
 * Codecs only: no I/O, no locks, no global state; every function is thread-safe.
 * The shapes are those of /work/shared/PROTOCOL.md (docs/host-protocol.md):
 *
 *  - an ITEM, what a read returns per record: a JSON string for a plain line, or a
 *    serialized grouped message
 *        {"/is_syncsdata": true, "/type": "GroupedMessage",
 *         "type": "str" | "warning" | "error", "data": ["line 1", "line 2", ...]}
 *  - a POST item, what a writer sends (alone, or as one of a batch's "items"):
 *        {"type": "str", "data": {"value": TEXT}}
 *        {"type": "warning" | "error", "data": MESSAGE}   (MESSAGE: an ITEM)
 *        {"type": "close"}
 *  - a record object (the HOST-EXT extension: since= reads, server-sent events):
 *        {"seq": S, "time_ns": T, "source": "NAME", "kind": "line" | "warning" |
 *         "error", "text": "...", "continued": false}
 *
 * Record bytes need not be UTF-8 and may hold NUL, but JSON text is UTF-8: the
 * encoders replace every byte that is not part of a valid UTF-8 sequence with
 * U+FFFD (NUL is kept, as "\u0000"). So a record round-trips exactly when its
 * text is valid UTF-8.
 *
 * Decoders that fail return -EINVAL and set *ret_why to a static sentence saying
 * what is wrong (for a 400 response's "message"); they never change their
 * outputs then.
 */
#ifndef SS_CODEC_RECORD_JSON_H
#define SS_CODEC_RECORD_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include <syncstream/proc.h>
#include <syncstream/record.h>

#include "util/buf.h"

/* What a POST item asks for. */
typedef enum ss__post_op {
    SS__POST_TEXT = 0,    /* "str": write TEXT through line assembly */
    SS__POST_MESSAGE = 1, /* "warning" / "error": end the partial line, store one record */
    SS__POST_CLOSE = 2,   /* "close": end the partial line */
} ss__post_op;

/*
 * ss__json_text - a JSON string holding len bytes of text, invalid UTF-8 replaced
 * by U+FFFD. Returns a new reference, or NULL when out of memory.
 */
json_t *ss__json_text(const char *text, size_t len);

/* Whether v is the JSON string s exactly: a string decoded with JSON_ALLOW_NUL
 * may hold a NUL, where strcmp would stop ("str\u0000junk" is not "str"). */
bool ss__json_str_is(const json_t *v, const char *s);

/*
 * ss__item_encode - the ITEM for a record: a JSON string when the record is a
 * line without '\n' in its text, else a grouped message whose "type" is "str"
 * (a multi-line line record), "warning" or "error" and whose "data" is the text
 * split at '\n'. Returns a new reference, or NULL when out of memory.
 */
json_t *ss__item_encode(const ss_record *rec);

/*
 * ss__item_decode - read an ITEM (or a POST's MESSAGE). A string gives
 * SS_KIND_LINE and its text; a grouped message gives the kind its "type" names
 * and its "data" lines joined by '\n'. The text is appended to out (which the
 * caller resets when it wants); out may be NULL to only validate.
 *
 * Returns 0, -EINVAL (*ret_why set), or -ENOBUFS / -ENOMEM from out (out is then
 * as it was).
 */
int ss__item_decode(const json_t *item, ss_kind *ret_kind, ss__buf *out, const char **ret_why);

/*
 * ss__post_decode - read one POST item. *ret_op says what it asks; for
 * SS__POST_MESSAGE *ret_kind is SS_KIND_WARNING or SS_KIND_ERROR (from the POST's
 * "type", whatever the grouped message's own "type" says). The text ("str"'s
 * value, or the MESSAGE's lines joined by '\n') is appended to out, which may be
 * NULL to only validate; "close" appends nothing.
 *
 * Returns 0, -EINVAL (*ret_why set), -ENOBUFS or -ENOMEM (out as it was).
 */
int ss__post_decode(const json_t *body, ss__post_op *ret_op, ss_kind *ret_kind, ss__buf *out,
                    const char **ret_why);

/*
 * ss__post_text_encode / ss__post_message_encode / ss__post_close_encode - POST
 * items, as the Python mirror sends them: text exactly as given (a writer that
 * sends whole lines includes their '\n'); a warning or error (kind) as a grouped
 * message; a close. Return a new reference, or NULL when out of memory (or, for
 * a message, a kind that is not SS_KIND_WARNING or SS_KIND_ERROR).
 */
json_t *ss__post_text_encode(const char *text, size_t len);

/*
 * The record flags a POST item may carry (HOST-EXT, in batches): "stderr": true
 * (SS_REC_STDERR) and "exit": true (SS_REC_EXIT) on a "str", "warning" or
 * "error" item. A server that does not know them ignores them.
 * ss__post_flags_decode reads them (absent: false); returns 0 or -EINVAL
 * (*ret_why set) when one is not a boolean. ss__post_flags_add sets them on
 * item; returns 0 or -ENOMEM.
 */
#define SS__POST_FLAGS (SS_REC_STDERR | SS_REC_EXIT)
int ss__post_flags_decode(const json_t *body, uint32_t *ret, const char **ret_why);
int ss__post_flags_add(json_t *item, uint32_t flags);
json_t *ss__post_message_encode(ss_kind kind, const char *text, size_t len);
json_t *ss__post_close_encode(void);

/*
 * ss__record_obj_encode - the record object of a record (HOST-EXT), with its
 * "continued", "stderr" and "exit" flags. Returns a new
 * reference, or NULL when out of memory.
 */
json_t *ss__record_obj_encode(const ss_record *rec);

/*
 * ss__record_obj_decode - read a record object into *ret: seq, time_ns, kind,
 * flags (SS_REC_CONTINUED, SS_REC_STDERR, SS_REC_EXIT when "continued",
 * "stderr", "exit" are true) and source are copied (a source longer than
 * SS_SOURCE_MAX - 1 bytes is cut); ret->text and ret->len point into obj's
 * "text" string (valid while obj lives, NUL-terminated). The flags may be
 * absent (false). Returns 0 or -EINVAL (*ret_why set).
 */
int ss__record_obj_decode(const json_t *obj, ss_record *ret, const char **ret_why);

#endif
