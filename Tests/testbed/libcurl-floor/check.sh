#!/bin/bash
# check.sh DEB: the libcurl floor the package declares is true. Runs the packaged aiosd and aiosctl on this
# host against (1) a simulated libcurl 7.81.0 (Ubuntu 22.04's, the oldest the package accepts): the host's
# libcurl behind an LD_PRELOAD shim (old-libcurl.c) that reports 7.81.0 and refuses every option added after
# it; (2) the host's own libcurl unchanged (Debian 12's newest, 7.88.1 with its security updates).
# TAP-like output as the e2e scenarios; exit 1 if any check failed. Needs gcc and libcurl4-openssl-dev.
. "$(dirname "$0")/../e2e/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd -P)
e2e_deb_arg "$@"
WORK=$(mktemp -d /tmp/libcurl-floor.XXXXXX)
pids=()
# shellcheck disable=SC2034  # run by e2e_teardown (lib.sh)
E2E_ON_EXIT='for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$WORK"'

floor=$(dpkg-deb -f "$DEB" Depends | grep -o 'libcurl4 (>= [^)]*)' | sed 's/.*>= //; s/)//; s/-.*//')
check_eq "the package declares a libcurl4 floor of 7.81.0" "7.81.0" "$floor" "Depends: $(dpkg-deb -f "$DEB" Depends)"
dpkg-deb -x "$DEB" "$WORK/x"
check "compile the simulated-old-libcurl shim" -- gcc -Wall -shared -fPIC -o "$WORK/old-libcurl.so" "$HERE/old-libcurl.c" -ldl
check_rc 48 "the shim bites: the host's curl CLI (sets CURLOPT_PROTOCOLS_STR) fails with CURLE_UNKNOWN_OPTION" -- \
    env LD_PRELOAD="$WORK/old-libcurl.so" AIOS_LIBCURL_VERSION="$floor" curl -s --proto =http http://127.0.0.1:9/

# run_against LABEL DIR PRELOAD VERSION: a daemon on a private socket, then aiosctl status and a reload through it.
run_against() {
    local label=$1 dir=$WORK/$2 preload=$3
    mkdir -p "$dir"
    printf 'control:\n  socket: %s/aiosd.sock\n  socketGroup: root\n' "$dir" > "$dir/aiosd.yaml"
    env -u JOURNAL_STREAM -u INVOCATION_ID LD_PRELOAD="$preload" AIOS_LIBCURL_VERSION="$floor" \
        "$WORK/x/usr/sbin/aiosd" --config "$dir/aiosd.yaml" > "$dir/aiosd.log" 2>&1 &
    pids+=($!)
    check_within 10 "$label: aiosd listens" -- test -S "$dir/aiosd.sock"
    check_rc 0 "$label: aiosctl status" -- env LD_PRELOAD="$preload" AIOS_LIBCURL_VERSION="$floor" \
        "$WORK/x/usr/bin/aiosctl" --socket "$dir/aiosd.sock" status
    check_rc 0 "$label: aiosctl config reload" -- env LD_PRELOAD="$preload" AIOS_LIBCURL_VERSION="$floor" \
        "$WORK/x/usr/bin/aiosctl" --socket "$dir/aiosd.sock" config reload
    # aiosd loads libcurl only when asked for it (a request through a proxy, or its version): this loads it.
    check_rc 0 "$label: aiosctl version" -- env LD_PRELOAD="$preload" AIOS_LIBCURL_VERSION="$floor" \
        "$WORK/x/usr/bin/aiosctl" --socket "$dir/aiosd.sock" version
    check_contains "$label: ... names the libcurl aiosd loaded" "libcurl $4" "$LAST_OUT"
}
run_against "libcurl $floor (simulated)" old "$WORK/old-libcurl.so" "$floor"
host_version=$(curl-config --version 2>/dev/null | cut -d' ' -f2)
run_against "libcurl $host_version (host)" host "" "$host_version"
e2e_finish
