/* The version macros come from meson's project version, and the library
 * reports the same version as its headers. */
#include "test.h"

/* SS_VERSION_AT_LEAST must work in #if, where a program tests it. */
#if !SS_VERSION_AT_LEAST(0, 0, 1) || SS_VERSION_AT_LEAST(SS_VERSION_MAJOR + 1, 0, 0)
#error "SS_VERSION_AT_LEAST is wrong in #if"
#endif

static void test_macros_are_the_project_version(void **state)
{
    (void)state;
    /* SS_TEST_PROJECT_VERSION: meson.project_version(), passed by tests/abi/meson.build. */
    assert_string_equal(SS_VERSION_STRING, SS_TEST_PROJECT_VERSION);
    char parts[64];
    snprintf(parts, sizeof(parts), "%d.%d.%d", SS_VERSION_MAJOR, SS_VERSION_MINOR,
             SS_VERSION_PATCH);
    assert_string_equal(parts, SS_VERSION_STRING);
    assert_int_equal(SS_VERSION_NUMBER,
                     (SS_VERSION_MAJOR << 16) | (SS_VERSION_MINOR << 8) | SS_VERSION_PATCH);
}

static void test_number_orders_releases(void **state)
{
    (void)state;
    assert_true(SS_VERSION_AT_LEAST(SS_VERSION_MAJOR, SS_VERSION_MINOR, SS_VERSION_PATCH));
    assert_false(SS_VERSION_AT_LEAST(SS_VERSION_MAJOR, SS_VERSION_MINOR, SS_VERSION_PATCH + 1));
    assert_false(SS_VERSION_AT_LEAST(SS_VERSION_MAJOR, SS_VERSION_MINOR + 1, 0));
    assert_true(SS_VERSION_AT_LEAST(0, 0, 0));
}

static void test_library_reports_the_same_version(void **state)
{
    (void)state;
    assert_string_equal(ss_version(), SS_VERSION_STRING);
    assert_int_equal(ss_version_number(), SS_VERSION_NUMBER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_macros_are_the_project_version),
        cmocka_unit_test(test_number_orders_releases),
        cmocka_unit_test(test_library_reports_the_same_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
