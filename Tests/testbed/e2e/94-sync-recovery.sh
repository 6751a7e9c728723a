#!/bin/bash
# Sync recovery and the schedule as the README promises them (issues 12 and 17), on a SecretProviderClass and
# SecretSyncs shaped exactly as `az iot ops secretsync enable` / `secretsync secret set` and the portal create them:
# - every failed cycle is retried on its own with a doubling delay (no `sync --wait`), `status` counts it, and the
#   journal's MESSAGE names the secret and the reason;
# - two identities (the node's client secret app, the SecretSyncs' workload identity) keep separate token caches;
# - the schedule: a reload to a short interval with jitter applies to the wait in progress, and the vault's change
#   arrives with no command; `cluster.onSecretSyncDeleted: retain` keeps the Secret (no ownerReference for the
#   garbage collector);
# - K3s killed in the middle of a cycle: the cycle says so, no Secret is half written, and the retry after K3s is
#   back repairs without any command;
# - relist after 410: K3s restarted after a write elsewhere answers the SecretSync watch's resume "410 Expired"
#   (its bookmarks come once a minute, as kube-apiserver's); aiosd lists again and keeps syncing;
# - `cluster.secretSyncs: off` after a reload leaves SecretSyncs alone;
# - `k3s.readyTimeout` bounds a K3s change, and a rollback that itself fails says so.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init recovery
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../aio"

AIO_FIXTURE=$("$TB" fixture "$E2E_NAME" --json)
tenant=$(fact 'd["tenantId"]'); client=$(fact 'd["clientId"]'); issuer=$(fact 'd["issuer"]'); vault=$(fact 'd["vault"]')
app=$(fact 'd["clientSecretApp"]["clientId"]'); app_secret=$(fact 'd["clientSecretApp"]["clientSecret"]')
ns=azure-iot-operations
kc() { inside kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml "$@"; }
data() { kc -n "$ns" get secret "$1" -o "jsonpath={.data.${2//./\\.}}" | base64 -d; }
has_secret() { kc -n "$ns" get secret "$1" >/dev/null 2>&1; }
status_get() { inside aiosctl status --json | json_get "$1"; }
journal() { inside journalctl -u aiosd.service -o json --no-pager; }
entries() { journal | journal_match "$@" | wc -l; }
tokens_of() { "$TB" counts "$E2E_NAME" | json_get "d[\"entra\"][\"byClient\"].get(\"$1\", 0)"; }
configure() { # configure SYNC-LINES CLUSTER-LINES [MORE]: aiosd.yaml with the client secret app as the node's identity
    inside sh -c "cat > /etc/aios/aiosd.yaml" <<EOF
logLevel: debug
identity:
  method: clientSecret
  tenantId: $tenant
  clientId: $app
  clientSecretFile: /etc/aios/client-secret
sync:
$1
cluster:
$2
${3-}
EOF
}
hourly=$'  interval: 1h\n  jitter: 0s\n  retryAfterFailure: 2s'
retain=$'  secretSyncs: all\n  onSecretSyncDeleted: retain'

inside sh -c "umask 077; printf '%s\n' '$app_secret' > /etc/aios/client-secret"
configure "$hourly" "$retain"
reload_and_wait "reload: the node reads the vault as the client secret app; every SecretSync selected, retained when deleted"
check_rc 0 "workload-identity enable (SecretSyncs are read as workload identity of aio-ssc-sa)" -- \
    inside aiosctl workload-identity enable --issuer "$issuer"

# ---- Objects as Azure IoT Operations creates them. `az iot ops secretsync enable` makes the ARM
# azureKeyVaultSecretProviderClass (clientId, keyvaultName, tenantId: Azure/azure-iot-ops-cli-extension
# azext_edge/edge/providers/orchestration/resources/instances.py, enable_secretsync), named spc-ops-<hash> by the CLI
# and the portal; `secretsync secret set` and the portal append each secret to its `objects` as "    - |" blocks, with
# objectEncoding: hex for a file-encoding=hex tag, and create the SecretSync of aio-ssc-sa, type Opaque, annotations {},
# secretSyncControllerName "" (azext_edge/tests/edge/orchestration/test_secretsync_int.py, _assert_cluster_side_sync and
# SECRET_SYNC_TEMPLATE; test_secretsync_secret_unit.py).
spc_objects='array:
    - |
      objectName: plain-utf8
      objectType: secret
    - |
      objectName: opcua-trust-hex
      objectType: secret
      objectEncoding: hex
    - |
      objectName: rotated
      objectType: secret
      objectVersionHistory: 2
'
objects_json=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$spc_objects")
secretsync_json() { # secretsync_json NAME MAPPINGS-JSON
    printf '{"apiVersion":"secret-sync.x-k8s.io/v1alpha1","kind":"SecretSync","metadata":{"annotations":{},"name":"%s","namespace":"%s"},"spec":{"secretObject":{"data":%s,"type":"Opaque"},"secretProviderClassName":"spc-ops-4f74e85","secretSyncControllerName":"","serviceAccountName":"aio-ssc-sa"}}' "$1" "$ns" "$2"
}
check_rc 0 "the SecretProviderClass spc-ops-4f74e85 as az iot ops secretsync enable + secret set leave it" -- \
    kc apply -f - <<<"{\"apiVersion\":\"secrets-store.csi.x-k8s.io/v1\",\"kind\":\"SecretProviderClass\",\"metadata\":{\"name\":\"spc-ops-4f74e85\",\"namespace\":\"$ns\"},\"spec\":{\"provider\":\"azure\",\"parameters\":{\"clientId\":\"$client\",\"keyvaultName\":\"$vault\",\"tenantId\":\"$tenant\",\"objects\":$objects_json}}}"
check_rc 0 "a SecretSync as secretsync secret set creates it (two keys)" -- \
    kc apply -f - <<<"$(secretsync_json sync-pair '[{"sourcePath":"plain-utf8","targetKey":"first"},{"sourcePath":"rotated/0","targetKey":"second"}]')"
check_rc 0 "a SecretSync as the portal creates it (hex certificate, the oldest of 2+1 versions)" -- \
    kc apply -f - <<<"$(secretsync_json aio-opc-ua-broker-trust-list '[{"sourcePath":"opcua-trust-hex","targetKey":"certificate"},{"sourcePath":"rotated/2","targetKey":"oldest"}]')"
check_within 30 "both Secrets appear (no sync command)" -- eval 'has_secret sync-pair && has_secret aio-opc-ua-broker-trust-list'
check_eq "sync-pair: first is the vault's value" "$(fact 'd["secrets"]["plain-utf8"]["value"]')" "$(data sync-pair first)"
check_eq "sync-pair: second is rotated's latest version" "$(fact 'd["secrets"]["rotated"]["values"][2]')" "$(data sync-pair second)"
check_eq "trust list: the hex certificate decoded" "$(fact 'd["secrets"]["opcua-trust-hex"]["decodedSha256"]')" \
    "$(kc -n "$ns" get secret aio-opc-ua-broker-trust-list -o jsonpath='{.data.certificate}' | base64 -d | sha256sum | cut -d' ' -f1)"
check_eq "trust list: objectVersionHistory 2 gives rotated/0..2 as the Azure provider counts (rotated/2 = the oldest)" \
    "$(fact 'd["secrets"]["rotated"]["values"][0]')" "$(data aio-opc-ua-broker-trust-list oldest)"
check_eq "under retain the Secrets carry no ownerReference (the garbage collector must not take them)" "" \
    "$(kc -n "$ns" get secret sync-pair -o jsonpath='{.metadata.ownerReferences}')"

# ---- Two identities, two token caches: a file definition read as the client secret app, the SecretSyncs as
# workload identity. After `sync --force` drops the tokens, each identity gets one token and keeps it.
check_rc 0 "secret add plain (read as the node's client secret app)" -- \
    inside aiosctl secret add plain --vault "$vault" --object plain-utf8 --key value
"$TB" counts "$E2E_NAME" --reset >/dev/null
check_rc 0 "sync --force --wait (tokens dropped) succeeds" -- inside aiosctl sync --force --wait
check_rc 0 "sync --wait succeeds" -- inside aiosctl sync --wait
check_rc 0 "sync --wait succeeds again" -- inside aiosctl sync --wait
check_eq "the client secret app got one token over three syncs" 1 "$(tokens_of "$app")"
check_eq "the workload identity got one token of its own over three syncs" 1 "$(tokens_of "$client")"

# ---- A failed sync is retried on its own, with a doubling delay; status counts every failed cycle.
check_rc 0 "Key Vault answers 503 to everything" -- "$TB" fault "$E2E_NAME" keyvault 503
retries0=$(entries "MESSAGE=Secret sync failed; retrying")
check_rc 0 "aiosctl sync (no --wait) returns at once" -- inside aiosctl sync
three_retries() { (( $(entries "MESSAGE=Secret sync failed; retrying") >= retries0 + 3 )); }
check_within 30 "three retries follow without any command" -- three_retries
delays=$(journal | journal_match "MESSAGE=Secret sync failed; retrying" | tail -n 3 | python3 -c '
import json, sys
print(" ".join(json.loads(l)["AIOS_SYNC_RETRY_IN"] for l in sys.stdin if l.strip()))' 2>&1)
check_eq "... after 2s, 4s and 8s (retryAfterFailure doubling)" "2s 4s 8s" "$delays"
check_journal "the journal's MESSAGE names the SecretSync and the reason" -u aiosd.service -- \
    "MESSAGE=Secret sync failed: $ns/sync-pair: *" AIOS_EVENT="Secret sync failed" AIOS_SECRET="$ns/sync-pair" "AIOS_ERROR_CODE=*"
check "status counts every failed cycle (3 or more in a row)" -- test "$(status_get 'd["sync"]["failedCyclesInARow"]')" -ge 3
check_contains "aiosctl status says so" "failed in a row" "$(inside aiosctl status)"
check_rc 0 "Key Vault answers again" -- "$TB" fault "$E2E_NAME" keyvault clear
recovered() { [[ $(status_get 'd["sync"]["failedCyclesInARow"]') == 0 ]]; }
check_within 20 "the next retry succeeds with no command (0 failed in a row)" -- recovered
check_eq "... it was a retry" "retry after failure" "$(status_get 'd["sync"]["lastCycle"]["reason"]')"
check "... the failures stay counted since start" -- test "$(status_get 'd["sync"]["failedCycles"]')" -ge 3

# ---- The schedule: a reload to a 10 s interval with 5 s of jitter applies to the hour-long wait in progress.
changed0=$(entries "MESSAGE=Sync schedule changed")
configure $'  interval: 10s\n  jitter: 5s\n  retryAfterFailure: 2s' "$retain"
reload_and_wait "reload: interval 10s, jitter 5s"
check_within 10 "... the journal says the schedule changed" -- eval '(( $(entries "MESSAGE=Sync schedule changed") > changed0 ))'
scheduled0=$(entries "MESSAGE=Secret sync started" AIOS_SYNC_REASON=schedule)
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-scheduled" >/dev/null
check_within 30 "the vault's new value arrives with no command" -- eval '[[ $(data sync-pair first) == PLANTED-scheduled ]]'

# Retain, while the schedule runs: the deleted SecretSync's Secret outlives several garbage collector passes (5 s).
check_rc 0 "kubectl delete the portal's SecretSync" -- kc -n "$ns" delete secretsync aio-opc-ua-broker-trust-list
check_within 15 "the journal says its Secret is kept" -- eval \
    'journal | journal_match "MESSAGE=SecretSync deleted; its Secret is kept (cluster.onSecretSyncDeleted: retain)" AIOS_SECRET='"$ns"'/aio-opc-ua-broker-trust-list'

four_scheduled() { (( $(entries "MESSAGE=Secret sync started" AIOS_SYNC_REASON=schedule) >= scheduled0 + 4 )); }
check_within 90 "four scheduled cycles follow" -- four_scheduled
gaps=$(journal | python3 -c '
import json, sys
t = []
for l in sys.stdin:
    try: e = json.loads(l)
    except ValueError: continue
    if e.get("MESSAGE") == "Secret sync started" and e.get("AIOS_SYNC_REASON") == "schedule":
        t.append(int(e["__REALTIME_TIMESTAMP"]) / 1e6)
t = t[-4:]
print(" ".join("%.1f" % (b - a) for a, b in zip(t, t[1:])))' 2>&1)
in_window() { for g in $gaps; do awk -v g="$g" 'BEGIN{exit !(g >= 10 && g <= 17)}' || return 1; done; }
check "the gaps between scheduled cycles are interval + jitter, 10 s to 15 s (+ the cycle): $gaps" -- in_window
jittered() { for g in $gaps; do awk -v g="$g" 'BEGIN{exit !(g >= 10.6)}' && return 0; done; return 1; }
check "... jitter is applied (not every gap is 10 s): $gaps" -- jittered
check "the retained Secret is still there after the collector's passes" -- has_secret aio-opc-ua-broker-trust-list

configure "$hourly" "$retain"
reload_and_wait "reload: back to an hourly schedule"

# ---- K3s killed in the middle of a cycle (a write elsewhere just before the kill moves the API server's
# resourceVersion past the SecretSync watch's).
check_rc 0 "Key Vault reads take 6 s" -- "$TB" fault "$E2E_NAME" keyvault latency 6000 --match "GET /secrets/"
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-after-kill-1" >/dev/null
"$TB" vault "$E2E_NAME" set "$vault" rotated "PLANTED-after-kill-2" >/dev/null
old_pair="$(data sync-pair first)|$(data sync-pair second)"
failed0=$(status_get 'd["sync"]["failedCycles"]')
check_rc 0 "aiosctl sync (no --wait)" -- inside aiosctl sync
running() { [[ $(status_get 'd["sync"]["running"]') == true ]]; }
check_within 5 "... the cycle runs (plain's write comes after 6 s, sync-pair's after its 4 reads, 24 s)" -- running
check "a Secret written in default, then K3s killed (SIGKILL) in the middle of the cycle" -- inside sh -c \
    'kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n default create secret generic rv-marker --from-literal=a=b >/dev/null && systemctl kill -s KILL k3s.service' 
cycle_failed() { (( $(status_get 'd["sync"]["failedCycles"]') > failed0 )); }
check_within 60 "the cycle fails, and status counts it (it ends after sync-pair's 24 s of reads)" -- cycle_failed
check_journal "... the journal's MESSAGE names the secret whose write met the dead API server, and why" -u aiosd.service -- \
    "MESSAGE=Secret sync failed: plain: Kubernetes*" "AIOS_ERROR_CODE=Kubernetes*"
check_rc 0 "Key Vault reads are fast again" -- "$TB" fault "$E2E_NAME" keyvault clear
check_within 60 "K3s is back (Restart=always)" -- kc get --raw /readyz
pair="$(data sync-pair first)|$(data sync-pair second)"
whole() { [[ $pair == "$old_pair" || $pair == "PLANTED-after-kill-1|PLANTED-after-kill-2" ]]; }
check "nothing half written: sync-pair is all old or all new ($pair)" -- whole
check_within 30 "the retry after K3s is back repairs it with no command" -- \
    eval '[[ "$(data sync-pair first)|$(data sync-pair second)" == "PLANTED-after-kill-1|PLANTED-after-kill-2" ]]'
check_rc 0 "a SecretSync created after K3s' restart" -- \
    kc apply -f - <<<"$(secretsync_json after-restart '[{"sourcePath":"plain-utf8","targetKey":"value"}]')"
check_within 20 "... is synced by the reconnected watch within seconds" -- has_secret after-restart

# ---- Relist after 410 Expired. The API server's bookmarks (the only thing that moves an idle watch's
# resourceVersion) come a minute after a watch starts, as kube-apiserver's cacher sends them; a restart's watch
# history starts at the counter of the moment (Tests/testbed/k3s/README.md, Watch). So: K3s restarted, aiosd's
# SecretSync watch resumes; within that first minute a write elsewhere, then a clean restart: the watch's
# resourceVersion is older than the new history, its resume gets 410, and aiosd must list again to go on.
cursor() { inside journalctl -u "$1" -n 0 --show-cursor --no-pager | sed -n 's/^-- cursor: //p'; }
k3s_log_since() { inside journalctl -u k3s.service --after-cursor "$1" --no-pager -o cat; }
k3s_cursor=$(cursor k3s.service)
inside sh -c 'echo K3S_STANDIN_BOOKMARK_SECONDS=60 > /etc/systemd/system/k3s.service.env'
check_rc 0 "K3s restarted with the API server's real bookmark period (a minute)" -- inside systemctl restart k3s
watch_resumed() { k3s_log_since "$k3s_cursor" | grep -q 'watch secret-sync.x-k8s.io/secretsyncs from resourceVersion [0-9]'; }
check_within 60 "aiosd's SecretSync watch is back on the new K3s" -- watch_resumed
resumed_at=$(date +%s)
idle() { [[ $(status_get 'd["sync"]["running"]') == false ]]; }
check_within 60 "... and no cycle runs (a SecretSync status write would move the watch's resourceVersion)" -- idle
k3s_cursor=$(cursor k3s.service); aiosd_cursor=$(cursor aiosd.service)
check "a Secret written in default, then K3s restarted cleanly (SIGTERM: nothing lost)" -- inside sh -c \
    'kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n default create secret generic rv-marker-2 --from-literal=a=b >/dev/null && systemctl restart k3s'
took=$(( $(date +%s) - resumed_at ))
check "... within the watch's first minute, before any bookmark (${took}s after it resumed)" -- test "$took" -lt 55
expired() { k3s_log_since "$k3s_cursor" | grep -q 'watch secret-sync.x-k8s.io/secretsyncs: too old resource version'; }
check_within 60 "K3s answers the SecretSync watch's resume 410 Expired (too old resource version)" -- expired
relisted() { inside journalctl -u aiosd.service --after-cursor "$aiosd_cursor" -o json --no-pager |
    journal_match "MESSAGE=Watch expired; listing again" "AIOS_WATCH_RESOURCE=secretsyncs" >/dev/null; }
check_within 30 "aiosd lists the SecretSyncs again (journal: Watch expired; listing again)" -- relisted
listed_again() { # a watch of SecretSyncs that starts after the 410 (the resume itself was the one before it)
    k3s_log_since "$k3s_cursor" | sed -n '/watch secret-sync.x-k8s.io\/secretsyncs: too old resource version/,$p' |
        grep -q 'watch secret-sync.x-k8s.io/secretsyncs from resourceVersion [0-9]'; }
check_within 30 "... and watches from the new list's resourceVersion" -- listed_again
check_rc 0 "a SecretSync created after the relist" -- \
    kc apply -f - <<<"$(secretsync_json after-relist '[{"sourcePath":"plain-utf8","targetKey":"value"}]')"
check_within 20 "... is synced with no command (the watch goes on after the relist)" -- has_secret after-relist
check_eq "... with the vault's value" "PLANTED-after-kill-1" "$(data after-relist value)"

# ---- cluster.secretSyncs: off, by reload: SecretSyncs are left alone.
configure "$hourly" $'  secretSyncs: off'
reload_and_wait "reload: cluster.secretSyncs: off"
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-while-off" >/dev/null
check_rc 0 "sync --wait succeeds" -- inside aiosctl sync --wait
check_eq "... the file definition follows the vault" "PLANTED-while-off" "$(data plain value)"
check_eq "... the SecretSync's Secret does not" "PLANTED-after-kill-1" "$(data sync-pair first)"
check_contains "status: the cluster is not watched, and why" "cluster.secretSyncs: off" "$(status_get 'd["clusterWatch"]["note"]')"

# ---- k3s.readyTimeout, and a rollback that fails too: K3s now takes 25 s to be ready, the timeout is 10 s.
configure "$hourly" $'  secretSyncs: off' $'k3s:\n  readyTimeout: 10s'
reload_and_wait "reload: k3s.readyTimeout 10s"
inside sh -c 'echo K3S_STANDIN_START_DELAY=25 > /etc/systemd/system/k3s.service.env'
t0=$(date +%s)
check_rc 1 "apiserver-arg set fails when K3s is not ready within k3s.readyTimeout" -- inside aiosctl k3s apiserver-arg set audit-log-maxage=30
elapsed=$(( $(date +%s) - t0 ))
check_contains "... saying it gave up after k3s.readyTimeout (10s)" "10s" "$LAST_OUT"
check_contains "... and that the rollback failed too" "the rollback failed too:" "$LAST_OUT"
check "... it waited twice 10 s, not the default 300 s (took ${elapsed}s)" -- test "$elapsed" -ge 20 -a "$elapsed" -lt 60
check_not_contains "... the drop-in is the previous one (the rollback's write happened)" "audit-log-maxage" \
    "$(inside cat /etc/rancher/k3s/config.yaml.d/90-aios.yaml 2>&1)"
check_within 60 "K3s comes up later on its own" -- kc get --raw /readyz

e2e_finish
