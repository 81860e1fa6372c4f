/*
 * The waiting pool: a long-poll or an event stream holds its connection (and
 * its thread) for up to a minute, or for ever. Enough of them from a few
 * addresses would take every connection, so they wait only within a pool of
 * half the connections, shared fairly per address (admit.h); past its share a
 * client gets 503 with Retry-After and waits on its side.
 */
#include "host/server_int.h"

bool ss__host_wait_enter(ss_host_server *srv, struct MHD_Connection *c, ss__host_peer **ret_peer,
                         enum MHD_Result *ret_reply)
{
    if (ss__host_conn_guard_wait(&srv->guard, c, ret_peer))
        return true;
    *ret_reply = ss__host_reply_busy(c, "too many long-polls and event streams are open (from "
                                        "your address, or in all): try again later");
    return false;
}

void ss__host_wait_leave(ss_host_server *srv, ss__host_peer *peer)
{
    ss__host_conn_guard_wait_end(&srv->guard, peer);
}
