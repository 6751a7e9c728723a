#!/bin/bash
# The agent installed before K3s (the site image ships the agent, K3s comes later): refusals on a host
# without K3s and on an agent (worker) node, then K3s' installer, then every host layout of
# k3s-layouts.bash, without ever restarting aiosd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/k3s-layouts.bash"
e2e_deb_arg "$@"
e2e_init k3slayagent
e2e_up --deb "$DEB"
ORDER=agent-first
aiosd_invocation=$(unit_prop aiosd.service InvocationID)

check_rc 1 "no K3s: enable is refused" -- inside aiosctl workload-identity enable --issuer "$arc"
check_contains "... saying K3s is not installed" "K3s is not installed: systemd has no k3s.service" "$LAST_OUT"
check "... and nothing is written under /etc/rancher/k3s" -- inside sh -c "test -z \"\$(ls -A /etc/rancher/k3s)\""
check_rc 1 "no K3s: apiserver-arg set is refused the same way" -- inside aiosctl k3s apiserver-arg set v=2
check_contains "... saying so" "K3s is not installed" "$LAST_OUT"

inside sh -c 'printf "[Service]\nExecStart=/usr/local/bin/k3s agent --server https://10.0.0.1:6443\n" > /etc/systemd/system/k3s-agent.service && systemctl daemon-reload'
check_rc 1 "agent (worker) node: enable is refused" -- inside aiosctl workload-identity enable --issuer "$arc"
check_contains "... saying why" "this host is a K3s agent (worker) node: k3s-agent.service runs no API server" "$LAST_OUT"
check_not_contains "... never as a failed rollback" "rollback" "$LAST_OUT"
inside sh -c 'rm /etc/systemd/system/k3s-agent.service && systemctl daemon-reload'

# K3s' installer now, with aiosd running since the package was installed.
check "testbed cp the K3s stand-in's installer files in" -- "$TB" cp "$E2E_NAME" "$E2E_DIR/../k3s" /root/k3s-install
check "install and start K3s (as its installer does)" -- inside env -C /root/k3s-install ./setup

layouts

check_eq "aiosd was never restarted (same InvocationID since boot)" "$aiosd_invocation" "$(unit_prop aiosd.service InvocationID)"
check_eq "... and never crashed (NRestarts)" 0 "$(unit_prop aiosd.service NRestarts)"

e2e_finish
