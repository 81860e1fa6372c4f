/*
 * syncstream.h: the whole public API of libsyncstream.
 * Link with `pkg-config --libs syncstream`.
 */
#ifndef SYNCSTREAM_H
#define SYNCSTREAM_H

#include <syncstream/capture.h>
#include <syncstream/common.h>
#include <syncstream/filebuf.h>
#include <syncstream/host.h>
#include <syncstream/hostclient.h>
#include <syncstream/linebuf.h>
#include <syncstream/loop.h>
#include <syncstream/proc.h>
#include <syncstream/record.h>
#include <syncstream/ssh.h>
#include <syncstream/stream.h>
#include <syncstream/transport.h>

#endif
