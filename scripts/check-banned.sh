#!/usr/bin/env bash
# Fail when library or tool code uses a banned call (after curl's checksrc):
# unbounded or thread-unsafe C library functions with a safer replacement.
#   sprintf, vsprintf, strcpy, strcat, gets -> snprintf, memcpy with a length
#   strncpy                                -> ss__source_copy / memcpy (it does not terminate)
#   strtok, strerror, localtime, gmtime    -> strtok_r, ss_strerror, *_r variants
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
pattern='\b(v?sprintf|strcpy|strcat|gets|strncpy|strtok|strerror|localtime|gmtime)\s*\('
if grep -nE "$pattern" --include='*.c' --include='*.h' -r src include python; then
    echo "banned calls found (see scripts/check-banned.sh for the replacements)"
    exit 1
fi
echo "no banned calls in src/, include/ and python/"
