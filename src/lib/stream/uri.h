/*
 * The URIs of ss_transport_open_uri() and `syncstream connect`: a parser that
 * does no I/O (fuzzed by tests/fuzz/fuzz_stream_uri.c).
 */
#ifndef SS_STREAM_URI_H
#define SS_STREAM_URI_H

#include <syncstream/transport.h>

typedef enum ss__uri_kind {
    SS__URI_TCP,
    SS__URI_SERIAL,
    SS__URI_EXEC,      /* a shell command on a pty */
    SS__URI_EXEC_PIPE, /* the same on pipes */
} ss__uri_kind;

typedef struct ss__uri {
    ss__uri_kind kind;
    char host[256];        /* tcp: a name or an address, without IPv6 brackets */
    char port[8];          /* tcp: 1 to 65535, digits only */
    char path[1024];       /* serial */
    ss_serial_opts serial; /* serial: from the query; zero fields are defaults */
    const char *command;   /* exec: points into the parsed string */
} ss__uri;

/* Parse uri. Returns 0 and fills *ret, or -EINVAL with a sentence in why
 * (why_len bytes; why may be NULL) naming what is wrong and what is allowed:
 * the scheme, the port, an unknown, repeated or out-of-range serial setting,
 * a length. */
int ss__uri_parse(const char *uri, ss__uri *ret, char *why, size_t why_len);

#endif
