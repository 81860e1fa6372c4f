/*
 * run_halt.c: GNU parallel's --halt (see run_halt.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run_halt.h"

int run_halt_parse(const char *s, run_halt *ret)
{
    static const struct {
        const char *old;
        run_halt h;
    } legacy[] = {
        {"0", {RUN_HALT_NEVER, RUN_HALT_FAIL, 0, false}},
        {"1", {RUN_HALT_SOON, RUN_HALT_FAIL, 1, false}},
        {"2", {RUN_HALT_NOW, RUN_HALT_FAIL, 1, false}},
        {"-1", {RUN_HALT_SOON, RUN_HALT_SUCCESS, 1, false}},
        {"-2", {RUN_HALT_NOW, RUN_HALT_SUCCESS, 1, false}},
        {"never", {RUN_HALT_NEVER, RUN_HALT_FAIL, 0, false}},
    };
    static const char *const whys[] = {"fail=", "success=", "done="};
    run_halt h = {0};

    for (size_t i = 0; i < sizeof(legacy) / sizeof(legacy[0]); i++) {
        if (strcmp(s, legacy[i].old) == 0) {
            *ret = legacy[i].h;
            return 0;
        }
    }
    if (strncmp(s, "now,", 4) == 0)
        h.when = RUN_HALT_NOW;
    else if (strncmp(s, "soon,", 5) == 0)
        h.when = RUN_HALT_SOON;
    else
        return -EINVAL;
    s = strchr(s, ',') + 1;
    size_t w = 0;
    while (w < 3 && strncmp(s, whys[w], strlen(whys[w])) != 0)
        w++;
    if (w == 3)
        return -EINVAL;
    h.why = (run_halt_why)w;
    s += strlen(whys[w]);
    if (*s < '0' || *s > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    h.value = strtod(s, &end);
    if (errno != 0 || end == s)
        return -EINVAL;
    if (*end == '%') {
        h.percent = true;
        end++;
        if (h.value <= 0 || h.value > 100)
            return -EINVAL;
    } else if (h.value < 1 || h.value != (double)(size_t)h.value) {
        return -EINVAL; /* a count is a positive integer */
    }
    if (*end != '\0')
        return -EINVAL;
    *ret = h;
    return 0;
}

bool run_halt_reached(const run_halt *h, size_t failed, size_t succeeded, size_t total)
{
    if (h->when == RUN_HALT_NEVER)
        return false;
    size_t n = h->why == RUN_HALT_FAIL      ? failed
               : h->why == RUN_HALT_SUCCESS ? succeeded
                                            : failed + succeeded;
    if (h->percent)
        return total > 0 && (double)n * 100.0 >= h->value * (double)total;
    return (double)n >= h->value;
}

int run_halt_status(const run_halt *h, bool halted, int trigger_status, size_t failed, size_t total)
{
    if (failed == 0 || (halted && h->why == RUN_HALT_SUCCESS))
        return 0;
    if (halted && h->why == RUN_HALT_FAIL && !h->percent && h->value == 1)
        return trigger_status;
    if (h->percent && total > 0)
        return (int)((failed * 100 + total - 1) / total); /* rounded up, as parallel */
    return failed > 100 ? 101 : (int)failed;
}
