/*
 * The waiting pool: a long-poll or an event stream holds its connection (and
 * its thread) for up to a minute, or for ever. Enough of them from a few
 * addresses would take every connection, so they wait only within a pool of
 * half the connections, shared fairly per address (admit.h); past its share a
 * client gets 503 with Retry-After and waits on its side.
 */
#include "host/server_int.h"

/* Seconds a refused waiter is asked to wait before it tries again. */
#define RETRY_AFTER "1"

static enum MHD_Result reply_busy(struct MHD_Connection *c)
{
    static const char body[] =
        "{\"message\":\"too many long-polls and event streams are open (from your address, "
        "or in all): try again later\"}";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    ss__host_add_headers(r, "application/json");
    MHD_add_response_header(r, "Retry-After", RETRY_AFTER);
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, r);
    MHD_destroy_response(r);
    return ok;
}

bool ss__host_wait_enter(ss_host_server *srv, struct MHD_Connection *c, ss__host_peer **ret_peer,
                         enum MHD_Result *ret_reply)
{
    if (ss__host_conn_guard_wait(&srv->guard, c, ret_peer))
        return true;
    *ret_reply = reply_busy(c);
    return false;
}

void ss__host_wait_leave(ss_host_server *srv, ss__host_peer *peer)
{
    ss__host_conn_guard_wait_end(&srv->guard, peer);
}
