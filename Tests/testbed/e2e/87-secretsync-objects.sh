#!/bin/bash
# AIO's own objects: SecretProviderClass + SecretSync (the Secret Synchronization Controller's CRDs) applied
# with kubectl are synced by aiosd with the controller's meaning, their status written back; unselected
# objects are never touched; an invalid one gets a condition; forceSynchronization forces a sync; a deleted
# SecretSync takes its Secret along; the watch survives a K3s restart; aiosd steps aside for the controller.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init ssobj
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../aio"
# K3s arrived after aiosd started (no kubeconfig then, so no SecretSync watch): the workload-identity job below
# starts the watch once it has seen the API server answer. No aiosd restart.

fixture=$("$TB" fixture "$E2E_NAME" --json)
fact() { json_get "$1" <<<"$fixture"; }
tenant=$(fact 'd["tenantId"]'); client=$(fact 'd["clientId"]'); issuer=$(fact 'd["issuer"]'); vault=$(fact 'd["vault"]')
ns=azure-iot-operations
kc() { inside kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n "$ns" "$@"; }
data() { kc get secret "$1" -o "jsonpath={.data.${2//./\\.}}" | base64 -d; }
cond() { kc get secretsync "$1" -o "jsonpath={.status.conditions[?(@.type==\"$2\")].$3}"; }
has_secret() { kc get secret "$1" >/dev/null 2>&1; }
no_secret() { ! has_secret "$1"; }

inside sh -c "printf 'logLevel: trace\nidentity:\n  tenantId: $tenant\n  clientId: $client\nsync:\n  interval: 1h\n  jitter: 0s\n' > /etc/aios/aiosd.yaml"
check "reload aiosd with the identity" -- inside systemctl reload aiosd.service
check_rc 0 "workload-identity enable with the fixture's issuer" -- inside aiosctl workload-identity enable --issuer "$issuer"
check_rc 0 "the CRDs are installed" -- kc get crd secretsyncs.secret-sync.x-k8s.io

inside sh -c 'cat > /tmp/aio.yaml' <<EOF2
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: aio-spc
  namespace: $ns
spec:
  provider: azure
  parameters:
    clientID: $client
    keyvaultName: $vault
    tenantId: $tenant
    objects: |
      array:
        - |
          objectName: plain-utf8
          objectType: secret
        - |
          objectName: opcua-trust-hex
          objectType: secret
          objectEncoding: hex
        - |
          objectName: tls-pem
          objectType: secret
---
apiVersion: secret-sync.x-k8s.io/v1alpha1
kind: SecretSync
metadata:
  name: aio-plain
  namespace: $ns
  labels: {aios.microsoft.com/agent: aiosd}
spec:
  serviceAccountName: aio-ssc-sa
  secretProviderClassName: aio-spc
  forceSynchronization: "1"
  secretObject:
    type: Opaque
    labels: {app: opcua}
    data:
      - sourcePath: plain-utf8
        targetKey: value
---
apiVersion: secret-sync.x-k8s.io/v1alpha1
kind: SecretSync
metadata:
  name: aio-opc-ua-broker-trust-list
  namespace: $ns
  labels: {aios.microsoft.com/agent: aiosd}
spec:
  serviceAccountName: aio-ssc-sa
  secretProviderClassName: aio-spc
  secretObject:
    type: Opaque
    data:
      - sourcePath: opcua-trust-hex
        targetKey: my-server.der
---
apiVersion: secret-sync.x-k8s.io/v1alpha1
kind: SecretSync
metadata:
  name: aio-tls
  namespace: $ns
  labels: {aios.microsoft.com/agent: aiosd}
spec:
  serviceAccountName: aio-ssc-sa
  secretProviderClassName: aio-spc
  secretObject:
    type: kubernetes.io/tls
    data:
      - sourcePath: tls-pem
        targetKey: tls.crt
      - sourcePath: tls-pem
        targetKey: tls.key
---
apiVersion: secret-sync.x-k8s.io/v1alpha1
kind: SecretSync
metadata:
  name: not-for-aiosd
  namespace: $ns
spec:
  serviceAccountName: aio-ssc-sa
  secretProviderClassName: aio-spc
  secretObject:
    type: Opaque
    data:
      - sourcePath: plain-utf8
        targetKey: value
---
apiVersion: secret-sync.x-k8s.io/v1alpha1
kind: SecretSync
metadata:
  name: aio-broken
  namespace: $ns
  labels: {aios.microsoft.com/agent: aiosd}
spec:
  serviceAccountName: aio-ssc-sa
  secretProviderClassName: no-such-spc
  secretObject:
    type: Opaque
    data:
      - sourcePath: plain-utf8
        targetKey: value
EOF2
check_rc 0 "kubectl apply the SecretProviderClass and SecretSyncs" -- kc apply -f /tmp/aio.yaml

check_within 30 "the watch picks them up: Secret aio-plain appears" -- has_secret aio-plain
both() { has_secret aio-opc-ua-broker-trust-list && has_secret aio-tls; }
check_within 10 "... and aio-opc-ua-broker-trust-list and aio-tls" -- both
check_eq "aio-plain: the SecretSync's name is the Secret's name, with the vault's value" "$(fact 'd["secrets"]["plain-utf8"]["value"]')" "$(data aio-plain value)"
check_eq "... and the secretObject's labels" "opcua" "$(kc get secret aio-plain -o 'jsonpath={.metadata.labels.app}')"
check_eq "aio-opc-ua-broker-trust-list: hex decoded to the DER file" \
    "$(inside sha256sum /etc/aios-testbed/aio/certs/opcua-trust.der | cut -d' ' -f1)" "$(data aio-opc-ua-broker-trust-list my-server.der | sha256sum | cut -d' ' -f1)"
check_eq "aio-tls: kubernetes.io/tls" "kubernetes.io/tls" "$(kc get secret aio-tls -o 'jsonpath={.type}')"
check_eq "aio-tls: tls.crt leaf to root" "$(inside sh -c 'cd /etc/aios-testbed/aio/certs && cat leaf.crt intermediate.crt root.crt')" "$(data aio-tls tls.crt)"
check_eq "aio-tls: tls.key the leaf's key" "$(inside cat /etc/aios-testbed/aio/certs/leaf.key)" "$(data aio-tls tls.key)"
check_eq "the Secret is labelled as synced from the cluster" "cluster" "$(kc get secret aio-plain -o 'jsonpath={.metadata.labels.aios\.microsoft\.com/source}')"

status_written() { [ "$(cond aio-plain SecretUpdated reason)" = SecretUpToDate ]; }
check_within 10 "status written back: SecretUpdated True SecretUpToDate" -- status_written
check_eq "... SecretCreated True CreateSuccessful" "True/CreateSuccessful" "$(cond aio-plain SecretCreated status)/$(cond aio-plain SecretCreated reason)"
check_contains "... a salted syncHash (never the content)" "v1:" "$(kc get secretsync aio-plain -o 'jsonpath={.status.syncHash}')"
check "... lastSuccessfulSyncTime (RFC 3339, UTC)" -- grep -Eqx '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z' <<<"$(kc get secretsync aio-plain -o 'jsonpath={.status.lastSuccessfulSyncTime}')"
check_eq "... observedGeneration" "$(kc get secretsync aio-plain -o 'jsonpath={.metadata.generation}')" "$(cond aio-plain SecretUpdated observedGeneration)"

check_rc 1 "a SecretSync not selected for aiosd gets no Secret" -- kc get secret not-for-aiosd
check_eq "... and no status" "" "$(kc get secretsync not-for-aiosd -o 'jsonpath={.status}')"
check_eq "an invalid SecretSync gets a condition saying what is wrong" "False/SecretProviderClassMisconfigured" \
    "$(cond aio-broken SecretUpdated status)/$(cond aio-broken SecretUpdated reason)"
check_contains "... naming the missing SecretProviderClass" "no-such-spc does not exist" "$(cond aio-broken SecretUpdated message)"
check_rc 1 "... and nothing else: no Secret" -- kc get secret aio-broken

check_rc 0 "aiosctl secret list shows both sources" -- inside aiosctl secret add filedef --vault "$vault" --object plain-utf8
check_rc 0 "..." -- inside aiosctl secret list
check_contains "... the cluster ones marked" "cluster  aios-testbed-kv  azure-iot-operations/aio-plain" "$LAST_OUT"
check_contains "... the file ones marked" "filedef" "$LAST_OUT"
check_contains "... and the invalid SecretSync" "azure-iot-operations/aio-broken" "$LAST_OUT"
check_rc 0 "aiosctl secret show azure-iot-operations/aio-plain" -- inside aiosctl secret show azure-iot-operations/aio-plain
check_contains "... explains where it comes from" "SecretSync azure-iot-operations/aio-plain" "$LAST_OUT"
check_contains "... and its SecretProviderClass" "SecretProviderClass azure-iot-operations/aio-spc" "$LAST_OUT"
check_contains "... with its status" "state:    synced" "$LAST_OUT"
check_rc 1 "aiosctl secret remove refuses a SecretSync (kubectl owns it)" -- inside aiosctl secret remove azure-iot-operations/aio-plain
check_contains "... pointing at kubectl" "kubectl -n azure-iot-operations delete secretsync aio-plain" "$LAST_OUT"

# Steady state: nothing written (Secrets or statuses).
check_rc 0 "delete the invalid SecretSync" -- kc delete secretsync aio-broken
check_rc 0 "a sync" -- inside aiosctl sync --wait
"$TB" counts "$E2E_NAME" --reset >/dev/null
check_rc 0 "another sync" -- inside aiosctl sync --wait
c=$("$TB" counts "$E2E_NAME")
check_eq "steady state writes nothing to the API server (no Secret, no status)" 0 \
    "$(json_get 'd["k3s"]["writes"] + d["k3s"]["byVerbResource"].get("PATCH secretsyncs/status", 0)' <<<"$c")" "$c"

# forceSynchronization: a new value forces a sync at once (the vault changed meanwhile).
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-forced-9Qx" >/dev/null
check_rc 0 "kubectl patch forceSynchronization: \"2\"" -- kc patch secretsync aio-plain --type merge -p '{"spec":{"forceSynchronization":"2"}}'
new_value() { [ "$(data aio-plain value)" = "PLANTED-forced-9Qx" ]; }
check_within 20 "the change of forceSynchronization syncs it" -- new_value

# Selection changes take effect within seconds: the selector label added to an existing SecretSync, removed again.
check_rc 0 "a SecretSync created without the selector label" -- kc apply -f - <<<"$(printf 'apiVersion: secret-sync.x-k8s.io/v1alpha1\nkind: SecretSync\nmetadata:\n  name: aio-late-label\n  namespace: %s\nspec:\n  serviceAccountName: aio-ssc-sa\n  secretProviderClassName: aio-spc\n  secretObject:\n    data:\n      - sourcePath: plain-utf8\n        targetKey: value\n' "$ns")"
check_rc 0 "aiosctl sync --wait" -- inside aiosctl sync --wait
check_rc 1 "... it gets no Secret" -- kc get secret aio-late-label
check_rc 0 "kubectl label secretsync aio-late-label aios.microsoft.com/agent=aiosd" -- kc label secretsync aio-late-label aios.microsoft.com/agent=aiosd
check_within 15 "... synced within seconds (no hourly wait)" -- has_secret aio-late-label
late_status() { [ "$(cond aio-late-label SecretUpdated reason)" = SecretUpToDate ]; }
check_within 10 "... its status written" -- late_status
check_rc 0 "kubectl label secretsync aio-late-label aios.microsoft.com/agent-" -- kc label secretsync aio-late-label aios.microsoft.com/agent-
no_status() { [ -z "$(kc get secretsync aio-late-label -o 'jsonpath={.status.conditions}')" ]; }
check_within 15 "... aiosd's status is taken off within seconds (no stale SecretUpToDate)" -- no_status

# The watch survives a K3s restart: a change right after it is not missed.
check_rc 0 "aiosctl k3s restart" -- inside aiosctl k3s restart
check_rc 0 "a SecretSync created after the restart" -- kc apply -f - <<<"$(printf 'apiVersion: secret-sync.x-k8s.io/v1alpha1\nkind: SecretSync\nmetadata:\n  name: aio-after-restart\n  namespace: %s\n  labels: {aios.microsoft.com/agent: aiosd}\nspec:\n  serviceAccountName: aio-ssc-sa\n  secretProviderClassName: aio-spc\n  secretObject:\n    data:\n      - sourcePath: plain-utf8\n        targetKey: value\n' "$ns")"
check_within 60 "... is synced (the watch reconnected)" -- has_secret aio-after-restart

# A deleted SecretSync takes its Secret along (default cluster.onSecretSyncDeleted: delete).
check_rc 0 "kubectl delete secretsync aio-opc-ua-broker-trust-list" -- kc delete secretsync aio-opc-ua-broker-trust-list
check_within 20 "... its Secret is deleted" -- no_secret aio-opc-ua-broker-trust-list
check_rc 0 "... the others stay" -- kc get secret aio-plain aio-tls

# cluster.secretSyncs: all takes the unlabelled one too.
inside sh -c 'printf "cluster:\n  secretSyncs: all\n" >> /etc/aios/aiosd.yaml'
check "reload with cluster.secretSyncs: all" -- inside systemctl reload aiosd.service
# The reload itself starts a sync of the new selection, so the sync asked for here may find the Secret
# already applied by it: in the synced set either way, and the Secret there.
check_rc 0 "aiosctl sync --wait" -- inside aiosctl sync --wait
check "... now syncs the unlabelled SecretSync (applied, or unchanged after the reload's own sync)" -- \
    in_synced_set azure-iot-operations/not-for-aiosd
check_rc 0 "... its Secret exists" -- kc get secret not-for-aiosd

# The Secret Synchronization Controller runs in the Secret Store extension's namespace (its leader-election
# Lease there): aiosd steps aside.
check_rc 0 "kubectl create namespace azure-secret-store" -- kc create namespace azure-secret-store
check_rc 0 "plant the controller's leader-election Lease there" -- kc -n azure-secret-store create -f - <<<'{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"29f1d54e.secret-sync.x-k8s.io","namespace":"azure-secret-store"},"spec":{"holderIdentity":"secret-sync-controller-0"}}'
check_rc 0 "aiosctl sync --wait" -- inside aiosctl sync --wait
check_rc 0 "aiosctl secret list" -- inside aiosctl secret list
check_contains "... says the controller runs and aiosd stands down for the SecretSyncs" "aiosd stands down for SecretSyncs and leaves them to it" "$LAST_OUT"
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-controller-owns-it" >/dev/null
check_rc 0 "kubectl patch forceSynchronization: \"3\"" -- kc patch secretsync aio-plain --type merge -p '{"spec":{"forceSynchronization":"3"}}'
sleep 3
check_eq "... aiosd does not sync SecretSyncs then" "PLANTED-forced-9Qx" "$(data aio-plain value)"
check_journal "... and says so in the journal" -u aiosd.service -- MESSAGE="Secret Store extension detected; aiosd stands down for SecretSyncs"

journal=$("$TB" journal "$E2E_NAME" -u aiosd.service -o verbose 2>&1)
check_not_contains "no planted value in aiosd's journal" "PLANTED" "$journal"
statuses=$(kc get secretsyncs -o json)
check_not_contains "no planted value in the SecretSyncs' status" "PLANTED" "$statuses"
e2e_finish
