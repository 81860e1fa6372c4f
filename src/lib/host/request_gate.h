/*
 * host/request_gate.h: the checks against cross-site requests that a request
 * passes before its body is read.
 *
 * A web page the user opens may send a "simple" cross-origin POST (text/plain,
 * no preflight) to a server on the user's machine, or rebind its own DNS name
 * to 127.0.0.1 and then read and write as if it were the same origin. The
 * server answers only JSON POSTs (a JSON POST from another origin needs a CORS
 * preflight, which is never granted), refuses state-changing requests from
 * another origin, and, when it listens on a loopback address without a token,
 * takes only a Host that is an IP address or localhost (a rebound name is
 * neither). Thread-safe.
 */
#ifndef SS_HOST_REQUEST_GATE_H
#define SS_HOST_REQUEST_GATE_H

#include <stdbool.h>

#include <microhttpd.h>

/* Whether the request's Content-Type is application/json (parameters such as
 * charset allowed, case ignored). */
bool ss__host_is_json_request(struct MHD_Connection *c);

/* Whether the request's Origin, when it has one, is the server's own
 * (scheme://HOST from its Host header). */
bool ss__host_origin_is_own(struct MHD_Connection *c, bool tls);

/* Whether the request's Host header, when it has one, is an IP address or
 * localhost, with or without a port. */
bool ss__host_host_is_local_name(struct MHD_Connection *c);

#endif
