#!/bin/bash
# Scenario 4 (issue #3): who may talk to aiosd. The socket (0660 root:aios)
# keeps out users not in group aios (kernel check, exit 4); members of the
# admin group may mutate; with adminGroup: root a member of aios may read but
# gets 403 on mutations (exit 4), and both decisions are audited.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init authz
e2e_up --deb "$DEB"

check "useradd -m alice" -- inside useradd -m alice
uid=$(inside id -u alice 2>&1)

check_rc 4 "alice (not in aios): aiosctl status exits 4" -- inside_as alice aiosctl status
check_contains "... with a message containing 'permission denied'" "permission denied" "${LAST_OUT,,}"
check_rc 4 "alice (not in aios): aiosctl config reload exits 4" -- inside_as alice aiosctl config reload
check_rc 3 "alice: a socket that does not exist is 'unreachable' (exit 3), not 'denied'" -- \
    inside_as alice aiosctl --socket /run/aiosd/nonexistent.sock status

check "usermod -aG aios alice" -- inside usermod -aG aios alice
check_rc 0 "alice (in aios): aiosctl status exits 0" -- inside_as alice aiosctl status
check_rc 0 "alice (in aios): aiosctl config reload exits 0" -- inside_as alice aiosctl config reload
check_journal "journal: 'Mutating request authorized' with AIOS_PEER_UID=$uid (alice)" -u aiosd -- \
    "MESSAGE=Mutating request authorized" "AIOS_PEER_UID=$uid" AIOS_PEER_COMM=aiosctl \
    "AIOS_REQUEST_ENDPOINT=POST /v1/config/reload"

# Socket open to group aios, mutations restricted to group root.
pid=$(main_pid)
check "write /etc/aios/aiosd.yaml with control.adminGroup: root" -- \
    inside sh -c 'printf "control:\n  adminGroup: root\n" > /etc/aios/aiosd.yaml'
reload_and_wait "systemctl reload aiosd"
check_eq "aiosd keeps running (same MainPID) after the reload" "$pid" "$(main_pid)"
js=$(inside aiosctl status --json 2>&1)
check_eq "status --json: the reload was accepted" true "$(json_get 'd["lastReload"]["accepted"]' <<<"$js")" "$js"

check_rc 0 "alice (in aios, not admin): aiosctl status exits 0" -- inside_as alice aiosctl status
check_rc 4 "alice (in aios, not admin): aiosctl config reload exits 4" -- inside_as alice aiosctl config reload
check_contains "... saying 'may not POST /v1/config/reload'" "may not POST /v1/config/reload" "$LAST_OUT"
check_journal "journal: 'Mutating request denied' with AIOS_PEER_UID=$uid" -u aiosd -- \
    "MESSAGE=Mutating request denied" "AIOS_PEER_UID=$uid" "AIOS_REQUEST_ENDPOINT=POST /v1/config/reload"
check_rc 0 "root may still reload (uid 0 is always admin)" -- inside aiosctl config reload

# Membership is read live: adding alice to group root lets her next request through.
check "usermod -aG root alice" -- inside usermod -aG root alice
check_rc 0 "alice (now in root): aiosctl config reload exits 0 without restarting aiosd" -- \
    inside_as alice aiosctl config reload
check_eq "... and aiosd was not restarted" "$pid" "$(main_pid)"

e2e_finish
