#!/bin/bash
# Scenario 9 (issue #3): the installed package is self-contained: no Swift
# toolchain in the container, no libswift* in the binaries' dependencies,
# and both binaries run.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init notoolchain
e2e_up --deb "$DEB"

check_rc 1 "/opt/swift does not exist inside" -- inside test -e /opt/swift
check "no swift / swiftc on PATH inside" -- inside sh -c '! command -v swift && ! command -v swiftc'
for b in /usr/sbin/aiosd /usr/bin/aiosctl; do
    check_rc 0 "ldd $b succeeds" -- inside ldd "$b"
    l=$LAST_OUT
    check_not_contains "ldd $b: no libswift*" "libswift" "$l"
    check_not_contains "ldd $b: no libFoundation*" "libFoundation" "$l"
    check_not_contains "ldd $b: no libdispatch" "libdispatch" "$l"
    check_not_contains "ldd $b: every library resolves" "not found" "$l"
    check_rc 1 "$b has no RUNPATH/RPATH" -- bash -c 'objdump -p "$0" | grep -E "RUNPATH|RPATH"' "/proc/$("$TB" pid "$E2E_NAME")/root$b"
done
ver=$(dpkg-deb -f "$DEB" Version)
check_rc 0 "aiosd --version works inside" -- inside /usr/sbin/aiosd --version
check_contains "aiosd --version prints $ver" "$ver" "$LAST_OUT"
check_rc 0 "aiosctl --version works inside" -- inside /usr/bin/aiosctl --version
check_contains "aiosctl --version prints $ver" "$ver" "$LAST_OUT"
check_rc 0 "aiosctl --help works inside (exit 0)" -- inside aiosctl --help
check_rc 2 "aiosctl with a bad option is a usage error (exit 2)" -- inside aiosctl --no-such-option

e2e_finish
