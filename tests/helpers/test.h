/*
 * Shared helpers for the cmocka test programs.
 */
#ifndef SS_TEST_H
#define SS_TEST_H

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <syncstream.h>

/* Assert that item i of set holds exactly the C string text. */
#define assert_item_text(set, i, str)                                                              \
    do {                                                                                           \
        assert_true((i) < (set)->count);                                                           \
        assert_int_equal((set)->items[(i)].len, strlen(str));                                      \
        assert_memory_equal((set)->items[(i)].text, (str), strlen(str));                           \
    } while (0)

/* Count the entries of /proc/self/fd (the directory's own fd is in every count). */
static inline int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

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

/* A self-signed certificate for 127.0.0.1 and its key, made by openssl in dir:
 * dir/cert.pem and dir/key.pem, their paths written to cert and key (size
 * bytes each). Returns 0 or -1. */
static inline int ss_test_make_cert(const char *dir, char *cert, char *key, size_t size)
{
    char cmd[1024];
    snprintf(cert, size, "%s/cert.pem", dir);
    snprintf(key, size, "%s/key.pem", dir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s 2>/dev/null",
             key, cert);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
