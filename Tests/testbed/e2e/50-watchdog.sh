#!/bin/bash
# Scenario 5 (issue #3): crash and hang recovery. SIGKILL of the daemon makes
# systemd restart it (Restart=on-failure); a daemon that stops pinging the
# watchdog (SIGSTOP) is killed and restarted. WatchdogSec is shortened to 3 s
# by a drop-in to keep the test fast.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init watchdog
e2e_up --deb "$DEB"

check_eq "unit has WatchdogUSec=30s" 30s "$(unit_prop aiosd.service WatchdogUSec)"
check_eq "unit has Restart=on-failure" on-failure "$(unit_prop aiosd.service Restart)"
check_contains "... but not after an invalid configuration (exit 78)" "78" "$(unit_prop aiosd.service RestartPreventExitStatus)"

# --- crash: SIGKILL
pid1=$(main_pid); nr1=$(unit_prop aiosd.service NRestarts)
check "kill -9 MainPID ($pid1)" -- inside kill -9 "$pid1"
pid_changed() { local p; p=$(main_pid); [[ -n $p && $p != 0 && $p != "$1" ]]; }
check_within 10 "systemd restarts aiosd after SIGKILL (new MainPID)" -- pid_changed "$pid1"
check_within 10 "aiosctl status works again" -- inside aiosctl status
nr2=$(unit_prop aiosd.service NRestarts)
check_eq "NRestarts incremented ($nr1 -> $((nr1 + 1)))" "$((nr1 + 1))" "$nr2"
check_journal "journal: systemd saw the SIGKILL" -u aiosd.service -- SYSLOG_IDENTIFIER=systemd "MESSAGE~status=9/KILL"

# --- hang: SIGSTOP with a 3 s watchdog
check "drop-in aiosd.service.d/wd.conf with WatchdogSec=3s" -- inside sh -c \
    'mkdir -p /etc/systemd/system/aiosd.service.d && printf "[Service]\nWatchdogSec=3s\n" > /etc/systemd/system/aiosd.service.d/wd.conf'
check "systemctl daemon-reload" -- inside systemctl daemon-reload
check "systemctl restart aiosd.service" -- inside systemctl restart aiosd.service
check_eq "WatchdogUSec is now 3s" 3s "$(unit_prop aiosd.service WatchdogUSec)"
js=$(inside aiosctl status --json 2>&1)
check_eq "status --json: watchdogSeconds is 3 (aiosd reads WATCHDOG_USEC)" 3 "$(json_get 'int(d["watchdogSeconds"])' <<<"$js")" "$js"
# The daemon must survive a few watchdog periods while healthy.
# (A manual restart resets NRestarts to 0.)
pid3=$(main_pid); nr3=$(unit_prop aiosd.service NRestarts)
sleep 4
check_eq "a healthy aiosd survives > 1 watchdog period (same MainPID and NRestarts after 4 s)" \
    "$pid3 $nr3" "$(main_pid) $(unit_prop aiosd.service NRestarts)"

t0=$(date +%s.%N)
check "kill -STOP MainPID ($pid3)" -- inside kill -STOP "$pid3"
result_seen=""
watch_restart() {
    [[ $(unit_prop aiosd.service Result) == watchdog ]] && result_seen=yes
    pid_changed "$pid3" && [[ $(inside systemctl is-active aiosd.service) == active ]]
}
# wait_for runs the command in this shell, so result_seen sticks
deadline=$(( $(date +%s) + 15 ))
until watch_restart; do (( $(date +%s) < deadline )) || break; sleep 0.2; done
if watch_restart; then ok "stopped aiosd is restarted with a new MainPID ($(elapsed_since "$t0")s after SIGSTOP)"
else not_ok "stopped aiosd is restarted with a new MainPID within 15 s" "MainPID=$(main_pid) state=$(inside systemctl is-active aiosd.service)"; fi
echo "# Result=watchdog observed while polling: ${result_seen:-no}"
check_journal "journal: systemd logged 'Watchdog timeout'" -u aiosd.service -- SYSLOG_IDENTIFIER=systemd "MESSAGE~Watchdog timeout"
check_journal "journal: the unit failed with result 'watchdog'" -u aiosd.service -- SYSLOG_IDENTIFIER=systemd "MESSAGE~result 'watchdog'"
check_eq "NRestarts incremented again" "$((nr3 + 1))" "$(unit_prop aiosd.service NRestarts)"
check_within 10 "aiosctl status works after the watchdog restart" -- inside aiosctl status

e2e_finish
