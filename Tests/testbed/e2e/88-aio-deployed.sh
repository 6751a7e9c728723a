#!/bin/bash
# AIO as it is really deployed, and a namespace is not the node (issues 10 §2 and 12). The node is configured
# with its managed identity (IMDS), yet every SecretSync is read as workload identity of its own service account
# with its SecretProviderClass's client id: a namespace user naming the VM's identity gets a refusal, IMDS is
# never asked; a missing service account is a clear condition (404 from the API server). Secrets are written
# by one server-side apply (a mapping that shrinks removes the key), owned by their SecretSync (deleted with it
# while aiosd is stopped); a Lease in `default` changes nothing; the Secret Store extension in its namespace
# makes aiosd stand down and say so; cluster.allowedNamespaces narrows; docker config content must be JSON.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init deployed
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../aio"

fixture=$("$TB" fixture "$E2E_NAME" --json)
fact() { json_get "$1" <<<"$fixture"; }
tenant=$(fact 'd["tenantId"]'); client=$(fact 'd["clientId"]'); issuer=$(fact 'd["issuer"]'); vault=$(fact 'd["vault"]')
vm_identity=$(fact 'd["managedIdentities"]["imds"]["userAssigned"][0]')
kc() { inside kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml "$@"; }
data() { kc -n "$1" get secret "$2" -o "jsonpath={.data.${3//./\\.}}" | base64 -d; }
cond() { kc -n "$1" get secretsync "$2" -o "jsonpath={.status.conditions[?(@.type==\"SecretUpdated\")].$3}"; }
has_secret() { kc -n "$1" get secret "$2" >/dev/null 2>&1; }
no_secret() { ! has_secret "$1" "$2"; }
served_by() { "$TB" counts "$E2E_NAME" | json_get "(d[\"$1\"] or {}).get(\"total\", 0)"; }
spc() { # spc NS NAME PARAMETERS-YAML (indented 4)
    printf 'apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  provider: azure\n  parameters:\n%s\n    keyvaultName: %s\n    objects: |\n      array:\n        - |\n          objectName: plain-utf8\n          objectType: secret\n        - |\n          objectName: opcua-trust-hex\n          objectType: secret\n' "$2" "$1" "$3" "$vault"
}
secretsync() { # secretsync NS NAME SA SPC [TYPE] MAPPINGS...(sourcePath=targetKey)
    local ns=$1 name=$2 sa=$3 spc=$4 type=$5; shift 5
    printf 'apiVersion: secret-sync.x-k8s.io/v1alpha1\nkind: SecretSync\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  serviceAccountName: %s\n  secretProviderClassName: %s\n  secretObject:\n    type: %s\n    data:\n' "$name" "$ns" "$sa" "$spc" "$type"
    for m in "$@"; do printf '      - sourcePath: %s\n        targetKey: %s\n' "${m%%=*}" "${m#*=}"; done
}
apply() { kc apply -f - <<<"$1"; }
deployment() { # deployment NS: the Secret Store extension's controller Deployment, as its pods' names show it
    printf '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"secret-sync-controller","namespace":"%s","labels":{"app":"secret-sync-controller"}},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"secret-sync-controller"}},"template":{"metadata":{"labels":{"app":"secret-sync-controller"}},"spec":{"containers":[{"name":"manager","image":"mcr.microsoft.com/azurearck8s/secret-sync-controller:1.0.0"}]}}}}' "$1"
}

inside sh -c "printf 'identity:\n  method: managedIdentity\n  managedIdentityEndpoint: imds\n  tenantId: $tenant\nsync:\n  interval: 1h\n  jitter: 0s\ncluster:\n  secretSyncs: all\n' > /etc/aios/aiosd.yaml"
check "reload aiosd: the node's identity is its managed identity (IMDS), every SecretSync selected" -- inside systemctl reload aiosd.service
check_rc 0 "workload-identity enable with the fixture's issuer" -- inside aiosctl workload-identity enable --issuer "$issuer"
imds_before=$(served_by imds)

# A namespace user: their own namespace, service account, SPC naming the VM's user-assigned identity.
check_rc 0 "kubectl create namespace team-a" -- kc create namespace team-a
check_rc 0 "kubectl -n team-a create serviceaccount team-a-sa" -- kc -n team-a create serviceaccount team-a-sa
check_rc 0 "team-a: an SPC with the VM's identity as clientID, a SecretSync of its service account" -- \
    apply "$(spc team-a borrow "    clientID: $vm_identity
    tenantId: $tenant")
---
$(secretsync team-a borrowed team-a-sa borrow Opaque plain-utf8=value)"
refused() { [ "$(cond team-a borrowed status)" = False ]; }
check_within 30 "the SecretSync is refused (condition False)" -- refused
check_contains "... read as workload identity of team-a/team-a-sa: Entra refuses that token for the VM's identity" "AADSTS" "$(cond team-a borrowed message)"
check_rc 1 "... no Secret in team-a" -- kc -n team-a get secret borrowed
check_eq "... and IMDS was never asked (the node's identity is not borrowed)" "$imds_before" "$(served_by imds)"

# A service account that does not exist: 404 from the API server, a clear condition.
check_rc 0 "team-a: a SecretSync naming a service account that does not exist" -- \
    apply "$(secretsync team-a no-sa ghost-sa borrow Opaque plain-utf8=value)"
no_sa() { [ "$(cond team-a no-sa reason)" = ControllerSyncError ]; }
check_within 30 "... condition ControllerSyncError" -- no_sa
check_contains "... naming the missing service account and the fix" "kubectl -n team-a create serviceaccount ghost-sa" "$(cond team-a no-sa message)"

# An SPC without clientID: refused, never filled in from the node.
check_rc 0 "team-a: an SPC without clientID" -- apply "$(spc team-a no-client "    tenantId: $tenant")
---
$(secretsync team-a no-client team-a-sa no-client Opaque plain-utf8=value)"
no_client() { [ "$(cond team-a no-client reason)" = ControllerSyncError ]; }
check_within 30 "... refused: ControllerSyncError" -- no_client
check_contains "... saying the SPC needs parameters.clientID" "parameters.clientID" "$(cond team-a no-client message)"
check_eq "... IMDS still never asked" "$imds_before" "$(served_by imds)"

# AIO's own SecretSync (aio-ssc-sa, federated): synced as workload identity although the node uses IMDS.
check_rc 0 "azure-iot-operations: AIO's SPC (tenantID + clientId spellings, padded values) and a SecretSync of aio-ssc-sa" -- \
    apply "$(spc azure-iot-operations aio-spc "    clientId: ' $client '
    tenantID: '$tenant '")
---
$(secretsync azure-iot-operations aio-shrink aio-ssc-sa aio-spc Opaque plain-utf8=value opcua-trust-hex=trust)"
check_within 30 "Secret aio-shrink appears" -- has_secret azure-iot-operations aio-shrink
check_eq "... with the vault's value" "$(fact 'd["secrets"]["plain-utf8"]["value"]')" "$(data azure-iot-operations aio-shrink value)"
check_eq "... IMDS never asked" "$imds_before" "$(served_by imds)"
check_eq "... owned by its SecretSync (ownerReference)" "SecretSync/aio-shrink/$(kc -n azure-iot-operations get secretsync aio-shrink -o 'jsonpath={.metadata.uid}')" \
    "$(kc -n azure-iot-operations get secret aio-shrink -o 'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].uid}')"
check_eq "... written by aiosd's one Apply entry" "aiosd:Apply" \
    "$(kc -n azure-iot-operations get secret aio-shrink --show-managed-fields -o 'jsonpath={range .metadata.managedFields[*]}{.manager}:{.operation} {end}' | sed 's/ $//')"

# The mapping shrinks: the key it no longer maps is removed.
check_rc 0 "the SecretSync's mapping shrinks to value only" -- \
    apply "$(secretsync azure-iot-operations aio-shrink aio-ssc-sa aio-spc Opaque plain-utf8=value)"
shrunk() { [ "$(kc -n azure-iot-operations get secret aio-shrink -o 'jsonpath={.data}' | json_get '",".join(sorted(d))')" = value ]; }
check_within 30 "... the key trust is removed from the Secret" -- shrunk

# docker config content must be JSON (the API server would answer 422): refused before writing.
check_rc 0 "a kubernetes.io/dockerconfigjson SecretSync mapping a non-JSON value" -- \
    apply "$(secretsync azure-iot-operations aio-registry aio-ssc-sa aio-spc kubernetes.io/dockerconfigjson plain-utf8=.dockerconfigjson)"
bad_registry() { [[ $(cond azure-iot-operations aio-registry message) == *InvalidSecretContent* ]]; }
check_within 30 "... refused with InvalidSecretContent" -- bad_registry
check_not_contains "... without the value" "$(fact 'd["secrets"]["plain-utf8"]["value"]')" "$(cond azure-iot-operations aio-registry message)"
check_rc 1 "... no Secret" -- kc -n azure-iot-operations get secret aio-registry

# A Lease with the controller's name in `default` (anyone with access to a namespace can make one): no effect.
check_rc 0 "plant the controller's Lease in namespace default" -- kc -n default create -f - <<<'{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"29f1d54e.secret-sync.x-k8s.io","namespace":"default"},"spec":{"holderIdentity":"secrets-store-sync-controller-manager-0"}}'
check_rc 0 "plant a Deployment named like the controller in namespace default" -- kc -n default create -f - <<<"$(deployment default)"
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-still-synced-4Rt" >/dev/null
check_rc 1 "aiosctl sync --force --wait (exit 1: the team-a refusals still fail)" -- inside aiosctl sync --force --wait
# A retry of the refused cycle may run first and apply the value (the forced sync then waits for it, and finds
# the Secret unchanged): in the synced set either way, with the new value.
check "... aiosd still syncs SecretSyncs" -- in_synced_set azure-iot-operations/aio-shrink
check_eq "... with the new value" "PLANTED-still-synced-4Rt" "$(data azure-iot-operations aio-shrink value)"
check_rc 0 "aiosctl secret list" -- inside aiosctl secret list
check_not_contains "... and says nothing about a controller" "Secret Store extension" "$LAST_OUT"

# A SecretSync deleted while aiosd is stopped: its Secret goes anyway (owner reference, garbage collector).
check_rc 0 "stop aiosd" -- inside systemctl stop aiosd.service aiosd.socket
check_rc 0 "kubectl delete secretsync aio-shrink while aiosd is stopped" -- kc -n azure-iot-operations delete secretsync aio-shrink
check_within 20 "... its Secret is gone" -- no_secret azure-iot-operations aio-shrink
check_rc 0 "start aiosd" -- inside systemctl start aiosd.socket aiosd.service

# cluster.allowedNamespaces narrows which namespaces are synced.
inside sh -c 'printf "  allowedNamespaces: [azure-iot-operations]\n" >> /etc/aios/aiosd.yaml'
check "reload with cluster.allowedNamespaces: [azure-iot-operations]" -- inside systemctl reload aiosd.service
check_rc 1 "aiosctl sync --wait (right after a restart: the SecretSyncs are listed first, not skipped)" -- inside aiosctl sync --wait
check_contains "... team-a's SecretSyncs are refused: not in cluster.allowedNamespaces" "SecretSync team-a/borrowed: namespace team-a is not in cluster.allowedNamespaces" "$LAST_OUT"
not_allowed() { [[ $(cond team-a borrowed message) == *NamespaceNotAllowed* ]]; }
check_within 20 "the team-a SecretSync's condition says its namespace is not allowed" -- not_allowed

# AIO's Secret Store extension (Arc extension azure-secret-store): aiosd stands down for SecretSyncs.
check_rc 0 "an SSE-shaped deployment: kubectl create namespace azure-secret-store" -- kc create namespace azure-secret-store
check_rc 0 "... its Deployment secret-sync-controller (pods secret-sync-controller-...)" -- kc -n azure-secret-store create -f - <<<"$(deployment azure-secret-store)"
check_rc 0 "AIO's SecretSync for aiosd-managed data" -- apply "$(secretsync azure-iot-operations aio-after-sse aio-ssc-sa aio-spc Opaque plain-utf8=value)"
check_rc 0 "aiosctl sync --wait" -- inside aiosctl sync --wait
check_rc 1 "... aiosd does not sync SecretSyncs while the extension runs" -- kc -n azure-iot-operations get secret aio-after-sse
check_rc 0 "aiosctl secret list" -- inside aiosctl secret list
check_contains "... says aiosd stands down for the Secret Store extension" "aiosd stands down for SecretSyncs" "$LAST_OUT"
check_contains "... naming what it found" "Deployment azure-secret-store/secret-sync-controller" "$LAST_OUT"
check_journal "... and says so in the journal" -u aiosd.service -- MESSAGE="Secret Store extension detected; aiosd stands down for SecretSyncs"

journal=$("$TB" journal "$E2E_NAME" -u aiosd.service -o verbose 2>&1)
check_not_contains "no planted value in aiosd's journal" "PLANTED" "$journal"
check_not_contains "no planted value in the SecretSyncs' status" "PLANTED" "$(kc get secretsyncs -A -o json)"
e2e_finish
