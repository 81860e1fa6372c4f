#!/usr/bin/env bash
# Every allocator the library's objects call is either wrapped by the fault
# programs (its failures injected) or listed ("- `name`") in
# docs/internals/fault-injection.md as out of their reach: a new call to
# another one fails this check.
# Usage: check_wrapped.sh NM LIBRARY.a DOC WRAPPED...
set -euo pipefail
nm=$1 lib=$2 doc=$3
shift 3
# Functions that return memory the caller frees, or allocate behind the scenes.
allocators='malloc calloc realloc reallocarray strdup strndup wcsdup posix_memalign
aligned_alloc memalign valloc pvalloc asprintf vasprintf open_memstream getline getdelim
realpath canonicalize_file_name get_current_dir_name tempnam scandir opendir fdopendir fopen
fdopen popen getaddrinfo pthread_create regcomp backtrace_symbols'
used=$("$nm" -u "$lib" | awk '{print $2}' | sort -u)
status=0
for f in $allocators; do
    grep -qx "$f" <<<"$used" || continue
    wrapped=0
    for w in "$@"; do [[ $w == "$f" ]] && wrapped=1; done
    if ((wrapped)); then
        echo "wrapped: $f"
    elif grep -q "^- \`$f\`" "$doc"; then
        echo "documented as not injected: $f"
    else
        echo "FAIL: the library calls $f, neither wrapped (tests/fault/meson.build) nor listed in $doc"
        status=1
    fi
done
exit $status
