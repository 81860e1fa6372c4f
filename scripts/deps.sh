#!/usr/bin/env bash
# Install the Debian packages syncstream needs to build and test. Run as root.
# Usage: scripts/deps.sh [build|test]   (test adds what the test suite needs)
set -euo pipefail

packages=(meson ninja-build pkg-config gcc)
# Host mode: JSON, the HTTP server (with GnuTLS for TLS) and the HTTP client.
packages+=(libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev)
# SSH streams.
packages+=(libssh-dev)
if [[ "${1:-build}" == test ]]; then
    packages+=(clang libclang-rt-14-dev libcmocka-dev python3 jq)
    # Host mode tests: a TLS certificate made by the test, the web page in a browser.
    packages+=(openssl chromium)
    # The SSH tests start a real OpenSSH server and compare with its client
    # (the harness hashes its test password with openssl, listed above).
    packages+=(openssh-server openssh-client)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    # Several checkouts on one machine may install at once; apt allows one.
    exec 9>/var/lock/syncstream-deps.lock
    flock 9
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
