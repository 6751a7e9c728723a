#!/bin/bash
# Scenario 2 (issue #3): with aiosd.service stopped, the still listening
# aiosd.socket starts it again on the next aiosctl connection.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init sockact
e2e_up --deb "$DEB"

pid1=$(main_pid)
inv1=$(unit_prop aiosd.service InvocationID)
sock_since=$(unit_prop aiosd.socket ActiveEnterTimestampMonotonic)
check_ne "aiosd.service has a MainPID after install" 0 "$pid1"
check "systemctl stop aiosd.service" -- inside systemctl stop aiosd.service
check_rc 3 "aiosd.service is inactive after the stop (is-active exits 3)" -- inside systemctl is-active aiosd.service
check_eq "aiosd.socket stays active" active "$(inside systemctl is-active aiosd.socket 2>&1)"
check "the socket file is still there" -- inside test -S /run/aiosd/aiosd.sock

check_rc 0 "aiosctl status succeeds through the socket (starts the service)" -- inside aiosctl status
check_eq "aiosd.service is active again" active "$(inside systemctl is-active aiosd.service 2>&1)"
pid2=$(main_pid)
check_ne "aiosd.service has a new MainPID (was $pid1)" "$pid1" "$pid2"
check_ne "... and it is not 0" 0 "$pid2"
check_ne "aiosd.service has a new InvocationID" "$inv1" "$(unit_prop aiosd.service InvocationID)"
check_eq "aiosd.socket was not restarted meanwhile (same ActiveEnterTimestamp)" "$sock_since" \
    "$(unit_prop aiosd.socket ActiveEnterTimestampMonotonic)"
js=$(inside aiosctl status --json 2>&1)
check_eq "status --json: pid is the new MainPID" "$pid2" "$(json_get 'd["pid"]' <<<"$js")" "$js"
check_eq "status --json: socketActivated is true after the restart" true "$(json_get 'd["socketActivated"]' <<<"$js")" "$js"

e2e_finish
