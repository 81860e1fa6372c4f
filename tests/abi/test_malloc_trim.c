/*
 * The host server calls malloc_trim(0), which acts on the whole process,
 * only when the program asked for it (ss_host_server_opts.trim_memory): a
 * real server on 127.0.0.1 receives a body over 256 KiB (the size after which
 * it trims) with the option off, then on.
 *
 * This program's malloc_trim counts its calls and passes each on to glibc's:
 * being defined in the executable, it is the one the library's call reaches.
 */
#include <dlfcn.h>
#include <malloc.h>
#include <stdatomic.h>

#include "http_test.h"
#include "test.h"

static atomic_int trims;

int malloc_trim(size_t pad)
{
    atomic_fetch_add(&trims, 1);
    int (*glibc_trim)(size_t) = (int (*)(size_t))dlsym(RTLD_NEXT, "malloc_trim");
    return glibc_trim ? glibc_trim(pad) : 0;
}

/* Start a server with trim_memory as given, post one line of text_len bytes
 * to it, and return how many times malloc_trim was called meanwhile. */
static int trims_for_post(bool trim_memory, size_t text_len)
{
    ss_host_server *srv;
    ss_host_server_opts o = {.listen = "127.0.0.1:0", .trim_memory = trim_memory};
    assert_int_equal(ss_host_server_new(&srv, &o), 0);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)ss_host_server_port(srv),
             SS_HOST_DEFAULT_ROUTE);
    char *body = malloc(text_len + 64);
    assert_non_null(body);
    int n = snprintf(body, text_len + 64, "{\"type\":\"str\",\"data\":{\"value\":\"");
    memset(body + n, 'x', text_len);
    n += snprintf(body + n + text_len, 64, "\\n\"}}") + (int)text_len;

    int before = atomic_load(&trims);
    http_reply r;
    assert_int_equal(http_request("POST", url, body, (size_t)n, NULL, &r), 0);
    assert_int_equal(r.status, 201);
    http_reply_clear(&r);
    /* The reply comes after the server's trim: the count is final here. */
    int after = atomic_load(&trims);
    free(body);
    ss_host_server_free(srv);
    return after - before;
}

static void test_no_trim_unless_asked(void **state)
{
    (void)state;
    assert_int_equal(trims_for_post(false, 300 << 10), 0);
}

static void test_trim_when_asked(void **state)
{
    (void)state;
    assert_int_equal(trims_for_post(true, 300 << 10), 1);
    /* a small body leaves nothing worth giving back */
    assert_int_equal(trims_for_post(true, 1000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_trim_unless_asked),
        cmocka_unit_test(test_trim_when_asked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
