#!/bin/bash
# fidelity.sh: tests the Entra ID, Key Vault, managed identity and ARM emulators with
# Microsoft's own Python SDKs (azure-identity, azure-keyvault-secrets,
# azure-mgmt-hybridkubernetes) inside a throwaway testbed container, plus curl
# against the system trust store.
# Prints TAP-like "ok N - ..." / "not ok N - ..." lines; exits non-zero on failure.
# Must run as root. Usage: Tests/testbed/azure/fidelity.sh
# Env: AZSDK_DIR=DIR  reuse/keep the pip --target dir (default: a fresh temp dir, removed)
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
TB=$(cd "$HERE/.." && pwd -P)/testbed
NAME=azure-fid-$$
T0=$(date +%s.%N)

if [[ $(id -u) -ne 0 ]]; then
    echo "fidelity.sh: must run as root (testbed boots systemd-nspawn containers)" >&2
    exit 2
fi

OWN_SDK=
if [[ -n ${AZSDK_DIR:-} ]]; then SDK=$AZSDK_DIR; else SDK=$(mktemp -d /var/tmp/aios-azsdk.XXXXXX); OWN_SDK=1; fi
teardown() {
    "$TB" down "$NAME" >/dev/null 2>&1 || true
    [[ -n $OWN_SDK ]] && rm -rf "$SDK"
}
trap teardown EXIT
trap 'echo "# interrupted" >&2; exit 130' INT TERM HUP

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

# ---- Microsoft's SDKs from PyPI, pure-python only: cryptography/cffi come from
# Debian's python3-cryptography inside the container (the host's pip may be a
# different Python build).
t=$(now)
if [[ ! -e $SDK/azure/keyvault/secrets/__init__.py || ! -e $SDK/azure/mgmt/hybridkubernetes/__init__.py ]]; then
    PIP=${PIP:-pip3}
    if ! "$PIP" install -q --disable-pip-version-check --no-warn-script-location --target "$SDK" \
            azure-identity azure-keyvault-secrets azure-mgmt-hybridkubernetes >"$SDK.pip.log" 2>&1; then
        echo "not ok 1 - pip install azure-identity azure-keyvault-secrets azure-mgmt-hybridkubernetes"
        sed 's/^/#   /' "$SDK.pip.log" | tail -20
        rm -f "$SDK.pip.log"; exit 1
    fi
    rm -f "$SDK.pip.log"
    rm -rf "$SDK"/cryptography "$SDK"/cryptography-* "$SDK"/cffi "$SDK"/cffi-* "$SDK"/_cffi_backend* \
           "$SDK"/pycparser "$SDK"/pycparser-* "$SDK"/bin
fi
echo "# SDKs: $(cd "$SDK" && ls -d azure_identity-* azure_keyvault_secrets-* azure_mgmt_hybridkubernetes-* \
    azure_mgmt_core-* azure_core-* msal-* 2>/dev/null \
    | sed 's/\.dist-info//' | tr '\n' ' ')(pip $(elapsed "$t") s)"

t=$(now)
if ! "$TB" up "$NAME" --fixtures "$HERE" --bind-ro "$SDK:/opt/azsdk" \
        --mask postgresql.service --mask e2scrub_reap.service; then
    echo "not ok 1 - testbed up with the azure fixtures"
    exit 1
fi
echo "# up + emulators ready in $(elapsed "$t") s"

N=0
FAILED=0
expect() {  # expect DESC PATTERN -- CMD...
    local desc=$1 pat=$2; shift 2; [[ $1 == -- ]] && shift
    N=$((N + 1))
    local out rc
    out=$("$@" 2>&1); rc=$?
    if [[ $rc -eq 0 ]] && grep -Eq -- "$pat" <<<"$out"; then
        echo "ok $N - $desc"
    else
        echo "not ok $N - $desc"; FAILED=$((FAILED + 1))
        echo "#   rc=$rc, wanted /$pat/, got:"; printf '%s\n' "$out" | tail -n 15 | sed 's/^/#   /'
    fi
}
inside() { "$TB" exec "$NAME" -- "$@"; }

expect "emulator units active (entra, keyvault, imds, arc, arm)" '^active active active active active$' -- \
    inside sh -c 'echo $(systemctl is-active aios-azure-entra.service aios-azure-keyvault.service aios-azure-imds.service aios-azure-arc.service aios-azure-arm.service)'
expect "testbed CA in the system trust store; curl verifies login.microsoftonline.com" '"token_endpoint"' -- \
    inside curl -fsS https://login.microsoftonline.com/72f988bf-0000-4000-8000-00000000a105/v2.0/.well-known/openid-configuration
expect "Key Vault on :443 answers the recorded 401 challenge" \
    '^401 Bearer authorization="https://login.microsoftonline.com/72f988bf-0000-4000-8000-00000000a105", resource="https://vault.azure.net"$' -- \
    inside sh -c "curl -sS -D - -o /dev/null -X PUT 'https://demo-kv.vault.azure.net/secrets/x?api-version=7.4' \
        | awk 'NR==1{s=\$2} tolower(\$1)==\"www-authenticate:\"{sub(/^[^ ]+ /,\"\"); sub(/\r\$/,\"\"); h=\$0} END{print s, h}'"
expect "openssl: vault cert chains to the system store" 'Verify return code: 0' -- \
    inside sh -c 'openssl s_client -connect 127.0.0.1:443 -servername demo-kv.vault.azure.net -verify_hostname demo-kv.vault.azure.net </dev/null 2>/dev/null'

sdk_checks() {  # sdk_checks SCRIPT: runs an in-container SDK script, its checks renumbered after ours
    local t out rc line failed_before=$FAILED
    t=$(now)
    out=$("$TB" exec "$NAME" --env PYTHONPATH=/opt/azsdk --env REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
        --env PYTHONDONTWRITEBYTECODE=1 -- /usr/bin/python3 "/srv/testbed/fixtures/$1" 2>&1); rc=$?
    while IFS= read -r line; do
        if [[ $line =~ ^(not\ ok|ok)\ [0-9]+\ -\ (.*)$ ]]; then
            N=$((N + 1)); [[ ${BASH_REMATCH[1]} == "not ok" ]] && FAILED=$((FAILED + 1))
            echo "${BASH_REMATCH[1]} $N - ${BASH_REMATCH[2]}"
        else
            echo "$line"
        fi
    done <<<"$out"
    if [[ $rc -ne 0 && $FAILED -eq $failed_before ]]; then
        N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1 exited $rc"
    fi
    echo "# $1 in $(elapsed "$t") s"
}
sdk_checks fidelity_sdk.py

# The service limit (README "Service limit"), made small: 3 requests per 8 s; the 4th is 429 Throttled without
# Retry-After and is not counted; a window later the vault answers again.
expect "Key Vault service limit: 429 Throttled without Retry-After beyond it, not counted, answered again a window later" \
    '^401 401 401 429 429 - Throttled VaultRequestTypeLimitReached / 401 limit$' -- \
    inside sh -c '
        curl -fsS -X PUT -d "{\"transactions\": 3, \"windowSeconds\": 8}" http://127.0.0.1:8081/_admin/throttle >/dev/null
        kv() { curl -sS -o /tmp/kv.body -D /tmp/kv.head -w "%{http_code}" "https://demo-kv.vault.azure.net/secrets/x/?api-version=7.4"; }
        s=$(for i in 1 2 3 4 5; do kv; echo -n " "; done)
        ra=$(grep -ci "^retry-after" /tmp/kv.head); [ "$ra" = 0 ] && ra=-
        body=$(python3 -c "import json; e=json.load(open(\"/tmp/kv.body\"))[\"error\"]; print(e[\"code\"], e[\"message\"].split()[-1])")
        sleep 8.2; after=$(kv)
        curl -fsS -X PUT -d "{}" http://127.0.0.1:8081/_admin/throttle | python3 -c "import json,sys; d=json.load(sys.stdin); print(\"limit\" if d[\"limit\"] == {\"transactions\": 4000, \"windowSeconds\": 10.0} else d)" >/tmp/kv.limit
        echo "$s$ra $body / $after $(cat /tmp/kv.limit)"'
expect "Key Vault stats: per-op counters" '"getSecret":[1-9]' -- \
    inside curl -fsS http://127.0.0.1:8081/_admin/stats
expect "admin side API reads a secret without auth" '"value":"v2"' -- \
    inside curl -fsS http://127.0.0.1:8081/_admin/vaults/demo-kv/secrets/app-pw
expect "secrets persist across a restart of the Key Vault emulator" '"value":"v2"' -- \
    inside sh -c 'systemctl restart aios-azure-keyvault.service && curl -fsS http://127.0.0.1:8081/_admin/vaults/demo-kv/secrets/app-pw'

# ARM (management.azure.com): curl through the system store, then Microsoft's azure-mgmt-hybridkubernetes.
expect "curl verifies management.azure.com; no token -> 401 AuthenticationFailed" '^401 .*"code":"AuthenticationFailed"' -- \
    inside sh -c "curl -sS -w '%{http_code} ' -o /tmp/arm.body 'https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/testbed/providers/Microsoft.Kubernetes/connectedClusters/testbed-k3s?api-version=2024-07-15-preview' && cat /tmp/arm.body"
sdk_checks fidelity_arm.py

if [[ $FAILED -ne 0 ]]; then
    echo "# emulator journal (tail):"
    "$TB" journal "$NAME" -u aios-azure-entra.service -u aios-azure-keyvault.service -u aios-azure-arm.service 2>&1 | tail -n 40 | sed 's/^/#   /'
fi
echo "# $N checks, $FAILED failed, total $(elapsed "$T0") s"
[[ $FAILED -eq 0 ]]
