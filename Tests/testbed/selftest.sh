#!/bin/bash
# Self-test for Tests/testbed/testbed (run as root on Debian 12):
#   boots two containers concurrently, checks systemd/journal/D-Bus inside,
#   installs a throwaway .deb whose postinst enables+starts a unit, checks the
#   host is untouched, runs a command as a user created inside, tears both
#   down and checks nothing is left behind.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TB=$HERE/testbed
A=tbself-a B=tbself-b
WORK=$(mktemp -d /tmp/testbed-selftest.XXXXXX)
fail() { echo "SELFTEST FAIL: $*" >&2; exit 1; }
cleanup() { "$TB" down "$A" "$B" || true; rm -rf "$WORK"; }
trap cleanup EXIT

# --- a tiny package: unit enabled + started by its maintainer scripts
P=$WORK/pkg
mkdir -p "$P/DEBIAN" "$P/lib/systemd/system" "$P/usr/bin"
cat > "$P/DEBIAN/control" <<'EOF'
Package: testbed-selftest-probe
Version: 1.0
Architecture: all
Maintainer: testbed <testbed@example.invalid>
Description: testbed self-test probe
 Starts a tiny unit from its postinst.
EOF
printf '#!/bin/sh\necho "probe up as $(id -un)"\nexec sleep infinity\n' > "$P/usr/bin/testbed-selftest-probe"
chmod 755 "$P/usr/bin/testbed-selftest-probe"
cat > "$P/lib/systemd/system/testbed-selftest-probe.service" <<'EOF'
[Unit]
Description=testbed self-test probe
[Service]
ExecStart=/usr/bin/testbed-selftest-probe
[Install]
WantedBy=multi-user.target
EOF
cat > "$P/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    deb-systemd-helper enable testbed-selftest-probe.service
    deb-systemd-invoke start testbed-selftest-probe.service
fi
EOF
chmod 755 "$P/DEBIAN/postinst"
dpkg-deb --root-owner-group -b "$P" "$WORK/probe.deb" >/dev/null

# --- fixtures with a setup hook that installs and starts an "emulator" unit
F=$WORK/fixtures
mkdir -p "$F/units"
printf '[Service]\nExecStart=/bin/sleep infinity\n' > "$F/units/testbed-selftest-emu.service"
printf '#!/bin/sh\nset -e\ncp units/*.service /etc/systemd/system/\nsystemctl daemon-reload\nsystemctl start testbed-selftest-emu.service\n' > "$F/setup"
chmod +x "$F/setup"

# --- boot two at once
t0=$(date +%s.%N)
"$TB" up "$A" --deb "$WORK/probe.deb" --fixtures "$F" & pa=$!
"$TB" up "$B" & pb=$!
wait "$pa" || fail "up $A"
wait "$pb" || fail "up $B"
echo "two containers up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"

for n in "$A" "$B"; do
    st=$("$TB" exec "$n" -- systemctl is-system-running || true)
    [[ $st == running || $st == degraded ]] || fail "$n: is-system-running=$st"
    [[ $("$TB" exec "$n" -- hostname) == "$n" ]] || fail "$n: hostname"
done
"$TB" journal "$A" -n 5 >/dev/null || fail "journalctl"
"$TB" exec "$A" -- busctl --no-legend list | grep -q org.freedesktop.systemd1 || fail "busctl"
"$TB" exec "$A" -- systemctl is-active -q testbed-selftest-probe.service || fail "postinst did not start the unit"
"$TB" exec "$A" -- systemctl is-enabled -q testbed-selftest-probe.service || fail "postinst did not enable the unit"
"$TB" journal "$A" -u testbed-selftest-probe.service -o cat | grep -q 'probe up as root' || fail "unit journal"
"$TB" exec "$A" -- systemctl is-active -q testbed-selftest-emu.service || fail "fixtures setup"
"$TB" exec "$B" -- dpkg -s testbed-selftest-probe >/dev/null 2>&1 && fail "package leaked into $B"

# host untouched
dpkg -s testbed-selftest-probe >/dev/null 2>&1 && fail "package visible on the host"
[[ ! -e /lib/systemd/system/testbed-selftest-probe.service ]] || fail "unit file on the host"
[[ ! -e /etc/systemd/system/testbed-selftest-emu.service ]] || fail "fixture unit on the host"

# stdin, exit codes, non-root user
echo hello > "$WORK/in"
"$TB" exec "$A" -- sh -c 'cat > /tmp/in' < "$WORK/in"
[[ $("$TB" exec "$A" -- cat /tmp/in) == hello ]] || fail "stdin pass-through"
rc=0; "$TB" exec "$A" -- sh -c 'exit 7' || rc=$?
[[ $rc == 7 ]] || fail "exit code ($rc)"
"$TB" exec "$A" -- useradd -m tbuser
[[ $("$TB" exec "$A" --user tbuser -- id -un) == tbuser ]] || fail "--user"
[[ $("$TB" exec "$A" --user tbuser -- sh -c 'echo $HOME') == /home/tbuser ]] || fail "--user HOME"
getent passwd tbuser >/dev/null && fail "user leaked to the host"
"$TB" cp "$A" "$WORK/in" /etc/tb/copied
[[ $("$TB" exec "$A" -- cat /etc/tb/copied) == hello ]] || fail "cp"

pids=$(cat /run/aios-testbed/"$A"/nspawn.pid /run/aios-testbed/"$B"/nspawn.pid \
       /run/aios-testbed/"$A"/init.pid /run/aios-testbed/"$B"/init.pid)

# --- tear down, check nothing is left
"$TB" down "$A" "$B"
for p in $pids; do [[ -e /proc/$p ]] && fail "process $p still exists"; done
ps -eo pid,args | grep -E "[s]ystemd-nspawn.*AIOS_TESTBED=tbself" && fail "nspawn processes left"
findmnt -rn | grep -E 'aios-testbed|nspawn' && fail "mounts left"
[[ ! -e /run/aios-testbed/$A && ! -e /var/tmp/aios-testbed/$A ]] || fail "state left"
"$TB" list | grep -q tbself && fail "still listed"
"$TB" down "$A" || fail "down is not idempotent"
echo "SELFTEST OK"
