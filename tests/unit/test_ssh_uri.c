/* ss_ssh_parse_uri: ssh://[USER@]HOST[:PORT][/COMMAND]. */
#include "test.h"

static void parse_ok(const char *uri, const char *user, const char *host, int port,
                     const char *command)
{
    ss_ssh_opts o = {.identity = "kept"};
    char *storage = NULL;
    assert_int_equal(ss_ssh_parse_uri(uri, &o, &storage), 0);
    if (user)
        assert_string_equal(o.user, user);
    else
        assert_null(o.user);
    assert_string_equal(o.host, host);
    assert_int_equal(o.port, port);
    if (command)
        assert_string_equal(o.command, command);
    else
        assert_null(o.command);
    assert_string_equal(o.identity, "kept");
    free(storage);
}

static void test_valid(void **state)
{
    parse_ok("ssh://pi@box:2222/tail -f /var/log/syslog", "pi", "box", 2222,
             "tail -f /var/log/syslog");
    parse_ok("ssh://box", NULL, "box", 0, NULL);
    parse_ok("ssh://box/", NULL, "box", 0, NULL);
    parse_ok("ssh://root@[::1]:22/echo a/b", "root", "::1", 22, "echo a/b");
    parse_ok("ssh://[fe80::1]", NULL, "fe80::1", 0, NULL);
    parse_ok("ssh://me@corp@host/date +%s", "me@corp", "host", 0, "date +%s");
}

static void test_invalid(void **state)
{
    static const char *bad[] = {
        "tcp://box:22",   "ssh:/box",    "ssh://",       "ssh:///cmd",      "ssh://@box",
        "ssh://u:pw@box", "ssh://box:",  "ssh://box:0",  "ssh://box:65536", "ssh://box:22x",
        "ssh://[::1",     "ssh://[]:22", "ssh://[::1]x", "ssh://b]ox",      "ssh://u@:22/x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ss_ssh_opts o = {.host = "untouched"};
        char *storage = NULL;
        assert_int_equal(ss_ssh_parse_uri(bad[i], &o, &storage), -EINVAL);
        assert_string_equal(o.host, "untouched");
        assert_null(storage);
    }
    ss_ssh_opts o = {0};
    char *storage = NULL;
    assert_int_equal(ss_ssh_parse_uri(NULL, &o, &storage), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
