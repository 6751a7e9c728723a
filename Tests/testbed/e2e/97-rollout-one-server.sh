#!/bin/bash
# `--all-servers` on a one-server cluster, end to end: the request is recorded in the ConfigMap
# kube-system/aios-rollout, this server's aiosd (its k3s-rollout service) makes the change as a host job under
# the Lease kube-system/aios-k3s-restart, and aiosctl follows it to the end; idempotence; a change K3s refuses
# rolls back and marks the rollout failed; a record written by hand that this server's policy refuses is
# refused, nothing touched. The three-server rollout is 98-rolling-issuer.sh.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init rollout1
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../k3s"

arc=https://eastus.oic.prod-arc.azure.com/00000000-0000-0000-0000-000000000001/11111111-2222-3333-4444-555555555555/
dropin=/etc/rancher/k3s/config.yaml.d/90-aios.yaml
kc() { inside kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml "$@"; }
served() { kc get --raw /.well-known/openid-configuration | json_get 'd["issuer"]'; }
rollout() { inside aiosctl k3s rollout --json | json_get "$1"; }
k3s_run() { echo "$(unit_prop k3s.service InvocationID)/$(unit_prop k3s.service NRestarts)"; }
node=$(inside hostname)

check_within 60 "the K3s stand-in registered its Node, labelled as a server" -- \
    kc get nodes -l node-role.kubernetes.io/control-plane -o name
check_rc 1 "aiosctl k3s rollout before any request exits 1" -- inside aiosctl k3s rollout
check_contains "... saying none was requested" "no rollout across servers was ever requested" "$LAST_OUT"

t0=$(date +%s.%N)
check_rc 0 "workload-identity enable --all-servers succeeds" -- inside aiosctl workload-identity enable --issuer "$arc" --all-servers
echo "# rollout on one server took $(elapsed_since "$t0") s"
check_contains "... it says where the rollout is kept" "recorded in kube-system/configmap/aios-rollout" "$LAST_OUT"
check_contains "... it follows this server to done" "$node: done in" "$LAST_OUT"
check_contains "... and shows the table" "succeeded" "$LAST_OUT"
check_eq "the API server serves the Arc issuer" "$arc" "$(served)"
check_eq "the rollout record says succeeded" "succeeded" "$(rollout 'd["state"]')"
check_eq "... with this server done and changed" "[\"$node\", \"done\", true]" "$(rollout '[d["servers"][0][k] for k in ("name", "state", "changed")]')"
check_eq "... with its start and end times" "true" "$(rollout 'all(d["servers"][0].get(k) for k in ("startedAt", "finishedAt"))')"
check_contains "the record is a ConfigMap in kube-system" "\"generation\":1" "$(kc -n kube-system get configmap aios-rollout -o jsonpath='{.data.rollout\.json}')"
check_eq "the restart Lease was taken once and is free again (holder/transitions)" "/0" \
    "$(kc -n kube-system get lease aios-k3s-restart -o jsonpath='{.spec.holderIdentity}/{.spec.leaseTransitions}')"
check_contains "this server's part ran as a host job" "rollout-workload-identity-enable" "$(inside aiosctl jobs)"
check_journal "the journal records the progress" -u aiosd.service -- MESSAGE="K3s rollout progressed"

before=$(k3s_run); sum=$(inside sha256sum "$dropin")
check_rc 0 "the same request again succeeds" -- inside aiosctl workload-identity enable --issuer "$arc" --all-servers
check_contains "... with nothing to do" "$node: done in" "$LAST_OUT"
check_eq "... generation 2, this server unchanged" "[2, false]" "$(rollout '[d["generation"], d["servers"][0]["changed"]]')"
check_eq "... K3s was not restarted" "$before" "$(k3s_run)"
check_eq "... the drop-in is unchanged" "$sum" "$(inside sha256sum "$dropin")"

# Refused where it is asked: nothing recorded.
check_rc 1 "a bad issuer with --all-servers is refused" -- inside aiosctl workload-identity enable --issuer http://plain.example/ --all-servers
check_contains "... saying why" "https://" "$LAST_OUT"
check_eq "... and nothing is recorded" "2" "$(rollout 'd["generation"]')"

# A value K3s refuses: this server rolls back, the rollout fails.
inside sh -c 'printf "this is: [not an audit policy\n" > /etc/rancher/k3s/audit-policy.yaml'
check_rc 1 "apiserver-arg set --all-servers with an audit policy K3s cannot load fails" -- \
    inside aiosctl k3s apiserver-arg set audit-policy-file=/etc/rancher/k3s/audit-policy.yaml --all-servers
check_contains "... this server rolled back" "$node: rolled-back" "$LAST_OUT"
check_contains "... and the rollout failed" "the rollout failed" "$LAST_OUT"
check_eq "the record says failed / rolled-back" "[\"failed\", \"rolled-back\"]" "$(rollout '[d["state"], d["servers"][0]["state"]]')"
check_eq "the previous drop-in is back" "$sum" "$(inside sha256sum "$dropin")"
check_eq "the API server serves the Arc issuer again" "$arc" "$(served)"
failed=$(inside aiosctl jobs --json | json_get '[j["id"] for j in d if j["kind"] == "rollout-apiserver-arg-edit"][-1]')
check_rc 0 "the failed host job can be shown" -- inside aiosctl jobs show "$failed"
check_contains "... with K3s' own reason" "loading audit policy file" "$LAST_OUT"

# A record written into the cluster by hand, claiming an operator asked for a root-only flag: refused here.
before=$(k3s_run)
record=$(python3 -c '
import json, sys
print(json.dumps({"generation": 10, "requestedBy": "kubectl", "requestedAt": "2026-11-30T12:00:00Z", "state": "running",
  "change": {"kind": "apiserver-arg-edit", "set": ["anonymous-auth=true"], "requester": "operator"},
  "servers": [{"name": sys.argv[1], "state": "pending"}]}))' "$node")
inside sh -c "cat > /tmp/cm.json" <<<"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"aios-rollout\",\"namespace\":\"kube-system\"},\"data\":{\"rollout.json\":$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$record")}}"
check "a hand-written rollout record is accepted by the API server" -- kc replace --validate=false -f /tmp/cm.json
refused() { [ "$(rollout 'd["servers"][0]["state"]')" = refused ]; }
check_within 30 "this server refuses it by its own policy" -- refused
check_contains "... naming the rule" "root-only-flag" "$(rollout 'd["servers"][0]["message"]')"
check_eq "... the rollout is failed" "failed" "$(rollout 'd["state"]')"
check_eq "... K3s was not restarted" "$before" "$(k3s_run)"
check_eq "... the drop-in is unchanged" "$sum" "$(inside sha256sum "$dropin")"

# aiosctl k3s rollout abort: a running rollout whose first server ("a-ghost", no aiosd) never takes its turn.
record=$(python3 -c '
import json, sys
print(json.dumps({"generation": 11, "requestedBy": "kubectl", "requestedAt": "2026-11-30T12:00:00Z", "state": "running",
  "change": {"kind": "apiserver-arg-edit", "set": ["v=2"], "requester": "operator"},
  "servers": [{"name": "a-ghost", "state": "pending"}, {"name": sys.argv[1], "state": "pending"}]}))' "$node")
inside sh -c "cat > /tmp/cm.json" <<<"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"aios-rollout\",\"namespace\":\"kube-system\"},\"data\":{\"rollout.json\":$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$record")}}"
check "a running rollout waiting for a server without aiosd" -- kc replace --validate=false -f /tmp/cm.json
check_contains "aiosctl k3s rollout abort --help says what it does" "no further server starts its turn" "$(inside aiosctl k3s rollout abort --help)"
check_rc 0 "aiosctl k3s rollout abort stops it" -- inside aiosctl k3s rollout abort
check_contains "... saying so" "rollout 11 aborted" "$LAST_OUT"
check_eq "the record says aborted, by this node" "[\"aborted\", \"$node\"]" "$(rollout '[d["state"], d.get("abortedBy")]')"
rollout_service_idle() { [ "$(inside aiosctl status --json | json_get '[s["detail"] for s in d["services"] if s["name"] == "k3s-rollout"][0]')" = "$node: no rollout is running" ]; }
check_within 15 "this server's rollout service sees no running rollout" -- rollout_service_idle
check_eq "... and never started its turn" "pending" "$(rollout 'd["servers"][1]["state"]')"
check_eq "... K3s was not restarted" "$before" "$(k3s_run)"
check_rc 1 "abort with no rollout running exits 1" -- inside aiosctl k3s rollout abort
check_contains "... saying why" "is not running" "$LAST_OUT"
check_rc 0 "aiosctl k3s rollout (the default, show) still works" -- inside aiosctl k3s rollout
check_contains "... showing the aborted rollout" "aborted on $node" "$LAST_OUT"

e2e_finish
