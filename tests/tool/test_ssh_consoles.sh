#!/usr/bin/env bash
# examples/ssh_consoles.c against a real sshd (run by with_sshd, which sets
# SSHD_*): two remote commands, their lines collected into one buffer, each
# tagged with its stream's name, stderr marked; then the errors it reports.
# Usage: test_ssh_consoles.sh WITH_SSHD EXAMPLE
set -uo pipefail
with_sshd=$1
example=$2

if [[ -z ${SSHD_PORT:-} ]]; then
    exec "$with_sshd" "$0" "$@"
fi

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

base="ssh://$SSHD_USER@127.0.0.1:$SSHD_PORT"
out=$("$example" -i "$SSHD_KEY" -k "$SSHD_KNOWN_HOSTS" \
    "$base/for i in 1 2 3; do echo a\$i; done" \
    "$base/echo b1; echo b2 >&2; printf b3") || fail "exit status $?"
for want in "[127.0.0.1] a1" "[127.0.0.1] a2" "[127.0.0.1] a3" "[127.0.0.1] b1" \
    "[127.0.0.1] (stderr) b2" "[127.0.0.1] b3"; do
    grep -qxF "$want" <<<"$out" || fail "no line '$want' in: $out"
done
[[ $(wc -l <<<"$out") -eq 6 ]] || fail "6 lines expected: $out"

# An unknown host key is refused unless -a accepts it, which records it.
kh=$SSHD_DIR/consoles_known_hosts
err=$("$example" -i "$SSHD_KEY" -k "$kh" "$base/true" 2>&1) && fail "unknown host key accepted"
grep -q "not in" <<<"$err" || fail "unknown host key: $err"
"$example" -a -i "$SSHD_KEY" -k "$kh" "$base/echo ok" >/dev/null || fail "-a did not accept"
"$example" -i "$SSHD_KEY" -k "$kh" "$base/echo ok" >/dev/null || fail "recorded key not known"

# A key the server does not know: an authentication error.
err=$("$example" -i "$SSHD_OTHER_KEY" -k "$SSHD_KNOWN_HOSTS" "$base/true" 2>&1) &&
    fail "unknown user key accepted"
grep -q "authentication" <<<"$err" || fail "wrong key: $err"

if ((failures)); then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all ssh_consoles checks passed"
