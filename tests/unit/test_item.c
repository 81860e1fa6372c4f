/* Host mode's JSON shapes (src/lib/codec/record_json.h): encode, decode, bad input. */
#include "test.h"

#include "codec/record_json.h"

static ss_record make_record(ss_kind kind, const char *text, size_t len)
{
    ss_record r;
    memset(&r, 0, sizeof(r));
    r.seq = 7;
    r.time_ns = 1234567890123456789LL;
    r.kind = kind;
    r.text = text;
    r.len = len;
    memcpy(r.source, "worker-1", 9);
    return r;
}

/* The compact JSON text of j; j is released. */
static char *dump(json_t *j)
{
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(j);
    assert_non_null(s);
    return s;
}

static void test_item_line_is_a_string(void **state)
{
    (void)state;
    ss_record r = make_record(SS_KIND_LINE, "Hello!", 6);
    char *s = dump(ss__item_encode(&r));
    assert_string_equal(s, "\"Hello!\"");
    free(s);
}

static void test_item_grouped(void **state)
{
    (void)state;
    ss_record r = make_record(SS_KIND_ERROR, "Traceback\n  line 2\nValueError", 29);
    char *s = dump(ss__item_encode(&r));
    assert_string_equal(s,
                        "{\"/is_syncsdata\":true,\"/type\":\"GroupedMessage\","
                        "\"data\":[\"Traceback\",\"  line 2\",\"ValueError\"],\"type\":\"error\"}");
    free(s);
    /* a line record holding '\n' (from ss_linebuf_append) is a grouped "str" */
    r = make_record(SS_KIND_LINE, "a\nb", 3);
    s = dump(ss__item_encode(&r));
    assert_non_null(strstr(s, "\"type\":\"str\""));
    free(s);
}

static void test_item_decode_round_trip(void **state)
{
    (void)state;
    const char *texts[] = {"plain", "", "two\nlines", "trailing\n", "\n"};
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
            ss_record r = make_record((ss_kind)k, texts[i], strlen(texts[i]));
            json_t *j = ss__item_encode(&r);
            ss__buf out;
            ss__buf_init(&out, 1024);
            ss_kind kind = (ss_kind)9;
            const char *why = NULL;
            assert_int_equal(ss__item_decode(j, &kind, &out, &why), 0);
            assert_int_equal(kind, (ss_kind)k);
            assert_int_equal(out.len, r.len);
            if (r.len)
                assert_memory_equal(out.data, r.text, r.len);
            ss__buf_free(&out);
            json_decref(j);
        }
    }
}

static void test_invalid_utf8_and_nul(void **state)
{
    (void)state;
    /* a lone continuation byte, a truncated sequence, an overlong '/', a
     * surrogate: each invalid byte becomes U+FFFD; NUL is kept */
    const char raw[] = "a\x80"
                       "b\xE2\x82"
                       "c\xC0\xAF"
                       "d\xED\xA0\x80"
                       "e\0f";
    json_t *j = ss__json_text(raw, sizeof(raw) - 1);
    assert_non_null(j);
    const char want[] = "a\xEF\xBF\xBD"
                        "b\xEF\xBF\xBD\xEF\xBF\xBD"
                        "c\xEF\xBF\xBD\xEF\xBF\xBD"
                        "d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                        "e\0f";
    assert_int_equal(json_string_length(j), sizeof(want) - 1);
    assert_memory_equal(json_string_value(j), want, sizeof(want) - 1);
    char *s = json_dumps(j, JSON_ENCODE_ANY);
    assert_non_null(s);
    assert_non_null(strstr(s, "e\\u0000f"));
    free(s);
    json_decref(j);
    /* valid multi-byte text is untouched */
    j = ss__json_text("h\xC3\xA9 \xF0\x9F\x98\x80", 8);
    assert_memory_equal(json_string_value(j), "h\xC3\xA9 \xF0\x9F\x98\x80", 8);
    json_decref(j);
}

static int decode_post_text(const char *body, ss__post_op *op, ss_kind *kind, ss__buf *out,
                            const char **why)
{
    json_error_t jerr;
    json_t *j = json_loads(body, JSON_ALLOW_NUL, &jerr);
    assert_non_null(j);
    int rc = ss__post_decode(j, op, kind, out, why);
    json_decref(j);
    return rc;
}

static void test_post_decode(void **state)
{
    (void)state;
    ss__buf out;
    ss__buf_init(&out, 64);
    ss__post_op op;
    ss_kind kind;
    const char *why = NULL;
    assert_int_equal(decode_post_text("{\"type\":\"str\",\"data\":{\"value\":\"x\\n y\\n\"}}", &op,
                                      &kind, &out, &why),
                     0);
    assert_int_equal(op, SS__POST_TEXT);
    assert_int_equal(out.len, 5);
    assert_memory_equal(out.data, "x\n y\n", 5);
    ss__buf_reset(&out);

    /* the POST's type wins over the grouped message's own */
    assert_int_equal(decode_post_text("{\"type\":\"warning\",\"data\":{\"/is_syncsdata\":true,"
                                      "\"/type\":\"GroupedMessage\",\"type\":\"str\","
                                      "\"data\":[\"w1\",\"w2\"]}}",
                                      &op, &kind, &out, &why),
                     0);
    assert_int_equal(op, SS__POST_MESSAGE);
    assert_int_equal(kind, SS_KIND_WARNING);
    assert_memory_equal(out.data, "w1\nw2", 5);
    ss__buf_reset(&out);

    assert_int_equal(
        decode_post_text("{\"type\":\"error\",\"data\":\"boom\"}", &op, &kind, &out, &why), 0);
    assert_int_equal(kind, SS_KIND_ERROR);
    ss__buf_reset(&out);
    assert_int_equal(decode_post_text("{\"type\":\"close\"}", &op, &kind, &out, &why), 0);
    assert_int_equal(op, SS__POST_CLOSE);
    assert_int_equal(out.len, 0);

    /* bad items: -EINVAL, a reason, out untouched */
    const char *bad[] = {
        "[1,2]",
        "{}",
        "{\"type\":7}",
        "{\"type\":\"nope\"}",
        "{\"type\":\"str\"}",
        "{\"type\":\"str\",\"data\":\"x\"}",
        "{\"type\":\"str\",\"data\":{\"value\":3}}",
        "{\"type\":\"warning\"}",
        "{\"type\":\"warning\",\"data\":5}",
        "{\"type\":\"error\",\"data\":{\"type\":\"error\",\"data\":[\"x\"]}}",
        ("{\"type\":\"error\",\"data\":{\"/is_syncsdata\":true,\"/type\":\"GroupedMessage\","
         "\"type\":\"other\",\"data\":[\"x\"]}}"),
        ("{\"type\":\"error\",\"data\":{\"/is_syncsdata\":true,\"/type\":\"GroupedMessage\","
         "\"type\":\"error\",\"data\":[\"x\",2]}}"),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        assert_int_equal(decode_post_text(bad[i], &op, &kind, &out, &why), -EINVAL);
        assert_non_null(why);
        assert_int_equal(out.len, 0);
    }

    /* over the buffer's cap: -ENOBUFS, out as it was */
    assert_int_equal(ss__buf_append(&out, "keep", 4), 0);
    char big[200];
    snprintf(big, sizeof(big),
             "{\"type\":\"error\",\"data\":{\"/is_syncsdata\":true,"
             "\"/type\":\"GroupedMessage\",\"type\":\"error\","
             "\"data\":[\"%040d\",\"%040d\"]}}",
             1, 2);
    assert_int_equal(decode_post_text(big, &op, &kind, &out, &why), -ENOBUFS);
    assert_int_equal(out.len, 4);
    ss__buf_free(&out);
}

static void test_post_encode(void **state)
{
    (void)state;
    char *s = dump(ss__post_text_encode("a b\n", 4));
    assert_string_equal(s, "{\"data\":{\"value\":\"a b\\n\"},\"type\":\"str\"}");
    free(s);
    s = dump(ss__post_message_encode(SS_KIND_WARNING, "careful", 7));
    assert_string_equal(s, "{\"data\":{\"/is_syncsdata\":true,\"/type\":\"GroupedMessage\","
                           "\"data\":[\"careful\"],\"type\":\"warning\"},\"type\":\"warning\"}");
    free(s);
    s = dump(ss__post_close_encode());
    assert_string_equal(s, "{\"type\":\"close\"}");
    free(s);
    assert_null(ss__post_message_encode(SS_KIND_LINE, "x", 1));
}

static void test_record_object(void **state)
{
    (void)state;
    ss_record r = make_record(SS_KIND_WARNING, "w\nx", 3);
    r.flags = SS_REC_CONTINUED;
    json_t *j = ss__record_obj_encode(&r);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"continued\":true,\"exit\":false,\"kind\":\"warning\",\"seq\":7,"
                           "\"source\":\"worker-1\",\"stderr\":false,\"text\":\"w\\nx\","
                           "\"time_ns\":1234567890123456789}");
    free(s);
    ss_record back;
    const char *why = NULL;
    assert_int_equal(ss__record_obj_decode(j, &back, &why), 0);
    assert_int_equal(back.seq, 7);
    assert_int_equal(back.time_ns, r.time_ns);
    assert_int_equal(back.kind, SS_KIND_WARNING);
    assert_int_equal(back.flags, SS_REC_CONTINUED);
    /* the stderr and exit flags, both ways */
    ss_record fl = make_record(SS_KIND_ERROR, "exited with status 2", 20);
    fl.flags = SS_REC_STDERR | SS_REC_EXIT;
    json_t *jf = ss__record_obj_encode(&fl);
    assert_true(json_is_true(json_object_get(jf, "stderr")));
    assert_true(json_is_true(json_object_get(jf, "exit")));
    ss_record back2;
    assert_int_equal(ss__record_obj_decode(jf, &back2, &why), 0);
    assert_int_equal(back2.flags, SS_REC_STDERR | SS_REC_EXIT);
    json_decref(jf);
    /* as a POST item's members */
    json_t *item = ss__post_text_encode("e\n", 2);
    assert_int_equal(ss__post_flags_add(item, SS_REC_STDERR), 0);
    uint32_t flags = 0;
    assert_int_equal(ss__post_flags_decode(item, &flags, &why), 0);
    assert_int_equal(flags, SS_REC_STDERR);
    json_object_set_new(item, "exit", json_string("yes"));
    assert_int_equal(ss__post_flags_decode(item, &flags, &why), -EINVAL);
    json_decref(item);
    assert_string_equal(back.source, "worker-1");
    assert_int_equal(back.len, 3);
    assert_memory_equal(back.text, "w\nx", 3);
    json_decref(j);

    const char *bad[] = {
        "7",
        "{\"seq\":\"1\",\"time_ns\":1,\"source\":\"\",\"kind\":\"line\",\"text\":\"\"}",
        "{\"seq\":-1,\"time_ns\":1,\"source\":\"\",\"kind\":\"line\",\"text\":\"\"}",
        "{\"seq\":1,\"time_ns\":1,\"source\":3,\"kind\":\"line\",\"text\":\"\"}",
        "{\"seq\":1,\"time_ns\":1,\"source\":\"\",\"kind\":\"str\",\"text\":\"\"}",
        ("{\"seq\":1,\"time_ns\":1,\"source\":\"\",\"kind\":\"line\",\"text\":\"\","
         "\"continued\":1}"),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_error_t jerr;
        j = json_loads(bad[i], JSON_DECODE_ANY, &jerr);
        assert_non_null(j);
        why = NULL;
        assert_int_equal(ss__record_obj_decode(j, &back, &why), -EINVAL);
        assert_non_null(why);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_item_line_is_a_string),
        cmocka_unit_test(test_item_grouped),
        cmocka_unit_test(test_item_decode_round_trip),
        cmocka_unit_test(test_invalid_utf8_and_nul),
        cmocka_unit_test(test_post_decode),
        cmocka_unit_test(test_post_encode),
        cmocka_unit_test(test_record_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
