#!/bin/bash
# Scenario 7 (issue #3): the unit's sandbox is in force on the running daemon
# (no_new_privs, capability bounding set, seccomp, read-only file system),
# aiosd still works inside it, and D-Bus calls to systemd (what aiosd uses
# to restart k3s) succeed from a process confined exactly like aiosd.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init harden
e2e_up --deb "$DEB"

unit=$(inside cat /lib/systemd/system/aiosd.service 2>&1)
# The hardening directives as written in the unit (Key=Value, [Service] section).
mapfile -t hardening < <(sed -n '/^\[Service\]/,/^\[/p' <<<"$unit" | grep -E \
    '^(Protect[A-Za-z]+|Private[A-Za-z]+|Restrict[A-Za-z]+|LockPersonality|MemoryDenyWriteExecute|NoNewPrivileges|SystemCall[A-Za-z]+|CapabilityBoundingSet|ReadWritePaths|UMask)=')
if (( ${#hardening[@]} >= 15 )); then ok "the unit declares ${#hardening[@]} hardening directives"
else not_ok "the unit declares at least 15 hardening directives" "${hardening[@]}"; fi

norm() { tr 'A-Z' 'a-z' <<<"$1" | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' '; }
for kv in "${hardening[@]}"; do
    k=${kv%%=*} v=${kv#*=}
    case $k in
        SystemCallFilter)   # systemd expands the @group; check a member instead
            got=$(unit_prop aiosd.service "$k")
            if [[ " $got " == *" openat "* && " $got " != *" mount "* && " $got " != *" kexec_load "* ]]; then
                ok "systemctl show: SystemCallFilter=$v (openat allowed; mount, kexec_load not)"
            else not_ok "systemctl show: SystemCallFilter=$v (openat allowed; mount, kexec_load not)" "${got:0:400}"; fi
            continue ;;
        CapabilityBoundingSet|RestrictAddressFamilies)
            check_eq "systemctl show: $kv" "$(norm "$v")" "$(norm "$(unit_prop aiosd.service "$k")")"; continue ;;
        SystemCallErrorNumber)
            # systemd 252 shows the number (1), newer ones the name.
            got=$(unit_prop aiosd.service "$k")
            num=$(python3 -c 'import errno, sys; print(getattr(errno, sys.argv[1], "?"))' "$v")
            if [[ ${got^^} == "$v" || $got == "$num" ]]; then ok "systemctl show: $kv ($got)"
            else not_ok "systemctl show: $kv" "expected $v or $num, got '$got'"; fi
            continue ;;
    esac
    check_eq "systemctl show: $kv" "$v" "$(unit_prop aiosd.service "$k")"
done

pid=$(main_pid)
status=$(inside cat "/proc/$pid/status" 2>&1)
field() { awk -v f="$1:" '$1 == f {print $2}' <<<"$status"; }
check_eq "/proc/MAINPID/status: NoNewPrivs 1" 1 "$(field NoNewPrivs)" "$status"
check_eq "/proc/MAINPID/status: CapBnd = CAP_CHOWN only (no CAP_SYS_ADMIN)" 0000000000000001 "$(field CapBnd)"
check_eq "/proc/MAINPID/status: CapEff = CAP_CHOWN only" 0000000000000001 "$(field CapEff)"
check_eq "/proc/MAINPID/limits: no core file (LimitCORE=0)" "0 0" "$(inside awk '/^Max core file size/ {print $5, $6}' "/proc/$pid/limits")"
check_eq "systemctl show: MemoryMax=512M" 536870912 "$(unit_prop aiosd.service MemoryMax)"
check_eq "systemctl show: TasksMax=256" 256 "$(unit_prop aiosd.service TasksMax)"
check_eq "/proc/MAINPID/status: Seccomp 2 (filter)" 2 "$(field Seccomp)"
# The daemon's mount namespace: ProtectSystem=strict, ProtectHome, PrivateTmp, StateDirectory.
ns() { inside nsenter -t "$pid" -m -- "$@"; }
check_rc 1 "in aiosd's mount namespace /usr is read-only" -- ns sh -c 'touch /usr/lib/e2e-probe'
check_rc 1 "in aiosd's mount namespace /etc/aios is read-only" -- ns sh -c 'touch /etc/aios/e2e-probe'
check "in aiosd's mount namespace /etc/aios/secrets.d (secret definitions) is writable" -- \
    ns sh -c 'touch /etc/aios/secrets.d/.e2e-probe && rm /etc/aios/secrets.d/.e2e-probe'
check "in aiosd's mount namespace /var/lib/aiosd (StateDirectory) is writable" -- \
    ns sh -c 'touch /var/lib/aiosd/e2e-probe && rm /var/lib/aiosd/e2e-probe'
check_eq "/var/lib/aiosd is 0700 (StateDirectoryMode)" 700 "$(inside stat -c %a /var/lib/aiosd 2>&1)"
check "in aiosd's mount namespace /tmp is private (a host-side file is not visible)" -- \
    bash -c '"$0" exec "$1" -- touch /tmp/e2e-outside && ! "$0" exec "$1" -- nsenter -t "$2" -m -- test -e /tmp/e2e-outside' \
    "$TB" "$E2E_NAME" "$pid"

# The agent works inside its sandbox.
check_rc 0 "aiosctl status works" -- inside aiosctl status
check_rc 0 "aiosctl config reload works" -- inside aiosctl config reload
reload_and_wait "systemctl reload aiosd works"
check_eq "status --json: last reload accepted" true "$(inside aiosctl status --json | json_get 'd["lastReload"]["accepted"]')"
check_eq "still the same MainPID (no crash from a seccomp/capability denial)" "$pid" "$(main_pid)"
sys=$(inside journalctl -u aiosd.service --no-pager 2>&1)
check_not_contains "journal of aiosd.service has no status=31/SYS (seccomp kill)" "status=31/SYS" "$sys"

# D-Bus to systemd from a process confined like aiosd.
check "a dummy unit e2e-dummy.service runs" -- inside sh -c \
    'printf "[Service]\nExecStart=/bin/sleep infinity\n" > /etc/systemd/system/e2e-dummy.service && systemctl daemon-reload && systemctl start e2e-dummy.service'
props=()
for kv in "${hardening[@]}"; do props+=(-p "$kv"); done
probe='grep -E "^(CapBnd|NoNewPrivs|Seccomp):" /proc/self/status
busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager Reload || exit 10
busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager RestartUnit ss e2e-dummy.service replace || exit 11'
dpid1=$(unit_prop e2e-dummy.service MainPID)
check_rc 0 "busctl Manager.Reload + RestartUnit succeed under the unit's sandbox (systemd-run ${#props[@]} -p ...)" -- \
    inside systemd-run --wait --pipe --quiet "${props[@]}" /bin/sh -c "$probe"
sandbox_out=$LAST_OUT
check_contains "... and that sandbox really had no_new_privs" "NoNewPrivs:	1" "$sandbox_out"
check_contains "... with CapBnd 0000000000000001 (CAP_CHOWN, no CAP_SYS_ADMIN)" "CapBnd:	0000000000000001" "$sandbox_out"
check_within 5 "RestartUnit restarted e2e-dummy.service (new MainPID)" -- \
    bash -c 'p=$("$0" exec "$1" -- systemctl show -P MainPID e2e-dummy.service); [[ $p != 0 && $p != "$2" ]]' "$TB" "$E2E_NAME" "$dpid1"
# A negative control: the same calls as an unprivileged user are refused (proves the check has teeth).
inside useradd -M nobodyelse >/dev/null 2>&1
check_rc 1 "negative control: RestartUnit as a non-root user is refused" -- \
    inside_as nobodyelse busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager RestartUnit ss e2e-dummy.service replace

sec=$(inside systemd-analyze security aiosd.service --no-pager 2>&1)
line=$(grep -F 'Overall exposure level' <<<"$sec")
echo "# systemd-analyze security: ${line:-<none>}"
score=$(sed -nE 's/.*aiosd\.service: ([0-9.]+) .*/\1/p' <<<"$line")
if [[ -n $score ]] && awk -v s="$score" 'BEGIN{exit !(s < 5.0)}'; then
    ok "systemd-analyze security exposure $score < 5.0"
else
    not_ok "systemd-analyze security exposure < 5.0" "$line" "$(tail -n 40 <<<"$sec")"
fi

e2e_finish
