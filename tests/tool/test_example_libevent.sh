#!/usr/bin/env bash
# examples/libevent_loop.c: libevent drives an external ss_loop; a stream over
# a program and a spawned child are served from its callbacks. Run as built,
# its output checked: both answers of the program, the child's line and exit.
#
#     test_example_libevent.sh EXAMPLE_LIBEVENT_LOOP
set -u

tool=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/syncstream-libevent.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

. "$(dirname "$0")/lib.sh"

run libevent 0
in_order libevent out "stream: you said hello" "stream: you said bye" \
    "child: hello from the child" "child: exited with status 0"
exit "$failed"
