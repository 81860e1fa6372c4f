/* The telnet transport (telnet:// and rfc2217://): a TCP connection speaking
 * telnet (telnet.h), with RFC 2217's COM-PORT-OPTION (rfc2217.h) for a remote
 * serial port. */
#ifndef SS_STREAM_TELNET_TRANSPORT_H
#define SS_STREAM_TELNET_TRANSPORT_H

#include <syncstream/transport.h>

/*
 * Connect to host:port and start telnet's negotiation. Without serial (NULL):
 * a telnet:// connection, ready at once; the options are agreed as the bytes
 * flow. With serial: an rfc2217:// port. The server must agree to
 * COM-PORT-OPTION, and every setting of serial that given names
 * (SS__URI_SET_*) is asked for and must be answered with the value asked,
 * before this returns; ss_stream_set_line() then sends BREAK, DTR and RTS.
 *
 * All within timeout_ms (0: 10 s, as ss_transport_tcp_connect(); negative:
 * no limit). Returns 0 and *ret; or as ss_transport_tcp_connect(),
 * -ETIMEDOUT (no answer in time), -ENOBUFS (the device sent more than 1 MiB
 * before the answers came),
 * -EPROTONOSUPPORT (the server refuses COM-PORT-OPTION), SS_EREJECTED (it
 * answered a setting with another value: a rate it cannot make), -EINVAL (both
 * flow controls), SS_ECONNLOST (it closed the connection meanwhile), -ENOMEM.
 */
int ss__transport_telnet(ss_transport *ret, const char *host, const char *port, int timeout_ms,
                         const ss_serial_opts *serial, unsigned given);

#endif
