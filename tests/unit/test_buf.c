/* The byte buffer (util/buf.h): append, peek, take, compact, the cap, growth. */
#include "test.h"

#include "util/buf.h"

static void append_str(ss__buf *b, const char *s)
{
    assert_int_equal(ss__buf_append(b, s, strlen(s)), 0);
}

static void assert_holds(const ss__buf *b, const char *s)
{
    size_t len;
    const char *p = ss__buf_peek(b, &len);
    assert_int_equal(len, strlen(s));
    if (len)
        assert_memory_equal(p, s, len);
}

static void test_take_moves_no_bytes(void **state)
{
    (void)state;
    ss__buf b;
    ss__buf_init(&b, 1024);
    append_str(&b, "0123456789");
    const char *before = b.data;
    ss__buf_take(&b, 3);
    /* taking from the front only moves the head: the bytes stay where they were */
    assert_ptr_equal(b.data, before + 3);
    assert_holds(&b, "3456789");
    append_str(&b, "ab");
    assert_holds(&b, "3456789ab");
    ss__buf_compact(&b);
    assert_ptr_equal(b.data, b.mem);
    assert_holds(&b, "3456789ab");
    ss__buf_free(&b);
}

static void test_take_all_rewinds(void **state)
{
    (void)state;
    ss__buf b;
    ss__buf_init(&b, 1024);
    append_str(&b, "abc");
    ss__buf_take(&b, 3);
    assert_ptr_equal(b.data, b.mem);
    assert_int_equal(b.len, 0);
    ss__buf_free(&b);
}

static void test_head_past_half_compacts(void **state)
{
    (void)state;
    ss__buf b;
    ss__buf_init(&b, 1024);
    char block[200];
    memset(block, 'x', sizeof(block));
    assert_int_equal(ss__buf_append(&b, block, sizeof(block)), 0);
    append_str(&b, "tail");
    assert_int_equal(b.alloc, 256);
    ss__buf_take(&b, 100); /* head at 100 of 256: kept */
    assert_ptr_equal(b.data, b.mem + 100);
    ss__buf_take(&b, 100); /* head at 200, past half: compacted */
    assert_ptr_equal(b.data, b.mem);
    assert_holds(&b, "tail");
    ss__buf_free(&b);
}

static void test_reserve_reuses_taken_room(void **state)
{
    (void)state;
    ss__buf b;
    ss__buf_init(&b, 256);
    char block[250];
    memset(block, 'y', sizeof(block));
    assert_int_equal(ss__buf_append(&b, block, sizeof(block)), 0);
    ss__buf_take(&b, 100);
    /* 150 held, 106 free only once the taken head is reclaimed: no growth */
    char *dst;
    assert_int_equal(ss__buf_reserve(&b, 100, &dst), 0);
    assert_int_equal(b.alloc, 256);
    assert_ptr_equal(b.data, b.mem);
    assert_ptr_equal(dst, b.mem + 150);
    memcpy(dst, "z", 1);
    b.len += 1;
    assert_int_equal(b.data[150], 'z');
    ss__buf_free(&b);
}

static void test_cap_counts_held_bytes(void **state)
{
    (void)state;
    ss__buf b;
    ss__buf_init(&b, 8);
    append_str(&b, "12345678");
    assert_int_equal(ss__buf_append(&b, "9", 1), -ENOBUFS);
    assert_holds(&b, "12345678");
    ss__buf_take(&b, 2);
    append_str(&b, "90");
    assert_holds(&b, "34567890");
    assert_true(b.alloc <= 8);
    ss__buf_free(&b);
}

static void test_growth_never_overflows(void **state)
{
    (void)state;
    ss__buf b;
    ss__buf_init(&b, SIZE_MAX);
    append_str(&b, "x");
    char *dst;
    /* Doubling 256 towards SIZE_MAX - 1 wrapped to 0 and looped for ever;
     * now it stops at the cap, and memory past PTRDIFF_MAX is refused. */
    assert_int_equal(ss__buf_reserve(&b, SIZE_MAX - 1, &dst), -ENOMEM);
    assert_int_equal(ss__buf_reserve(&b, SIZE_MAX, &dst), -ENOBUFS);
    assert_holds(&b, "x");
    ss__buf_free(&b);

    ss__buf_init(&b, (SIZE_MAX / 2) + 2);
    append_str(&b, "x");
    assert_int_equal(ss__buf_reserve(&b, SIZE_MAX / 2, &dst), -ENOMEM);
    assert_holds(&b, "x");
    ss__buf_free(&b);
}

static void test_reset_keeps_memory(void **state)
{
    (void)state;
    ss__buf b;
    ss__buf_init(&b, 64);
    append_str(&b, "abcdef");
    ss__buf_take(&b, 2);
    ss__buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.data, b.mem);
    assert_non_null(b.mem);
    ss__buf_free(&b);
    assert_null(b.mem);
    assert_int_equal(b.cap, 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_moves_no_bytes),
        cmocka_unit_test(test_take_all_rewinds),
        cmocka_unit_test(test_head_past_half_compacts),
        cmocka_unit_test(test_reserve_reuses_taken_room),
        cmocka_unit_test(test_cap_counts_held_bytes),
        cmocka_unit_test(test_growth_never_overflows),
        cmocka_unit_test(test_reset_keeps_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
