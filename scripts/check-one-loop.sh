#!/usr/bin/env bash
# Fail unless the library has exactly one event loop: one epoll_create1 and
# one epoll_wait in src/lib, both in util/evloop.c, which every service
# (streams, process collectors, captures) runs on. See docs/internals/loop.md.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
status=0
for call in epoll_create1 epoll_wait; do
    hits=$(grep -rnE "\b${call}\s*\(" --include='*.c' src/lib || true)
    if [ "$(printf '%s\n' "$hits" | grep -c .)" != 1 ] ||
       ! printf '%s\n' "$hits" | grep -q '^src/lib/util/evloop\.c:'; then
        echo "${call} must appear once in src/lib, in util/evloop.c; found:"
        printf '%s\n' "$hits"
        status=1
    fi
done
[ "$status" = 0 ] && echo "one event loop in src/lib (util/evloop.c)"
exit "$status"
