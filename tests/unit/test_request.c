/* The server's request decoder (src/lib/host/request.h): the fast path for
 * batches of text items takes what our mirror sends and agrees with jansson;
 * everything else goes to jansson. */
#include "test.h"

#include "host/json_prepare.h"
#include "host/request.h"

static int fast(const char *body, ss__host_batch *b)
{
    ss__host_batch_init(b, 1 << 20);
    return ss__host_batch_decode_fast(b, body, strlen(body));
}

static void test_fast_path_takes_plain_batches(void **state)
{
    (void)state;
    const char *bodies[] = {
        "{\"type\":\"batch\",\"mirror\":\"m-1\",\"batch\":7,\"source\":\"w\",\"items\":["
        "{\"type\":\"str\",\"data\":{\"value\":\"one\\n\"}},{\"type\":\"close\"}]}",
        " {\n \"items\" : [ { \"data\" : { \"value\" : \"tab\\there \\\"q\\\" \\\\ \\/ "
        "caf\xc3\xa9\" } ,"
        " \"type\" : \"str\" } ] ,\n \"batch\" : 12 , \"mirror\" : \"a.b_c\" , \"type\" : "
        "\"batch\" }\n",
    };
    for (size_t i = 0; i < 2; i++) {
        ss__host_batch b, ref;
        assert_int_equal(fast(bodies[i], &b), 1);
        char why[300];
        ss__host_batch_init(&ref, 1 << 20);
        assert_int_equal(
            ss__host_batch_decode_json(&ref, bodies[i], strlen(bodies[i]), why, sizeof(why)), 0);
        assert_string_equal(b.mirror, ref.mirror);
        assert_int_equal(b.number, ref.number);
        assert_int_equal(b.count, ref.count);
        assert_int_equal(b.text.len, ref.text.len);
        assert_memory_equal(b.text.data, ref.text.data, b.text.len);
        for (size_t k = 0; k < b.count; k++) {
            assert_int_equal(b.items[k].op, ref.items[k].op);
            assert_int_equal(b.items[k].len, ref.items[k].len);
        }
        ss__host_batch_free(&b);
        ss__host_batch_free(&ref);
    }
}

static void test_fast_path_leaves_the_rest_to_jansson(void **state)
{
    (void)state;
    const char *bodies[] = {
        "{\"type\":\"str\",\"data\":{\"value\":\"base\\n\"}}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1,\"items\":[{\"type\":\"warning\","
        "\"data\":\"w\"}]}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1,\"items\":[{\"type\":\"str\","
        "\"data\":{\"value\":\"\\u00e9\"}}]}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1,\"items\":[]}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":01,\"items\":[{\"type\":\"close\"}]}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1.0,\"items\":[{\"type\":\"close\"}]}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"mirror\":\"n\",\"batch\":1,\"items\":[{\"type\":"
        "\"close\"}]}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1,\"extra\":0,\"items\":[{\"type\":"
        "\"close\"}]}",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1,\"items\":[{\"type\":\"close\"}]} x",
        "{\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1,\"items\":[{\"type\":\"str\","
        "\"data\":{\"value\":\"\xff\"}}]}",
        "{\"type\":\"batch\",\"mirror\":\"bad id\",\"batch\":1,\"items\":[{\"type\":\"close\"}]}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        ss__host_batch b;
        if (fast(bodies[i], &b) != 0)
            fail_msg("the fast path took %s", bodies[i]);
        ss__host_batch_free(&b);
    }
}

/* Over the text cap: 413 when the body is otherwise good, 400 when a field is
 * bad, whichever order the fields come in. */
static void test_cap_and_errors(void **state)
{
    (void)state;
    char why[300];
    ss__host_batch b;
    ss__host_batch_init(&b, 4);
    const char *big = "{\"items\":[{\"type\":\"str\",\"data\":{\"value\":\"too long\"}}],"
                      "\"type\":\"batch\",\"mirror\":\"m\",\"batch\":1}";
    assert_int_equal(ss__host_batch_decode(&b, big, strlen(big), why, sizeof(why)), -ENOBUFS);
    const char *bad = "{\"items\":[{\"type\":\"str\",\"data\":{\"value\":\"too long\"}}],"
                      "\"type\":\"batch\",\"mirror\":\"m m\",\"batch\":1}";
    assert_int_equal(ss__host_batch_decode(&b, bad, strlen(bad), why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "mirror"));
    assert_int_equal(b.count, 0);
    ss__host_batch_free(&b);
}

/* The pre-scan: lone surrogate escapes (Python's surrogateescape text) become
 * U+FFFD in place and jansson then takes the body; pairs stay; too many values
 * or too deep nesting are refused. */
static void test_prepare(void **state)
{
    (void)state;
    char why[300];
    char body[] = "{\"type\":\"str\",\"data\":{\"value\":\"f-\\udcff \\ud83d\\ude00 \\uD800x "
                  "\\\\udcff \\ud800\\n\"}}";
    assert_int_equal(ss__host_json_prepare(body, strlen(body), why, sizeof(why)), 0);
    assert_string_equal(body, "{\"type\":\"str\",\"data\":{\"value\":\"f-\\uFFFD \\ud83d\\ude00 "
                              "\\uFFFDx \\\\udcff \\uFFFD\\n\"}}");
    ss__host_batch b;
    ss__host_batch_init(&b, 1 << 20);
    assert_int_equal(ss__host_batch_decode(&b, body, strlen(body), why, sizeof(why)), 0);
    const char want[] = "f-\xef\xbf\xbd \xf0\x9f\x98\x80 \xef\xbf\xbdx \\udcff \xef\xbf\xbd\n";
    assert_int_equal(b.text.len, strlen(want));
    assert_memory_equal(b.text.data, want, strlen(want));
    ss__host_batch_free(&b);

    char deep[] = "[[[[[[[[[1]]]]]]]]]";
    assert_int_equal(ss__host_json_prepare(deep, strlen(deep), why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "nested"));
    char ok_deep[] = "[[[[[[[[\"[[[[\"]]]]]]]]";
    assert_int_equal(ss__host_json_prepare(ok_deep, strlen(ok_deep), why, sizeof(why)), 0);
    size_t n = SS__HOST_JSON_MAX_VALUES + 1;
    char *many = malloc(2 * n + 2);
    many[0] = '[';
    for (size_t i = 0; i < n; i++) {
        many[1 + 2 * i] = '0';
        many[2 + 2 * i] = i + 1 < n ? ',' : ']';
    }
    assert_int_equal(ss__host_json_prepare(many, 2 * n + 1, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "values"));
    assert_int_equal(ss__host_json_prepare(many, 2 * n - 5, why, sizeof(why)),
                     0); /* at the limit */
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_path_takes_plain_batches),
        cmocka_unit_test(test_fast_path_leaves_the_rest_to_jansson),
        cmocka_unit_test(test_cap_and_errors),
        cmocka_unit_test(test_prepare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
