/* The record ring's arena: random record sizes against a model of what must be
 * kept, on the heap (growing) and at a fixed size. */
#include "test.h"

#include "ring/ring.h"

#define RECORDS 20000

/* ss__ring_append copies SS_SOURCE_MAX bytes of the name */
static const char source[SS_SOURCE_MAX] = "src";

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

/* Record i's text is derived from i, so any record can be checked on its own. */
static size_t make_text(uint64_t i, char *out, size_t max)
{
    size_t len = (size_t)(i * 2654435761u % max);
    for (size_t k = 0; k < len; k++)
        out[k] = (char)('a' + (i + k) % 26);
    return len;
}

static void check_ring(const ss__ring *ring, size_t max_text)
{
    char want[4096];
    size_t bytes = 0;
    for (uint64_t seq = ring->hdr->first_seq; seq < ring->hdr->next_seq; seq++) {
        const ss__slot *s = ss__ring_slot(ring, seq);
        assert_int_equal(s->seq, seq);
        size_t len = make_text(seq, want, max_text);
        assert_int_equal(s->len, len);
        assert_true(s->off + s->len <= ring->data_cap);
        assert_memory_equal(ring->data + s->off, want, len);
        bytes += len;
    }
    assert_true(bytes <= ring->hdr->max_bytes);
    assert_true(ss__ring_count(ring) <= ring->hdr->maxlen);
}

static void run(size_t maxlen, size_t max_bytes, size_t max_text)
{
    ss__ring ring;
    ss__ring_geometry geo = {maxlen, 4096, max_bytes};
    char text[4096];
    assert_int_equal(ss__ring_init_heap(&ring, &geo, SS_FULL_DROP_OLDEST), 0);
    for (uint64_t i = 1; i <= RECORDS; i++) {
        size_t len = make_text(i, text, max_text);
        assert_int_equal(ss__ring_append(&ring, SS_KIND_LINE, 0, source, 0, text, len), 1);
        /* the newest record is always kept */
        assert_int_equal(ring.hdr->next_seq, i + 1);
        if (rng() % 997 == 0)
            check_ring(&ring, max_text);
    }
    check_ring(&ring, max_text);
    assert_int_equal(ring.hdr->stored, RECORDS);
    assert_int_equal(ss__ring_count(&ring) + ring.hdr->shed, RECORDS);
    ss__ring_done(&ring);
}

static void test_count_bound(void **state)
{
    (void)state;
    run(100, 1u << 20, 300);
}

static void test_byte_bound_wraps(void **state)
{
    (void)state;
    /* 8 KiB for records up to 3 KiB: the arena wraps all the time */
    run(1000, 8192, 3000);
}

static void test_growth_from_small(void **state)
{
    (void)state;
    run(20000, 64u << 20, 4000);
}

static void test_too_big_is_refused_uncounted(void **state)
{
    (void)state;
    ss__ring ring;
    ss__ring_geometry geo = {10, 16, 64};
    char text[100] = {0};
    assert_int_equal(ss__ring_init_heap(&ring, &geo, SS_FULL_DROP_OLDEST), 0);
    assert_int_equal(ss__ring_append(&ring, SS_KIND_ERROR, 0, source, 0, text, 100), SS_ETOOBIG);
    assert_int_equal(ring.hdr->written, 0);
    assert_int_equal(ss__ring_append(&ring, SS_KIND_ERROR, 0, source, 0, text, 64), 1);
    ss__ring_done(&ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_bound),
        cmocka_unit_test(test_byte_bound_wraps),
        cmocka_unit_test(test_growth_from_small),
        cmocka_unit_test(test_too_big_is_refused_uncounted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
