#include <string.h>

#include <syncstream/common.h>

const char *ss_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case SS_ECLOSED:
        return "the buffer or stream is closed";
    case SS_ESTOPPED:
        return "a stop was requested";
    case SS_EFORMAT:
        return "not a syncstream file (or made with other settings)";
    case SS_ECORRUPT:
        return "the syncstream file is damaged";
    case SS_ETOOBIG:
        return "the record is larger than the buffer can hold";
    case SS_ENOHOST:
        return "the host name is not known (the resolver has no address for it)";
    case SS_ERESOLVE:
        return "the host name cannot be resolved now (the name service failed or did not "
               "answer); retry later";
    case SS_EAUTH:
        return "authentication failed";
    case SS_EHOSTKEY:
        return "the host key does not match the known one (possible impostor)";
    case SS_EHOSTUNKNOWN:
        return "the host key is unknown (not in known_hosts)";
    case SS_EHOSTREVOKED:
        return "the host key is revoked (marked @revoked in known_hosts)";
    case SS_ECONNLOST:
        return "the connection was lost";
    case SS_EEOF:
        return "end of stream";
    case SS_EREJECTED:
        return "the server refused the request";
    case SS_ESERVER:
        return "the server failed the request";
    case SS_ESTOREDOWN:
        return "the Redis store cannot be reached; retry later";
    default:
        break;
    }
    if (err < 0 && err > -4096) {
        /* strerrordesc_np is thread-safe and never formats "Unknown error N" into a
         * shared buffer, unlike strerror. */
        const char *desc = strerrordesc_np(-err);
        if (desc)
            return desc;
    }
    return "unknown error";
}

const char *ss_version(void)
{
    return SS_VERSION_STRING;
}

unsigned ss_version_number(void)
{
    return SS_VERSION_NUMBER;
}
