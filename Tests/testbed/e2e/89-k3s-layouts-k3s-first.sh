#!/bin/bash
# K3s installed before the agent: every host layout of k3s-layouts.bash, then a K3s that takes 15 s to be
# ready after a restart (real K3s: 10-60 s), without ever restarting aiosd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/k3s-layouts.bash"
e2e_deb_arg "$@"
e2e_init k3slayk3s
e2e_up --fixtures "$E2E_DIR/../k3s"
ORDER=k3s-first

check "testbed cp the .deb in" -- "$TB" cp "$E2E_NAME" "$DEB" /root/aios-agent.deb
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
