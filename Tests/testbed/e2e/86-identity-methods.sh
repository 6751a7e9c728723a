#!/bin/bash
# The other ways aiosd can authenticate to Key Vault: an app's client secret (from a root-owned 0600 file),
# the machine's managed identity through Azure IMDS, and through the Azure Arc agent's key-file challenge
# (key files himds:himds 0640: aiosd joins group himds through the package's drop-in, with or without the group).
# On an Arc-connected cluster (Arc's ConfigMap azure-arc/azure-clusterconfig), `aiosctl doctor` reads the cluster's
# OIDC issuer from Azure Resource Manager with the managed identity: the IMDS identity has no role on the cluster
# (403: the Reader role assignment to run), the Arc machine's identity is a Reader (the issuer is offered as the fix).
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init ident
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../aio"

fixture=$("$TB" fixture "$E2E_NAME" --json)
fact() { json_get "$1" <<<"$fixture"; }
tenant=$(fact 'd["tenantId"]'); vault=$(fact 'd["vault"]')
app=$(fact 'd["clientSecretApp"]["clientId"]'); app_secret=$(fact 'd["clientSecretApp"]["clientSecret"]')
ns=azure-iot-operations
data() { inside kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n "$ns" get secret "$1" -o "jsonpath={.data.$2}" | base64 -d; }
configure() { # configure METHOD-LINES...: writes aiosd.yaml's identity section and reloads
    inside sh -c "printf 'logLevel: trace\nidentity:\n  tenantId: $tenant\n%b\nsync:\n  interval: 1h\n  jitter: 0s\n' '$1' > /etc/aios/aiosd.yaml && systemctl reload aiosd.service"
}
served_by() { "$TB" counts "$E2E_NAME" | json_get "(d[\"$1\"] or {}).get(\"total\", 0)"; }
arm_answered() { "$TB" counts "$E2E_NAME" | json_get "d[\"arm\"][\"byStatus\"].get(\"$1\", 0)"; }
finding() { inside aiosctl doctor --json | json_get "[f for f in d[\"findings\"] if f[\"check\"] == \"issuer.configured\"][0][\"$1\"]"; }
arc_sub=$(fact 'd["arcCluster"]["subscriptionId"]'); arc_group=$(fact 'd["arcCluster"]["resourceGroup"]')
arc_name=$(fact 'd["arcCluster"]["name"]'); arc_id=$(fact 'd["arcCluster"]["id"]'); arc_issuer=$(fact 'd["arcCluster"]["issuerUrl"]')
imds_oid=$(fact 'd["managedIdentities"]["imds"]["identities"]["systemAssigned"]["objectId"]')
arc_oid=$(fact 'd["managedIdentities"]["arc"]["identities"]["systemAssigned"]["objectId"]')

check_rc 0 "secret add plain" -- inside aiosctl secret add plain --vault "$vault" --object plain-utf8 --key value

# Client secret: the file must be root-owned and private.
check "configure clientSecret (reload succeeds)" -- configure "  method: clientSecret\n  clientId: $app\n  clientSecretFile: /etc/aios/client-secret"
inside sh -c "umask 022; printf '%s\n' '$app_secret' > /etc/aios/client-secret"
check_rc 1 "clientSecret: a world-readable secret file is refused" -- inside aiosctl sync --wait
check_contains "... saying how to fix it" "chmod" "$LAST_OUT"
check_not_contains "... without echoing the secret" "$app_secret" "$LAST_OUT"
inside chmod 0600 /etc/aios/client-secret
check_rc 0 "clientSecret: sync with a 0600 secret file succeeds" -- inside aiosctl sync --wait
check_eq "... the Secret has the vault's value" "$(fact 'd["secrets"]["plain-utf8"]["value"]')" "$(data plain value)"
inside sh -c "printf 'wrong-secret\n' > /etc/aios/client-secret"
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-after-wrong-secret" >/dev/null
check_rc 1 "clientSecret: a wrong secret fails with Entra's code (sync --force drops the cached token)" -- inside aiosctl sync --force --wait
check_contains "... AADSTS7000215" "AADSTS7000215" "$LAST_OUT"

# Managed identity through IMDS (169.254.169.254, header Metadata: true).
before=$(served_by imds)
check "configure managedIdentity via IMDS (reload succeeds)" -- configure "  method: managedIdentity\n  managedIdentityEndpoint: imds"
check_rc 0 "managedIdentity (IMDS): sync succeeds" -- inside aiosctl sync --wait
check_eq "... with the new value" "PLANTED-after-wrong-secret" "$(data plain value)"
check "... IMDS issued the token" -- test "$(served_by imds)" -gt "$before"

# The cluster is connected to Azure Arc: Arc's agents keep the resource's coordinates in this ConfigMap.
inside kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml create namespace azure-arc >/dev/null
check "Arc's ConfigMap azure-arc/azure-clusterconfig (subscription, resource group, cluster name)" -- \
    inside kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n azure-arc create configmap azure-clusterconfig \
        --from-literal=AZURE_SUBSCRIPTION_ID="$arc_sub" --from-literal=AZURE_RESOURCE_GROUP="$arc_group" \
        --from-literal=AZURE_RESOURCE_NAME="$arc_name" --from-literal=AZURE_REGION=westeurope \
        --from-literal=AZURE_TENANT_ID="$tenant" --from-literal=CLUSTER_TYPE=ConnectedClusters
forbidden=$(arm_answered 403)
check_rc 1 "doctor with the IMDS identity (no role on the Arc cluster) exits 1" -- inside aiosctl doctor
out=$LAST_OUT
check_contains "... FAIL issuer.configured (K3s runs its default issuer)" "FAIL  issuer.configured" "$out"
check_contains "... the az command names this cluster's resource group and name, not placeholders" \
    "az connectedk8s update -g $arc_group -n $arc_name --enable-oidc-issuer --enable-workload-identity" "$out"
check_contains "... says Azure refused the identity (403) and that it needs Reader" \
    "the issuer could not be read from Azure: the managed identity may not read the Arc cluster $arc_name (HTTP 403; it needs Reader on it" "$out"
check_contains "... with the role assignment for the IMDS identity's object id on the cluster" \
    "az role assignment create --role Reader --assignee-object-id $imds_oid --assignee-principal-type ServicePrincipal --scope $arc_id" "$out"
check "... Azure Resource Manager answered 403 AuthorizationFailed" -- test "$(arm_answered 403)" -gt "$forbidden"

# Managed identity through the Azure Arc agent (401 Basic realm=<key file>, then the key). HIMDS runs as user
# himds and its key files are himds:himds 0640; the package was installed before the Arc agent (the fixture),
# so aiosd is not in group himds yet and says how to fix that.
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-via-arc" >/dev/null
check_eq "the Arc emulator runs as user himds" "himds" "$(inside ps -o user= -p "$(inside systemctl show -P MainPID aios-azure-arc.service)")"
check_rc 1 "no unit drop-in yet: the himds group did not exist when the package was configured" -- \
    inside test -e /etc/systemd/system/aiosd.service.d/50-arc-himds.conf
check "configure managedIdentity via Arc (reload succeeds)" -- configure "  method: managedIdentity\n  managedIdentityEndpoint: arc"
check_rc 1 "managedIdentity (Arc) before aiosd is in group himds: sync fails" -- inside aiosctl sync --wait
check_contains "... saying the key file is readable by group himds only" "readable by group himds only" "$LAST_OUT"
check_contains "... and how to fix it" "sudo dpkg-reconfigure aios-agent" "$LAST_OUT"
key=$(inside sh -c 'ls -t /var/opt/azcmagent/tokens/*.key | head -1')
check_eq "... the key file HIMDS wrote is himds:himds 0640" "himds:himds 640" "$(inside stat -c '%U:%G %a' "$key")"
check_rc 0 "dpkg-reconfigure aios-agent (what the hint says)" -- inside env DEBIAN_FRONTEND=noninteractive dpkg-reconfigure aios-agent
check_contains "... writes the drop-in SupplementaryGroups=himds" "SupplementaryGroups=himds" \
    "$(inside cat /etc/systemd/system/aiosd.service.d/50-arc-himds.conf)"
check "... and aiosd runs in group himds" -- inside sh -c \
    "grep '^Groups:' /proc/\$(systemctl show -P MainPID aiosd.service)/status | tr ' \t' '\n\n' | grep -qx \$(getent group himds | cut -d: -f3)"
before=$(served_by arc)
check_rc 0 "managedIdentity (Arc): sync succeeds" -- inside aiosctl sync --wait
check_eq "... with the new value" "PLANTED-via-arc" "$(data plain value)"
check "... the Arc endpoint issued the token (challenge + token)" -- test "$(served_by arc)" -ge $((before + 2))

# The Arc machine's identity is a Reader on the resource group: doctor offers the issuer Azure reports.
served=$(arm_answered 200)
check_rc 1 "doctor with the Arc machine's identity (Reader) exits 1 (K3s still runs its default issuer)" -- inside aiosctl doctor
out=$LAST_OUT
check_contains "... FAIL issuer.configured naming the issuer Azure reports for the cluster" \
    "Azure reports the Arc cluster's issuer: $arc_issuer" "$out"
check_contains "... and the fix is that issuer, read from Azure" "fix: sudo aiosctl workload-identity enable --issuer $arc_issuer" "$out"
check_not_contains "... not a command to copy it by hand" "az connectedk8s show" "$out"
check "... Azure Resource Manager served the cluster (200)" -- test "$(arm_answered 200)" -gt "$served"
check_eq "... to the Arc machine's identity" true \
    "$("$TB" counts "$E2E_NAME" | json_get "d[\"arm\"][\"byClient\"].get(\"$arc_oid\", 0) > 0")"
check_rc 0 "the offered fix: workload-identity enable --issuer <from Azure>" -- \
    inside aiosctl workload-identity enable --issuer "$arc_issuer"
check_eq "doctor: issuer.configured ok once K3s has Azure's issuer" ok "$(finding status)"
check_contains "... saying it is the Arc cluster's in Azure" "K3s is configured with issuer $arc_issuer, the Arc cluster's in Azure" "$(finding detail)"
moved=https://westeurope.oic.prod-arc.azure.com/$tenant/0a1b2c3d-0000-4000-8000-000000000086/
inside curl -fsS -o /dev/null -X PATCH -d "{\"issuerUrl\": \"$moved\"}" "http://127.0.0.1:8085/_admin/connectedClusters/$arc_name"
check_eq "Azure now reports another issuer for the cluster: issuer.configured fails" fail "$(finding status)"
check_contains "... naming both" "K3s is configured with issuer $arc_issuer, but Azure reports the Arc cluster's issuer as $moved" "$(finding detail)"
check_eq "... with Azure's as the fix" "sudo aiosctl workload-identity enable --issuer $moved" "$(finding fix)"
inside curl -fsS -o /dev/null -X DELETE "http://127.0.0.1:8085/_admin/connectedClusters/$arc_name"
"$TB" fault "$E2E_NAME" arc 503 --count 100 >/dev/null
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-not-yet" >/dev/null
check_rc 1 "managedIdentity (Arc) unavailable: sync fails (sync --force drops the cached token)" -- inside aiosctl sync --force --wait
check_eq "... and the last good Secret stays" "PLANTED-via-arc" "$(data plain value)"
"$TB" fault "$E2E_NAME" arc clear >/dev/null

# The Arc agent removed (its group gone): reconfiguring drops the drop-in and aiosd still starts (systemd
# refuses a unit whose SupplementaryGroups= names a missing group).
inside sh -c 'systemctl stop aios-azure-arc.service; deluser --quiet --system himds; delgroup --quiet --system himds' >/dev/null 2>&1
check_rc 0 "without the himds group, dpkg-reconfigure aios-agent" -- inside env DEBIAN_FRONTEND=noninteractive dpkg-reconfigure aios-agent
check_rc 1 "... removes the drop-in" -- inside test -e /etc/systemd/system/aiosd.service.d/50-arc-himds.conf
check_within 10 "... and aiosd is active" -- inside systemctl is-active -q aiosd.service

journal=$("$TB" journal "$E2E_NAME" -u aiosd.service -o verbose 2>&1)
check_not_contains "no planted value or client secret in aiosd's journal" "PLANTED" "$journal"
e2e_finish
