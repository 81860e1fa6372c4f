#!/usr/bin/env bash
# `syncstream connect ssh://...` against a real sshd (run by with_sshd, which
# sets SSHD_*): a command's output and exit, a script with --send/--expect
# over the remote stdin, stderr to ours, logins by key and password file,
# host keys unknown and changed, and bad arguments.
# Usage: test_connect_ssh.sh WITH_SSHD SYNCSTREAM
set -uo pipefail
with_sshd=$1
tool=$2

if [[ -z ${SSHD_PORT:-} ]]; then
    exec "$with_sshd" "$0" "$@"
fi

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

base="ssh://$SSHD_USER@127.0.0.1:$SSHD_PORT"
key=(--identity "$SSHD_KEY" --known-hosts "$SSHD_KNOWN_HOSTS")

# A command: stdout to ours, stderr to ours, the session ends with it.
out=$("$tool" connect "${key[@]}" "$base/echo hello; echo oops >&2" </dev/null 2>"$SSHD_DIR/err")
rc=$?
[[ $rc -eq 0 ]] || fail "plain command: exit $rc"
[[ $out == hello ]] || fail "plain command: stdout '$out'"
grep -q oops "$SSHD_DIR/err" || fail "plain command: stderr $(cat "$SSHD_DIR/err")"

# The session ends with the remote command's status, as ssh(1) does: its
# exit code, or 128 + N when signal N killed it.
"$tool" connect "${key[@]}" "$base/echo bye; exit 3" </dev/null >"$SSHD_DIR/out" 2>&1
rc=$?
[[ $rc -eq 3 ]] || fail "exit 3: exit $rc ($(cat "$SSHD_DIR/out"))"
"$tool" connect "${key[@]}" "$base/kill -KILL \$\$" </dev/null >"$SSHD_DIR/out" 2>&1
rc=$?
[[ $rc -eq 137 ]] || fail "killed by SIGKILL: exit $rc ($(cat "$SSHD_DIR/out"))"

# Standard input goes to the remote command.
out=$(printf 'one\ntwo\n' | "$tool" connect "${key[@]}" "$base/head -n 2 | tr a-z A-Z")
[[ $out == $'ONE\nTWO' ]] || fail "stdin: '$out'"

# A script: the login shell, driven with --send / --expect.
out=$("$tool" connect "${key[@]}" --timeout 10 --send 'echo ready-$((6*7))\n' -e 'ready-42' \
    --send 'exit\n' "$base" </dev/null)
rc=$?
[[ $rc -eq 0 ]] || fail "script: exit $rc"
[[ $out == *ready-42* ]] || fail "script: '$out'"

# An expectation not met: exit 5 at the end of the stream, the payload on stderr.
"$tool" connect "${key[@]}" --timeout 10 -e 'never' "$base/echo partial" </dev/null \
    >/dev/null 2>"$SSHD_DIR/err"
rc=$?
[[ $rc -eq 5 ]] || fail "unmet expectation: exit $rc"
grep -q partial "$SSHD_DIR/err" || fail "unmet expectation: payload $(cat "$SSHD_DIR/err")"

# Password logins, from a file.
printf '%s\n' "$SSHD_PASSWORD" >"$SSHD_DIR/pw"
out=$("$tool" connect --password-file "$SSHD_DIR/pw" --known-hosts "$SSHD_KNOWN_HOSTS" \
    "$base/echo by-password" </dev/null) || fail "password: exit $?"
[[ $out == by-password ]] || fail "password: '$out'"
echo wrong >"$SSHD_DIR/badpw"
err=$("$tool" connect --password-file "$SSHD_DIR/badpw" --known-hosts "$SSHD_KNOWN_HOSTS" \
    "$base/true" </dev/null 2>&1)
rc=$?
[[ $rc -eq 1 ]] || fail "wrong password: exit $rc"
grep -q "authentication as $SSHD_USER failed" <<<"$err" || fail "wrong password: '$err'"
err=$("$tool" connect --password-file "$SSHD_DIR/missing" "$base/true" </dev/null 2>&1)
[[ $? -eq 1 && $err == *"cannot read a password"* ]] || fail "missing password file: '$err'"

# Host keys: unknown is refused with a hint, accepted and recorded on request.
kh=$SSHD_DIR/cli_known_hosts
err=$("$tool" connect --identity "$SSHD_KEY" --known-hosts "$kh" "$base/true" </dev/null 2>&1)
rc=$?
[[ $rc -eq 1 && $err == *"--accept-new-hostkey"* ]] || fail "unknown host key: $rc '$err'"
"$tool" connect --identity "$SSHD_KEY" --known-hosts "$kh" --accept-new-hostkey \
    "$base/true" </dev/null || fail "--accept-new-hostkey: exit $?"
grep -q "127.0.0.1\]:$SSHD_PORT" "$kh" || fail "key not recorded: $(cat "$kh")"
"$tool" connect --identity "$SSHD_KEY" --known-hosts "$kh" "$base/true" </dev/null ||
    fail "recorded key: exit $?"

# A changed host key is refused, even with --accept-new-hostkey.
ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/impostor" </dev/null
echo "[127.0.0.1]:$SSHD_PORT $(cat "$SSHD_DIR/impostor.pub")" >"$SSHD_DIR/changed_known_hosts"
err=$("$tool" connect --identity "$SSHD_KEY" --known-hosts "$SSHD_DIR/changed_known_hosts" \
    --accept-new-hostkey "$base/true" </dev/null 2>&1)
rc=$?
[[ $rc -eq 1 && $err == *differs* ]] || fail "changed host key: $rc '$err'"
# ... naming the entry as known_hosts does, with the command that removes it
entry="[127.0.0.1]:$SSHD_PORT"
[[ $err == *"host key of $entry ("* ]] || fail "changed host key: no $entry in '$err'"
[[ $err == *"ssh-keygen -f '$SSHD_DIR/changed_known_hosts' -R '$entry'"* ]] ||
    fail "changed host key: no ssh-keygen -R '$entry' in '$err'"
err=$("$tool" connect --identity "$SSHD_KEY" --known-hosts "$SSHD_DIR/none" "$base/true" \
    </dev/null 2>&1)
[[ $err == *"host key of $entry ("*"SHA256:"* ]] || fail "unknown host key: no $entry in '$err'"

# A revoked key is refused always: beside a line that lists it, and with
# --accept-new-hostkey (which must not record it).
read -r _ type b64 _ <"$SSHD_KNOWN_HOSTS"
printf '@revoked * %s %s\n' "$type" "$b64" >"$SSHD_DIR/revoked_only"
{ cat "$SSHD_DIR/revoked_only"; cat "$SSHD_KNOWN_HOSTS"; } >"$SSHD_DIR/revoked_and_plain"
for kh in revoked_and_plain revoked_only; do
    cp "$SSHD_DIR/$kh" "$SSHD_DIR/$kh.before"
    out=$("$tool" connect --identity "$SSHD_KEY" --known-hosts "$SSHD_DIR/$kh" \
        --accept-new-hostkey "$base/echo connected" </dev/null 2>"$SSHD_DIR/err")
    rc=$?
    err=$(cat "$SSHD_DIR/err")
    [[ $rc -eq 1 && -z $out && $err == *"REVOKED HOST KEY DETECTED"* ]] ||
        fail "$kh: $rc '$out' '$err'"
    cmp -s "$SSHD_DIR/$kh" "$SSHD_DIR/$kh.before" || fail "$kh: the file changed"
done
# A @cert-authority line is not used, and the refusal says so.
printf '@cert-authority * %s %s\n' "$type" "$b64" >"$SSHD_DIR/ca_only"
err=$("$tool" connect --identity "$SSHD_KEY" --known-hosts "$SSHD_DIR/ca_only" "$base/true" \
    </dev/null 2>&1)
rc=$?
[[ $rc -eq 1 && $err == *"@cert-authority line of"*"not supported"* ]] ||
    fail "@cert-authority: $rc '$err'"

# A name that does not resolve: the name and the resolver's answer.
err=$("$tool" connect --identity "$SSHD_KEY" "ssh://$SSHD_USER@no-such-host.invalid/true" \
    </dev/null 2>&1)
rc=$?
[[ $rc -eq 1 && $err == *"cannot resolve the host name no-such-host.invalid"* ]] ||
    fail "unresolved name: $rc '$err'"

# Bad arguments.
"$tool" connect "ssh://u:pw@127.0.0.1/true" </dev/null 2>/dev/null
[[ $? -eq 2 ]] || fail "password in the URI: not a usage error"
"$tool" connect --identity 2>/dev/null
[[ $? -eq 2 ]] || fail "--identity without FILE: not a usage error"
"$tool" connect --identity "$SSHD_KEY" tcp://127.0.0.1:1 </dev/null 2>/dev/null
[[ $? -eq 2 ]] || fail "--identity with tcp://: not a usage error"

if ((failures)); then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all connect ssh checks passed"
