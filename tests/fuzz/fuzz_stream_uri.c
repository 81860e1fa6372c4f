/*
 * Fuzz target for the transport URI parser (src/lib/stream/uri.c): whatever
 * string a user types after `syncstream connect`, parsing never reads out of
 * bounds, and what it accepts is well formed: a TCP port of digits in range and
 * a non-empty host, a non-empty serial path and settings in range (a baud rate
 * the port can be set to), a non-empty command that is the tail of the input;
 * what it refuses comes with a sentence saying why, cut to its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream.h>

#include "fuzz_text.h"
#include "stream/serial.h"
#include "stream/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_text(data, size);
    ss__uri u;
    char why[640];
    int rc = ss__uri_parse(s, &u, why, sizeof(why));
    /* A refusal always says why; an acceptance leaves why empty. */
    if ((rc < 0) != (why[0] != '\0') || strnlen(why, sizeof(why)) >= sizeof(why))
        abort();
    if (rc == 0) {
        switch (u.kind) {
        case SS__URI_RFC2217:
            /* one flow control, then a host and a port, as tcp:// */
            if (u.serial.rtscts && u.serial.xonxoff)
                abort();
            /* fall through */
        case SS__URI_TCP:
        case SS__URI_TELNET: {
            long port = atol(u.port);
            if (!u.host[0] || port < 1 || port > 65535 ||
                strspn(u.port, "0123456789") != strlen(u.port))
                abort();
            break;
        }
        case SS__URI_SERIAL:
            if (!u.path[0] ||
                (u.serial.data_bits && (u.serial.data_bits < 5 || u.serial.data_bits > 8)) ||
                u.serial.stop_bits > 2 || (unsigned)u.serial.parity > SS_PARITY_ODD ||
                (u.serial.baud && !ss__serial_baud_ok(u.serial.baud)))
                abort();
            break;
        case SS__URI_EXEC:
        case SS__URI_EXEC_PIPE:
            if (!u.command || !u.command[0] || u.command < s || u.command >= s + size)
                abort();
            break;
        }
    }
    free(s);
    return 0;
}
