#!/bin/bash
# Secret sync end to end: Key Vault (emulated) -> Kubernetes Secrets (K3s stand-in), authenticated by workload
# identity of azure-iot-operations/aio-ssc-sa. Before `workload-identity enable` Entra refuses (AADSTS700211,
# with the fix); after it, plain, hex, base64, pinned-version, PEM and PFX certificates land in Kubernetes.
# Steady state fetches no value and writes no Secret; rotation, outages, 429 storms, deletion in the vault and
# a Secret the agent does not own behave as documented; no planted value leaks.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init sync
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../aio"

fixture=$("$TB" fixture "$E2E_NAME" --json)
fact() { json_get "$1" <<<"$fixture"; }
tenant=$(fact 'd["tenantId"]'); client=$(fact 'd["clientId"]'); issuer=$(fact 'd["issuer"]'); vault=$(fact 'd["vault"]')
pinned=$(fact 'd["secrets"]["rotated"]["versionIds"][0]')
check_eq "the fixture names a vault" aios-testbed-kv "$vault"
ns=azure-iot-operations
kc() { inside kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n "$ns" "$@"; }
data() { kc get secret "$1" -o "jsonpath={.data.${2//./\\.}}" | base64 -d; }
counts() { "$TB" counts "$E2E_NAME"; }
sync_wait() { inside aiosctl sync --wait; }

inside sh -c "cat > /etc/aios/aiosd.yaml" <<EOF2
logLevel: trace
identity:
  tenantId: $tenant
  clientId: $client
sync:
  interval: 1h
  jitter: 0s
EOF2
check "reload aiosd with the identity" -- inside systemctl reload aiosd.service

check_rc 0 "secret add plain (utf-8)" -- inside aiosctl secret add plain --vault "$vault" --object plain-utf8 --key value
check_contains "... says where it wrote and how to sync" "/etc/aios/secrets.d/plain.yaml" "$LAST_OUT"
check_rc 0 "secret add opcua (hex, like AIO's certificate files)" -- inside aiosctl secret add opcua --vault "$vault" --object opcua-trust-hex --encoding hex --key trust.der
check_rc 0 "secret add blob (base64)" -- inside aiosctl secret add blob --vault "$vault" --object blob-base64 --encoding base64 --key blob.bin
check_rc 0 "secret add pinned (a pinned version)" -- inside aiosctl secret add pinned --vault "$vault" --object rotated --version "$pinned" --key value
check_rc 0 "secret add web-pem (PEM certificate -> kubernetes.io/tls)" -- inside aiosctl secret add web-pem --vault "$vault" --object tls-pem --type tls
check_rc 0 "secret add web-pfx (PKCS#12 certificate -> kubernetes.io/tls)" -- inside aiosctl secret add web-pfx --vault "$vault" --object tls-pfx --type tls
check_rc 2 "secret add refuses a bad encoding (usage)" -- inside aiosctl secret add bad --vault "$vault" --object x --encoding utf16
check_rc 1 "secret add refuses a bad vault name" -- inside aiosctl secret add bad --vault "no_such vault" --object x
check_contains "... naming the field" "keyvaultName" "$LAST_OUT"
check_rc 1 "secret add refuses an existing name" -- inside aiosctl secret add plain --vault "$vault" --object plain-utf8
check_eq "no file was written for the refused definitions" "blob.yaml opcua.yaml pinned.yaml plain.yaml web-pem.yaml web-pfx.yaml" \
    "$(inside ls /etc/aios/secrets.d | tr '\n' ' ' | sed 's/ $//')"
check_rc 0 "secret list shows the six, pending" -- inside aiosctl secret list
check_contains "... with source and target" "azure-iot-operations/web-pfx" "$LAST_OUT"

# Before workload identity is enabled the API server's tokens carry the default issuer: Entra refuses.
check_rc 1 "sync --wait fails before workload identity is enabled" -- sync_wait
check_contains "... with AADSTS700211 (no credential has that issuer)" "AADSTS700211" "$LAST_OUT"
check_contains "... naming the issuer presented" "https://kubernetes.default.svc.cluster.local" "$LAST_OUT"
check_contains "... saying to enable workload identity first" "enable workload identity first" "$LAST_OUT"
check_contains "... with the Arc command" "az connectedk8s update --name <CLUSTER> --resource-group <RESOURCE-GROUP> --enable-oidc-issuer --enable-workload-identity" "$LAST_OUT"
check_contains "... and aiosd's" "aiosctl workload-identity enable" "$LAST_OUT"
check_not_contains "... never to federate K3s' default issuer" "az identity federated-credential create" "$LAST_OUT"
check_rc 1 "no Secret was created" -- kc get secret plain

check_rc 0 "workload-identity enable --issuer (the fixture's federated issuer)" -- inside aiosctl workload-identity enable --issuer "$issuer"
check_rc 0 "sync --wait succeeds" -- sync_wait
check_contains "... applying all six" "6 applied" "$LAST_OUT"

planted_plain=$(fact 'd["secrets"]["plain-utf8"]["value"]')
check_eq "plain: kubectl shows the vault's value" "$planted_plain" "$(data plain value)"
check_eq "opcua: the hex value is decoded to the DER file" \
    "$(inside sha256sum /etc/aios-testbed/aio/certs/opcua-trust.der | cut -d' ' -f1)" "$(data opcua trust.der | sha256sum | cut -d' ' -f1)"
check_eq "blob: the base64 value is decoded to the binary file" \
    "$(inside sha256sum /etc/aios-testbed/aio/certs/blob.bin | cut -d' ' -f1)" "$(data blob blob.bin | sha256sum | cut -d' ' -f1)"
check_eq "pinned: the pinned (oldest) version's value" "PLANTED-rotated-v1" "$(data pinned value)"
check_eq "web-pem: type kubernetes.io/tls" "kubernetes.io/tls" "$(kc get secret web-pem -o 'jsonpath={.type}')"
chain=$(inside sh -c 'cd /etc/aios-testbed/aio/certs && cat leaf.crt intermediate.crt root.crt')
check_eq "web-pem: tls.crt is leaf, intermediate, root" "$chain" "$(data web-pem tls.crt)"
check_eq "web-pem: tls.key is the leaf's key (PKCS#8)" "$(inside cat /etc/aios-testbed/aio/certs/leaf.key)" "$(data web-pem tls.key)"
check_eq "web-pfx: tls.crt from the PKCS#12 is the same chain" "$chain" "$(data web-pfx tls.crt)"
check_eq "web-pfx: tls.key from the PKCS#12 is the same key" "$(inside cat /etc/aios-testbed/aio/certs/leaf.key)" "$(data web-pfx tls.key)"
check_eq "Secrets carry the owner label" "aiosd" "$(kc get secret plain -o 'jsonpath={.metadata.labels.app\.kubernetes\.io/managed-by}')"
hash=$(kc get secret plain -o 'jsonpath={.metadata.annotations.aios\.microsoft\.com/content-hash}')
check_contains "... and a keyed content hash, not the content" "hmac-sha256:" "$hash"
check_eq "... written by aiosd's field manager" "aiosd" "$(kc get secret plain -o 'jsonpath={.metadata.managedFields[0].manager}')"
# aiosd speaks HTTP/1.1 itself; libcurl (and the ~25 libraries it links) is loaded only for a request through a proxy.
check "aiosd synced from Key Vault and the API server without loading libcurl" -- \
    inside sh -c '! grep -q libcurl "/proc/$(systemctl show -P MainPID aiosd)/maps"'
check_journal "the journal has one entry per synced secret with its fields" -u aiosd.service -- \
    MESSAGE="Secret synced" AIOS_SECRET=web-pfx AIOS_VAULT="$vault" AIOS_OUTCOME=applied
check_journal "... and one per object read from the vault, with its version" -u aiosd.service -- \
    MESSAGE="Key Vault object fetched" AIOS_OBJECT=tls-pfx AIOS_VAULT="$vault" AIOS_OUTCOME=fetched AIOS_VERSION="$(fact 'd["secrets"]["tls-pfx"]["version"]')"
check_rc 0 "secret show plain" -- inside aiosctl secret show plain
check_contains "... shows the vault version" "vault version: $(fact 'd["secrets"]["plain-utf8"]["version"]')" "$LAST_OUT"
check_contains "... and the state" "state:    synced" "$LAST_OUT"
check_contains "... and who aiosd reads the vault as" "identity: workload identity $client via service account azure-iot-operations/aio-ssc-sa, tenant $tenant" "$LAST_OUT"

# Steady state: one list pass, no value fetched, nothing written.
"$TB" counts "$E2E_NAME" --reset >/dev/null
check_rc 0 "a second sync succeeds" -- sync_wait
check_contains "... with nothing to do" "0 applied, 6 unchanged" "$LAST_OUT"
c=$(counts)
check_eq "steady state: no value fetched from Key Vault" 0 "$(json_get 'd["keyvault"]["byOp"].get("getSecret", 0) + d["keyvault"]["byOp"].get("getSecretVersion", 0)' <<<"$c")" "$c"
check_eq "steady state: no write to the API server" 0 "$(json_get 'd["k3s"]["writes"]' <<<"$c")" "$c"

# Rotation: one value changes in the vault, one Secret changes.
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-plain-rotated-7Hq" >/dev/null
"$TB" counts "$E2E_NAME" --reset >/dev/null
check_rc 0 "sync after a rotation" -- sync_wait
check_contains "... applies exactly one" "1 applied, 5 unchanged" "$LAST_OUT"
check_eq "kubectl shows the new value" "PLANTED-plain-rotated-7Hq" "$(data plain value)"
c=$(counts)
check_eq "... one value fetched" 1 "$(json_get 'd["keyvault"]["byOp"].get("getSecret", 0) + d["keyvault"]["byOp"].get("getSecretVersion", 0)' <<<"$c")" "$c"
check_eq "... one write to the API server" 1 "$(json_get 'd["k3s"]["writes"]' <<<"$c")" "$c"

# Outage: the last good Secrets stay; status says stale; recovery afterwards.
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-plain-after-outage-3x" >/dev/null
"$TB" fault "$E2E_NAME" keyvault outage >/dev/null
check_rc 1 "sync during a Key Vault outage fails" -- inside aiosctl sync --wait --timeout 300
check_contains "... saying the vault is unreachable" "KeyVaultUnreachable" "$LAST_OUT"
check_eq "... the last good value stays in Kubernetes" "PLANTED-plain-rotated-7Hq" "$(data plain value)"
check_rc 0 "secret list during the outage" -- inside aiosctl secret list
check_contains "... marks the secrets stale" "failed (stale)" "$LAST_OUT"
"$TB" fault "$E2E_NAME" keyvault clear >/dev/null
check_rc 0 "after the outage a sync recovers" -- sync_wait
check_eq "... and the new value arrives" "PLANTED-plain-after-outage-3x" "$(data plain value)"

# 429 storms: with Retry-After and without; retried with backoff, then success.
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-plain-after-429-Kd2" >/dev/null
"$TB" fault "$E2E_NAME" keyvault 429 --retry-after 1 --count 2 >/dev/null
"$TB" fault "$E2E_NAME" keyvault 429 --count 2 --match "GET /secrets/plain-utf8" >/dev/null
check_rc 0 "sync through 429s (with and without Retry-After) succeeds" -- sync_wait
check_eq "... with the new value" "PLANTED-plain-after-429-Kd2" "$(data plain value)"
c=$(counts)
check "... the emulator saw the 429s" -- test "$(json_get 'd["keyvault"].get("byStatus", {}).get("429", 0)' <<<"$c")" -ge 4
"$TB" fault "$E2E_NAME" keyvault 429 --count 100 >/dev/null
check_rc 1 "a 429 storm that outlasts the retries fails the sync" -- inside aiosctl sync --wait --force --timeout 300
check_contains "... as Throttled" "Throttled" "$LAST_OUT"
check_eq "... and the Secret keeps its last good value" "PLANTED-plain-after-429-Kd2" "$(data plain value)"
"$TB" fault "$E2E_NAME" keyvault clear >/dev/null

# 5xx: retried with backoff, then success.
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-plain-after-503-Rt5" >/dev/null
"$TB" fault "$E2E_NAME" keyvault 503 --count 2 >/dev/null
check_rc 0 "sync through two 503s succeeds" -- sync_wait
check_eq "... with the new value" "PLANTED-plain-after-503-Rt5" "$(data plain value)"
"$TB" fault "$E2E_NAME" keyvault clear >/dev/null

# A Secret edited by hand is restored by the next sync (issue 17), without --force.
check "edit the plain Secret by hand (kubectl patch)" -- kc patch secret plain --type merge -p "{\"data\":{\"value\":\"$(printf PLANTED-tampered | base64)\"}}"
check_rc 0 "sync restores it" -- sync_wait
check_contains "... applying it alone" "1 applied, 5 unchanged" "$LAST_OUT"
check_eq "... with the vault's value" "PLANTED-plain-after-503-Rt5" "$(data plain value)"
check_rc 0 "the next sync finds it unchanged" -- sync_wait
check_contains "... all six" "0 applied, 6 unchanged" "$LAST_OUT"

# A restart (an upgrade, a reboot) reads no value again: the state file says what each Secret holds, and aiosd
# keeps no value between syncs. Here, after the last exact count of the rotations: cycles the restart itself
# starts (the SecretSync watch connecting) may run after its sync, and read a value fetched within 2 s of its update.
"$TB" counts "$E2E_NAME" --reset >/dev/null
check_rc 0 "restart aiosd" -- inside systemctl restart aiosd.service
check_rc 0 "a sync after the restart succeeds" -- sync_wait
check_contains "... with nothing to do" "0 applied, 6 unchanged" "$LAST_OUT"
c=$(counts)
check_eq "... and no value fetched from Key Vault since the restart" 0 "$(json_get 'd["keyvault"]["byOp"].get("getSecret", 0) + d["keyvault"]["byOp"].get("getSecretVersion", 0)' <<<"$c")" "$c"
check_eq "... nor any write to the API server" 0 "$(json_get 'd["k3s"]["writes"]' <<<"$c")" "$c"

# A Secret the agent did not create is never touched.
check "create a Secret by hand" -- kc create secret generic handmade --from-literal=k=PLANTED-handmade
check_rc 0 "secret add a definition targeting it" -- inside aiosctl secret add handmade --vault "$vault" --object plain-utf8
check_rc 1 "sync reports the conflict" -- sync_wait
check_contains "... TargetNotOwned" "TargetNotOwned" "$LAST_OUT"
check_eq "... the hand-made Secret is unchanged" "PLANTED-handmade" "$(data handmade k)"
check_rc 1 "secret remove handmade --delete-target refuses: aiosd did not create that Secret" -- inside aiosctl secret remove handmade --delete-target
check_contains "... saying so" "not created by aiosd" "$LAST_OUT"
check_eq "... the hand-made Secret still exists" "PLANTED-handmade" "$(data handmade k)"
check_rc 0 "secret remove handmade (the definition only)" -- inside aiosctl secret remove handmade

# Deleted in the vault: policy retain (default) keeps the Secret; policy delete deletes it.
"$TB" vault "$E2E_NAME" delete "$vault" blob-base64 >/dev/null
check_rc 0 "sync after a deletion in the vault (policy retain)" -- sync_wait
check_contains "... retains blob" "retained" "$LAST_OUT"
check_rc 0 "... the Secret is still there" -- kc get secret blob
check_rc 0 "secret show blob" -- inside aiosctl secret show blob
check_contains "... says it is gone from the vault" "SecretNotFound" "$LAST_OUT"
"$TB" vault "$E2E_NAME" disable "$vault" opcua-trust-hex >/dev/null
inside sh -c 'printf "  deletedInVault: delete\n" >> /etc/aios/aiosd.yaml'
check "reload with deletedInVault: delete" -- inside systemctl reload aiosd.service
check_rc 0 "sync with policy delete" -- sync_wait
check_contains "... deletes the Secret of the deleted secret" "deleted" "$LAST_OUT"
check_rc 1 "... blob is gone from Kubernetes" -- kc get secret blob
check_rc 1 "... and so is opcua (disabled in the vault)" -- kc get secret opcua
check_eq "... other Secrets are untouched" "PLANTED-plain-after-503-Rt5" "$(data plain value)"

# remove --delete-target deletes only what aiosd created.
check_rc 0 "secret remove pinned --delete-target" -- inside aiosctl secret remove pinned --delete-target
check_contains "... reports the Secret deleted" "Secret azure-iot-operations/pinned deleted" "$LAST_OUT"
check_rc 1 "... it is gone" -- kc get secret pinned
check_rc 0 "secret remove web-pfx keeps the Secret" -- inside aiosctl secret remove web-pfx
check_rc 0 "... it is still there" -- kc get secret web-pfx

# No planted value anywhere: journal, aiosctl output, state files.
journal=$("$TB" journal "$E2E_NAME" -u aiosd.service -o verbose 2>&1)
check_not_contains "no planted value in aiosd's journal (all fields)" "PLANTED" "$journal"
outputs=$(inside sh -c 'aiosctl secret list; aiosctl secret list --json; for s in plain opcua blob web-pem; do aiosctl secret show $s; aiosctl secret show $s --json; done; aiosctl sync --wait --json; aiosctl status --json' 2>&1)
check_not_contains "no planted value in aiosctl's output" "PLANTED" "$outputs"
check_not_contains "no private key in aiosctl's output" "PRIVATE KEY" "$outputs"
state=$(inside sh -c 'cat /var/lib/aiosd/*.json')
check_not_contains "no planted value in aiosd's state files" "PLANTED" "$state"
check_eq "the sync state is private (0600)" 600 "$(inside stat -c %a /var/lib/aiosd/sync-state.json)"
e2e_finish
