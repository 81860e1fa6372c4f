/*
 * Shared helpers for the cmocka test programs.
 */
#ifndef SS_TEST_H
#define SS_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <syncstream.h>

/* Assert that item i of set holds exactly the C string text. */
#define assert_item_text(set, i, str)                                                  \
    do {                                                                               \
        assert_true((i) < (set)->count);                                               \
        assert_int_equal((set)->items[(i)].len, strlen(str));                          \
        assert_memory_equal((set)->items[(i)].text, (str), strlen(str));               \
    } while (0)

/* A temporary directory per test program: the group setup makes it, the
 * group teardown removes it. templ is a mkdtemp template. */
static inline int ss_test_tmpdir_make(char *templ)
{
    return mkdtemp(templ) ? 0 : -1;
}

static inline int ss_test_tmpdir_remove(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
