/* Refuse ambiguous request framing (see framing.h). */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "host/framing.h"

typedef struct framing {
    const char *length; /* the first Content-Length */
    bool lengths_differ;
    bool encoding;    /* a Transfer-Encoding header came */
    unsigned codings; /* transfer codings listed, over every header */
    unsigned chunked; /* how many of them are chunked */
    bool last_is_chunked;
} framing;

/* One coding of a Transfer-Encoding list: [s, end), whitespace trimmed. */
static void add_coding(framing *f, const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (s == end)
        return; /* an empty list element, which the list syntax allows */
    /* chunked has no parameters: "chunked;x=1" is another coding. */
    bool chunked = (size_t)(end - s) == 7 && strncasecmp(s, "chunked", 7) == 0;
    f->codings++;
    f->chunked += chunked;
    f->last_is_chunked = chunked;
}

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    framing *f = cls;
    if (!key || !value)
        return MHD_YES;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (!f->length)
            f->length = value;
        else if (strcmp(f->length, value) != 0)
            f->lengths_differ = true;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        const char *p = value;
        f->encoding = true;
        for (;;) {
            const char *comma = strchr(p, ',');
            add_coding(f, p, comma ? comma : p + strlen(p));
            if (!comma)
                break;
            p = comma + 1;
        }
    }
    return MHD_YES;
}

unsigned ss__host_framing_check(struct MHD_Connection *c, const char **ret_why)
{
    framing f = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, on_header, &f);
    if (f.lengths_differ) {
        *ret_why = "the request has Content-Length headers that differ";
        return MHD_HTTP_BAD_REQUEST;
    }
    if (!f.encoding)
        return 0;
    if (f.length) {
        *ret_why = "the request has both Content-Length and Transfer-Encoding";
        return MHD_HTTP_BAD_REQUEST;
    }
    if (f.codings == 0 || !f.last_is_chunked || f.chunked > 1) {
        *ret_why = "Transfer-Encoding must end with chunked, once";
        return MHD_HTTP_BAD_REQUEST;
    }
    if (f.codings > 1) {
        *ret_why = "the only transfer coding supported is chunked";
        return MHD_HTTP_NOT_IMPLEMENTED;
    }
    return 0;
}
