#!/bin/bash
# A three-server K3s cluster (testbed up NAME --servers 3): three containers on one private network, each with
# its own K3s stand-in server and aiosd, all servers on one datastore (as K3s HA is). Proves the cluster the
# multi-node scenarios run on: one Key Vault and Entra ID for all (NAME-cloud); every node sees every server
# as a Ready control-plane Node; a write through
# one server is seen by a watch on another and counted at the server that took it; resourceVersions are
# global and a stale one is a 409 whichever server wrote last (Leases, as leader election uses them); each
# server keeps its own kube-apiserver flags and restarts alone while the others answer; a server cut off
# the network loses quorum (its /readyz and writes fail, its Node goes Unknown), the others keep writing, and
# it catches up when it is back.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init multi
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../aio" --servers 3
N1=$E2E_NAME-1 N2=$E2E_NAME-2 N3=$E2E_NAME-3
# on NODE CMD...: a command on one node. The lib's helpers (journal on failure) look at node 1.
on() { local n=$1; shift; "$TB" exec "$n" -- "$@"; }
inside() { on "$N1" "$@"; }
kc() { local n=$1; shift; on "$n" kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml "$@"; }
readyz() { kc "$1" get --raw /readyz; }
k3s_counts() { "$TB" counts "$1" | json_get "$2"; }

# ---------------------------------------------------------------- the cluster
for n in "$N1" "$N2" "$N3"; do
    check_eq "$n: its hostname is its name" "$n" "$(on "$n" hostname)"
    check "$n: aiosd answers (package installed on every node)" -- on "$n" aiosctl status
    out=$(kc "$n" get nodes --no-headers -o custom-columns=N:.metadata.name,R:.status.conditions[0].status,CP:.metadata.labels.node-role\\.kubernetes\\.io/control-plane)
    check_eq "$n: kubectl get nodes lists the three servers, Ready, control-plane" \
        "$N1 True true|$N2 True true|$N3 True true" "$(tr -s ' ' <<<"$out" | paste -sd'|')"
done
check_eq "each node reaches the others by name on the private network" "ok" \
    "$(kc "$N1" --server "https://$N3:6443" get --raw /readyz)"

# ---------------------------------------------------------------- one cloud: Entra ID and Key Vault
vault=$("$TB" fixture "$N1" --json | json_get 'd["vault"]')
check_eq "$N2 resolves the vault to the cluster's one Key Vault (NAME-cloud)" "10.213.0.10" \
    "$(on "$N2" getent hosts "$vault.vault.azure.net" | awk '{print $1}')"
"$TB" vault "$N3" set "$vault" e2e-shared PLANTED-shared >/dev/null
check_eq "a secret set in the vault as $N3 sees it is the one $N1 sees" "PLANTED-shared" \
    "$("$TB" vault "$N1" get "$vault" e2e-shared | json_get 'd["value"]')"
check_eq "every member has member 1's fixture facts (same certificates)" \
    "$(on "$N1" sha256sum /etc/aios-testbed/fixture.json | cut -c1-64)" "$(on "$N3" sha256sum /etc/aios-testbed/fixture.json | cut -c1-64)"

# ---------------------------------------------------------------- one datastore
# A raw watch on N3's server from its current resourceVersion: only events after it arrive.
rv0=$(kc "$N3" -n default get secrets -o jsonpath='{.metadata.resourceVersion}')
tls=/var/lib/rancher/k3s/server/tls
on "$N3" setsid sh -c "curl -sN --cacert $tls/server-ca.crt --cert $tls/client-admin.crt --key $tls/client-admin.key \
    'https://127.0.0.1:6443/api/v1/namespaces/default/secrets?watch=1&timeoutSeconds=30&resourceVersion=$rv0' > /tmp/watch.out 2>&1 &"
watching() { on "$N3" pgrep -f "secrets[?]watch=1" >/dev/null; }
check_within 10 "a watch from resourceVersion $rv0 runs on $N3" -- watching
"$TB" counts "$N1" --reset >/dev/null; "$TB" counts "$N3" --reset >/dev/null
check "create a Secret through $N1" -- kc "$N1" -n default create secret generic via-one --from-literal=k=v
check_within 5 "the watch on $N3 sees it (ADDED)" -- on "$N3" grep -q '"type":"ADDED".*"name":"via-one"' /tmp/watch.out
check_eq "$N2 reads it" "via-one" "$(kc "$N2" -n default get secret via-one -o jsonpath='{.metadata.name}')"
check_eq "the write is counted at $N1's server" "1" "$(k3s_counts "$N1" 'd["k3s"]["writesByObject"].get("POST secrets default/via-one", 0)')"
check_eq "and not at $N3's" "0" "$(k3s_counts "$N3" 'd["k3s"]["writesByObject"].get("POST secrets default/via-one", 0)')"
rv1=$(kc "$N1" -n default get secret via-one -o jsonpath='{.metadata.resourceVersion}')
kc "$N2" -n default create secret generic via-two --from-literal=k=v >/dev/null
rv2=$(kc "$N3" -n default get secret via-two -o jsonpath='{.metadata.resourceVersion}')
check "one resourceVersion counter: a later write through $N2 has a larger one ($rv1 < $rv2)" -- test "$rv2" -gt "$rv1"

# Leases: get/create/update/delete with optimistic concurrency across servers
on "$N1" sh -c 'cat > /tmp/lease.yaml' <<'EOF'
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: e2e-leader, namespace: kube-system}
spec: {holderIdentity: one, leaseDurationSeconds: 15}
EOF
check "create a Lease through $N1" -- kc "$N1" create -f /tmp/lease.yaml
lease_json() { kc "$1" -n kube-system get lease e2e-leader -o json; }
put_holder() { # put_holder NODE HOLDER JSON: PUT the Lease as read (its resourceVersion) with a new holder
    local j; j=$(python3 -c 'import json,sys; o=json.loads(sys.argv[1]); o["spec"]["holderIdentity"]=sys.argv[2]; print(json.dumps(o))' "$3" "$2")
    on "$1" sh -c 'cat > /tmp/l.json' <<<"$j"
    kc "$1" replace -f /tmp/l.json
}
seen=$(lease_json "$N2")
check "$N2 takes the Lease with the resourceVersion it read" -- put_holder "$N2" two "$seen"
check_rc 1 "$N3 writing with the same (now stale) resourceVersion is refused" -- put_holder "$N3" three "$seen"
check_contains "... with a 409 Conflict" "the object has been modified" "$LAST_OUT"
check_eq "$N1 sees $N2 as the holder" "two" "$(kc "$N1" -n kube-system get lease e2e-leader -o jsonpath='{.spec.holderIdentity}')"
check "delete the Lease through $N3" -- kc "$N3" -n kube-system delete lease e2e-leader
check_rc 1 "$N1: it is gone" -- kc "$N1" -n kube-system get lease e2e-leader

# ---------------------------------------------------------------- per-host API server config
issuer_of() { kc "$1" get --raw /.well-known/openid-configuration | json_get 'd["issuer"]'; }
on "$N2" sh -c 'mkdir -p /etc/rancher/k3s/config.yaml.d && printf "kube-apiserver-arg+:\n- service-account-issuer=https://two.example/\n" > /etc/rancher/k3s/config.yaml.d/90-e2e.yaml'
# While $N2's K3s restarts (2 s), the two other servers answer.
on "$N2" systemctl restart --no-block k3s
check_eq "$N1 answers /readyz while $N2 restarts" "ok" "$(readyz "$N1")"
check_eq "$N3 answers /readyz while $N2 restarts" "ok" "$(readyz "$N3")"
check_within 30 "$N2 is back" -- readyz "$N2"
check_eq "$N2 serves its own issuer" "https://two.example/" "$(issuer_of "$N2")"
check_eq "$N1 keeps K3s' default issuer" "https://kubernetes.default.svc.cluster.local" "$(issuer_of "$N1")"
check_eq "$N2 still has the cluster's Secrets" "via-one" "$(kc "$N2" -n default get secret via-one -o jsonpath='{.metadata.name}')"

# ---------------------------------------------------------------- partition
check "partition $N1 (testbed partition)" -- "$TB" partition "$N1"
check_within 5 "$N1's /readyz fails: its etcd has no quorum" -- sh -c "! $TB exec $N1 -- kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml get --raw /readyz"
check_rc 1 "a write through $N1 fails" -- kc "$N1" -n default create secret generic cut-off --from-literal=k=v
check_contains "... with etcd's error" "etcdserver: request timed out" "$LAST_OUT"
check_eq "$N2 keeps answering /readyz" "ok" "$(readyz "$N2")"
check "$N3 writes while $N1 is cut off" -- kc "$N3" -n default create secret generic during-partition --from-literal=k=v
node_ready() { kc "$1" get node "$2" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'; }
node_ready_is() { [[ $(node_ready "$1" "$2") == "$3" ]]; }
check_within 60 "$N2 sees $N1's Node go Unknown (no heartbeat for 40 s: node lifecycle)" -- node_ready_is "$N2" "$N1" Unknown
check_eq "... while $N3's Node stays Ready" "True" "$(node_ready "$N2" "$N3")"
check "heal $N1" -- "$TB" heal "$N1"
check_within 5 "$N1 is ready again" -- readyz "$N1"
check_within 15 "$N1's Node is Ready again (its next heartbeat)" -- node_ready_is "$N2" "$N1" True
check_eq "$N1 has the write made while it was cut off" "during-partition" \
    "$(kc "$N1" -n default get secret during-partition -o jsonpath='{.metadata.name}')"
check_rc 1 "the refused write never happened" -- kc "$N2" -n default get secret cut-off

e2e_finish
