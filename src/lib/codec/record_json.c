/* The JSON shapes of host mode (see record_json.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "codec/record_json.h"
#include "util/records.h"
#include "util/utf8.h"

json_t *ss__json_text(const char *text, size_t len)
{
    /* Valid text (the usual case) costs one check inside jansson, no copy. */
    json_t *s = json_stringn(text, len);
    if (s || len == 0)
        return s;
    static const char replacement[] = "\xEF\xBF\xBD";
    ss__buf fixed;
    ss__buf_init(&fixed, 3 * len);
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;
    int err = 0;
    while (i < len && err == 0) {
        size_t n = ss__utf8_seq_len(p + i, len - i);
        if (n == 0) {
            err = ss__buf_append(&fixed, replacement, 3);
            i++;
        } else {
            err = ss__buf_append(&fixed, p + i, n);
            i += n;
        }
    }
    if (err == 0)
        s = json_stringn(fixed.data, fixed.len);
    ss__buf_free(&fixed);
    return s;
}

bool ss__json_str_is(const json_t *v, const char *s)
{
    size_t len = strlen(s);
    return json_is_string(v) && json_string_length(v) == len &&
           memcmp(json_string_value(v), s, len) == 0;
}

static const char *grouped_type_name(ss_kind kind)
{
    return kind == SS_KIND_LINE ? "str" : ss_kind_name(kind);
}

/* The lines of text (split at '\n') as a JSON array of strings. */
static json_t *lines_array(const char *text, size_t len)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n')
            continue;
        if (json_array_append_new(arr, ss__json_text(text + start, i - start)) != 0) {
            json_decref(arr);
            return NULL;
        }
        start = i + 1;
    }
    return arr;
}

static json_t *grouped_encode(ss_kind kind, const char *text, size_t len)
{
    json_t *data = lines_array(text, len);
    if (!data)
        return NULL;
    return json_pack("{s:b, s:s, s:s, s:o}", "/is_syncsdata", 1, "/type", "GroupedMessage", "type",
                     grouped_type_name(kind), "data", data);
}

json_t *ss__item_encode(const ss_record *rec)
{
    if (rec->kind == SS_KIND_LINE && !memchr(rec->text, '\n', rec->len))
        return ss__json_text(rec->text, rec->len);
    return grouped_encode(rec->kind, rec->text, rec->len);
}

/* The kind the JSON string name means; line_name is what a line is called in
 * that shape ("str" in a grouped message, "line" in a record object). name may
 * be NULL or not a string. */
static int kind_from_name(const json_t *name, const char *line_name, ss_kind *ret)
{
    if (ss__json_str_is(name, line_name))
        *ret = SS_KIND_LINE;
    else if (ss__json_str_is(name, "warning"))
        *ret = SS_KIND_WARNING;
    else if (ss__json_str_is(name, "error"))
        *ret = SS_KIND_ERROR;
    else
        return -EINVAL;
    return 0;
}

int ss__item_decode(const json_t *item, ss_kind *ret_kind, ss__buf *out, const char **ret_why)
{
    if (json_is_string(item)) {
        int err = out ? ss__buf_append(out, json_string_value(item), json_string_length(item)) : 0;
        if (err == 0)
            *ret_kind = SS_KIND_LINE;
        return err;
    }
    if (!json_is_object(item)) {
        *ret_why = "a message must be a string or a grouped message object";
        return -EINVAL;
    }
    const json_t *tag = json_object_get(item, "/type");
    if (!json_is_true(json_object_get(item, "/is_syncsdata")) ||
        !ss__json_str_is(tag, "GroupedMessage")) {
        *ret_why = "a message object must have \"/is_syncsdata\": true and "
                   "\"/type\": \"GroupedMessage\"";
        return -EINVAL;
    }
    const json_t *type = json_object_get(item, "type");
    ss_kind kind;
    if (kind_from_name(type, "str", &kind) != 0) {
        *ret_why = "a grouped message's \"type\" must be \"str\", \"warning\" or \"error\"";
        return -EINVAL;
    }
    const json_t *data = json_object_get(item, "data");
    if (!json_is_array(data)) {
        *ret_why = "a grouped message's \"data\" must be an array of strings";
        return -EINVAL;
    }
    size_t i;
    const json_t *line;
    json_array_foreach(data, i, line)
    {
        if (!json_is_string(line)) {
            *ret_why = "a grouped message's \"data\" must be an array of strings";
            return -EINVAL;
        }
    }
    if (out) {
        size_t old_len = out->len;
        json_array_foreach(data, i, line)
        {
            int err = (i > 0) ? ss__buf_append(out, "\n", 1) : 0;
            if (err == 0)
                err = ss__buf_append(out, json_string_value(line), json_string_length(line));
            if (err != 0) {
                out->len = old_len;
                return err;
            }
        }
    }
    *ret_kind = kind;
    return 0;
}

int ss__post_decode(const json_t *body, ss__post_op *ret_op, ss_kind *ret_kind, ss__buf *out,
                    const char **ret_why)
{
    if (!json_is_object(body)) {
        *ret_why = "the body must be a JSON object";
        return -EINVAL;
    }
    const json_t *type = json_object_get(body, "type");
    if (!json_is_string(type)) {
        *ret_why = "\"type\" must be a string: \"str\", \"warning\", \"error\" or \"close\"";
        return -EINVAL;
    }
    const json_t *data = json_object_get(body, "data");
    if (ss__json_str_is(type, "str")) {
        const json_t *value = json_object_get(data, "value");
        if (!json_is_object(data) || !json_is_string(value)) {
            *ret_why = "a \"str\" item needs \"data\": {\"value\": STRING}";
            return -EINVAL;
        }
        int err =
            out ? ss__buf_append(out, json_string_value(value), json_string_length(value)) : 0;
        if (err != 0)
            return err;
        *ret_op = SS__POST_TEXT;
        *ret_kind = SS_KIND_LINE;
        return 0;
    }
    bool warning = ss__json_str_is(type, "warning");
    if (warning || ss__json_str_is(type, "error")) {
        ss_kind ignored;
        if (!data) {
            *ret_why = "a \"warning\" or \"error\" item needs \"data\": a string or a grouped "
                       "message";
            return -EINVAL;
        }
        int err = ss__item_decode(data, &ignored, out, ret_why);
        if (err != 0)
            return err;
        *ret_op = SS__POST_MESSAGE;
        *ret_kind = warning ? SS_KIND_WARNING : SS_KIND_ERROR;
        return 0;
    }
    if (ss__json_str_is(type, "close")) {
        *ret_op = SS__POST_CLOSE;
        *ret_kind = SS_KIND_LINE;
        return 0;
    }
    *ret_why = "unknown \"type\": expected \"str\", \"warning\", \"error\" or \"close\"";
    return -EINVAL;
}

json_t *ss__post_text_encode(const char *text, size_t len)
{
    return json_pack("{s:s, s:{s:o}}", "type", "str", "data", "value", ss__json_text(text, len));
}

static const struct {
    const char *name;
    uint32_t flag;
} post_flags[] = {{"stderr", SS_REC_STDERR}, {"exit", SS_REC_EXIT}};

int ss__post_flags_decode(const json_t *body, uint32_t *ret, const char **ret_why)
{
    *ret = 0;
    for (size_t i = 0; i < sizeof(post_flags) / sizeof(post_flags[0]); i++) {
        const json_t *v = json_object_get(body, post_flags[i].name);
        if (v && !json_is_boolean(v)) {
            *ret_why = "\"stderr\" and \"exit\" must be true or false";
            return -EINVAL;
        }
        if (json_is_true(v))
            *ret |= post_flags[i].flag;
    }
    return 0;
}

int ss__post_flags_add(json_t *item, uint32_t flags)
{
    for (size_t i = 0; i < sizeof(post_flags) / sizeof(post_flags[0]); i++)
        if ((flags & post_flags[i].flag) &&
            json_object_set_new(item, post_flags[i].name, json_true()) != 0)
            return -ENOMEM;
    return 0;
}

json_t *ss__post_message_encode(ss_kind kind, const char *text, size_t len)
{
    if (kind != SS_KIND_WARNING && kind != SS_KIND_ERROR)
        return NULL;
    return json_pack("{s:s, s:o}", "type", ss_kind_name(kind), "data",
                     grouped_encode(kind, text, len));
}

json_t *ss__post_close_encode(void)
{
    return json_pack("{s:s}", "type", "close");
}

json_t *ss__record_obj_encode(const ss_record *rec)
{
    /* json_int_t is long long: a seq above 2^63 is out of reach in practice. */
    return json_pack("{s:I, s:I, s:o, s:s, s:o, s:b, s:b, s:b}", "seq", (json_int_t)rec->seq,
                     "time_ns", (json_int_t)rec->time_ns, "source",
                     ss__json_text(rec->source, strnlen(rec->source, SS_SOURCE_MAX)), "kind",
                     ss_kind_name(rec->kind), "text", ss__json_text(rec->text, rec->len),
                     "continued", (rec->flags & SS_REC_CONTINUED) != 0, "stderr",
                     (rec->flags & SS_REC_STDERR) != 0, "exit", (rec->flags & SS_REC_EXIT) != 0);
}

int ss__record_obj_decode(const json_t *obj, ss_record *ret, const char **ret_why)
{
    if (!json_is_object(obj)) {
        *ret_why = "a record must be a JSON object";
        return -EINVAL;
    }
    const json_t *seq = json_object_get(obj, "seq");
    const json_t *time_ns = json_object_get(obj, "time_ns");
    const json_t *source = json_object_get(obj, "source");
    const json_t *kind = json_object_get(obj, "kind");
    const json_t *text = json_object_get(obj, "text");
    const json_t *continued = json_object_get(obj, "continued");
    if (!json_is_integer(seq) || json_integer_value(seq) < 0 || !json_is_integer(time_ns)) {
        *ret_why = "a record's \"seq\" and \"time_ns\" must be integers, seq >= 0";
        return -EINVAL;
    }
    if (!json_is_string(source) || !json_is_string(text)) {
        *ret_why = "a record's \"source\" and \"text\" must be strings";
        return -EINVAL;
    }
    if (continued && !json_is_boolean(continued)) {
        *ret_why = "a record's \"continued\" must be true or false";
        return -EINVAL;
    }
    uint32_t flags;
    if (ss__post_flags_decode(obj, &flags, ret_why) < 0)
        return -EINVAL;
    ss_kind k;
    if (kind_from_name(kind, "line", &k) != 0) {
        *ret_why = "a record's \"kind\" must be \"line\", \"warning\" or \"error\"";
        return -EINVAL;
    }
    memset(ret, 0, sizeof(*ret));
    ret->seq = (uint64_t)json_integer_value(seq);
    ret->time_ns = (int64_t)json_integer_value(time_ns);
    ret->kind = k;
    ret->flags = flags | (json_is_true(continued) ? SS_REC_CONTINUED : 0);
    ss__source_copy(ret->source, json_string_value(source));
    ret->text = json_string_value(text);
    ret->len = json_string_length(text);
    return 0;
}
