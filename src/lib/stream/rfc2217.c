/*
 * RFC 2217's messages: see rfc2217.h.
 */
#include <errno.h>

#include "stream/rfc2217.h"
#include "stream/uri.h"

/* What a server answers a command with. */
#define ANSWER 100

int ss__rfc2217_settings(const ss_serial_opts *o, unsigned given, ss__rfc2217_set *ret)
{
    int n = 0;
    if (given & SS__URI_SET_BAUD)
        ret[n++] = (ss__rfc2217_set){SS__RFC2217_BAUD, o->baud};
    if (given & SS__URI_SET_DATA)
        ret[n++] = (ss__rfc2217_set){SS__RFC2217_DATASIZE, o->data_bits};
    if (given & SS__URI_SET_PARITY) {
        static const uint8_t parity[] = {
            [SS_PARITY_NONE] = 1, [SS_PARITY_ODD] = 2, [SS_PARITY_EVEN] = 3};
        ret[n++] = (ss__rfc2217_set){SS__RFC2217_PARITY, parity[o->parity]};
    }
    if (given & SS__URI_SET_STOP)
        ret[n++] = (ss__rfc2217_set){SS__RFC2217_STOPSIZE, o->stop_bits};
    if (given & (SS__URI_SET_RTSCTS | SS__URI_SET_XONXOFF)) {
        if (o->rtscts && o->xonxoff)
            return -EINVAL;
        ret[n++] = (ss__rfc2217_set){SS__RFC2217_CONTROL, o->rtscts    ? SS__RFC2217_FLOW_HARDWARE
                                                          : o->xonxoff ? SS__RFC2217_FLOW_XONXOFF
                                                                       : SS__RFC2217_FLOW_NONE};
    }
    return n;
}

int ss__rfc2217_send(ss__telnet *t, const ss__rfc2217_set *s)
{
    uint8_t m[5] = {s->cmd};
    size_t len = 2;
    if (s->cmd == SS__RFC2217_BAUD) {
        m[1] = (uint8_t)(s->value >> 24);
        m[2] = (uint8_t)(s->value >> 16);
        m[3] = (uint8_t)(s->value >> 8);
        m[4] = (uint8_t)s->value;
        len = 5;
    } else {
        m[1] = (uint8_t)s->value;
    }
    return ss__telnet_send_sb(t, SS__TELNET_COMPORT, m, len);
}

bool ss__rfc2217_answer(const uint8_t *data, size_t len, ss__rfc2217_set *ret)
{
    if (len < 2 || data[0] < ANSWER + SS__RFC2217_BAUD || data[0] > ANSWER + SS__RFC2217_CONTROL)
        return false;
    uint8_t cmd = (uint8_t)(data[0] - ANSWER);
    if (cmd == SS__RFC2217_BAUD) {
        if (len != 5)
            return false;
        ret->value =
            (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4];
    } else {
        if (len != 2)
            return false;
        ret->value = data[1];
    }
    ret->cmd = cmd;
    return true;
}

uint8_t ss__rfc2217_line(int line, bool on)
{
    switch (line) {
    case SS_LINE_BREAK:
        return on ? SS__RFC2217_BREAK_ON : SS__RFC2217_BREAK_OFF;
    case SS_LINE_DTR:
        return on ? SS__RFC2217_DTR_ON : SS__RFC2217_DTR_OFF;
    case SS_LINE_RTS:
        return on ? SS__RFC2217_RTS_ON : SS__RFC2217_RTS_OFF;
    default:
        return 0;
    }
}
