/*
 * The URIs of ss_transport_open_uri() and `syncstream connect`: a parser that
 * does no I/O (fuzzed by tests/fuzz/fuzz_stream_uri.c).
 */
#ifndef SS_STREAM_URI_H
#define SS_STREAM_URI_H

#include <syncstream/transport.h>

typedef enum ss__uri_kind {
    SS__URI_TCP,
    SS__URI_TELNET,  /* telnet://: TCP with telnet's options (telnet.h) */
    SS__URI_RFC2217, /* rfc2217://: the same, plus a remote serial port's settings */
    SS__URI_SERIAL,
    SS__URI_EXEC,      /* a shell command on a pty */
    SS__URI_EXEC_PIPE, /* the same on pipes */
} ss__uri_kind;

/* The settings a query gave (ss__uri.given): an rfc2217:// port is asked
 * for these only, and keeps the server's own for the rest. */
enum {
    SS__URI_SET_BAUD = 1u << 0,
    SS__URI_SET_DATA = 1u << 1,
    SS__URI_SET_PARITY = 1u << 2,
    SS__URI_SET_STOP = 1u << 3,
    SS__URI_SET_RTSCTS = 1u << 4,
    SS__URI_SET_XONXOFF = 1u << 5,
};

typedef struct ss__uri {
    ss__uri_kind kind;
    char host[256];        /* tcp, telnet, rfc2217: a name or an address, without IPv6 brackets */
    char port[8];          /* tcp, telnet, rfc2217: 1 to 65535, digits only */
    char path[1024];       /* serial */
    ss_serial_opts serial; /* serial, rfc2217: from the query; zero fields are defaults */
    unsigned given;        /* serial, rfc2217: the SS__URI_SET_* the query gave */
    const char *command;   /* exec: points into the parsed string */
} ss__uri;

/* Parse uri. Returns 0 and fills *ret, or -EINVAL with a sentence in why
 * (why_len bytes; why may be NULL) naming what is wrong and what is allowed:
 * the scheme, the port, an unknown, repeated or out-of-range serial setting,
 * a length. */
int ss__uri_parse(const char *uri, ss__uri *ret, char *why, size_t why_len);

#endif
