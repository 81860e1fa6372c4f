/*
 * syncstream/common.h: error codes, version and conventions shared by every module.
 *
 * Conventions, true of every public function unless its comment says otherwise:
 *  - Functions that can fail return an int: 0 (or a count) on success, a negative
 *    errno value (-EINVAL, -ENOMEM, ...) or one of the SS_E* codes below on failure.
 *    ss_strerror() turns either kind into a sentence.
 *  - Results are returned through out-parameters named ret or ret_*, always last,
 *    and written only on success.
 *  - Destructors (_free, _close) accept NULL.
 *  - The library never prints, never exits and never aborts on its own behalf.
 */
#ifndef SYNCSTREAM_COMMON_H
#define SYNCSTREAM_COMMON_H

/* SS_VERSION_* and ss_version(), generated from the project's version. */
#include <syncstream/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Our own error codes, all below -4095 so they never collide with a negated errno.
 */
enum {
    SS_ECLOSED = -5001,  /* the object was closed; no further reads or writes */
    SS_ESTOPPED = -5002, /* a stop was requested for this producer */
    SS_EFORMAT = -5003,  /* a file exists but is not in the expected format */
    SS_ECORRUPT = -5004, /* a file is in our format but damaged */
    SS_ETOOBIG = -5005,  /* one record is larger than the buffer can ever hold */
    SS_EEOF = -5010,     /* the stream ended (after every buffered byte was taken) */
    /* Name resolution (getaddrinfo) for a host name given to connect */
    SS_ENOHOST = -5011,  /* the name is not known: the resolver has no address for it */
    SS_ERESOLVE = -5012, /* the name service failed or did not answer; retry later */
    /* SSH (syncstream/ssh.h) */
    SS_EAUTH = -5101,        /* the server refused every authentication method tried */
    SS_EHOSTKEY = -5102,     /* the server's host key differs from the known one */
    SS_EHOSTUNKNOWN = -5103, /* the server's host key is not in known_hosts */
    SS_ECONNLOST = -5104,    /* the connection broke, or the peer stopped answering */
    SS_EHOSTREVOKED = -5105, /* the server's host key is marked @revoked in known_hosts */
    SS_EREJECTED = -5020,    /* a server refused the request (HTTP 4xx); see its message */
    SS_ESERVER = -5021,      /* a server failed the request (HTTP 5xx); see its message */
    /* Host mode */
    SS_ESTOREDOWN = -5201, /* the host server's Redis store cannot be reached now */
};

/*
 * ss_strerror - describe an error code returned by any syncstream function.
 *
 * Thread-safe. Returns a static string, never NULL; an unknown code gives
 * "unknown error".
 */
const char *ss_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
