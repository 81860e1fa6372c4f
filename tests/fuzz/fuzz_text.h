/*
 * fuzz_text.h: what the fuzz targets of text parsers share.
 */
#ifndef SS_FUZZ_TEXT_H
#define SS_FUZZ_TEXT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The input as a string of exactly its bytes and a NUL (so that ASan sees any
 * over-read); the caller frees it. Aborts when out of memory. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    return text;
}

#endif
