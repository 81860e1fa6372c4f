/* The record ring's arena: random record sizes against a model of what must be
 * kept, on the heap (growing) and at a fixed size; and its origin table: the
 * source and producer of every record kept, however many distinct ones come
 * and go. */
#include "test.h"

#include "ring/ring.h"

#define RECORDS 20000

/* ss__ring_append copies SS_SOURCE_MAX bytes of the name */
static const char source[SS_SOURCE_MAX] = "src";

/* Record i's origin: one of `distinct` pairs in turn, or its own (0). */
static size_t distinct_origins;

static void make_origin(uint64_t i, char *src, uint32_t *producer)
{
    uint64_t k = distinct_origins ? i % distinct_origins : i;
    memset(src, 0, SS_SOURCE_MAX);
    snprintf(src, SS_SOURCE_MAX, "worker-%llu", (unsigned long long)(k / 3));
    *producer = (uint32_t)(k % 3);
}

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
        assert_int_equal(s->seq_low, (uint16_t)seq);
        char src[SS_SOURCE_MAX];
        uint32_t producer;
        make_origin(seq, src, &producer);
        assert_memory_equal(ss__ring_origin(ring, s)->source, src, SS_SOURCE_MAX);
        assert_int_equal(ss__ring_origin(ring, s)->producer, producer);
        size_t len = make_text(seq, want, max_text);
        assert_int_equal(s->len, len);
        assert_true(s->off + s->len <= ring->data_cap);
        assert_memory_equal(ring->data + s->off, want, len);
        bytes += len;
    }
    assert_true(bytes <= ring->hdr->max_bytes);
    assert_true(ss__ring_count(ring) <= ring->hdr->maxlen);
    assert_true(ring->origins.top <= ring->hdr->maxlen + 1);
}

static void run(size_t maxlen, size_t max_bytes, size_t max_text)
{
    ss__ring ring;
    ss__ring_geometry geo = {maxlen, 4096, max_bytes};
    char text[4096];
    assert_int_equal(ss__ring_init_heap(&ring, &geo, SS_FULL_DROP_OLDEST), 0);
    for (uint64_t i = 1; i <= RECORDS; i++) {
        size_t len = make_text(i, text, max_text);
        char src[SS_SOURCE_MAX];
        uint32_t producer;
        make_origin(i, src, &producer);
        assert_int_equal(ss__ring_append(&ring, SS_KIND_LINE, 0, src, producer, 0, text, len), 1);
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
    distinct_origins = 7;
    run(100, 1u << 20, 300);
}

static void test_every_origin_new(void **state)
{
    (void)state;
    /* every record its own origin: entries die as records leave and are
     * reused, the table never holds more than maxlen + 1 */
    distinct_origins = 0;
    run(100, 1u << 20, 300);
    run(1000, 8192, 3000);
}

static void test_origins_after_clear(void **state)
{
    (void)state;
    ss__ring ring;
    ss__ring_geometry geo = {4, 64, 4096};
    char a[SS_SOURCE_MAX] = "a", b[SS_SOURCE_MAX] = "b";
    assert_int_equal(ss__ring_init_heap(&ring, &geo, SS_FULL_DROP_OLDEST), 0);
    assert_int_equal(ss__ring_append(&ring, SS_KIND_LINE, 0, a, 1, 0, "x", 1), 1);
    assert_int_equal(ss__ring_append(&ring, SS_KIND_LINE, 0, b, 2, 0, "y", 1), 1);
    ss__ring_clear(&ring);
    assert_int_equal(ss__ring_append(&ring, SS_KIND_LINE, 0, b, 3, 0, "z", 1), 1);
    const ss__origin *o = ss__ring_origin(&ring, ss__ring_slot(&ring, 3));
    assert_string_equal(o->source, "b");
    assert_int_equal(o->producer, 3);
    /* every entry died with the clear: the first is reused */
    assert_int_equal(ring.origins.top, 2);
    ss__ring_done(&ring);
}

static void test_byte_bound_wraps(void **state)
{
    (void)state;
    distinct_origins = 1;
    /* 8 KiB for records up to 3 KiB: the arena wraps all the time */
    run(1000, 8192, 3000);
}

static void test_growth_from_small(void **state)
{
    (void)state;
    distinct_origins = 40;
    run(20000, 64u << 20, 4000);
}

static void test_too_big_is_refused_uncounted(void **state)
{
    (void)state;
    ss__ring ring;
    ss__ring_geometry geo = {10, 16, 64};
    char text[100] = {0};
    assert_int_equal(ss__ring_init_heap(&ring, &geo, SS_FULL_DROP_OLDEST), 0);
    assert_int_equal(ss__ring_append(&ring, SS_KIND_ERROR, 0, source, 0, 0, text, 100), SS_ETOOBIG);
    assert_int_equal(ring.hdr->written, 0);
    assert_int_equal(ss__ring_append(&ring, SS_KIND_ERROR, 0, source, 0, 0, text, 64), 1);
    ss__ring_done(&ring);
}

static void test_shed_records_leave_no_origin(void **state)
{
    (void)state;
    /* a ring full by bytes refusing records that each name a new origin:
     * the refused records' entries are reused, the table stays in bounds */
    ss__ring ring;
    ss__ring_geometry geo = {4, 64, 64};
    char text[32] = {0};
    assert_int_equal(ss__ring_init_heap(&ring, &geo, SS_FULL_DROP_NEWEST), 0);
    for (uint64_t i = 1; i <= 1000; i++) {
        char src[SS_SOURCE_MAX];
        uint32_t producer;
        distinct_origins = 0;
        make_origin(i, src, &producer);
        assert_int_equal(ss__ring_append(&ring, SS_KIND_LINE, 0, src, producer, 0, text, 32),
                         i <= 2 ? 1 : 0);
        assert_true(ring.origins.top <= geo.maxlen + 1);
    }
    assert_int_equal(ring.hdr->shed, 998);
    ss__ring_done(&ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_bound),
        cmocka_unit_test(test_byte_bound_wraps),
        cmocka_unit_test(test_growth_from_small),
        cmocka_unit_test(test_too_big_is_refused_uncounted),
        cmocka_unit_test(test_every_origin_new),
        cmocka_unit_test(test_origins_after_clear),
        cmocka_unit_test(test_shed_records_leave_no_origin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
