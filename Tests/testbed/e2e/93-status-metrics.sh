#!/bin/bash
# An honest status and metrics: `aiosctl status --json` carries sync, cluster watch and host job health as
# fields (the next cycle counts down); `GET /v1/metrics` on the socket and `GET /metrics` on the optional TCP
# listener parse with prometheus_client's text parser (from PyPI, installed into a directory of its own), and
# the counters move as syncs and Key Vault requests happen; no value or object name is in a label.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"

PROM=${PROM_CLIENT_DIR:-}
if [[ -z $PROM ]]; then PROM=$(mktemp -d /var/tmp/aios-promclient.XXXXXX); E2E_ON_EXIT='rm -rf "$PROM"'; fi
if [[ ! -e $PROM/prometheus_client/parser.py ]] &&
   ! pip3 install -q --disable-pip-version-check --no-warn-script-location --target "$PROM" prometheus_client >/dev/null 2>&1; then
    echo "# pip install prometheus_client failed"; exit 1
fi

e2e_init metrics
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../aio"


# metric TEXT EXPR: evaluates EXPR over the parsed families: m(name, **labels) is a sample's value (0 if absent),
# families the list prometheus_client's parser returned.
metric() {
    PYTHONPATH=$PROM python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
families = list(text_string_to_metric_families(sys.stdin.read()))
def m(name, **labels):
    return sum(s.value for f in families for s in f.samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))
print(eval(sys.argv[1]))' "$1" <<<"$2"
}
scrape() { inside curl -sS --unix-socket /run/aiosd/aiosd.sock http://aiosd/v1/metrics; }

# The start-up cycle fails (no workload identity yet); its retry an hour later keeps the cycles this test
# makes the last ones.
aio_identity $'  retryAfterFailure: 1h\nmetrics:\n  listen: 9464'
check "restart aiosd for metrics.listen (a restart setting)" -- inside systemctl restart aiosd.service
check_rc 0 "secret add plain" -- inside aiosctl secret add plain --vault "$vault" --object plain-utf8 --key value
check_rc 0 "workload-identity enable" -- inside aiosctl workload-identity enable --issuer "$issuer"

before=$(scrape)
check "the socket's exposition parses with prometheus_client" -- metric 'len(families) > 5' "$before"
check_contains "... its HELP and TYPE lines are there" "# TYPE aiosd_http_request_duration_seconds histogram" "$before"
cycles0=$(metric 'm("aiosd_sync_cycles_total")' "$before")
kv0=$(metric 'm("aiosd_http_requests_total", service="keyvault", code="200")' "$before")
check_rc 0 "sync --wait" -- inside aiosctl sync --wait
after=$(scrape)
check_eq "aiosd_sync_cycles_total moved" True "$(metric "m('aiosd_sync_cycles_total') >= $cycles0 + 1" "$after")" "$after"
check_eq "Key Vault 200s counted" True "$(metric "m('aiosd_http_requests_total', service='keyvault', code='200') > $kv0" "$after")"
check_eq "... and the 401 challenge" True "$(metric 'm("aiosd_http_requests_total", service="keyvault", code="401") >= 1' "$after")"
check_eq "Entra token requests counted" True "$(metric 'm("aiosd_http_requests_total", service="entra", code="200") >= 1' "$after")"
check_eq "Key Vault latency histogram has observations" True "$(metric 'm("aiosd_http_request_duration_seconds_count", service="keyvault") >= 2' "$after")"
check_eq "plain's last success is a recent Unix time" True "$(metric "abs(m('aiosd_secret_last_success_timestamp_seconds', definition='plain') - $(date +%s)) < 120" "$after")"
check_eq "plain is not failing" 0 "$(metric 'int(m("aiosd_secret_failing", definition="plain"))' "$after")"
check_eq "aiosd_sync_results_total{result=applied} counted plain" True "$(metric 'm("aiosd_sync_results_total", result="applied") >= 1' "$after")"

# 429s: the vault throttles twice, aiosd retries; both are counted by code.
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-metrics-rotated" >/dev/null
"$TB" fault "$E2E_NAME" keyvault 429 --retry-after 0 --count 2 >/dev/null
check_rc 0 "sync through two 429s" -- inside aiosctl sync --wait
throttled=$(scrape)
check_eq "aiosd_http_requests_total{code=429} counts both" 2 "$(metric 'int(m("aiosd_http_requests_total", service="keyvault", code="429"))' "$throttled")" "$throttled"
check_not_contains "no value in the exposition" "PLANTED" "$throttled"
check_not_contains "no vault object name in a label" "plain-utf8" "$throttled"

tcp=$(inside curl -sS http://127.0.0.1:9464/metrics)
check_eq "the TCP listener on 127.0.0.1:9464 serves the same families" "$(metric 'sorted(f.name for f in families)' "$throttled")" "$(metric 'sorted(f.name for f in families)' "$tcp")"
check_rc 0 "... and only on loopback" -- inside sh -c "ss -Hltn 'sport = :9464' | grep -q '127.0.0.1:9464'"

# Status: health as fields.
check_rc 0 "status --json" -- inside aiosctl status --json
json=$LAST_OUT
check_eq "sync.secrets" 1 "$(json_get 'd["sync"]["secrets"]' <<<"$json")" "$json"
check_eq "sync.failing" 0 "$(json_get 'd["sync"]["failing"]' <<<"$json")"
check_eq "sync.lastCycle.outcome" ok "$(json_get 'd["sync"]["lastCycle"]["outcome"]' <<<"$json")"
check_eq "sync.lastCycle.reason (aiosctl sync)" api "$(json_get 'd["sync"]["lastCycle"]["reason"]' <<<"$json")"
check_eq "sync.lastCycle.results" '{"applied": 1}' "$(json_get 'd["sync"]["lastCycle"]["results"]' <<<"$json")"
check_contains "sync.nextCycleAt is a time" "T" "$(json_get 'd["sync"]["nextCycleAt"]' <<<"$json")"
check_eq "hostJobs.lastFinished is the workload-identity job" succeeded "$(json_get 'd["hostJobs"]["lastFinished"]["state"]' <<<"$json")"
check_contains "services list the metrics listener" '"metrics-listener"' "$json"
check_eq "k3s.present" true "$(json_get 'd["k3s"]["present"]' <<<"$json")" "$json"
check_eq "k3s.ready" true "$(json_get 'd["k3s"]["ready"]' <<<"$json")"
check_eq "k3s.servedIssuer is the issuer in force" "$issuer" "$(json_get 'd["k3s"]["servedIssuer"]' <<<"$json")"
check_eq "k3s.runningIssuer: what K3s started its API server with" "$issuer" "$(json_get 'd["k3s"]["runningIssuer"]' <<<"$json")"
check_eq "k3s.configuredIssuer" "$issuer" "$(json_get 'd["k3s"]["configuredIssuer"]' <<<"$json")"
check_eq "k3s.restartPending" false "$(json_get 'd["k3s"]["restartPending"]' <<<"$json")"
check_eq "workloadIdentity.method" workloadIdentity "$(json_get 'd["workloadIdentity"]["method"]' <<<"$json")"
check_eq "workloadIdentity.enabled" true "$(json_get 'd["workloadIdentity"]["enabled"]' <<<"$json")"
check_eq "workloadIdentity.clientId" "$client" "$(json_get 'd["workloadIdentity"]["clientId"]' <<<"$json")"
check_eq "workloadIdentity.serviceAccount" azure-iot-operations/aio-ssc-sa "$(json_get 'd["workloadIdentity"]["serviceAccount"]' <<<"$json")"
check_eq "-o json is --json" "$(json_get 'sorted(d)' <<<"$json")" "$(inside aiosctl status -o json | json_get 'sorted(d)')"
check_rc 0 "status -o yaml" -- inside aiosctl status -o yaml
yaml_out=$LAST_OUT
check_eq "... is the same document (read back with PyYAML)" "$(json_get 'd["k3s"]["servedIssuer"]' <<<"$json")" \
    "$(python3 -c 'import sys, yaml; print(yaml.safe_load(sys.stdin)["k3s"]["servedIssuer"])' <<<"$yaml_out" 2>&1)" "$yaml_out"
check_rc 0 "secret list -o wide" -- inside aiosctl secret list -o wide
check_contains "... has the wide columns" "CONTENT HASH" "$LAST_OUT"
check_rc 3 "status -o json with aiosd's socket gone (a wrong --socket) exits 3" -- inside aiosctl status -o json --socket /run/nothing.sock
check_eq "... and prints the error as JSON on stdout" unreachable "$(inside sh -c 'aiosctl status -o json --socket /run/nothing.sock 2>/dev/null' | json_get 'd["error"]["code"]')"
check_rc 0 "status (text)" -- inside aiosctl status
check_contains "... sync line" "sync:     1 secret(s), 0 failing" "$LAST_OUT"
check_contains "... the last cycle with its outcome" "(api): ok in " "$LAST_OUT"
check_contains "... K3s ready with the issuer in force" "k3s:      ready" "$LAST_OUT"
check_contains "... the issuer configured, running and served" "issuer $issuer (configured, running and served)" "$LAST_OUT"
check_contains "... the identity" "identity: workloadIdentity, client $client" "$LAST_OUT"
first_next=$(grep -o 'next cycle in [0-9hms]*' <<<"$LAST_OUT")
if [[ $LAST_OUT =~ next\ cycle\ in\ ([1-5]?[0-9]m)?[0-9]+s ]]; then ok "... the next cycle as a countdown (${BASH_REMATCH[0]})"
else not_ok "... the next cycle as a countdown" "$LAST_OUT"; fi
check_not_contains "... no milliseconds as a duration" "000ms" "$LAST_OUT"
sleep 2  # the countdown is what is tested: two looks two seconds apart
check_rc 0 "status again" -- inside aiosctl status
check_ne "... the countdown moved" "$first_next" "$(grep -o 'next cycle in [0-9hms]*' <<<"$LAST_OUT")"

# One node: it leads the sync (the Lease kube-system/aios-sync-leader), says so in status and metrics, and its
# heartbeat Lease lists it in `aiosctl cluster status` (renewed every 10 s, so it is there within one beat).
check_rc 0 "status --json: the cluster section" -- inside aiosctl status --json
json=$LAST_OUT
node=$(json_get 'd["cluster"]["node"]' <<<"$json")
check_eq "status: this K3s server leads the sync" '["server", "leader"]' "$(json_get '[d["cluster"]["nodeRole"], d["cluster"]["syncRole"]]' <<<"$json")" "$json"
check_rc 0 "status (text) names the sync role" -- inside aiosctl status
check_contains "... node line" "node:     $node (K3s server); sync role: leader" "$LAST_OUT"
check_eq "metrics: aiosd_sync_leader 1" 1 "$(metric 'int(m("aiosd_sync_leader"))' "$(scrape)")"
# The heartbeat after the workload-identity job carries the issuer it enabled (looked up after each K3s job).
listed() {
    inside aiosctl cluster status --json |
        json_get '[n["name"] for n in d["nodes"] if n["ready"] and n.get("issuerServed") == "'"$issuer"'"]' | grep -q "\"$node\""
}
check_within 12 "cluster status --json lists this node, ready, serving the enabled issuer" -- listed
check_rc 0 "cluster status --json" -- inside aiosctl cluster status --json
json=$LAST_OUT
check_eq "... top-level leader is this node" "$node" "$(json_get 'd["leader"]' <<<"$json")" "$json"
check_eq "... its entry: role server, ready, a leader, its version" '["server", true, "leader", true]' \
    "$(json_get '[[n["role"], n["ready"], n["syncRole"], len(n["version"]) > 0] for n in d["nodes"] if n["name"] == d["node"]][0]' <<<"$json")" "$json"
check_eq "... served issuer in the heartbeat is the enabled one" "$issuer" \
    "$(json_get '[n.get("issuerServed") for n in d["nodes"] if n["name"] == d["node"]][0]' <<<"$json")"
check_rc 0 "cluster status (text)" -- inside aiosctl cluster status
check_contains "... names the leader" "sync leader: $node since" "$LAST_OUT"
check_rc 0 "the Lease is in the cluster, held by this node" -- inside sh -c \
    "kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n kube-system get lease aios-sync-leader -o jsonpath='{.spec.holderIdentity}' | grep -qx '$node'"
check_rc 0 "the content-hash key is the cluster's (Secret kube-system/aios-content-hash-key)" -- inside \
    kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n kube-system get secret aios-content-hash-key

# A failing sync shows in status and metrics.
"$TB" fault "$E2E_NAME" keyvault 503 --count 100 >/dev/null
check_rc 1 "sync --wait --force while Key Vault answers 503" -- inside aiosctl sync --wait --force
check_eq "status: sync.failing 1" 1 "$(inside aiosctl status --json | json_get 'd["sync"]["failing"]')"
check_eq "metrics: plain is failing" 1 "$(metric 'int(m("aiosd_secret_failing", definition="plain"))' "$(scrape)")"
check_eq "metrics: a failed cycle counted" True "$(metric 'm("aiosd_sync_cycles_total", outcome="failed") >= 1' "$(scrape)")"
"$TB" fault "$E2E_NAME" keyvault clear >/dev/null
e2e_finish
