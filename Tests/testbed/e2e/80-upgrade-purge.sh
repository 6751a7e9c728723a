#!/bin/bash
# Scenario 8 (issue #3): package life cycle on a real systemd. Install 0.1.0,
# edit the conffile, upgrade to a repackaged 0.1.1 (the service restarts,
# the edit is kept without a prompt), remove (units stopped, binaries gone,
# conffile kept), purge (config and state gone, K3s drop-in left with a
# note), and compare the file system with a snapshot taken before install.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init upgrade
REPO=$(cd "$E2E_DIR/../../.." && pwd -P)
WORK=$(mktemp -d /tmp/e2e-upgrade.XXXXXX)
# shellcheck disable=SC2034  # run by e2e_teardown (lib.sh)
E2E_ON_EXIT='rm -rf "$WORK"'

# The same package repackaged as 0.1.1 (identical files, so the packaged
# conffile is unchanged). Default: unpack, bump Version, rebuild with fast
# gzip (~2 s). E2E_UPGRADE_BUILD_DEB=1: run packaging/build-deb on the
# package's binaries instead (~40 s, its xz compression is single-threaded).
ver0=$(dpkg-deb -f "$DEB" Version)
mkdir -p "$WORK/out"
if [[ ${E2E_UPGRADE_BUILD_DEB:-0} == 1 ]]; then
    how="packaging/build-deb on the binaries of $ver0"
    mkdir -p "$WORK/x" "$WORK/bin"
    out=$(dpkg-deb -x "$DEB" "$WORK/x" 2>&1 && cp "$WORK/x/usr/sbin/aiosd" "$WORK/x/usr/bin/aiosctl" "$WORK/bin/" 2>&1 \
          && "$REPO/packaging/build-deb" --version 0.1.1 --bindir "$WORK/bin" --out "$WORK/out" 2>&1)
else
    how="$ver0 unpacked, Version bumped, rebuilt with dpkg-deb"
    out=$(dpkg-deb -R "$DEB" "$WORK/r" 2>&1 && sed -i 's/^Version: .*/Version: 0.1.1/' "$WORK/r/DEBIAN/control" \
          && dpkg-deb --root-owner-group -Zgzip -z1 --build "$WORK/r" "$WORK/out/aios-agent_0.1.1_amd64.deb" 2>&1)
fi
if [[ $? -eq 0 && -f $WORK/out/aios-agent_0.1.1_amd64.deb ]] \
        && [[ $(dpkg-deb -f "$WORK/out/aios-agent_0.1.1_amd64.deb" Version) == 0.1.1 ]]; then
    ok "built aios-agent 0.1.1 from the same binaries ($how)"
else
    not_ok "built aios-agent 0.1.1 from the same binaries ($how)" "$out"; e2e_finish
fi
rm -rf "${WORK:?}/r" "${WORK:?}/x" "${WORK:?}/bin"
DEB1=$WORK/out/aios-agent_0.1.1_amd64.deb

e2e_up   # no --deb: snapshot first
SNAP='find / /usr /etc /var -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp
      -o -path /var/tmp -o -path /var/log -o -path /var/cache -o -path /var/lib/dpkg -o -path /var/lib/apt
      -o -path /var/lib/systemd -o -path /var/lib/man-db -o -path /srv/testbed \) -prune -o -print | sort -u'
inside sh -c "$SNAP" > "$WORK/before" 2>&1
group_before=$(inside getent group aios)
check_eq "aios-agent is not installed yet and group aios does not exist" "" \
    "$(inside dpkg-query -W -f='${Status}' aios-agent 2>/dev/null)$group_before"

check "testbed cp both .debs in" -- bash -c '"$0" cp "$1" "$2" /root/ && "$0" cp "$1" "$3" /root/' "$TB" "$E2E_NAME" "$DEB" "$DEB1"
check_rc 0 "dpkg -i aios-agent $ver0" -- inside env DEBIAN_FRONTEND=noninteractive dpkg -i "/root/$(basename "$DEB")"
check_eq "aiosd.socket and aiosd.service are active" "active active" \
    "$(inside systemctl is-active aiosd.socket aiosd.service | tr '\n' ' ' | sed 's/ $//')"
check_rc 0 "aiosctl status works" -- inside aiosctl status

check "edit /etc/aios/aiosd.yaml locally (append logLevel: debug)" -- \
    inside sh -c 'echo "logLevel: debug" >> /etc/aios/aiosd.yaml'
check "systemctl reload aiosd accepts the edited file" -- inside systemctl reload aiosd
pid0=$(main_pid); inv0=$(unit_prop aiosd.service InvocationID); sinv0=$(unit_prop aiosd.socket InvocationID)

# Upgrade without any --force-conf* option and with no terminal: dpkg must
# not need to ask, because the packaged conffile did not change.
check_rc 0 "dpkg -i aios-agent 0.1.1 (no --force-conf*, stdin /dev/null)" -- \
    bash -c '"$0" exec "$1" -- env DEBIAN_FRONTEND=noninteractive dpkg -i "/root/$2" < /dev/null' "$TB" "$E2E_NAME" "$(basename "$DEB1")"
up_out=$LAST_OUT
check_not_contains "dpkg did not ask about the conffile" "Configuration file '/etc/aios/aiosd.yaml'" "$up_out"
check_eq "installed version is 0.1.1" "0.1.1" "$(inside dpkg-query -W -f='${Version}' aios-agent 2>&1)"
check_rc 0 "the local edit of /etc/aios/aiosd.yaml is kept" -- inside grep -qx 'logLevel: debug' /etc/aios/aiosd.yaml
check_rc 1 "no .dpkg-new / .dpkg-dist / .dpkg-old next to it" -- \
    inside sh -c 'ls /etc/aios/*.dpkg-* 2>/dev/null | grep .'
check_eq "aiosd.service is active after the upgrade" active "$(inside systemctl is-active aiosd.service 2>&1)"
check_ne "aiosd.service was restarted (new InvocationID)" "$inv0" "$(unit_prop aiosd.service InvocationID)"
check_ne "aiosd.service has a new MainPID (was $pid0)" "$pid0" "$(main_pid)"
check_ne "aiosd.socket was restarted too (new InvocationID)" "$sinv0" "$(unit_prop aiosd.socket InvocationID)"
check_rc 0 "aiosctl status works after the upgrade (new listener handed to the new daemon)" -- inside aiosctl status
check_journal "the new daemon runs with the edited config (logs at debug, PRIORITY=7)" -u aiosd.service -- \
    "_PID=$(main_pid)" PRIORITY=7

# Remove.
check_rc 0 "dpkg -r aios-agent" -- inside env DEBIAN_FRONTEND=noninteractive dpkg -r aios-agent
check_eq "aiosd.service and aiosd.socket are inactive" "inactive inactive" \
    "$(inside systemctl is-active aiosd.service aiosd.socket | tr '\n' ' ' | sed 's/ $//')"
check_rc 1 "no aiosd process left" -- inside pgrep -x aiosd
for f in /usr/sbin/aiosd /usr/bin/aiosctl /lib/systemd/system/aiosd.service /lib/systemd/system/aiosd.socket \
         /usr/share/man/man8/aiosd.8.gz /run/aiosd/aiosd.sock; do
    check_rc 1 "removed: $f" -- inside test -e "$f"
done
check_rc 0 "/etc/aios/aiosd.yaml (conffile, with the local edit) is still there" -- inside grep -qx 'logLevel: debug' /etc/aios/aiosd.yaml
check_eq "dpkg status is deinstall ok config-files" "deinstall ok config-files" \
    "$(inside dpkg-query -W -f='${Status}' aios-agent 2>&1)"

# Purge, with a K3s drop-in present that aiosd would have written.
check "create /etc/rancher/k3s/config.yaml.d/90-aios.yaml" -- inside sh -c \
    'mkdir -p /etc/rancher/k3s/config.yaml.d && echo "# written by aiosd" > /etc/rancher/k3s/config.yaml.d/90-aios.yaml'
check_rc 0 "dpkg -P aios-agent" -- inside env DEBIAN_FRONTEND=noninteractive dpkg -P aios-agent
purge_out=$LAST_OUT
check_contains "purge prints the note about 'aiosctl workload-identity disable'" "aiosctl workload-identity disable" "$purge_out"
check_contains "... naming the drop-in" "/etc/rancher/k3s/config.yaml.d/90-aios.yaml" "$purge_out"
check_rc 1 "/etc/aios is gone" -- inside test -e /etc/aios
check_rc 1 "/var/lib/aiosd is gone" -- inside test -e /var/lib/aiosd
check_rc 1 "/run/aiosd is gone" -- inside test -e /run/aiosd
check_rc 0 "the K3s drop-in is still there" -- inside test -f /etc/rancher/k3s/config.yaml.d/90-aios.yaml
check_eq "dpkg knows nothing of aios-agent any more" "" "$(inside dpkg-query -W -f='${Status}' aios-agent 2>/dev/null)"
check_rc 1 "deb-systemd-helper state has no aiosd entries" -- \
    inside sh -c '{ grep -rl aiosd /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked; find /var/lib/systemd/deb-systemd-helper-* -name "*aiosd*"; } 2>/dev/null | grep .'
check_rc 1 "systemd no longer knows aiosd units (not-found)" -- \
    bash -c '"$0" exec "$1" -- systemctl show -P LoadState aiosd.service aiosd.socket | grep -vx -e not-found -e ""' "$TB" "$E2E_NAME"

inside sh -c "$SNAP" > "$WORK/after" 2>&1
added=$(comm -13 "$WORK/before" "$WORK/after" | grep -vxE '/etc/rancher(/k3s(/config\.yaml\.d(/90-aios\.yaml)?)?)?' \
    | grep -vxE '/root/aios-agent_[0-9.]+_amd64\.deb' | grep -vxE '/etc/(group|gshadow|passwd|shadow)-' )
check_eq "after purge nothing new is left on the file system except the K3s drop-in (and the copied .debs)" "" "$added"
removed=$(comm -23 "$WORK/before" "$WORK/after")
check_eq "nothing that existed before was removed" "" "$removed"
group_after=$(inside getent group aios)
echo "# info: group aios after purge: '${group_after:-<none>}' (kept deliberately by postinst/postrm)"
check_ne "the 'aios' group is kept after purge (documented in postinst)" "" "$group_after"

e2e_finish
