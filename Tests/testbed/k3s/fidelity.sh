#!/bin/bash
# fidelity.sh: tests the K3s stand-in with real, independent clients
# (kubectl, curl, python3-cryptography) inside a throwaway testbed container.
# Prints TAP-like "ok N - ..." / "not ok N - ..." lines; exits non-zero on failure.
# Must run as root (testbed). Usage: Tests/testbed/k3s/fidelity.sh
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
TB=$(cd "$HERE/.." && pwd -P)/testbed
NAME=k3s-fid-$$
N=0
FAILED=0
T0=$(date +%s.%N)

if [[ $(id -u) -ne 0 ]]; then
    echo "fidelity.sh: must run as root (testbed boots systemd-nspawn containers)" >&2
    exit 2
fi

teardown() { "$TB" down "$NAME" >/dev/null 2>&1 || true; }
trap teardown EXIT
trap 'echo "# interrupted" >&2; exit 130' INT TERM HUP

KC=/etc/rancher/k3s/k3s.yaml
TLS=/var/lib/rancher/k3s/server/tls
DEFAULT_ISS=https://kubernetes.default.svc.cluster.local
ARC_ISS=https://example.oic/abc/

inside() { "$TB" exec "$NAME" -- "$@"; }
ksh() { "$TB" exec "$NAME" --env KUBECONFIG=$KC -- sh -c "$1"; }

# check DESC -- CMD...: runs CMD on the host side (use inside/ksh for the container)
check() {
    local desc=$1; shift; [[ $1 == -- ]] && shift
    N=$((N + 1))
    local out
    if out=$("$@" 2>&1); then
        echo "ok $N - $desc"
    else
        echo "not ok $N - $desc"
        FAILED=$((FAILED + 1))
        printf '%s\n' "$out" | tail -n 15 | sed 's/^/#   /'
    fi
}

# expect DESC PATTERN -- CMD...: CMD succeeds and its output matches grep -E PATTERN
expect() {
    local desc=$1 pat=$2; shift 2; [[ $1 == -- ]] && shift
    N=$((N + 1))
    local out rc
    out=$("$@" 2>&1); rc=$?
    if [[ $rc -eq 0 ]] && grep -Eq -- "$pat" <<<"$out"; then
        echo "ok $N - $desc"
    else
        echo "not ok $N - $desc"
        FAILED=$((FAILED + 1))
        echo "#   rc=$rc, wanted /$pat/, got:"
        printf '%s\n' "$out" | tail -n 15 | sed 's/^/#   /'
    fi
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

t=$(now)
if ! "$TB" up "$NAME" --fixtures "$HERE" --mask postgresql.service --mask e2scrub_reap.service; then
    echo "not ok 1 - testbed up with the k3s fixtures"
    exit 1
fi
echo "# up + k3s ready in $(elapsed "$t") s"

# ---- baseline
expect "k3s.service is active" '^active$' -- inside systemctl is-active k3s.service
expect "unit is Type=notify, Restart=always, RestartSec=5s" 'Type=notify.*Restart=always.*RestartUSec=5s' -- \
    ksh 'systemctl show -p Type -p Restart -p RestartUSec -p KillMode k3s.service | tr "\n" " "'
expect "kubectl get --raw /readyz = ok" '^ok$' -- ksh 'kubectl get --raw /readyz'
expect "/readyz?verbose lists checks" 'readyz check passed' -- ksh "kubectl get --raw '/readyz?verbose'"
expect "/livez and /healthz ok" '^okok$' -- ksh 'kubectl get --raw /livez; kubectl get --raw /healthz'
expect "kubectl version shows the K3s server version" 'Server Version: v1\.31\.1\+k3s1' -- ksh 'kubectl version'
expect "/version gitVersion" '"gitVersion":"v1\.31\.1\+k3s1"' -- ksh 'kubectl get --raw /version'
expect "openid-configuration issuer is the K3s default" "\"issuer\":\"$DEFAULT_ISS\"" -- \
    ksh 'kubectl get --raw /.well-known/openid-configuration'
expect "kubectl get namespace azure-iot-operations" 'azure-iot-operations +Active' -- \
    ksh 'kubectl get namespace azure-iot-operations'
expect "kubectl get namespace missing -> NotFound" 'NotFound|not found' -- \
    ksh 'kubectl get namespace nope 2>&1; true'
expect "kubeconfig mode follows write-kubeconfig-mode 0644" '^644 ' -- inside stat -c '%a %n' $KC
expect "kubeconfig points at https://127.0.0.1:6443" 'server: https://127\.0\.0\.1:6443' -- inside cat $KC
expect "curl with client-admin cert + server CA: /readyz ok" '^ok$' -- \
    inside curl -sS --fail --cacert $TLS/server-ca.crt --cert $TLS/client-admin.crt --key $TLS/client-admin.key \
    https://127.0.0.1:6443/readyz
expect "anonymous curl /readyz -> 401 with a Status body (K3s: anonymous-auth=false)" \
    '^\{"kind":"Status","apiVersion":"v1","metadata":\{\},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401\} 401$' -- \
    inside sh -c "curl -sS -w ' %{http_code}' --cacert $TLS/server-ca.crt https://127.0.0.1:6443/readyz | tr -d '\n'"
expect "anonymous curl to livez, openid-configuration, jwks, secrets -> 401" '^401 401 401 401 $' -- \
    inside sh -c "for p in /livez /.well-known/openid-configuration /openid/v1/jwks /api/v1/secrets; do
        curl -s -o /dev/null -w '%{http_code} ' --cacert $TLS/server-ca.crt https://127.0.0.1:6443\$p; done"
expect "server cert valid for kubernetes.default.svc" '^ok$' -- \
    inside curl -sS --fail --cacert $TLS/server-ca.crt --cert $TLS/client-admin.crt --key $TLS/client-admin.key \
    --resolve kubernetes.default.svc:6443:127.0.0.1 https://kubernetes.default.svc:6443/readyz
# Metadata-only lists in chunks (what aiosd's steady-state check sends; README "Secrets"): limit/continue and
# Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1.
read -r -d '' PAGING_PY <<'PY'
import json, ssl, subprocess, sys, urllib.error, urllib.parse, urllib.request
kc, tls = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=tls + "/server-ca.crt")
ctx.load_cert_chain(tls + "/client-admin.crt", tls + "/client-admin.key")
def get(query, accept="application/json"):
    request = urllib.request.Request("https://127.0.0.1:6443/api/v1/secrets?labelSelector=fid%3Dpaging" + query, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, context=ctx) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        return json.load(error)
def show(d):
    nodata = "nodata" if not any("data" in i or "type" in i for i in d["items"]) else "data"
    return "%s %d %s %s" % (d["kind"], len(d["items"]), nodata, "cont" if d["metadata"].get("continue") else "end")
kubectl = ["kubectl", "--kubeconfig", kc, "-n", "default"]
for n in ("pg-a", "pg-b", "pg-c"):
    subprocess.run(kubectl + ["create", "secret", "generic", n, "--from-literal=k=v"], check=True, capture_output=True)
    subprocess.run(kubectl + ["label", "secret", n, "fid=paging"], check=True, capture_output=True)
meta = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
first = get("&limit=2", meta)
second = get("&limit=2&continue=" + urllib.parse.quote(first["metadata"]["continue"], safe=""), meta)
full = get("")
bad = get("&limit=2&continue=bm90LWEtdG9rZW4=", meta)
subprocess.run(kubectl + ["delete", "secret", "pg-a", "pg-b", "pg-c"], check=True, capture_output=True)
names = [i["metadata"]["name"] for i in first["items"] + second["items"]]
print(show(first), "/", show(second), "/", full["kind"], len(full["items"]), "/", bad.get("code"), "/", ",".join(names))
PY
expect "Secret list metadata-only in chunks: PartialObjectMetadataList, no data/type, continue, then the rest" \
    '^PartialObjectMetadataList 2 nodata cont / PartialObjectMetadataList 1 nodata end / SecretList 3 / 400 / pg-a,pg-b,pg-c$' -- \
    inside python3 -c "$PAGING_PY" "$KC" "$TLS"
# Every list pages, not only Secrets' (aiosd reads one Lease per published definition in pages of 500).
read -r -d '' LEASE_PAGING_PY <<'PY'
import json, ssl, subprocess, sys, urllib.parse, urllib.request
kc, tls = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=tls + "/server-ca.crt")
ctx.load_cert_chain(tls + "/client-admin.crt", tls + "/client-admin.key")
base = "https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/default/leases?labelSelector=fid%3Dpaging"
def get(query):
    with urllib.request.urlopen(urllib.request.Request(base + query), context=ctx) as response:
        return json.load(response)
kubectl = ["kubectl", "--kubeconfig", kc, "-n", "default"]
for n in ("lp-a", "lp-b", "lp-c"):
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": n, "labels": {"fid": "paging"}},
             "spec": {"holderIdentity": n}}
    subprocess.run(kubectl + ["create", "-f", "-"], input=json.dumps(lease).encode(), check=True, capture_output=True)
first = get("&limit=2")
second = get("&limit=2&continue=" + urllib.parse.quote(first["metadata"]["continue"], safe=""))
# kubectl get asks for Tables in chunks (--chunk-size): each page's Table must carry the continue token.
shown = subprocess.run(kubectl + ["get", "leases", "-l", "fid=paging", "--chunk-size=2", "--no-headers", "-o", "name"],
                       check=True, capture_output=True, text=True).stdout.split()
subprocess.run(kubectl + ["delete", "lease", "lp-a", "lp-b", "lp-c"], check=True, capture_output=True)
names = [i["metadata"]["name"] for i in first["items"] + second["items"]]
print(first["kind"], len(first["items"]), "cont" if first["metadata"].get("continue") else "end", "/",
      len(second["items"]), "cont" if second["metadata"].get("continue") else "end", "/", ",".join(names), "/ kubectl", len(shown))
PY
expect "Lease list in chunks: continue, then the rest; kubectl get --chunk-size=2 shows all 3" '^LeaseList 2 cont / 1 end / lp-a,lp-b,lp-c / kubectl 3$' -- \
    inside python3 -c "$LEASE_PAGING_PY" "$KC" "$TLS"
expect "apiserver-args.json records the default issuer" "\"--service-account-issuer=$DEFAULT_ISS\"" -- \
    inside cat /var/lib/rancher/k3s/aios-standin/apiserver-args.json
expect "journal: Running kube-apiserver line" 'Running kube-apiserver .*--service-account-issuer=https://kubernetes' -- \
    inside journalctl --no-pager -u k3s.service

CA_FP0=$(inside openssl x509 -noout -fingerprint -sha256 -in $TLS/server-ca.crt 2>/dev/null)
SA0=$(inside sha256sum $TLS/service.key 2>/dev/null | cut -d' ' -f1)

# token_check NS SA AUD ISS TTL [DURATION]
token_check() {
    local dur=${6:+--duration $6}
    ksh "set -e
        kubectl get --raw /openid/v1/jwks > /tmp/jwks.json
        tok=\$(kubectl create token $2 -n $1 --audience '$3' $dur)
        /usr/bin/python3 /srv/testbed/fixtures/jwtcheck.py \"\$tok\" /tmp/jwks.json '$4' system:serviceaccount:$1:$2 '$3' $5"
}
check "create token (TokenRequest): RS256, verifies against JWKS, iss/sub/aud, 1h default" -- \
    token_check default default api://AzureADTokenExchange "$DEFAULT_ISS" 3600
expect "create token for a service account that does not exist -> 404 NotFound (never created on use)" \
    'serviceaccounts "aio-sa" not found' -- ksh 'kubectl create token aio-sa -n azure-iot-operations 2>&1; true'
check "kubectl create serviceaccount aio-sa; kubectl create namespace azure-secret-store (with its default SA)" -- \
    ksh 'kubectl create serviceaccount aio-sa -n azure-iot-operations && kubectl create namespace azure-secret-store &&
         kubectl get serviceaccount default -n azure-secret-store'
expect "kubectl delete serviceaccount: deleted, then get -> 404 NotFound" \
    'serviceaccount "gone-sa" deleted.*serviceaccounts "gone-sa" not found' -- \
    ksh 'kubectl create serviceaccount gone-sa -n azure-iot-operations >/dev/null && d=$(kubectl delete serviceaccount gone-sa -n azure-iot-operations 2>&1);
         g=$(kubectl get serviceaccount gone-sa -n azure-iot-operations 2>&1); echo "$d | $g"'
check "create token for the new SA in azure-iot-operations, 48h (no cap by default)" -- \
    token_check azure-iot-operations aio-sa api://AzureADTokenExchange "$DEFAULT_ISS" 172800 48h
expect "TokenRequest with expirationSeconds < 600 is rejected" 'less than 10 minutes' -- \
    ksh 'kubectl create token default --duration 5m 2>&1; true'
expect "SA bearer token may read /version but not create tokens (RBAC)" '^200 403$' -- ksh '
    tok=$(kubectl create token default --audience k3s)
    a=$(curl -s -o /dev/null -w "%{http_code}" --cacert '$TLS'/server-ca.crt -H "Authorization: Bearer $tok" https://127.0.0.1:6443/version)
    b=$(curl -s -o /dev/null -w "%{http_code}" --cacert '$TLS'/server-ca.crt -H "Authorization: Bearer $tok" -X POST -d "{}" https://127.0.0.1:6443/api/v1/namespaces/default/serviceaccounts/default/token)
    echo "$a $b"'

expect "kubectl auth whoami (SelfSubjectReview) = system:admin in system:masters" 'system:admin' -- \
    ksh 'kubectl auth whoami'
expect "TokenReview authenticates a fresh SA token" '"authenticated":true' -- ksh '
    t=$(kubectl create token default --audience foo)
    printf "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\",\"spec\":{\"token\":\"%s\",\"audiences\":[\"foo\"]}}" "$t" |
        kubectl create --validate=false -f - -o jsonpath="{.status}"'

# ---- Secrets (core/v1), server-side apply, Status errors
ADM="--cacert $TLS/server-ca.crt --cert $TLS/client-admin.crt --key $TLS/client-admin.key"
API=https://127.0.0.1:6443/api/v1/namespaces/default/secrets
expect "kubectl create secret generic s1 --from-literal" '^secret/s1 created$' -- \
    ksh 'kubectl create secret generic s1 --from-literal=a=b --from-literal=pw=s3cr3tPLAIN -n default'
expect "kubectl get secret s1 -o json: data decodes, Opaque, uid/resourceVersion/creationTimestamp" '^b s3cr3tPLAIN Opaque True$' -- \
    ksh 'kubectl get secret s1 -n default -o json | python3 -c "
import sys, json, base64; o = json.load(sys.stdin); m = o[\"metadata\"]
print(base64.b64decode(o[\"data\"][\"a\"]).decode(), base64.b64decode(o[\"data\"][\"pw\"]).decode(), o[\"type\"],
      all(m.get(k) for k in (\"uid\", \"resourceVersion\", \"creationTimestamp\")))"'
expect "kubectl create secret s1 again -> AlreadyExists" '(Error from server \(AlreadyExists\): |error: failed to create secret )secrets "s1" already exists' -- \
    ksh 'kubectl create secret generic s1 --from-literal=a=c 2>&1; true'
expect "kubectl label + get secrets -l app=x (equality) lists only s1" '^NAME +TYPE +DATA +AGE\|s1 +Opaque +2 +[0-9]+s\|$' -- \
    ksh 'kubectl create secret generic s2 --from-literal=z=1 >/dev/null && kubectl label secret s1 app=x >/dev/null &&
         kubectl label secret s2 app=y >/dev/null && kubectl get secrets -l app=x | tr "\n" "|"'
expect "label selectors: existence, !key, notin" '^s1 s2 \| \| s2 $' -- \
    ksh 'for sel in app "!app" "app notin (x)"; do kubectl get secrets -l "$sel" -o name | sed "s,secret/,," | tr "\n" " "; echo -n "| "; done | sed "s/| $//"'
SSA1='{"apiVersion":"v1","kind":"Secret","metadata":{"name":"ssa","namespace":"default","labels":{"app":"x"}},"stringData":{"k":"one","k2":"two"}}'
SSA2='{"apiVersion":"v1","kind":"Secret","metadata":{"name":"ssa","namespace":"default"},"stringData":{"k":"changed"}}'
SSA3='{"apiVersion":"v1","kind":"Secret","metadata":{"name":"ssa","namespace":"default"},"stringData":{"k":"theirs"}}'
expect "kubectl apply --server-side --field-manager=test creates" '^secret/ssa serverside-applied$' -- \
    ksh "echo '$SSA1' | kubectl apply --server-side --field-manager=test -f -"
expect "managedFields: one Apply entry for test with its fields" '^test Apply \{"f:data": \{"f:k": \{\}, "f:k2": \{\}\}, "f:metadata": \{"f:labels": \{"f:app": \{\}\}\}\}$' -- \
    ksh 'kubectl get secret ssa -o json --show-managed-fields | python3 -c "
import sys, json; o = json.load(sys.stdin)
for e in o[\"metadata\"][\"managedFields\"]: print(e[\"manager\"], e[\"operation\"], json.dumps(e[\"fieldsV1\"], sort_keys=True))"'
expect "re-apply by test changes k and drops the fields it no longer applies (k2, label)" '^changed - -$' -- \
    ksh "echo '$SSA2' | kubectl apply --server-side --field-manager=test -f - >/dev/null &&
         kubectl get secret ssa -o json | python3 -c '
import sys, json, base64; o = json.load(sys.stdin)
print(base64.b64decode(o[\"data\"][\"k\"]).decode(), o[\"data\"].get(\"k2\", \"-\"), (o[\"metadata\"].get(\"labels\") or {}).get(\"app\", \"-\"))'"
expect "apply by another manager without --force-conflicts -> conflict (409)" 'Apply failed with 1 conflict: conflict with "test": \.data\.k' -- \
    ksh "echo '$SSA3' | kubectl apply --server-side --field-manager=other -f - 2>&1; true"
expect "... with --force-conflicts it succeeds, other owns .data.k, test's entry is gone" '^theirs other:Apply $' -- \
    ksh "echo '$SSA3' | kubectl apply --server-side --field-manager=other --force-conflicts -f - >/dev/null &&
         kubectl get secret ssa -o json --show-managed-fields | python3 -c '
import sys, json, base64; o = json.load(sys.stdin)
print(base64.b64decode(o[\"data\"][\"k\"]).decode(), \" \".join(e[\"manager\"] + \":\" + e[\"operation\"] for e in o[\"metadata\"][\"managedFields\"]), end=\" \n\")'"
# A Secret created by POST is owned by an Update entry: a later apply by the same manager never removes
# what the POST wrote (real-world.md, "Kubernetes API"); the one apply from the first write does.
expect "POST {a,b} then apply {a,c} then {c} by the same manager leaves a,b,c (the POST's Update entry keeps a,b)" '^a,b,c$' -- \
    ksh "kubectl create secret generic mixed --from-literal=a=1 --from-literal=b=2 --field-manager=aiosd >/dev/null &&
         echo '{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"mixed\"},\"stringData\":{\"a\":\"1\",\"c\":\"3\"}}' | kubectl apply --server-side --field-manager=aiosd -f - >/dev/null &&
         echo '{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"mixed\"},\"stringData\":{\"c\":\"3\"}}' | kubectl apply --server-side --field-manager=aiosd -f - >/dev/null &&
         kubectl get secret mixed -o json | python3 -c 'import json,sys; print(\",\".join(sorted(json.load(sys.stdin)[\"data\"])))'"
expect "apply {a,b} then {c} from the first write removes a and b" '^c$' -- \
    ksh "echo '{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"applied\"},\"stringData\":{\"a\":\"1\",\"b\":\"2\"}}' | kubectl apply --server-side --field-manager=aiosd -f - >/dev/null &&
         echo '{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"applied\"},\"stringData\":{\"c\":\"3\"}}' | kubectl apply --server-side --field-manager=aiosd -f - >/dev/null &&
         kubectl get secret applied -o json | python3 -c 'import json,sys; print(\",\".join(sorted(json.load(sys.stdin)[\"data\"])))'"
expect "kubernetes.io/dockerconfigjson whose content is not JSON -> 422 Invalid (content redacted)" \
    'data\[\.dockerconfigjson\]: Invalid value: "<secret contents redacted>"' -- \
    ksh "kubectl create secret generic badreg --type=kubernetes.io/dockerconfigjson --from-literal=.dockerconfigjson=PLANTED-notjson 2>&1; true"
expect "... and valid JSON is accepted" '^secret/goodreg created$' -- \
    ksh "kubectl create secret generic goodreg --type=kubernetes.io/dockerconfigjson --from-literal=.dockerconfigjson='{\"auths\":{}}'"
expect "kubectl apply --server-side of an unknown field -> strict decoding error (server-side fieldValidation)" \
    'strict decoding error: unknown field "spec"' -- \
    ksh "echo '{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"ssa\"},\"spec\":{}}' |
         kubectl apply --server-side --field-manager=test -f - 2>&1; true"
expect "apply PATCH without fieldManager -> 400 BadRequest Status" '"reason":"BadRequest","code":400\} 400$' -- \
    inside sh -c "curl -s $ADM -X PATCH -H 'Content-Type: application/apply-patch+yaml' -d '$SSA3' -w ' %{http_code}' $API/ssa | tr -d '\\n'"
expect "merge-patch+json PATCH (kubectl patch --type=merge)" '^secret/ssa patched$' -- \
    ksh "kubectl patch secret ssa --type=merge -p '{\"metadata\":{\"annotations\":{\"n\":\"1\"}}}'"
expect "PUT with a stale resourceVersion -> 409 Conflict Status" '"reason":"Conflict".*"details":\{"name":"ssa","kind":"secrets"\},"code":409\} 409$' -- \
    inside sh -c "curl -s $ADM -X PUT -H 'Content-Type: application/json' -w ' %{http_code}' \
        -d '{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"ssa\",\"resourceVersion\":\"1\"},\"data\":{}}' $API/ssa | tr -d '\\n'"
expect "data that is not base64 -> 400 BadRequest (kubectl create -f)" 'BadRequest.*illegal base64 data' -- \
    ksh "echo '{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"b64\"},\"data\":{\"a\":\"not base64!\"}}' |
         kubectl create --validate=false -f - 2>&1; true"
expect "kubernetes.io/tls without tls.key -> 422 Invalid" 'Secret "badtls" is invalid: data\[tls.key\]: Required value' -- \
    ksh "echo '{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"badtls\"},\"type\":\"kubernetes.io/tls\",\"data\":{\"tls.crt\":\"eA==\"}}' |
         kubectl create --validate=false -f - 2>&1; true"
expect "kubectl create secret tls (openssl cert)" '^secret/tls1 created kubernetes.io/tls$' -- \
    ksh 'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout /tmp/tls.key -out /tmp/tls.crt \
            -subj /CN=tls1 -days 1 >/dev/null 2>&1 &&
         echo "$(kubectl create secret tls tls1 --cert=/tmp/tls.crt --key=/tmp/tls.key -n azure-iot-operations)" \
              "$(kubectl get secret tls1 -n azure-iot-operations -o jsonpath={.type})"'
expect "kubectl get secrets -A lists secrets of all namespaces" 'azure-iot-operations +tls1 +kubernetes.io/tls +2' -- \
    ksh 'kubectl get secrets -A'
expect "kubectl delete secret s1" '^secret "s1" deleted$' -- ksh 'kubectl delete secret s1 -n default'
expect "kubectl get secret s1 afterwards -> NotFound" 'Error from server \(NotFound\): secrets "s1" not found' -- \
    ksh 'kubectl get secret s1 2>&1; true'
expect "DELETE of a missing secret -> 404 NotFound Status" '"message":"secrets \\"s1\\" not found","reason":"NotFound".*"code":404' -- \
    inside curl -s $ADM -X DELETE $API/s1
expect "SA bearer token may not read secrets (403 Status Forbidden)" 'secrets \\"ssa\\" is forbidden: User \\"system:serviceaccount:default:default\\" cannot get resource \\"secrets\\" in API group \\"\\" in the namespace \\"default\\"".*"reason":"Forbidden".* 403$' -- ksh '
    tok=$(kubectl create token default --audience k3s)
    curl -s -w " %{http_code}" --cacert '$TLS'/server-ca.crt -H "Authorization: Bearer $tok" '$API'/ssa | tr -d "\\n"'
expect "secrets.json is mode 0600" '^600$' -- inside stat -c %a /var/lib/rancher/k3s/aios-standin/secrets.json
expect "secret data is not in the k3s journal" '^clean$' -- \
    ksh 'journalctl --no-pager -u k3s.service | grep -Eq "s3cr3tPLAIN|czNjcjN0UExBSU4|theirs|dGhlaXJz" && echo leaked || echo clean'

# ---- CRDs and custom resources (SecretProviderClass, SecretSync), watch, Leases, Deployments
"$TB" cp "$NAME" "$HERE/crds" /tmp/crds >/dev/null
AIO="-n azure-iot-operations"
SSAPI=/apis/secret-sync.x-k8s.io/v1alpha1/namespaces/azure-iot-operations/secretsyncs
ksh "cat > /tmp/spc.yaml <<'EOF2'
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: aio-spc
  namespace: azure-iot-operations
spec:
  provider: azure
  parameters:
    keyvaultName: aios-testbed-kv
    tenantId: 7e57bed0-a105-4000-8000-000000000001
    clientID: a1051d00-55c0-4000-8000-000000000002
    objects: |
      array:
        - |
          objectName: plain-utf8
          objectType: secret
        - |
          objectName: opcua-trust-hex
          objectType: secret
          objectEncoding: hex
EOF2
cat > /tmp/ss.yaml <<'EOF2'
apiVersion: secret-sync.x-k8s.io/v1alpha1
kind: SecretSync
metadata:
  name: plain-utf8
  namespace: azure-iot-operations
  labels:
    app: aio
spec:
  serviceAccountName: aio-ssc-sa
  secretProviderClassName: aio-spc
  secretObject:
    type: Opaque
    data:
    - sourcePath: plain-utf8
      targetKey: value
  forceSynchronization: \"1\"
EOF2"
# ksh1 SCRIPT: like ksh, stdout+stderr joined into one line (newlines -> spaces, trailing space trimmed)
ksh1() { ksh "{ $1
} 2>&1 | tr '\\n' ' ' | sed 's/ *\$//'"; }
rv_of() { ksh "kubectl get --raw '$1' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"metadata\"][\"resourceVersion\"])'"; }
expect "kubectl apply -f crds/ creates both CRDs" 'secretproviderclasses.secrets-store.csi.x-k8s.io created.*secretsyncs.secret-sync.x-k8s.io created' -- \
    ksh1 'kubectl apply -f /tmp/crds/ | sort'
expect "kubectl wait --for condition=established" 'condition met.*condition met' -- \
    ksh1 'kubectl wait --for condition=established --timeout=10s crd/secretsyncs.secret-sync.x-k8s.io crd/secretproviderclasses.secrets-store.csi.x-k8s.io'
expect "kubectl api-resources lists SecretSync and SecretProviderClass" \
    'secretproviderclasses +secrets-store.csi.x-k8s.io/v1 +true +SecretProviderClass secretsyncs +secret-sync.x-k8s.io/v1alpha1 +true +SecretSync' -- \
    ksh1 'kubectl api-resources | grep -E "^secret(sync|providerclass)" | sort'
expect "discovery /apis/secret-sync.x-k8s.io (APIGroup) and the resource list with status" \
    '"kind":"APIGroup".*"preferredVersion":\{"groupVersion":"secret-sync.x-k8s.io/v1alpha1".*"name":"secretsyncs/status"' -- \
    ksh1 'kubectl get --raw /apis/secret-sync.x-k8s.io; kubectl get --raw /apis/secret-sync.x-k8s.io/v1alpha1'
expect "kubectl apply -f SecretProviderClass + SecretSync (client-side apply)" \
    '^secretproviderclass.secrets-store.csi.x-k8s.io/aio-spc created secretsync.secret-sync.x-k8s.io/plain-utf8 created$' -- \
    ksh1 'kubectl apply -f /tmp/spc.yaml -f /tmp/ss.yaml'
expect "kubectl get secretsyncs -n azure-iot-operations (table)" '^NAME +AGE plain-utf8 +[0-9]+s$' -- \
    ksh1 "kubectl get secretsyncs $AIO"
expect "resolved by singular, kind and group-qualified names" '^secretsync.secret-sync.x-k8s.io/plain-utf8( secretsync.secret-sync.x-k8s.io/plain-utf8){2}$' -- \
    ksh1 "for r in secretsync SecretSync secretsyncs.secret-sync.x-k8s.io; do kubectl get \$r plain-utf8 $AIO -o name; done"
expect "SPC stored verbatim (objects block string), generation 1, uid, last-applied annotation" \
    '^azure aios-testbed-kv 1 [0-9a-f-]{36} True objectEncoding: hex$' -- \
    ksh1 "kubectl get secretproviderclass aio-spc $AIO -o json | python3 -c 'import json,sys; o=json.load(sys.stdin); p=o[\"spec\"][\"parameters\"]; m=o[\"metadata\"]
print(o[\"spec\"][\"provider\"], p[\"keyvaultName\"], m[\"generation\"], m[\"uid\"], \"kubectl.kubernetes.io/last-applied-configuration\" in m[\"annotations\"], p[\"objects\"].splitlines()[-1].strip())'"
expect "v1alpha1 of SecretProviderClass is served with the CRD's deprecation warning" \
    'Warning: secrets-store.csi.x-k8s.io/v1alpha1 is deprecated.*aio-spc' -- \
    ksh1 "kubectl get secretproviderclasses.v1alpha1.secrets-store.csi.x-k8s.io $AIO 2>&1"
expect "kubectl describe secretsync" 'Kind: +SecretSync.*Secret Provider Class Name: +aio-spc.*Service Account Name: +aio-ssc-sa.*Events: +<none>' -- \
    ksh1 "kubectl describe secretsync plain-utf8 $AIO"
# watch (kubectl get --watch in the background) sees ADDED (the second SecretSync) then MODIFIED (its re-apply)
ksh "(timeout 8 kubectl get secretsyncs $AIO --watch --output-watch-events -o json > /tmp/ss-watch.json 2>&1 &)
     (timeout 8 kubectl get secretsyncs $AIO --watch > /tmp/ss-watch.txt 2>&1 &)
     (kubectl get --raw '$SSAPI?watch=true&labelSelector=app%3Dother&timeoutSeconds=6' > /tmp/ss-watch-sel.json 2>&1 &)"
sleep 1.5
expect "kubectl apply again with a changed field -> generation 2" '^configured 2 2$' -- \
    ksh1 "kubectl apply -f /tmp/ss.yaml >/dev/null
         sed -e 's/name: plain-utf8\$/name: opc-trust/' -e 's/app: aio/app: other/' /tmp/ss.yaml | kubectl apply -f - >/dev/null
         sed -e 's/name: plain-utf8\$/name: opc-trust/' -e 's/app: aio/app: other/' -e 's/\"1\"/\"2\"/' /tmp/ss.yaml | kubectl apply -f - | awk '{print \$2}'
         kubectl get secretsync opc-trust $AIO -o jsonpath='{.metadata.generation} {.spec.forceSynchronization}'"
expect "kubectl patch --subresource=status --type=merge sets status, generation unchanged" '^patched 2 v1:abc True$' -- \
    ksh1 "kubectl patch secretsync opc-trust $AIO --subresource=status --type=merge -p '{\"status\":{\"syncHash\":\"v1:abc\",\"conditions\":[{\"type\":\"SecretCreated\",\"status\":\"True\",\"reason\":\"CreateSuccessful\",\"message\":\"ok\",\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]}}' | awk '{print \$2}'
         kubectl get secretsync opc-trust $AIO -o jsonpath='{.metadata.generation} {.status.syncHash} {.status.conditions[0].status}'"
expect "status written through the main resource is ignored (status subresource)" '^patched \(no change\) v1:abc 2$' -- \
    ksh1 "kubectl patch secretsync opc-trust $AIO --type=merge -p '{\"status\":{\"syncHash\":\"v1:IGNORED\"}}' | cut -d' ' -f2-
         kubectl get secretsync opc-trust $AIO -o jsonpath='{.status.syncHash} {.metadata.generation}'"
expect "kubectl get --subresource=status" '^v1:abc$' -- \
    ksh1 "kubectl get secretsync opc-trust $AIO --subresource=status -o jsonpath='{.status.syncHash}'"
sleep 6.5
expect "kubectl get --watch --output-watch-events: ADDED (both) then MODIFIED" '^ADDED:plain-utf8 ADDED:opc-trust MODIFIED:opc-trust MODIFIED:opc-trust$' -- \
    ksh1 "python3 -c '
import json,sys
d=json.JSONDecoder(); s=open(\"/tmp/ss-watch.json\").read(); i=0
while True:
    while i < len(s) and s[i].isspace(): i+=1
    if i >= len(s): break
    o,i=d.raw_decode(s,i); print(o[\"type\"]+\":\"+o[\"object\"][\"metadata\"][\"name\"], end=\" \")
'"
expect "kubectl get --watch (table rows)" '^NAME +AGE plain-utf8 +[0-9]+s opc-trust +[0-9]+s opc-trust +[0-9]+s' -- \
    ksh1 "tr '\n' ' ' < /tmp/ss-watch.txt"
expect "raw watch with labelSelector: only the matching object's events, stream ends at timeoutSeconds" \
    '^"ADDED" opc-trust "MODIFIED" opc-trust "MODIFIED" opc-trust$' -- \
    ksh1 "python3 -c '
import json
for l in open(\"/tmp/ss-watch-sel.json\"): o=json.loads(l); print(json.dumps(o[\"type\"]), o[\"object\"][\"metadata\"][\"name\"], end=\" \")'"
expect "PUT with a stale resourceVersion -> 409 Conflict; without one -> 422 (custom resources)" \
    '"reason":"Conflict".*"code":409\} 409 .*must be specified for an update.*"code":422\} 422$' -- \
    ksh1 "kubectl get secretsync opc-trust $AIO -o json > /tmp/put0.json
         python3 -c 'import json,sys; o=json.load(sys.stdin); o[\"metadata\"][\"resourceVersion\"]=\"1\"; print(json.dumps(o))' < /tmp/put0.json > /tmp/put1.json
         python3 -c 'import json,sys; o=json.load(sys.stdin); del o[\"metadata\"][\"resourceVersion\"]; print(json.dumps(o))' < /tmp/put0.json > /tmp/put2.json
         for f in /tmp/put1.json /tmp/put2.json; do curl -s $ADM -X PUT -H 'Content-Type: application/json' -w ' %{http_code} ' \
            --data-binary @\$f https://127.0.0.1:6443$SSAPI/opc-trust | tr -d '\n'; done"
expect "server-side apply: another manager's conflicting field -> 409, --force-conflicts takes it" \
    'conflict with "kubectl-client-side-apply": \.spec\.forceSynchronization.*serverside-applied 2 3$' -- \
    ksh1 "sed 's/\"1\"/\"3\"/' /tmp/ss.yaml | kubectl apply --server-side --field-manager=ssc-test -f - 2>&1
         sed 's/\"1\"/\"3\"/' /tmp/ss.yaml | kubectl apply --server-side --field-manager=ssc-test --force-conflicts -f - 2>/dev/null | awk '{print \$2}'
         kubectl get secretsync plain-utf8 $AIO -o jsonpath='{.metadata.generation} {.spec.forceSynchronization}'"
expect "server-side apply creates (201) and records an Apply managedFields entry" '^serverside-applied ssc-test:Apply$' -- \
    ksh1 "sed 's/name: plain-utf8\$/name: ssa-made/' /tmp/ss.yaml | kubectl apply --server-side --field-manager=ssc-test -f - | awk '{print \$2}'
         kubectl get secretsync ssa-made $AIO -o jsonpath='{range .metadata.managedFields[*]}{.manager}:{.operation}{end}' --show-managed-fields"
expect "kubectl patch --type=json" '^patched 3 4$' -- \
    ksh1 "kubectl patch secretsync plain-utf8 $AIO --type=json -p '[{\"op\":\"replace\",\"path\":\"/spec/forceSynchronization\",\"value\":\"4\"}]' | awk '{print \$2}'
         kubectl get secretsync plain-utf8 $AIO -o jsonpath='{.metadata.generation} {.spec.forceSynchronization}'"
expect "kubectl edit (GET + merge patch)" '^edited 4 5$' -- \
    ksh1 "EDITOR='sed -i s/forceSynchronization:.*/forceSynchronization:\\ \"5\"/' kubectl edit secretsync plain-utf8 $AIO | awk '{print \$2}'
         kubectl get secretsync plain-utf8 $AIO -o jsonpath='{.metadata.generation} {.spec.forceSynchronization}'"
expect "DELETE with a wrong preconditions.uid -> 409" 'Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000.*"code":409' -- \
    inside curl -s $ADM -X DELETE -H 'Content-Type: application/json' \
        -d '{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"00000000-0000-0000-0000-000000000000"}}' \
        "https://127.0.0.1:6443$SSAPI/ssa-made"
SS_RV=$(rv_of "$SSAPI")
expect "kubectl delete secretsync; then NotFound" \
    '^secretsync.secret-sync.x-k8s.io "ssa-made" deleted Error from server \(NotFound\): secretsyncs.secret-sync.x-k8s.io "ssa-made" not found$' -- \
    ksh1 "kubectl delete secretsync ssa-made $AIO; kubectl get secretsync ssa-made $AIO 2>&1"
expect "raw watch from a resourceVersion replays later events (DELETED + MODIFIED)" '^DELETED:ssa-made DELETED:opc-trust MODIFIED:plain-utf8$' -- \
    ksh1 "kubectl delete secretsync opc-trust $AIO >/dev/null; kubectl annotate secretsync plain-utf8 $AIO note=x >/dev/null
         kubectl get --raw '$SSAPI?watch=1&resourceVersion=$SS_RV&timeoutSeconds=1' |
         python3 -c 'import json,sys; [print(o[\"type\"]+\":\"+o[\"object\"][\"metadata\"][\"name\"], end=\" \") for o in map(json.loads, sys.stdin)]'"
expect "allowWatchBookmarks: an idle watch gets a BOOKMARK with the current resourceVersion" '^BOOKMARK SecretSync [0-9]+$' -- \
    ksh1 "kubectl get --raw '$SSAPI?watch=1&resourceVersion=$SS_RV&allowWatchBookmarks=true&timeoutSeconds=4' |
         python3 -c 'import json,sys; [print(o[\"type\"], o[\"object\"][\"kind\"], o[\"object\"][\"metadata\"][\"resourceVersion\"]) for o in map(json.loads, sys.stdin) if o[\"type\"]==\"BOOKMARK\"]' | head -1"
SEC_RV=$(rv_of /api/v1/namespaces/default/secrets)
expect "Secrets watch: ADDED, MODIFIED, DELETED after a resourceVersion" '^ADDED:w1 MODIFIED:w1 DELETED:w1$' -- \
    ksh1 "kubectl create secret generic w1 --from-literal=a=b >/dev/null; kubectl label secret w1 l=1 >/dev/null; kubectl delete secret w1 >/dev/null
         kubectl get --raw '/api/v1/namespaces/default/secrets?watch=true&resourceVersion=$SEC_RV&timeoutSeconds=1' |
         python3 -c 'import json,sys; [print(o[\"type\"]+\":\"+o[\"object\"][\"metadata\"][\"name\"], end=\" \") for o in map(json.loads, sys.stdin)]'"
expect "garbage collection: a Secret owned by a SecretSync goes when the SecretSync is deleted" '^owned-by-ss: 1 -> gone$' -- \
    ksh1 "sed 's/name: plain-utf8\$/name: gc-owner/' /tmp/ss.yaml | kubectl apply -f - >/dev/null
         uid=\$(kubectl get secretsync gc-owner $AIO -o jsonpath='{.metadata.uid}')
         echo '{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"owned-by-ss\",\"ownerReferences\":[{\"apiVersion\":\"secret-sync.x-k8s.io/v1alpha1\",\"kind\":\"SecretSync\",\"name\":\"gc-owner\",\"uid\":\"'\$uid'\"}]},\"stringData\":{\"a\":\"1\"}}' |
             kubectl apply --server-side --field-manager=aiosd $AIO -f - >/dev/null
         echo -n \"owned-by-ss: \$(kubectl get secret owned-by-ss $AIO -o jsonpath='{.metadata.ownerReferences[*].uid}' | grep -c \$uid) -> \"
         kubectl delete secretsync gc-owner $AIO >/dev/null
         for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do kubectl get secret owned-by-ss $AIO >/dev/null 2>&1 || { echo gone; exit 0; }; sleep 0.5; done; echo still-there"
expect "a Lease like the controller's (29f1d54e.secret-sync.x-k8s.io) via kubectl apply / get / delete" \
    '^lease.coordination.k8s.io/29f1d54e.secret-sync.x-k8s.io created azure-iot-operations +29f1d54e.secret-sync.x-k8s.io +ssc-pod_1 .*deleted' -- \
    ksh1 "printf '%s\n' 'apiVersion: coordination.k8s.io/v1' 'kind: Lease' 'metadata:' '  name: 29f1d54e.secret-sync.x-k8s.io' \
           '  namespace: azure-iot-operations' 'spec:' '  holderIdentity: ssc-pod_1' '  leaseDurationSeconds: 15' \
           '  renewTime: \"2026-01-01T00:00:00.000000Z\"' | kubectl apply -f -
         kubectl get leases -A --no-headers; kubectl delete lease 29f1d54e.secret-sync.x-k8s.io $AIO" 
expect "kubectl create deployment / get deploy -A / delete" \
    '^deployment.apps/secrets-store-sync-controller-manager created azure-iot-operations +secrets-store-sync-controller-manager +0/1 +0 +0 .* registry.k8s.io/secrets-store-sync/controller:v0.0.4 deployment.apps "secrets-store-sync-controller-manager" deleted$' -- \
    ksh1 "kubectl create deployment secrets-store-sync-controller-manager --image=registry.k8s.io/secrets-store-sync/controller:v0.0.4 $AIO
         kubectl get deploy -A --no-headers
         kubectl get deploy secrets-store-sync-controller-manager $AIO -o jsonpath='{.spec.template.spec.containers[0].image}{\"\n\"}'
         kubectl delete deploy secrets-store-sync-controller-manager $AIO" 
expect "request counters: by resource and verb, watch counted as WATCH" \
    '"PATCH secretsyncs/status": [1-9].*"WATCH secretsyncs": [1-9]' -- \
    ksh1 "curl -s http://127.0.0.1:6440/counts | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"byVerbResource\"]; print(json.dumps({k: v for k, v in sorted(c.items()) if \"secretsync\" in k or \"secretprovider\" in k}))'"
expect "objects.json is mode 0600" '^600$' -- inside stat -c %a /var/lib/rancher/k3s/aios-standin/objects.json
SS_UID=$(ksh "kubectl get secretsync plain-utf8 $AIO -o jsonpath={.metadata.uid}" 2>/dev/null)
OLD_RV=$(rv_of "$SSAPI")

SSA_UID=$(ksh 'kubectl get secret ssa -o jsonpath={.metadata.uid}' 2>/dev/null)

# ---- the AIO workload-identity drop-in
ksh 'kubectl create token default --audience k3s > /tmp/oldtok'
ksh "mkdir -p /etc/rancher/k3s/config.yaml.d && cat > /etc/rancher/k3s/config.yaml.d/90-aios.yaml <<'EOF'
kube-apiserver-arg+:
  - \"service-account-issuer=$ARC_ISS\"
  - \"service-account-issuer=$DEFAULT_ISS\"
  - \"service-account-max-token-expiration=24h\"
EOF"
t=$(now)
check "systemctl restart k3s with the issuer drop-in succeeds" -- inside systemctl restart k3s.service
RESTART_S=$(elapsed "$t")
echo "# restart took $RESTART_S s"
expect "start takes a while: READY=1 only after the default 2 s delay" '^slow$' -- \
    awk -v s="$RESTART_S" 'BEGIN{print (s >= 2 ? "slow" : "fast: " s)}'
expect "openid-configuration issuer is now the Arc issuer" "\"issuer\":\"$ARC_ISS\"" -- \
    ksh 'kubectl get --raw /.well-known/openid-configuration'
check "token iss = Arc issuer, max-token-expiration caps 48h to 24h" -- \
    token_check default default api://AzureADTokenExchange "$ARC_ISS" 86400 48h
expect "apiserver-args.json: both issuers, Arc first, and 24h" \
    "service-account-issuer=${ARC_ISS}\",.*\"--service-account-issuer=${DEFAULT_ISS}\",.*max-token-expiration=24h" -- \
    ksh 'tr -d "\n " < /var/lib/rancher/k3s/aios-standin/apiserver-args.json'
expect "a token signed with the old (second, still accepted) issuer authenticates" '^200$' -- ksh '
    curl -s -o /dev/null -w "%{http_code}" --cacert '$TLS'/server-ca.crt -H "Authorization: Bearer $(cat /tmp/oldtok)" https://127.0.0.1:6443/version'

# ---- unknown flag: the restart must fail like the real apiserver
ksh "cat > /etc/rancher/k3s/config.yaml.d/95-bad.yaml <<'EOF'
kube-apiserver-arg+:
 - \"no-such-flag=1\"
EOF"
t=$(now)
N=$((N + 1))
if inside systemctl restart k3s.service >/dev/null 2>&1; then
    echo "not ok $N - systemctl restart with an unknown apiserver flag fails"; FAILED=$((FAILED + 1))
else
    echo "ok $N - systemctl restart with an unknown apiserver flag fails ($(elapsed "$t") s)"
fi
expect "k3s.service is then activating (auto-restart) or failed" 'activating|failed' -- \
    ksh 'systemctl is-active k3s.service; true'
expect "journal shows Error: unknown flag: --no-such-flag" 'Error: unknown flag: --no-such-flag' -- \
    inside journalctl --no-pager -u k3s.service
expect "API is down while the flag is bad" 'down' -- \
    ksh 'kubectl get --raw /readyz >/dev/null 2>&1 && echo up || echo down'
inside rm -f /etc/rancher/k3s/config.yaml.d/95-bad.yaml

# ---- malformed YAML: restart fails, journal names the file
ksh "printf 'kube-apiserver-arg+:\n  - \"unterminated\n' > /etc/rancher/k3s/config.yaml.d/96-broken.yml"
inside systemctl reset-failed k3s.service >/dev/null 2>&1
N=$((N + 1))
if inside systemctl restart k3s.service >/dev/null 2>&1; then
    echo "not ok $N - systemctl restart with a malformed drop-in fails"; FAILED=$((FAILED + 1))
else
    echo "ok $N - systemctl restart with a malformed drop-in fails"
fi
expect "journal names the malformed file" 'failed to parse /etc/rancher/k3s/config.yaml.d/96-broken.yml' -- \
    inside journalctl --no-pager -u k3s.service
inside rm -f /etc/rancher/k3s/config.yaml.d/96-broken.yml

# ---- recovery and persistence
inside systemctl reset-failed k3s.service >/dev/null 2>&1
t=$(now)
check "after removing the bad drop-ins, systemctl restart k3s works again" -- inside systemctl restart k3s.service
echo "# recovery restart took $(elapsed "$t") s"
expect "readyz ok after recovery" '^ok$' -- ksh 'kubectl get --raw /readyz'
expect "Secrets survive systemctl restart k3s (same uid and data)" "^$SSA_UID theirs\$" -- \
    ksh 'kubectl get secret ssa -o json | python3 -c "
import sys, json, base64; o = json.load(sys.stdin); print(o[\"metadata\"][\"uid\"], base64.b64decode(o[\"data\"][\"k\"]).decode())"'
expect "issuer still the Arc issuer after recovery" "\"issuer\":\"$ARC_ISS\"" -- \
    ksh 'kubectl get --raw /.well-known/openid-configuration'
expect "CA persisted across restarts (same fingerprint)" "^$(printf '%s' "$CA_FP0" | sed 's/[]\/$*.^[]/\\&/g')\$" -- \
    inside openssl x509 -noout -fingerprint -sha256 -in $TLS/server-ca.crt
expect "SA signing key persisted across restarts" "^$SA0 " -- inside sha256sum $TLS/service.key

# ---- CLI flags override the whole config list (K3s precedence)
ksh "mkdir -p /etc/systemd/system/k3s.service.d && cat > /etc/systemd/system/k3s.service.d/cli.conf <<'EOF'
[Service]
ExecStart=
ExecStart=/usr/local/bin/k3s server --kube-apiserver-arg=service-account-issuer=https://cli.example/
EOF
systemctl daemon-reload"
check "restart with --kube-apiserver-arg in ExecStart" -- inside systemctl restart k3s.service
expect "CLI list replaced the file list (only the CLI issuer, no 24h cap)" \
    '^\["--service-account-issuer=https://cli.example/"\] *$' -- ksh '/usr/bin/python3 -c "
import json; a=json.load(open(\"/var/lib/rancher/k3s/aios-standin/apiserver-args.json\"))[\"args\"]
print(json.dumps([x for x in a if x.startswith((\"--service-account-issuer\",\"--service-account-max\"))]))"'
inside sh -c 'rm -rf /etc/systemd/system/k3s.service.d && systemctl daemon-reload'

# ---- merge rules: a later plain `kube-apiserver-arg:` replaces the whole list (K3s pitfall)
ksh "printf 'kube-apiserver-arg:\n  - v=2\n' > /etc/rancher/k3s/config.yaml.d/99-plain.YML"
expect "later plain key replaces the list: default issuer only, v=2 (k3s config-check)" \
    '^--service-account-issuer=https://kubernetes.default.svc.cluster.local --v=2 $' -- \
    ksh 'k3s config-check | grep -E "^--(service-account-issuer|v)=" | tr "\n" " "'
inside rm -f /etc/rancher/k3s/config.yaml.d/99-plain.YML

# ---- custom resources and watch across the restart
NEW_RV=$(rv_of "$SSAPI")
expect "after restarts: CRDs still served, SecretSync kept (same uid, generation), resourceVersion kept increasing" "^$SS_UID 4 up$" -- \
    ksh1 "echo \$(kubectl get secretsync plain-utf8 $AIO -o jsonpath='{.metadata.uid} {.metadata.generation}') \$([ $NEW_RV -ge $OLD_RV ] && echo up)"
expect "watch from a resourceVersion before the restart -> one ERROR event, Status 410 Expired, stream ends" \
    '^\{"type":"ERROR","object":\{"kind":"Status","apiVersion":"v1","metadata":\{\},"status":"Failure","message":"too old resource version: [0-9]+ \([0-9]+\)","reason":"Expired","code":410\}\}$' -- \
    ksh1 "kubectl get --raw '$SSAPI?watch=1&resourceVersion=$SS_RV&timeoutSeconds=5'"
expect "watch from the list resourceVersion after the restart resumes (no 410)" '^MODIFIED:plain-utf8$' -- \
    ksh1 "kubectl annotate secretsync plain-utf8 $AIO after=restart >/dev/null
         kubectl get --raw '$SSAPI?watch=1&resourceVersion=$NEW_RV&timeoutSeconds=1' |
         python3 -c 'import json,sys; [print(o[\"type\"]+\":\"+o[\"object\"][\"metadata\"][\"name\"], end=\" \") for o in map(json.loads, sys.stdin)]'"
expect "kubectl delete -f crds/: the custom resources go and the resource types are no longer served" \
    '^(NotFound ){2}.*(doesn.t have a resource type "secretsyncs"|Unable to list .*secretsyncs.*could not find the requested resource)' -- \
    ksh1 "kubectl delete -f /tmp/crds/ >/dev/null; for p in /apis/secret-sync.x-k8s.io/v1alpha1 $SSAPI; do
            kubectl get --raw \$p 2>&1 | grep -o NotFound; done; kubectl get secretsyncs $AIO; true"

# ---- stop = SIGTERM -> clean exit
t=$(now)
check "systemctl stop k3s is clean" -- inside systemctl stop k3s.service
expect "k3s.service inactive (not failed) after stop" '^inactive$' -- ksh 'systemctl is-active k3s.service; true'
echo "# stop took $(elapsed "$t") s"

echo "1..$N"
echo "# $((N - FAILED))/$N passed, $(elapsed "$T0") s total"
[[ $FAILED -eq 0 ]]
