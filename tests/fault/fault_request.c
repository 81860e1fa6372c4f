/*
 * The server's request decoder under allocation failures: a base POST, a
 * batch the fast path takes (its item array past 64 items, its text growing) and batches
 * jansson decodes (its own allocations fail too, through
 * json_set_alloc_funcs). A failed decode must return -ENOMEM, not a 400's
 * -EINVAL, and leave the batch empty and usable: decoding the same body again
 * gives what it gives without failures.
 */
#include <stdarg.h>
#include <stdio.h>

#include "fault.h"

#include "host/request.h"

#define BODIES 4

typedef struct request_case {
    char *body[BODIES];
    ss__host_batch want[BODIES];
} request_case;

/* printf at p + *len, within cap bytes in all, and move *len on. */
__attribute__((format(printf, 4, 5))) static void add(char *p, size_t cap, size_t *len,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p + *len, cap - *len, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < cap - *len);
    *len += (size_t)n;
}

static char *fast_batch(void)
{
    size_t cap = 64 + 70 * 64, len = 0;
    char *p = malloc(cap);
    assert_non_null(p);
    add(p, cap, &len, "{\"type\":\"batch\",\"mirror\":\"m1\",\"batch\":3,\"items\":[");
    for (int i = 0; i < 70; i++)
        add(p, cap, &len, "%s{\"type\":\"str\",\"data\":{\"value\":\"line %d\\n\"}}", i ? "," : "",
            i);
    add(p, cap, &len, ",{\"type\":\"close\"}]}");
    return p;
}

/* Every token under 16 bytes, the first size of jansson's token buffer:
 * jansson 2.14 goes on with a corrupted token when growing that buffer
 * fails, and crashes (see docs/internals/fault-injection.md). */
static char *json_batch(void)
{
    size_t cap = 128 + 8 * 64, len = 0;
    char *p = malloc(cap);
    assert_non_null(p);
    add(p, cap, &len,
        "{\"type\":\"batch\",\"mirror\":\"m2\",\"batch\":9,"
        "\"source\":\"s\",\"items\":[");
    for (int i = 0; i < 8; i++)
        add(p, cap, &len,
            i % 2 ? "%s{\"type\":\"warning\",\"data\":\"w %d\"}"
                  : "%s{\"type\":\"str\",\"data\":{\"value\":\"\\u00e9 %d\\n\"}}",
            i ? "," : "", i);
    add(p, cap, &len, "]}");
    return p;
}

static void assert_same(const ss__host_batch *b, const ss__host_batch *want)
{
    assert_string_equal(b->mirror, want->mirror);
    assert_int_equal(b->number, want->number);
    assert_int_equal(b->has_source, want->has_source);
    assert_int_equal(b->count, want->count);
    assert_int_equal(b->text.len, want->text.len);
    if (b->text.len)
        assert_memory_equal(b->text.data, want->text.data, b->text.len);
    for (size_t i = 0; i < b->count; i++) {
        assert_int_equal(b->items[i].op, want->items[i].op);
        assert_int_equal(b->items[i].kind, want->items[i].kind);
        assert_int_equal(b->items[i].off, want->items[i].off);
        assert_int_equal(b->items[i].len, want->items[i].len);
    }
}

static int decode(ss__host_batch *b, const char *body)
{
    char why[300];
    int rc = ss__host_batch_decode(b, body, strlen(body), why, sizeof(why));
    if (rc < 0 && rc != -ENOMEM)
        print_message("decode: %s: %s\n", ss_strerror(rc), why);
    return rc;
}

static void scenario(void *ctx)
{
    request_case *rc = ctx;
    ss__host_batch b;
    ss__host_batch_init(&b, 1 << 20);
    for (int i = 0; i < BODIES; i++) {
        if (FAULT_STOP(decode(&b, rc->body[i]))) {
            assert_int_equal(b.count, 0);
            assert_int_equal(b.text.len, 0);
            /* the same batch, allocations working again */
            fault_pause();
            assert_int_equal(decode(&b, rc->body[i]), 0);
            fault_resume();
            assert_same(&b, &rc->want[i]);
            break;
        }
        assert_same(&b, &rc->want[i]);
    }
    ss__host_batch_free(&b);
}

static void test_request(void **state)
{
    (void)state;
    request_case rc = {.body = {
                           strdup("{\"type\":\"str\",\"data\":{\"value\":\"hello\\n\"}}"),
                           fast_batch(),
                           json_batch(),
                           strdup("{\"type\":\"error\",\"data\":\"trace\\nback\"}"),
                       }};
    for (int i = 0; i < BODIES; i++) {
        assert_non_null(rc.body[i]);
        ss__host_batch_init(&rc.want[i], 1 << 20);
        assert_int_equal(decode(&rc.want[i], rc.body[i]), 0);
    }
    fault_run("request", scenario, &rc);
    for (int i = 0; i < BODIES; i++) {
        ss__host_batch_free(&rc.want[i]);
        free(rc.body[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
