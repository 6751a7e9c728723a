#!/bin/bash
# Scenario 62 (issue #15): an invalid configuration at start cannot lock the operator out. aiosd answers each
# waiting client with the error and exits 78; aiosd.socket keeps listening however often it is triggered; once
# the file is fixed the next request starts aiosd, with no `systemctl reset-failed`.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init lockout
e2e_up --deb "$DEB"

check "write an invalid config (control.maxConnections: many)" -- \
    inside sh -c 'printf "control:\n  maxConnections: many\n" > /etc/aios/aiosd.yaml'
check_rc 1 "systemctl restart aiosd fails" -- inside systemctl restart aiosd
check_eq "aiosd.service exited with status 78 (EX_CONFIG)" 78 "$(unit_prop aiosd.service ExecMainStatus)"
for i in 1 2 3 4 5 6 7 8; do
    t0=$(date +%s.%N)
    check_rc 1 "aiosctl status #$i fails (each one starts aiosd once more)" -- inside aiosctl status
    check_contains "... with the configuration error, file and line" "/etc/aios/aiosd.yaml:2:" "$LAST_OUT"
    t=$(elapsed_since "$t0")
    check_rc 0 "... at once (${t}s < 5 s: answered, not a client timeout)" -- awk -v t="$t" 'BEGIN{exit !(t < 5)}'
done
check_eq "aiosd.socket is still listening after 8 failed starts" active "$(inside systemctl is-active aiosd.socket 2>&1)"
check_rc 0 "aiosd.socket is not in a failed state (no start limit hit)" -- \
    bash -c '[[ $("$0" exec "$1" -- systemctl show -P Result aiosd.socket) == success ]]' "$TB" "$E2E_NAME"

check "fix the file" -- inside sh -c 'printf "logLevel: info\n" > /etc/aios/aiosd.yaml'
check_rc 0 "aiosctl status works at once, without systemctl reset-failed" -- inside aiosctl status
check_eq "aiosd.service is active again" active "$(inside systemctl is-active aiosd.service 2>&1)"
e2e_finish
