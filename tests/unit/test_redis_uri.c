/* The Redis store's address, redis://HOST[:PORT]/KEY (host/redis_uri.h). */
#include "test.h"

#include "host/redis_uri.h"

static void parse_ok(const char *uri, const char *host, int port, const char *key)
{
    ss__redis_uri u;
    assert_int_equal(ss__redis_uri_parse(uri, &u), 0);
    assert_string_equal(u.host, host);
    assert_int_equal(u.port, port);
    assert_string_equal(u.key, key);
}

static void test_valid(void **state)
{
    (void)state;
    parse_ok("redis://127.0.0.1:7000/logs", "127.0.0.1", 7000, "logs");
    parse_ok("redis://cache.example/a:b", "cache.example", 6379, "a:b");
    parse_ok("redis://[::1]:6380/x{tag}y", "::1", 6380, "x{tag}y");
    parse_ok("redis://[fe80::1%eth0]/k", "fe80::1%eth0", 6379, "k");
    parse_ok("redis://[::ffff:10.0.0.1]/k", "::ffff:10.0.0.1", 6379, "k");
}

static void test_invalid(void **state)
{
    (void)state;
    static const char *bad[] = {
        "http://h/k",
        "redis://h",
        "redis://h/",
        "redis:///k",
        "redis://h:0/k",
        "redis://h:65536/k",
        "redis://h:/k",
        "redis://h:12x/k",
        "redis://h k/k",
        "redis://h/k k",
        "redis://h/{}",
        "redis://h/a}b{",
        "redis://[::1/k",
        "redis://[::1]x/k",
        "redis://[]/k",
        /* a bracket holds an IPv6 address, nothing else (the fuzzer's find) */
        "redis://[%]/k",
        "redis://[1.2.3.4]/k",
        "redis://[host]/k",
        "redis://[::1%]/k",
        "redis://[::1%e/th]/k",
        "redis://[:::]/k",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ss__redis_uri u;
        if (ss__redis_uri_parse(bad[i], &u) != -EINVAL)
            fail_msg("accepted: %s", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
