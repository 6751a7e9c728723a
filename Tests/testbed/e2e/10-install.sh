#!/bin/bash
# Scenario 1 (issue #3): installing the .deb enables and starts the socket and
# the service; the control socket is root:aios 0660; aiosctl works as root
# through the activated socket; man pages, conffile and version are in place.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init install
e2e_up --deb "$DEB"

for u in aiosd.socket aiosd.service; do
    check "$u is active" -- inside systemctl is-active "$u"
    check "$u is enabled" -- inside systemctl is-enabled "$u"
done

sock=$(inside stat -c '%A %U %G' /run/aiosd/aiosd.sock 2>&1)
check_eq "control socket is srw-rw---- root aios" "srw-rw---- root aios" "$sock"

check_rc 0 "aiosctl status as root exits 0" -- inside aiosctl status
check_contains "aiosctl status reports the socket as socket-activated" "socket-activated" "$LAST_OUT"

check_rc 0 "aiosctl status --json exits 0" -- inside aiosctl status --json
js=$LAST_OUT
check_eq "status --json: socketActivated is true" true "$(json_get 'd["socketActivated"]' <<<"$js")" "$js"
check_eq "status --json: underSystemd is true" true "$(json_get 'd["underSystemd"]' <<<"$js")" "$js"
check_eq "status --json: watchdogSeconds is 30" 30 "$(json_get 'int(d["watchdogSeconds"])' <<<"$js")" "$js"
check_eq "status --json: pid is the unit's MainPID" "$(main_pid)" "$(json_get 'd["pid"]' <<<"$js")" "$js"

st=$(inside systemctl status aiosd --no-pager 2>&1)
check_contains "systemctl status aiosd shows the agent's STATUS line" \
    'Status: "Running; control socket /run/aiosd/aiosd.sock"' "$st"
check_eq "StatusText property" "Running; control socket /run/aiosd/aiosd.sock" "$(unit_prop aiosd.service StatusText)"

check_rc 0 "aiosctl version exits 0" -- inside aiosctl version
ver=$(dpkg-deb -f "$DEB" Version)
check_contains "aiosctl version names the client version $ver" "aiosctl $ver" "$LAST_OUT"
check_contains "aiosctl version names the daemon version $ver" "aiosd   $ver" "$LAST_OUT"

check_rc 0 "man -w aiosd finds the page" -- inside man -w aiosd
check_eq "aiosd(8) is the packaged page" /usr/share/man/man8/aiosd.8.gz "$LAST_OUT"
check_rc 0 "man -w aiosctl finds the page" -- inside man -w aiosctl
check_eq "aiosctl(8) is the packaged page" /usr/share/man/man8/aiosctl.8.gz "$LAST_OUT"

for f in /usr/sbin/aiosd /usr/bin/aiosctl /lib/systemd/system/aiosd.service /lib/systemd/system/aiosd.socket \
         /etc/aios/aiosd.yaml /usr/share/bash-completion/completions/aiosctl /usr/share/doc/aios-agent/copyright; do
    check "installed: $f" -- inside test -s "$f"
done
check_eq "aiosd is mode 0755 root:root" "755 root root" "$(inside stat -c '%a %U %G' /usr/sbin/aiosd 2>&1)"
check "dpkg --verify aios-agent reports nothing" -- bash -c '[[ -z $("$0" exec "$1" -- dpkg --verify aios-agent 2>&1) ]]' "$TB" "$E2E_NAME"

conff=$(inside dpkg-query -W --showformat='${Conffiles}' aios-agent 2>&1)
check_contains "/etc/aios/aiosd.yaml is a dpkg conffile" " /etc/aios/aiosd.yaml " "$conff"
check_eq "group aios exists and is a system group" yes \
    "$(inside getent group aios | awk -F: '{print ($3 < 1000) ? "yes" : "no (gid " $3 ")"}')"

e2e_finish
