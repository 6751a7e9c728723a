#!/bin/bash
# Scenario 6 (issue #3, #15): configuration reload. A valid file is applied; an
# invalid one is refused (`systemctl reload` fails: ExecReload asks over the
# socket and waits for the outcome), the previous configuration stays in force,
# the daemon keeps running, and the reason (file:line:col: key: message) shows
# in the API, the unit's STATUS and the journal. SIGHUP still reloads.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init reload
e2e_up --deb "$DEB"

pid=$(main_pid)
check "write a valid config (logLevel: debug)" -- inside sh -c 'printf "logLevel: debug\n" > /etc/aios/aiosd.yaml'
reload_and_wait "systemctl reload aiosd (valid config)"
check_eq "aiosd.service is active" active "$(inside systemctl is-active aiosd.service 2>&1)"
check_eq "same MainPID (reload, not restart)" "$pid" "$(main_pid)"
js=$(inside aiosctl status --json 2>&1)
check_eq "status --json: lastReload.accepted is true" true "$(json_get 'd["lastReload"]["accepted"]' <<<"$js")" "$js"
check_journal "journal: 'Configuration reloaded' asked for by ExecReload over the socket (AIOS_RELOAD_TRIGGER=api)" -u aiosd -- \
    "MESSAGE=Configuration reloaded" AIOS_RELOAD_TRIGGER=api
n0=$(reload_count)
check "systemctl kill -s HUP aiosd (a reload by signal)" -- inside systemctl kill -s HUP --kill-whom=main aiosd
check_within 10 "journal: 'Configuration reloaded' triggered by SIGHUP (AIOS_RELOAD_TRIGGER=SIGHUP)" -- \
    eval 'inside journalctl -u aiosd -o json --no-pager | journal_match "MESSAGE=Configuration reloaded" AIOS_RELOAD_TRIGGER=SIGHUP'
check_eq "one more reload outcome logged" "$((n0 + 1))" "$(reload_count)"
check_eq "STATUS back to the plain running line" "Running; control socket /run/aiosd/aiosd.sock" \
    "$(unit_prop aiosd.service StatusText)"

check "write an invalid config (control.maxConnections: many)" -- \
    inside sh -c 'printf "control:\n  maxConnections: many\n" > /etc/aios/aiosd.yaml'
check_rc 1 "systemctl reload aiosd (invalid config) fails" -- inside systemctl reload aiosd
check_contains "... and the journal of the reload names the error" "/etc/aios/aiosd.yaml:2:" \
    "$(inside journalctl -u aiosd.service --no-pager -n 20 2>&1)"
check_rc 78 "aiosd --check-config refuses the file too (exit 78)" -- inside aiosd --check-config
check_contains "... naming /etc/aios/aiosd.yaml:2: and control.maxConnections" "/etc/aios/aiosd.yaml:2:" "$LAST_OUT"
check_rc 78 "aiosd --check-config FILE checks another file" -- inside sh -c \
    'printf "logLevel: loud\n" > /tmp/other.yaml && aiosd --check-config /tmp/other.yaml'
check_contains "... and names it" "/tmp/other.yaml:1:" "$LAST_OUT"
check_eq "aiosd.service is still active" active "$(inside systemctl is-active aiosd.service 2>&1)"
check_eq "same MainPID" "$pid" "$(main_pid)"
js=$(inside aiosctl status --json 2>&1)
check_eq "status --json: lastReload.accepted is false" false "$(json_get 'd["lastReload"]["accepted"]' <<<"$js")" "$js"
err=$(json_get 'd["lastReload"]["error"]' <<<"$js")
check_contains "status --json: lastReload.error names /etc/aios/aiosd.yaml:2:" "/etc/aios/aiosd.yaml:2:" "$err"
check_contains "status --json: lastReload.error names control.maxConnections" "control.maxConnections" "$err"
st=$(inside systemctl status aiosd --no-pager 2>&1)
check_contains "systemctl status aiosd: Status says 'last config reload refused'" \
    'Status: "Running; last config reload refused: /etc/aios/aiosd.yaml:2:' "$st"
check_journal "journal: 'Configuration refused; previous configuration stays in force' with AIOS_CONFIG_ERROR" -u aiosd -- \
    "MESSAGE=Configuration refused; previous configuration stays in force" \
    "AIOS_CONFIG_ERROR=/etc/aios/aiosd.yaml:2:*" "AIOS_CONFIG_ERROR~control.maxConnections"
check_rc 0 "aiosctl status (human) still exits 0" -- inside aiosctl status
check_contains "aiosctl status mentions the refused reload" "refused" "$LAST_OUT"
check_rc 1 "aiosctl config reload of the bad file exits 1" -- inside aiosctl config reload
check_contains "... and prints the error location" "/etc/aios/aiosd.yaml:2:" "$LAST_OUT"

# Unknown keys are errors, too (no silent typos).
check "write a config with an unknown key (control.maxConection: 5)" -- \
    inside sh -c 'printf "control:\n  maxConection: 5\n" > /etc/aios/aiosd.yaml'
check_rc 1 "aiosctl config reload refuses the unknown key (exit 1)" -- inside aiosctl config reload
check_contains "... naming control.maxConection" "maxConection" "$LAST_OUT"

# Back to a good file: the refusal is cleared.
check "restore a valid config" -- inside sh -c 'printf "logLevel: info\n" > /etc/aios/aiosd.yaml'
check_rc 0 "aiosd --check-config accepts it" -- inside aiosd --check-config
reload_and_wait "systemctl reload aiosd (valid again)"
js=$(inside aiosctl status --json 2>&1)
check_eq "status --json: lastReload.accepted is true again" true "$(json_get 'd["lastReload"]["accepted"]' <<<"$js")" "$js"
check_eq "STATUS is the plain running line again" "Running; control socket /run/aiosd/aiosd.sock" \
    "$(unit_prop aiosd.service StatusText)"
check_eq "same MainPID throughout" "$pid" "$(main_pid)"

e2e_finish
