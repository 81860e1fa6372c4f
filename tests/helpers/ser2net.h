/*
 * A real ser2net (Debian's, version 4) serving a socat pseudo-terminal pair
 * as a remote serial port on a free port of 127.0.0.1, started and stopped by
 * the test: ser2net opens one end of the pair (dev) as its serial device, the
 * test plays the device on the other end (peer).
 */
#ifndef SS_TEST_SER2NET_H
#define SS_TEST_SER2NET_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct ss_test_ser2net {
    char dir[64];   /* the temporary directory: config, log, the pty links */
    char dev[128];  /* the pty end ser2net opens */
    char peer[128]; /* the device's end, for the test */
    bool rfc2217;   /* accepter telnet(rfc2217), else plain telnet */
    int port;
    pid_t socat, pid; /* 0 when not running */
} ss_test_ser2net;

/* Start socat and ser2net. Returns 0, or -1 after printing why. */
int ss_test_ser2net_start(ss_test_ser2net *s, bool rfc2217);

/* Stop both and remove the directory. */
void ss_test_ser2net_stop(ss_test_ser2net *s);

#endif
