#!/bin/bash
# Scenario 15 (issue #16): the package on a real minimal Debian 12 (debootstrap minbase + systemd + dbus,
# nothing of the build host's /usr), installed as a user would: `apt-get install ./DEB` pulls the
# dependencies (fetched on the host; the container is offline). The previous version first, then an
# upgrade to the package under test; socket and service, status, `systemctl reload` with drop-ins (valid:
# exit 0 and applied; invalid: non-zero, old configuration kept), `aiosd --check-config`, the journal
# without the build machine's path, a host operation over D-Bus, and a purge that leaves only the group.
# E2E_ROOTFS=ubuntu-22.04 or ubuntu-24.04 runs it on a minimal Ubuntu root instead (not part of `make test`).
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init minimal
REPO=$(cd "$E2E_DIR/../../.." && pwd -P)
WORK=$(mktemp -d /tmp/e2e-minimal.XXXXXX)
# shellcheck disable=SC2034  # run by e2e_teardown (lib.sh)
E2E_ON_EXIT='rm -rf "$WORK"'

# The previous release: the same files under a lower version (VERSION~previous sorts before VERSION).
ver=$(dpkg-deb -f "$DEB" Version)
prev_ver=$ver~previous
if dpkg-deb -R "$DEB" "$WORK/r" && sed -i "s/^Version: .*/Version: $prev_ver/" "$WORK/r/DEBIAN/control" \
        && dpkg-deb --root-owner-group -Zgzip -z1 --build "$WORK/r" "$WORK/aios-agent_${prev_ver}_amd64.deb" >/dev/null; then
    ok "built the previous package $prev_ver from $ver"
else
    not_ok "built the previous package $prev_ver from $ver"; e2e_finish
fi
rm -rf "${WORK:?}/r"
PREV=$WORK/aios-agent_${prev_ver}_amd64.deb

ROOTFS=${E2E_ROOTFS:-minimal}
CURL_PKG=libcurl4 SSL_PKG=libssl3
[[ $ROOTFS == ubuntu-24.04 ]] && CURL_PKG=libcurl4t64 SSL_PKG=libssl3t64
ROOT=$("$TB" rootfs "$ROOTFS" 2>"$WORK/rootfs.log") || { not_ok "the minimal $ROOTFS root is built" "$(cat "$WORK/rootfs.log")"; e2e_finish; }
echo "# minimal root: $ROOT (built in $(cat "$ROOT/.testbed-build-seconds")s, $(du -sm "$ROOT" | cut -f1) MiB)"
echo "# $(grep -h PRETTY_NAME "$ROOT/etc/os-release")"
check_rc 1 "the minimal root has no $CURL_PKG before the install (apt must pull it)" -- \
    dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${Status}\n' "$CURL_PKG"

t0=$(date +%s.%N)
e2e_up --rootfs "$ROOTFS" --deb "$PREV"
echo "# up with apt-get install of $prev_ver: $(elapsed_since "$t0")s"
check_eq "aios-agent $prev_ver is installed" "install ok installed $prev_ver" \
    "$(inside dpkg-query -W -f='${Status} ${Version}' aios-agent 2>&1)"
for p in "$CURL_PKG" "$SSL_PKG" libsystemd0 dbus adduser; do
    check_eq "dependency $p is installed" "install ok installed" "$(inside dpkg-query -W -f='${Status}' "$p" 2>&1)"
done
if [[ $ROOTFS == minimal ]]; then
    check_rc 1 "no /bin/kill or /usr/bin/kill in the container (procps is not installed)" -- \
        inside sh -c 'test -e /bin/kill || test -e /usr/bin/kill'
else
    echo "# info: Ubuntu's minbase includes procps (/bin/kill); ExecReload does not use it"
fi
check_rc 1 "the container has no network but loopback" -- inside sh -c 'ip -o link 2>/dev/null | grep -v " lo:" | grep -q . || ls /sys/class/net | grep -vx lo | grep -q .'

# Upgrade to the package under test, as a user would.
check "testbed cp $(basename "$DEB") in" -- "$TB" cp "$E2E_NAME" "$DEB" /root/
pid0=$(main_pid)
check_rc 0 "apt-get install ./$(basename "$DEB") upgrades $prev_ver to $ver" -- \
    inside sh -c "cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ./$(basename "$DEB") < /dev/null"
check_eq "installed version is $ver" "$ver" "$(inside dpkg-query -W -f='${Version}' aios-agent 2>&1)"
check_eq "aiosd.socket and aiosd.service are active" "active active" \
    "$(inside systemctl is-active aiosd.socket aiosd.service | tr '\n' ' ' | sed 's/ $//')"
check_ne "aiosd.service was restarted by the upgrade (MainPID was $pid0)" "$pid0" "$(main_pid)"
check_rc 0 "aiosctl status" -- inside aiosctl status
check_contains "... says it runs under systemd with socket activation" "socket" "$LAST_OUT"

# Reload: a valid drop-in is applied and systemctl says so; an invalid one fails the reload.
pid=$(main_pid)
# The upgrade restarted aiosd: no reload on record yet. (configLoadedAt has one-second resolution, so "it moved"
# cannot tell a reload in the same second from none.)
check_eq "status --json: no reload on record before" null "$(inside aiosctl status --json 2>&1 | json_get 'd.get("lastReload")')"
check "write the drop-in /etc/aios/aiosd.yaml.d/50-debug.yaml (logLevel: debug)" -- \
    inside sh -c 'mkdir -p /etc/aios/aiosd.yaml.d && printf "logLevel: debug\n" > /etc/aios/aiosd.yaml.d/50-debug.yaml'
check_rc 0 "aiosd --check-config accepts it" -- inside aiosd --check-config
check_contains "... naming the drop-in it read" "/etc/aios/aiosd.yaml.d/50-debug.yaml" "$LAST_OUT"
check_rc 0 "systemctl reload aiosd exits 0 (ExecReload without /bin/kill)" -- inside systemctl reload aiosd
js=$(inside aiosctl status --json 2>&1)
check_eq "status --json: lastReload.accepted is true" true "$(json_get 'd["lastReload"]["accepted"]' <<<"$js")" "$js"
check_eq "same MainPID (a reload, not a restart)" "$pid" "$(main_pid)"
loaded1=$(json_get 'd["configLoadedAt"]' <<<"$js")
check_journal "journal: 'Configuration reloaded', asked for by ExecReload over the socket (AIOS_RELOAD_TRIGGER=api)" \
    -u aiosd.service -- "MESSAGE=Configuration reloaded" AIOS_RELOAD_TRIGGER=api

check "write an invalid drop-in /etc/aios/aiosd.yaml.d/60-bad.yaml (control.maxConnections: many)" -- \
    inside sh -c 'printf "control:\n  maxConnections: many\n" > /etc/aios/aiosd.yaml.d/60-bad.yaml'
check_rc 78 "aiosd --check-config refuses it (exit 78)" -- inside aiosd --check-config
check_contains "... naming the file, line and key" "/etc/aios/aiosd.yaml.d/60-bad.yaml:2:" "$LAST_OUT"
check_rc 1 "systemctl reload aiosd fails for the invalid drop-in" -- inside systemctl reload aiosd
check_eq "aiosd.service is still active with the same MainPID" "active $pid" \
    "$(inside systemctl is-active aiosd.service 2>&1) $(main_pid)"
js=$(inside aiosctl status --json 2>&1)
check_eq "status --json: lastReload.accepted is false" false "$(json_get 'd["lastReload"]["accepted"]' <<<"$js")" "$js"
check_contains "... and names the drop-in" "/etc/aios/aiosd.yaml.d/60-bad.yaml:2:" "$(json_get 'd["lastReload"]["error"]' <<<"$js")"
check_eq "the previous configuration stays in force (configLoadedAt unchanged)" "$loaded1" "$(json_get 'd["configLoadedAt"]' <<<"$js")"
check "remove the invalid drop-in" -- inside rm /etc/aios/aiosd.yaml.d/60-bad.yaml
check_rc 0 "systemctl reload aiosd succeeds again" -- inside systemctl reload aiosd

# The journal: our entries, one source location each, no build-machine path.
js=$(inside journalctl -u aiosd.service -o json --no-pager 2>&1)
check_journal "journal: aiosd's native entries (SYSLOG_IDENTIFIER=aiosd, CODE_FILE)" -u aiosd.service -- \
    SYSLOG_IDENTIFIER=aiosd CODE_FILE=* CODE_FUNC=* CODE_LINE=*
bad=$(python3 -c '
import json, sys
bad = []
for line in sys.stdin:
    try: e = json.loads(line)
    except ValueError: continue
    if e.get("SYSLOG_IDENTIFIER") != "aiosd": continue
    f = e.get("CODE_FILE")
    if isinstance(f, list) or (isinstance(f, str) and f.startswith("/")): bad.append(json.dumps({k: e.get(k) for k in ("MESSAGE", "CODE_FILE", "CODE_FUNC")}))
print("\n".join(bad[:5]))' <<<"$js")
check_eq "every aiosd entry has one CODE_FILE, relative (no build path)" "" "$bad"
check_not_contains "no journal field carries the build tree's path ($REPO)" "$REPO" "$js"
# libdispatch's manager thread asks for nice -4; LimitNICE=-4 allows it without CAP_SYS_NICE. systemd can only
# raise the limit with CAP_SYS_RESOURCE: a sandbox without it (systemd then sets the closest limit, 0) keeps one
# message per start, from that thread; aiosd's own worker threads run at nice 0 and never ask for more.
check_eq "the unit asks for LimitNICE=-4 (rlimit 24)" 24 "$(unit_prop aiosd.service LimitNICE)"
nice_limit=$(inside sh -c "awk '/Max nice priority/ {print \$4}' /proc/$(main_pid)/limits")
prio=$(inside journalctl -u aiosd.service -o json --no-pager 2>&1 | journal_match "MESSAGE~Failed to set thread priority")
if [[ $nice_limit == 24 ]]; then
    check_eq "no 'Failed to set thread priority' from aiosd (the nice limit is in force)" "" "$prio"
else
    echo "# info: this machine's systemd could not raise RLIMIT_NICE (aiosd runs with $nice_limit, no CAP_SYS_RESOURCE here)"
    check_eq "at most one 'Failed to set thread priority' per aiosd start (libdispatch's manager thread only)" "" \
        "$(inside journalctl -u aiosd.service -o json --no-pager 2>&1 | python3 -c '
import json, sys, collections
n = collections.Counter(e.get("_PID") for e in map(json.loads, filter(str.strip, sys.stdin))
                        if "Failed to set thread priority" in str(e.get("MESSAGE", "")))
print(" ".join("%s:%d" % kv for kv in n.items() if kv[1] > 1))')"
fi
nices=$(inside sh -c "for t in /proc/$(main_pid)/task/*; do awk '{print \$19}' \$t/stat; done | sort | uniq -c | tr -s ' ' | tr '\n' ';'")
echo "# info: nice values of aiosd's threads (count value): $nices"
check_rc 1 "the installed binaries do not contain the build tree's path" -- \
    inside grep -a -l -F -e "$REPO" /usr/sbin/aiosd /usr/bin/aiosctl

# A host operation over the system bus.
check_rc 0 "aiosctl systemd daemon-reload (D-Bus, from the hardened unit)" -- inside aiosctl systemd daemon-reload
check_journal "systemd logged the reload it was asked for" -- "MESSAGE~Reloading" _PID=1

# Purge, with autoremove of what apt pulled in: nothing is left but the documented group.
SNAP='find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /var/tmp
      -o -path /var/log -o -path /var/cache -o -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/systemd
      -o -path /root \) -prune -o -print | sort -u'
check_rc 0 "apt-get purge --autoremove aios-agent" -- \
    inside sh -c 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q --autoremove aios-agent < /dev/null'
check_eq "dpkg knows nothing of aios-agent any more" "" "$(inside dpkg-query -W -f='${Status}' aios-agent 2>/dev/null)"
check_rc 1 "the dependencies apt pulled in are gone again ($CURL_PKG)" -- inside dpkg-query -W -f='${Status}\n' "$CURL_PKG"
inside sh -c "$SNAP" > "$WORK/after" 2>&1
(cd "$ROOT" && sh -c "$(sed 's| / | . |; s|-path /|-path ./|g' <<<"$SNAP")" | sed 's|^\.||; s|^$|/|') > "$WORK/before" 2>&1
added=$(comm -13 "$WORK/before" "$WORK/after" | grep -vxE '/etc/(group|gshadow|passwd|shadow|subgid|subuid)-?' \
    | grep -vxE '/etc/(hostname|machine-id|ld\.so\.cache)')
check_eq "after purge nothing new is left on the file system" "" "$added"
check_ne "the 'aios' group is kept after purge (documented)" "" "$(inside getent group aios)"

e2e_finish
