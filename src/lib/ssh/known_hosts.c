/*
 * The marker lines of known_hosts, which libssh 0.10 skips: "@revoked" (a key
 * that must never be accepted) and "@cert-authority" (a CA whose host
 * certificates OpenSSH accepts; not supported here).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssh/ssh_int.h"

/* The next whitespace-separated field of *p, NUL-terminated in place. */
static char *next_field(char **p)
{
    char *s = *p + strspn(*p, " \t\r\n");
    if (!*s)
        return NULL;
    char *end = s + strcspn(s, " \t\r\n");
    if (*end)
        *end++ = '\0';
    *p = end;
    return s;
}

int ss__known_hosts_marks(const char *path, const char *key_type, const char *key_b64,
                          ss__kh_marks *m)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *p = line;
        char *marker = next_field(&p);
        if (!marker || marker[0] != '@')
            continue;
        if (strcmp(marker, "@cert-authority") == 0) {
            if (!m->ca_line) {
                snprintf(m->ca_file, sizeof(m->ca_file), "%s", path);
                m->ca_line = lineno;
            }
            continue;
        }
        if (strcmp(marker, "@revoked") != 0)
            continue;
        /* "@revoked PATTERNS TYPE BASE64": the key is refused for every host,
         * whatever the patterns say, as a revoked key is not to be trusted
         * anywhere. The base64 text of one key is unique, so comparing it
         * compares the keys. */
        char *patterns = next_field(&p), *type = next_field(&p), *b64 = next_field(&p);
        if (patterns && type && b64 && strcmp(type, key_type) == 0 && strcmp(b64, key_b64) == 0) {
            snprintf(m->revoked_file, sizeof(m->revoked_file), "%s", path);
            m->revoked_line = lineno;
            break;
        }
    }
    int rc = ferror(f) ? -EIO : 0;
    free(line);
    fclose(f);
    return rc;
}
