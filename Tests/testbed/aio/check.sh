#!/bin/bash
# Self-check of the AIO fixture (root): boots aio-check-<pid> with
# --fixtures Tests/testbed/aio (no .deb) and, with curl and python inside, walks
# the workload-identity path the agent takes (TokenRequest -> Entra -> Key Vault,
# AADSTS700211 before the issuer is set, success after), IMDS and Arc tokens
# against Key Vault, and the testbed vault/fault/counts verbs.
# Prints ok/not ok lines; exits non-zero if any check failed.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TB=$HERE/../testbed
N=aio-check-$$
PY=/usr/bin/python3
fails=0 n=0
t0=$(date +%s.%N)

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; [ -n "${2-}" ] && printf '%s\n' "$2" | sed 's/^/#   /' | head -n 20; }
# check DESC CMD...: ok if CMD exits 0
check() { local d=$1 out; shift; if out=$("$@" 2>&1); then ok "$d"; else nok "$d" "$out"; fi; }
in_c() { "$TB" exec "$N" -- sh -c "$1"; }
js() { $PY -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

cleanup() { "$TB" down "$N" >/dev/null 2>&1; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! out=$("$TB" up "$N" --fixtures "$HERE" --mask postgresql.service --mask e2scrub_reap.service 2>&1); then
    nok "testbed up --fixtures aio" "$out"; exit 1
fi
ok "testbed up --fixtures aio ($(sed -n 's/.*(\(.*\)).*/\1/p' <<<"$out"))"

facts=$("$TB" fixture "$N" --json) || { nok "testbed fixture --json"; exit 1; }
f() { js "d$1" <<<"$facts"; }
TENANT=$(f '["tenantId"]') CLIENT=$(f '["clientId"]') ISSUER=$(f '["issuer"]') VAULT=$(f '["vault"]')
VURL=$(f '["vaultUrl"]') PLAIN=$(f '["secrets"]["plain-utf8"]["value"]')
[[ -n $TENANT && -n $CLIENT && $ISSUER == https://*/ && $VURL == "https://$VAULT.vault.azure.net" ]] \
    && ok "fixture facts: tenant $TENANT, client $CLIENT, issuer $ISSUER, vault $VAULT" \
    || nok "fixture facts" "$facts"

check "units active (k3s, entra, keyvault, imds, arc)" in_c \
    'systemctl is-active -q k3s aios-azure-entra aios-azure-keyvault aios-azure-imds aios-azure-arc'

# --- workload identity: token exchange before the issuer is set -> AADSTS700211 (no credential has that issuer)
mint='kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml create token aio-ssc-sa -n azure-iot-operations --audience api://AzureADTokenExchange'
exchange="curl -sS -w '\n%{http_code}' https://login.microsoftonline.com/$TENANT/oauth2/v2.0/token \
  --data-urlencode grant_type=client_credentials --data-urlencode client_id=$CLIENT \
  --data-urlencode scope=https://vault.azure.net/.default \
  --data-urlencode client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
  --data-urlencode client_assertion=\"\$($mint)\""
out=$(in_c "$exchange")
code=${out##*$'\n'} body=${out%$'\n'*}
if [[ $code == 400 ]] && js 'd["error_codes"]' <<<"$body" | grep -q 700211 &&
   grep -q "assertion issuer 'https://kubernetes.default.svc.cluster.local'" <<<"$body"; then
    ok "before the issuer is set: Entra answers 400 AADSTS700211 naming the default issuer"
else
    nok "before the issuer is set: AADSTS700211" "$out"
fi

# --- set the issuer the way the agent does, restart K3s
in_c "mkdir -p /etc/rancher/k3s/config.yaml.d && printf 'kube-apiserver-arg+:\n- service-account-issuer=%s\n- service-account-issuer=https://kubernetes.default.svc.cluster.local\n' '$ISSUER' > /etc/rancher/k3s/config.yaml.d/90-aios.yaml && systemctl restart k3s.service"
check "k3s restarted with the fixture issuer (discovery says so)" in_c \
    "kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml get --raw /.well-known/openid-configuration | grep -qF '\"issuer\":\"$ISSUER\"'"
out=$(in_c "$exchange")
code=${out##*$'\n'} body=${out%$'\n'*}
AT=$(js 'd.get("access_token","")' <<<"$body" 2>/dev/null)
[[ $code == 200 && -n $AT ]] && ok "after the issuer is set: token exchange succeeds" || nok "token exchange" "$out"
kvget() { # TOKEN SECRET -> prints value (exit 1 unless 200)
    in_c "curl -fsS -H 'Authorization: Bearer $1' '$VURL/secrets/$2?api-version=7.4'" | js 'd["value"]'
}
v=$(kvget "$AT" plain-utf8 2>&1)
[[ $v == "$PLAIN" ]] && ok "Key Vault GET with the workload identity token returns the seeded plain secret" \
    || nok "Key Vault GET (workload identity)" "$v"
v=$(in_c "curl -sS -H 'Authorization: Bearer $AT' '$VURL/secrets/tls-pem?api-version=7.4'" |
    js '(d["contentType"], d["managed"], d["value"].count("-----BEGIN"), d["value"].startswith("-----BEGIN PRIVATE KEY"))')
[[ $v == "('application/x-pem-file', True, 4, True)" ]] && ok "tls-pem: PEM content type, managed, key + 3 certificates" \
    || nok "tls-pem shape" "$v"
v=$(in_c "curl -sS -H 'Authorization: Bearer $AT' '$VURL/secrets/tls-pfx?api-version=7.4' | /usr/bin/python3 -c '
import base64, json, sys
from cryptography.hazmat.primitives.serialization import pkcs12
d = json.load(sys.stdin)
k, c, extra = pkcs12.load_key_and_certificates(base64.b64decode(d[\"value\"]), None)
print(d[\"contentType\"], k is not None, c.subject.rfc4514_string(), len(extra))'")
[[ $v == "application/x-pkcs12 True CN=PLANTED-leaf.testbed.aios.example,O=aios testbed 2" ]] \
    && ok "tls-pfx: PKCS#12 with empty password, key + leaf + 2 chain certificates" || nok "tls-pfx shape" "$v"

# --- managed identities
IMDS_TOK=$(in_c "curl -fsS -H Metadata:true 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net'" | js 'd["access_token"]' 2>&1)
v=$(kvget "$IMDS_TOK" plain-utf8 2>&1)
[[ $v == "$PLAIN" ]] && ok "IMDS token works against Key Vault" || nok "IMDS token -> Key Vault" "$IMDS_TOK $v"
v=$(in_c "curl -sS -o /dev/null -w '%{http_code}' 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net'")
[[ $v == 400 ]] && ok "IMDS without Metadata: true -> 400" || nok "IMDS without Metadata header" "$v"
ARC_TOK=$(in_c '
u="http://localhost:40342/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https://vault.azure.net"
realm=$(curl -sS -o /dev/null -D - -H Metadata:true "$u" | sed -n "s/^WWW-Authenticate: Basic realm=\(.*\)\r$/\1/Ip")
case $realm in /var/opt/azcmagent/tokens/*.key) ;; *) echo "bad realm: $realm"; exit 1 ;; esac
[ "$(stat -c %a:%U:%G "$realm")" = 640:himds:himds ] || { echo "bad key file mode"; exit 1; }
bad=$(curl -sS -o /dev/null -w "%{http_code}" -H Metadata:true -H "Authorization: Basic wrong" "$u")
[ "$bad" = 401 ] || { echo "wrong key gave $bad"; exit 1; }
curl -fsS -H Metadata:true -H "Authorization: Basic $(cat "$realm")" "$u"' | js 'd["access_token"]' 2>&1)
v=$(kvget "$ARC_TOK" plain-utf8 2>&1)
[[ $v == "$PLAIN" ]] && ok "Arc HIMDS: 401 + key file challenge (himds:himds 0640, wrong key 401), token works against Key Vault" \
    || nok "Arc HIMDS -> Key Vault" "$ARC_TOK $v"

# --- testbed verbs
before=$("$TB" vault "$N" get "$VAULT" plain-utf8 | js 'd["id"]')
"$TB" vault "$N" set "$VAULT" plain-utf8 PLANTED-check-new-version --tag k=v >/dev/null
v=$("$TB" vault "$N" get "$VAULT" plain-utf8 | js '(d["value"], d["versions"], d["tags"]["k"], d["id"])')
[[ $v == "('PLANTED-check-new-version', 2, 'v', "* && $v != *"$before"* ]] \
    && ok "testbed vault set -> get shows the new version" || nok "vault set/get" "$v"
"$TB" vault "$N" disable "$VAULT" plain-utf8 >/dev/null
v=$(in_c "curl -sS -H 'Authorization: Bearer $AT' '$VURL/secrets/plain-utf8?api-version=7.4'" | js 'd["error"]["innererror"]["code"]')
"$TB" vault "$N" enable "$VAULT" plain-utf8 >/dev/null
[[ $v == SecretDisabled ]] && ok "testbed vault disable -> 403 SecretDisabled" || nok "vault disable" "$v"
"$TB" counts "$N" --reset >/dev/null
"$TB" fault "$N" keyvault 429 --retry-after 1 --count 1 --match /secrets/plain-utf8 >/dev/null
v=$(in_c "curl -sS -o /dev/null -o /dev/null -w '%{http_code} ' -H 'Authorization: Bearer $AT' '$VURL/secrets/plain-utf8?api-version=7.4' '$VURL/secrets/plain-utf8?api-version=7.4'")
c=$("$TB" counts "$N" | js '(d["keyvault"]["total"], d["keyvault"]["byStatus"].get("429"), d["keyvault"]["byOp"]["getSecret"])')
[[ $v == "429 200 " && $c == "(2, 1, 2)" ]] && ok "testbed fault keyvault 429 --count 1 -> one 429, counts show it" \
    || nok "fault 429 + counts" "$v $c"
"$TB" fault "$N" imds 503 --count 1 >/dev/null
v=$(in_c "curl -sS -o /dev/null -w '%{http_code}' -H Metadata:true 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net'")
[[ $v == 503 ]] && ok "testbed fault imds 503" || nok "fault imds 503" "$v"
w0=$("$TB" counts "$N" | js 'd["k3s"]["writes"]')
in_c 'kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml create secret generic aio-check -n azure-iot-operations --from-literal=k=PLANTED-k8s >/dev/null'
v=$("$TB" counts "$N" | js '(d["k3s"]["writes"], d["k3s"]["byVerbResource"].get("POST secrets"))')
[[ $v == "($((w0 + 1)), 1)" ]] && ok "k3s counts: a Secret write increases writes" || nok "k3s counts" "w0=$w0 $v"

dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
if (( fails )); then
    echo "# $fails of $n checks failed (${dt}s)"
    exit 1
fi
echo "# all $n checks passed (${dt}s)"
