#!/bin/bash
# aiosctl doctor: on a site before workload identity is enabled it fails the issuer and the Entra exchange with
# the az commands that fix them; on a healthy site every check passes (exit 0); a vault that refuses the
# identity (403) fails with the role-assignment command naming the identity's object id; an invalid aiosd.yaml
# on disk fails with the file, line and key; a deleted service account, one Entra does not trust, an unselected
# SecretSync, a short max token expiration, a stopped K3s, a clock behind Entra ID's, a sandbox that cannot write and
# a nearly full disk each fail or warn with their fix, and the printed fix,
# run as printed where the testbed can, repairs the site. --json carries the same findings as fields.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init doctor
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../aio"

finding() { json_get "[f for f in d[\"findings\"] if f[\"check\"] == \"$1\"][0][\"$2\"]" <<<"$DOCTOR_JSON"; }
doctor_json() { DOCTOR_JSON=$(inside aiosctl doctor --json); }

aio_identity
check_rc 0 "secret add plain" -- inside aiosctl secret add plain --vault "$vault" --object plain-utf8 --key value

# Broken site 1: K3s still runs with its default issuer.
check_rc 1 "doctor before workload identity is enabled exits 1" -- inside aiosctl doctor
out=$LAST_OUT
check_contains "... FAIL issuer.configured" "FAIL  issuer.configured" "$out"
check_contains "... with the az command that turns on Arc's issuer" "az connectedk8s update -g RESOURCE_GROUP -n CLUSTER --enable-oidc-issuer --enable-workload-identity" "$out"
check_contains "... FAIL entra.token with Entra's code" "AADSTS70021" "$out"
# K3s' default issuer cannot be federated (Entra cannot reach it): the fix is to enable workload identity, never a
# federated credential for that issuer (issue 12).
check_contains "... and the fix is to enable workload identity first" "enable workload identity first" "$out"
check_not_contains "... not a federated credential for K3s' default issuer" "az identity federated-credential create" "$out"
check_contains "... k3s is ready" "ok    k3s.ready" "$out"
check_contains "... the config is valid" "ok    config" "$out"
check_contains "... the clock agrees with Entra ID" "ok    clock" "$out"

# Healthy.
check_rc 0 "workload-identity enable" -- inside aiosctl workload-identity enable --issuer "$issuer"
check_rc 0 "sync --wait" -- inside aiosctl sync --wait
check_rc 0 "doctor on a healthy site exits 0" -- inside aiosctl doctor
out=$LAST_OUT
check_not_contains "... no check fails" "FAIL" "$out"
check_contains "... the served issuer is the configured one" "ok    issuer.served" "$out"
check_contains "... the vault is listable" "vault $vault is listable" "$out"
check_contains "... says all passed" "all checks passed" "$out"
doctor_json
check_eq "--json: ok is true" true "$(json_get 'd["ok"]' <<<"$DOCTOR_JSON")" "$DOCTOR_JSON"
check_eq "--json: entra.token ok" ok "$(finding entra.token status)"
oid=$(finding entra.token detail | grep -o '[0-9a-f-]\{36\}$')
check_ne "... naming the identity's object id" "" "$oid" "$(finding entra.token detail)"

check_contains "... K3s runs the configured issuer (its journal's Running kube-apiserver line)" "ok    issuer.running" "$out"
check_contains "... aiosd's sandbox lets it write where it must" "ok    sandbox.write" "$out"
check_contains "... the Secret Store extension is absent, and what that means" "Secret Store extension is not installed: aiosd syncs the SecretSyncs" "$out"
check_eq "--json: issuer.running ok" ok "$(finding issuer.running status)"
check_contains "--json: sandbox.write names the state directory" "/var/lib/aiosd" "$(finding sandbox.write detail)"
# The testbed does not serve the issuer URL's discovery document (Entra's emulator is given the issuer's keys), so
# from the host it is unreachable: a warning, not a failure, since Entra fetches it from the internet.
check_eq "--json: issuer.discovery is a warning when the issuer URL cannot be reached from the host" warn "$(finding issuer.discovery status)"
check_contains "... naming the discovery URL" "/.well-known/openid-configuration is not reachable from this host" "$(finding issuer.discovery detail)"

# Broken site: the issuer was changed in K3s' files, but K3s was not restarted (what K3s runs is not what it says).
dropin=/etc/rancher/k3s/config.yaml.d/90-aios.yaml
inside cp "$dropin" /tmp/90-aios.yaml.before
inside sed -i "s|service-account-issuer=$issuer|service-account-issuer=https://moved.example/|" "$dropin"
check_rc 1 "doctor with an issuer change K3s was not restarted for exits 1" -- inside aiosctl doctor
check_contains "... FAIL issuer.running" "FAIL  issuer.running" "$LAST_OUT"
check_contains "... naming the issuer K3s started its API server with" "K3s started its API server with issuer $issuer; K3s is configured with https://moved.example/" "$LAST_OUT"
check_contains "... with the restart that applies it" "fix: sudo aiosctl k3s restart" "$LAST_OUT"
inside cp /tmp/90-aios.yaml.before "$dropin"
check_rc 0 "doctor passes again once the file is back" -- inside aiosctl doctor

kube() { inside env KUBECONFIG=/etc/rancher/k3s/k3s.yaml "$@"; }
fix_of() { json_get "[f for f in d[\"findings\"] if f[\"check\"] == \"$1\"][0].get(\"fix\") or \"\"" <<<"$DOCTOR_JSON"; }

# Broken site: the service account whose tokens aiosd exchanges was deleted. The printed fix, run as printed,
# repairs the site.
check "delete the service account aio-ssc-sa" -- kube kubectl -n azure-iot-operations delete serviceaccount aio-ssc-sa
check_rc 1 "doctor without the service account exits 1" -- inside aiosctl doctor
check_contains "... FAIL service-account" "FAIL  service-account" "$LAST_OUT"
doctor_json
fix=$(fix_of service-account)
check_eq "... the fix is the kubectl command that creates it" "kubectl create serviceaccount aio-ssc-sa -n azure-iot-operations" "$fix"
check "run the printed fix" -- kube sh -c "$fix"
check_rc 0 "doctor passes once the service account is back" -- inside aiosctl doctor

# Broken site: aiosd is told to use a service account that has no federated credential in Entra: the exchange is
# refused, and the fix is the az command that federates exactly that subject with the issuer in force.
check "create service account aio-other-sa" -- kube kubectl -n azure-iot-operations create serviceaccount aio-other-sa
inside cp /etc/aios/aiosd.yaml /tmp/aiosd.yaml.before
inside sh -c "sed -i 's|^identity:|identity:\n  serviceAccount: azure-iot-operations/aio-other-sa|' /etc/aios/aiosd.yaml"
check "reload with identity.serviceAccount aio-other-sa" -- inside systemctl reload aiosd.service
check_rc 1 "doctor with a service account Entra does not trust exits 1" -- inside aiosctl doctor
check_contains "... FAIL entra.token with Entra's code for an unknown subject" "AADSTS700213" "$LAST_OUT"
doctor_json
fix=$(fix_of entra.token)
check_contains "... the fix federates that service account's subject" "az identity federated-credential create" "$fix"
check_contains "... for system:serviceaccount:azure-iot-operations:aio-other-sa" "--subject system:serviceaccount:azure-iot-operations:aio-other-sa" "$fix"
check_contains "... with the issuer in force" "--issuer $issuer" "$fix"
inside cp /tmp/aiosd.yaml.before /etc/aios/aiosd.yaml
check "reload with the original identity" -- inside systemctl reload aiosd.service
check_rc 0 "doctor passes again with the federated service account" -- inside aiosctl doctor

# Broken site: a SecretSync without aiosd's label is left out (cluster.secretSyncs: labelled): a warning, not a
# failure, with the kubectl label command; the printed fix, run as printed, selects it.
inside sh -c 'cat > /tmp/unlabelled.yaml' <<EOF2
apiVersion: secret-sync.x-k8s.io/v1alpha1
kind: SecretSync
metadata:
  name: forgotten
  namespace: azure-iot-operations
spec:
  serviceAccountName: aio-ssc-sa
  secretProviderClassName: forgotten-spc
  secretObject:
    type: Opaque
    data:
      - sourcePath: plain-utf8
        targetKey: value
EOF2
check "apply a SecretSync without aiosd's label" -- kube kubectl apply -f /tmp/unlabelled.yaml
check_rc 0 "doctor with an unselected SecretSync still exits 0 (a warning)" -- inside aiosctl doctor
check_contains "... WARN secretsyncs.selected naming it" "azure-iot-operations/forgotten" "$LAST_OUT"
doctor_json
check_eq "--json: secretsyncs.selected is a warning" warn "$(finding secretsyncs.selected status)"
fix=$(fix_of secretsyncs.selected)
check_contains "... the fix labels it" "kubectl label secretsync -n azure-iot-operations forgotten aios.microsoft.com/agent=aiosd" "$fix"
check "run the printed fix" -- kube sh -c "$fix"
doctor_json
check_eq "--json: secretsyncs.selected ok once labelled" ok "$(finding secretsyncs.selected status)" "$(finding secretsyncs.selected detail)"
check "delete the SecretSync again" -- kube kubectl -n azure-iot-operations delete secretsync forgotten

# Broken site: service-account-max-token-expiration below what AIO expects: a warning with the enable command that
# sets it; the printed fix, run as printed (as root), clears it.
check_rc 0 "workload-identity enable --max-token-expiration 1h" -- inside aiosctl workload-identity enable --issuer "$issuer" --max-token-expiration 1h
doctor_json
check_eq "--json: issuer.max-token-expiration is a warning at 1h" warn "$(finding issuer.max-token-expiration status)" "$(finding issuer.max-token-expiration detail)"
fix=$(fix_of issuer.max-token-expiration)
check_eq "... the fix sets 24h with the issuer in force" "sudo aiosctl workload-identity enable --issuer $issuer --max-token-expiration 24h" "$fix"
check_rc 0 "run the printed fix" -- inside sh -c "${fix#sudo }"
doctor_json
check_eq "--json: issuer.max-token-expiration ok at 24h" ok "$(finding issuer.max-token-expiration status)" "$(finding issuer.max-token-expiration detail)"

# Broken site: K3s is stopped.
check "stop k3s" -- inside systemctl stop k3s.service
check_rc 1 "doctor with K3s stopped exits 1" -- inside aiosctl doctor
check_contains "... FAIL k3s.ready" "FAIL  k3s.ready" "$LAST_OUT"
check_contains "... with where to look" "fix: sudo systemctl status k3s; sudo journalctl -u k3s -n 50" "$LAST_OUT"
check "start k3s" -- inside systemctl start k3s.service
if wait_for 120 inside aiosctl doctor; then ok "doctor passes again once K3s is back"; else not_ok "doctor passes again once K3s is back" "$(inside aiosctl doctor 2>&1)"; fi

# Broken site: this host's clock is behind Entra ID's (the emulator's Date header is put ahead): 90 s is a warning,
# 400 s a failure, each with the NTP fix.
"$TB" fault "$E2E_NAME" entra clock-skew 400 >/dev/null
check_rc 1 "doctor with the clock 400 s behind Entra ID's exits 1" -- inside aiosctl doctor
check_contains "... FAIL clock, saying how far and which way" "FAIL  clock" "$LAST_OUT"
check_contains "... behind Entra ID's" "behind Entra ID's" "$LAST_OUT"
check_contains "... with the NTP fix" "fix: sudo timedatectl set-ntp true; timedatectl timesync-status" "$LAST_OUT"
"$TB" fault "$E2E_NAME" entra clock-skew 90 >/dev/null
doctor_json
check_eq "--json: the clock is a warning 90 s off" warn "$(finding clock status)" "$(finding clock detail)"
"$TB" fault "$E2E_NAME" entra clock-skew 0 >/dev/null
check_rc 0 "doctor passes with the clocks agreeing again" -- inside aiosctl doctor

# Broken site: a site drop-in makes K3s' drop-in directory read-only for aiosd (its sandbox no longer lets it write
# where workload-identity enable must): FAIL sandbox.write naming the directory and the ReadWritePaths= fix.
dropins=/etc/systemd/system/aiosd.service.d
inside mkdir -p "$dropins"
inside sh -c "printf '[Service]\nReadOnlyPaths=/etc/rancher/k3s/config.yaml.d\n' > $dropins/90-site.conf"
check "daemon-reload and restart aiosd with the site's drop-in (an admin's change)" -- \
    inside sh -c 'systemctl daemon-reload && systemctl restart aiosd.service'
check_rc 1 "doctor when aiosd's sandbox cannot write K3s' drop-in directory exits 1" -- inside aiosctl doctor
check_contains "... FAIL sandbox.write naming the directory" "aiosd cannot write /etc/rancher/k3s/config.yaml.d" "$LAST_OUT"
check_contains "... with the ReadWritePaths= fix" "a drop-in with ReadWritePaths=/etc/rancher/k3s/config.yaml.d" "$LAST_OUT"
inside rm -f "$dropins/90-site.conf"
check "daemon-reload and restart aiosd without it" -- inside sh -c 'systemctl daemon-reload && systemctl restart aiosd.service'
check_rc 0 "doctor passes again" -- inside aiosctl doctor

# Broken site: /var/lib/aiosd on a nearly full file system (a 4 MiB tmpfs: below the 20 MiB floor), aiosd started on
# it: FAIL disk with the fix; back on the real disk: ok.
check "mount a 4 MiB file system on /var/lib/aiosd and restart aiosd on it" -- \
    inside sh -c 'systemctl stop aiosd.service && mount -t tmpfs -o size=4m,mode=0750 tmpfs /var/lib/aiosd && systemctl start aiosd.service'
check_rc 1 "doctor with 4 MiB free for /var/lib/aiosd exits 1" -- inside aiosctl doctor
check_contains "... FAIL disk with the free space" "FAIL  disk" "$LAST_OUT"
check_contains "... and the fix" "fix: df -h /var/lib/aiosd; sudo journalctl --vacuum-size=200M" "$LAST_OUT"
check "back on the real disk" -- inside sh -c 'systemctl stop aiosd.service && umount /var/lib/aiosd && systemctl start aiosd.service'
check_rc 0 "doctor passes again" -- inside aiosctl doctor

# Broken site: aiosd is pointed at a kubeconfig that does not exist (sync.kubeconfig): FAIL k3s.present with the fix.
inside cp /etc/aios/aiosd.yaml /tmp/aiosd.yaml.before
inside sh -c "printf '  kubeconfig: /etc/rancher/k3s/missing.yaml\n' >> /etc/aios/aiosd.yaml"
check "reload with sync.kubeconfig naming a missing file" -- inside systemctl reload aiosd.service
check_rc 1 "doctor without a usable kubeconfig exits 1" -- inside aiosctl doctor
check_contains "... FAIL k3s.present naming the file" "FAIL  k3s.present" "$LAST_OUT"
check_contains "... with the fix" "or set sync.kubeconfig in /etc/aios/aiosd.yaml" "$LAST_OUT"
inside cp /tmp/aiosd.yaml.before /etc/aios/aiosd.yaml
check "reload with the original configuration" -- inside systemctl reload aiosd.service
check_rc 0 "doctor passes again" -- inside aiosctl doctor

# Broken site 2: the vault refuses the identity (Key Vault's 403 Forbidden).
"$TB" fault "$E2E_NAME" keyvault 403 --code Forbidden --match "GET /secrets?" >/dev/null
check_rc 1 "doctor while the vault answers 403 exits 1" -- inside aiosctl doctor
check_contains "... FAIL vault.access" "FAIL  vault.access" "$LAST_OUT"
check_contains "... with the role assignment for the identity's object id and the vault" \
    "az role assignment create --role \"Key Vault Secrets User\" --assignee-object-id $oid --assignee-principal-type ServicePrincipal --scope \$(az keyvault show --name $vault --query id -o tsv)" "$LAST_OUT"
"$TB" fault "$E2E_NAME" keyvault clear >/dev/null

# Broken site 3: aiosd.yaml was edited into an invalid file (not yet reloaded, so aiosd still runs the old one).
inside sh -c "printf 'sync:\n  interval: soon\n' >> /etc/aios/aiosd.yaml"
check_rc 1 "doctor with an invalid aiosd.yaml on disk exits 1" -- inside aiosctl doctor
check_contains "... FAIL config naming the file, line and key" "FAIL  config" "$LAST_OUT"
check_contains "... the key" "sync" "$LAST_OUT"
check_contains "... with the command that fixes it" "fix: sudoedit /etc/aios/aiosd.yaml && sudo systemctl reload aiosd" "$LAST_OUT"
e2e_finish
