/*
 * syncstream.h: the whole public API of libsyncstream.
 * Link with `pkg-config --libs syncstream`.
 */
#ifndef SYNCSTREAM_H
#define SYNCSTREAM_H

#include <syncstream/common.h>
#include <syncstream/record.h>
#include <syncstream/linebuf.h>
#include <syncstream/capture.h>
#include <syncstream/proc.h>
#include <syncstream/ssh.h>
#include <syncstream/host.h>
#include <syncstream/transport.h>
#include <syncstream/stream.h>
#include <syncstream/hostclient.h>
#include <syncstream/filebuf.h>

#endif
