/*
 * host/framing.h: refuse a request whose body length can be read two ways.
 *
 * Request smuggling: when a proxy in front of the server and the server
 * disagree on where a request's body ends, the rest of one request is taken
 * for the start of another, one the proxy never saw. libmicrohttpd takes the
 * first of several Content-Length headers and lets Transfer-Encoding win over
 * Content-Length, where a proxy may do otherwise; and a transfer coding it does
 * not know (gzip) leaves the request waiting for a body it will never read.
 * So a request may give its length in one way only: Content-Length headers
 * that all say the same, or Transfer-Encoding: chunked alone. Thread-safe.
 */
#ifndef SS_HOST_FRAMING_H
#define SS_HOST_FRAMING_H

#include <microhttpd.h>

/*
 * ss__host_framing_check - 0 when the request's framing is unambiguous, else
 * the status to refuse it with, *ret_why saying why (a static string): 400
 * (Content-Length headers that differ, Content-Length with Transfer-Encoding,
 * a Transfer-Encoding whose last coding is not chunked or that has chunked
 * twice) or 501 (another coding before chunked). The refusal must close the
 * connection: what follows cannot be told apart from a next request.
 */
unsigned ss__host_framing_check(struct MHD_Connection *c, const char **ret_why);

#endif
