#!/usr/bin/env bash
# Install the Debian packages syncstream needs to build and test. Run as root.
# Usage: scripts/deps.sh [build|test|bench]   (test adds what the test suite needs,
#        bench what the benchmarks compare with)
set -euo pipefail

packages=(meson ninja-build pkg-config gcc)
# Host mode: JSON, the HTTP server (with GnuTLS for TLS) and the HTTP client;
# libunistring-dev because a static link (pkg-config --static) of GnuTLS names it.
packages+=(libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev libunistring-dev)
# Stream mode's patterns: PCRE2 (partial matching).
packages+=(libpcre2-dev)
# SSH streams.
packages+=(libssh-dev)
# Host mode's Redis store (serve --store redis://...).
packages+=(libhiredis-dev)
# examples/libevent_loop.c: libevent drives the library's loop (ss_loop).
packages+=(libevent-dev)
# The Python package (python/): the C API's headers, and what builds it as a
# package: meson-python (pip and python3 -m build, offline with
# --no-build-isolation), whose wheels need the patchelf program, and venv for
# installing into a virtual environment.
packages+=(python3-dev python3-mesonpy python3-build python3-pip python3-venv patchelf)
if [[ "${1:-build}" == test ]]; then
    # clang 19 builds the ASan+UBSan and libFuzzer trees: its sanitizer runtime
    # locks the allocator around fork(), GCC 12's does not, so there a child
    # forked while another thread allocates may hang in malloc. llvm-19 has
    # the symbolizer for readable sanitizer reports.
    packages+=(clang-19 libclang-rt-19-dev llvm-19 libcmocka-dev python3 jq)
    # Host mode tests: a TLS certificate made by the test, the web page in a
    # browser (Debian's chromium, driven by playwright-core from npm).
    packages+=(openssl chromium)
    # The SSH tests start a real OpenSSH server and compare with its client
    # (the harness hashes its test password with openssl, listed above).
    packages+=(openssh-server openssh-client)
    # The Python package's tests; Flask for the host mode's Flask adapter.
    packages+=(python3-pytest python3-flask)
    # tests/python/test_host.py drives sync-stream 1.2's own mirror and reader
    # (the peer) against ours: they need urllib3, typing-extensions, packaging.
    packages+=(python3-urllib3 python3-typing-extensions python3-packaging)
    # syncstream.stream's serial tests: a socat pty pair is the device.
    packages+=(socat)
    # rfc2217:// and telnet:// streams are tested against a real ser2net.
    packages+=(ser2net)
    # The Redis store's tests start a real redis-server; its benchmark compares
    # with redis-benchmark (redis-tools).
    packages+=(redis-server redis-tools)
    # `syncstream run` is compared with GNU parallel's output.
    packages+=(parallel)
    # scripts/format.sh --check: the C tree is formatted by clang-format 19.
    packages+=(clang-format-19)
    command -v npm >/dev/null || packages+=(nodejs npm)
fi
# bench: the peers the benchmarks measure beside us
if [[ "${1:-build}" == bench ]]; then
    # python3-typing-extensions: the pure-Python sync-stream 1.2 (a peer) needs it;
    # its file and host modes also need fasteners, urllib3, packaging and Flask.
    packages+=(g++ libspdlog-dev python3 python3-pexpect python3-typing-extensions)
    packages+=(python3-fasteners python3-urllib3 python3-packaging python3-flask)
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

# playwright-core drives the system's chromium in the web page test; it goes in
# build/node_modules of this checkout (no browser is downloaded).
if [[ "${1:-build}" == test ]]; then
    modules="$(cd "$(dirname "$0")/.." && pwd)/build"
    if [[ ! -d $modules/node_modules/playwright-core ]]; then
        mkdir -p "$modules"
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$modules" --no-audit --no-fund \
            --no-save --silent playwright-core@1.65.1
    fi
fi
