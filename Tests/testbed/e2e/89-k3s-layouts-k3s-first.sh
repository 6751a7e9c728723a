#!/bin/bash
# K3s installed before the agent: a K3s agent (worker) node refused; then, on a K3s server, every host layout of
# k3s-layouts.bash, then a K3s that takes 15 s to be ready after a restart (real K3s: 10-60 s), without ever
# restarting aiosd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/k3s-layouts.bash"
e2e_deb_arg "$@"
e2e_init k3slayk3s
e2e_up
ORDER=k3s-first
check "testbed cp the .deb in" -- "$TB" cp "$E2E_NAME" "$DEB" /root/aios-agent.deb

# A worker node, K3s first: K3s' installer with K3S_URL installs k3s-agent.service (the stand-in has no agent
# mode: the unit is installed, not run), then the agent is installed.
inside sh -c 'printf "[Service]\nExecStart=/usr/local/bin/k3s agent --server https://10.0.0.1:6443\n" > /etc/systemd/system/k3s-agent.service && systemctl daemon-reload'
check_rc 0 "[worker node] dpkg -i aios-agent after K3s' agent" -- inside env DEBIAN_FRONTEND=noninteractive dpkg -i /root/aios-agent.deb
check_within 30 "[worker node] aiosd.service is active" -- inside systemctl is-active aiosd.service
check_rc 1 "[worker node] enable is refused" -- inside aiosctl workload-identity enable --issuer "$arc"
check_contains "[worker node] ... saying why" "this host is a K3s agent (worker) node: k3s-agent.service runs no API server" "$LAST_OUT"
check_not_contains "[worker node] ... never as a failed rollback" "rollback" "$LAST_OUT"
check_rc 1 "[worker node] apiserver-arg set is refused the same way" -- inside aiosctl k3s apiserver-arg set v=2
check_contains "[worker node] ... saying so" "K3s agent (worker) node" "$LAST_OUT"
check "[worker node] ... and nothing is written under /etc/rancher/k3s" -- inside sh -c "test -z \"\$(ls -A /etc/rancher/k3s)\""

# The node is provisioned again as a server, K3s first: the agent purged, K3s' server installed and running,
# then the agent installed.
check_rc 0 "dpkg --purge aios-agent" -- inside env DEBIAN_FRONTEND=noninteractive dpkg --purge aios-agent
inside sh -c 'rm /etc/systemd/system/k3s-agent.service && systemctl daemon-reload'
check "testbed cp the K3s stand-in's installer files in" -- "$TB" cp "$E2E_NAME" "$E2E_DIR/../k3s" /root/k3s-install
check "install and start K3s (as its installer does)" -- inside env -C /root/k3s-install ./setup
check_rc 0 "dpkg -i aios-agent on a running K3s server" -- inside env DEBIAN_FRONTEND=noninteractive dpkg -i /root/aios-agent.deb
check_within 30 "aiosd.service is active" -- inside systemctl is-active aiosd.service
aiosd_invocation=$(unit_prop aiosd.service InvocationID)

layouts

# A realistic start: K3s ready 15 s after its restart; within k3s.readyTimeout (300 s by default).
layout_reset 'write-kubeconfig-mode: "0644"
'
inside sh -c 'echo K3S_STANDIN_START_DELAY=15 > /etc/systemd/system/k3s.service.env'
before=$(k3s_state)
t0=$(date +%s)
check_rc 0 "[slow K3s] enable succeeds with a 15 s start" -- inside aiosctl workload-identity enable --issuer "$arc"
elapsed=$(( $(date +%s) - t0 ))
check "[slow K3s] ... it waited for K3s (took ${elapsed}s >= 15s)" -- test "$elapsed" -ge 15
check_bytes "[slow K3s] the drop-in, byte for byte" /etc/rancher/k3s/config.yaml.d/90-aios.yaml "$(expected_dropin "$arc")"$'\n'
expect_restarted "$before" "[slow K3s]"
check_eq "[slow K3s] the API server serves the Arc issuer" "$arc" "$(served)"
check_rc 1 "[slow K3s] a value kube-apiserver rejects fails" -- inside aiosctl workload-identity enable --issuer https://second.example/ --max-token-expiration 30m
check_contains "[slow K3s] ... and is rolled back after the slow restarts" "rolled back: the previous /etc/rancher/k3s/config.yaml.d/90-aios.yaml is restored and the API server serves $arc again" "$LAST_OUT"
check_bytes "[slow K3s] ... the previous drop-in, byte for byte" /etc/rancher/k3s/config.yaml.d/90-aios.yaml "$(expected_dropin "$arc")"$'\n'

check_eq "aiosd was never restarted (same InvocationID since install)" "$aiosd_invocation" "$(unit_prop aiosd.service InvocationID)"

e2e_finish
