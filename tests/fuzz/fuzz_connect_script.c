/*
 * Fuzz target for the `connect --script` parser (src/tool/connect_script_parse.c):
 * whatever file a user hands it, parsing never reads out of bounds nor leaks,
 * a refusal says where ("NAME:LINE: ...", cut to its buffer), and what it
 * accepts can be run: every goto and retry points into the script (or at its
 * end), every expect has a branch that is not only a timeout, no pattern is
 * empty, actions are only the simple statements, `again` only an action.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connect_script.h"
#include "fuzz_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_stmt(const cs_script *sc, const cs_stmt *st, bool action)
{
    if (!st->where || strncmp(st->where, "f:", 2) != 0)
        abort();
    switch (st->op) {
    case CS_SEND:
    case CS_ECHO:
        if (!st->text || st->text[st->len] != '\0')
            abort();
        break;
    case CS_GOTO:
    case CS_RETRY:
        if (st->target > sc->n || (st->op == CS_RETRY && st->n < 1))
            abort();
        break;
    case CS_AGAIN:
        if (!action)
            abort();
        break;
    case CS_EXIT:
        if (st->n < -1 || st->n > 255)
            abort();
        break;
    case CS_EXPECT:
    case CS_TIMEOUT:
        if (action)
            abort();
        break;
    case CS_WAIT:
        break;
    }
    if (st->op != CS_EXPECT)
        return;
    if (st->nbr == 0 || (st->nbr == 1 && st->br[0].pat == CS_PAT_TIMEOUT))
        abort();
    for (size_t b = 0; b < st->nbr; b++) {
        const cs_branch *br = &st->br[b];
        bool text = br->pat == CS_PAT_EXACT || br->pat == CS_PAT_REGEX;
        if (text != (br->text != NULL) || (text && br->len == 0))
            abort();
        for (size_t a = 0; a < br->nacts; a++)
            check_stmt(sc, &br->acts[a], true);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    cs_script *sc = NULL;
    char why[256];
    int rc = cs_parse("f", text, size, &sc, why, sizeof(why));
    if (rc == -EINVAL) {
        if (strncmp(why, "f:", 2) != 0 || strnlen(why, sizeof(why)) >= sizeof(why))
            abort();
    } else if (rc == 0) {
        if (sc->max_steps < 1 || sc->max_steps > CS_MAX_MAX_STEPS)
            abort();
        for (size_t i = 0; i < sc->n; i++)
            check_stmt(sc, &sc->st[i], false);
        cs_free(sc);
    } else if (rc != -ENOMEM) {
        abort();
    }
    free(text);
    return 0;
}
