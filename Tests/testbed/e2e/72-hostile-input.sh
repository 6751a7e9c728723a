#!/bin/bash
# Issue 10 section 3: no input takes aiosd down. A SecretProviderClass whose objects are an alias bomb is
# refused with a condition while aiosd's PID and memory stay steady; pipelined requests are answered in
# order; a flood of connections from a non-root uid locks out neither root nor another member of `aios`; a 300 MB
# answer from Key Vault is cut at the cap with aiosd's memory steady.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init hostile
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../aio"

fixture=$("$TB" fixture "$E2E_NAME" --json)
fact() { json_get "$1" <<<"$fixture"; }
tenant=$(fact 'd["tenantId"]'); client=$(fact 'd["clientId"]'); issuer=$(fact 'd["issuer"]'); vault=$(fact 'd["vault"]')
ns=azure-iot-operations
kc() { inside kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n "$ns" "$@"; }
cond() { kc get secretsync "$1" -o "jsonpath={.status.conditions[?(@.type==\"$2\")].$3}"; }
rss_kib() { inside awk '/^VmRSS:/ {print $2}' "/proc/$(main_pid)/status"; }

# Slow clients may hold a connection 30 s here: the flood below is all the stronger for it.
inside sh -c "printf 'identity:\n  tenantId: $tenant\n  clientId: $client\nsync:\n  interval: 1h\n  jitter: 0s\ncontrol:\n  headerTimeout: 30s\n' > /etc/aios/aiosd.yaml"
check "restart aiosd for control.headerTimeout (a setting read at start)" -- inside systemctl restart aiosd.service
check_rc 0 "workload-identity enable with the fixture's issuer" -- inside aiosctl workload-identity enable --issuer "$issuer"
check_rc 0 "the CRDs are installed" -- kc get crd secretsyncs.secret-sync.x-k8s.io

pid=$(main_pid)
rss_before=$(rss_kib)
# Ten levels of nine aliases: ~400 bytes, 10^9 nodes once expanded (the review's crash-loop was 305 bytes).
bomb='l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
for i in 1 2 3 4 5 6 7 8 9; do
    bomb+=$'\n'"l$i: &l$i [$(printf "*l$((i - 1)),%.0s" 1 2 3 4 5 6 7 8)*l$((i - 1))]"
done
bomb+=$'\narray:\n  - *l9'
inside sh -c 'cat > /tmp/bomb.yaml' <<EOF2
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: bomb-spc
  namespace: $ns
spec:
  provider: azure
  parameters:
    clientID: $client
    keyvaultName: $vault
    tenantId: $tenant
    objects: |
$(sed 's/^/      /' <<<"$bomb")
---
apiVersion: secret-sync.x-k8s.io/v1alpha1
kind: SecretSync
metadata:
  name: bomb
  namespace: $ns
  labels: {aios.microsoft.com/agent: aiosd}
spec:
  serviceAccountName: aio-ssc-sa
  secretProviderClassName: bomb-spc
  secretObject:
    type: Opaque
    data:
      - sourcePath: lol
        targetKey: value
EOF2
check_rc 0 "kubectl apply a SecretProviderClass whose objects are an alias bomb" -- kc apply -f /tmp/bomb.yaml
refused() { [ "$(cond bomb SecretUpdated reason)" = SecretProviderClassMisconfigured ]; }
check_within 30 "the bomb's SecretSync gets a SecretProviderClassMisconfigured condition" -- refused
check_contains "... saying anchors are not accepted, with line and column" \
    "SecretProviderClass $ns/bomb-spc: parameters.objects:1:5: anchors and aliases are not accepted here" "$(cond bomb SecretUpdated message)"
check_not_contains "... never echoing the objects' text" "lol" "$(cond bomb SecretUpdated message)"
check_rc 0 "secret list still answers (the objects are not re-expanded per call)" -- inside aiosctl secret list
check_rc 0 "a full sync still answers" -- inside aiosctl sync
check_eq "aiosd's MainPID is unchanged (no crash, no restart)" "$pid" "$(main_pid)"
rss_after=$(rss_kib)
echo "# VmRSS before ${rss_before} KiB, after ${rss_after} KiB"
if (( rss_after < rss_before + 51200 )); then ok "aiosd's memory is steady (grew $(( (rss_after - rss_before) / 1024 )) MiB < 50 MiB)"
else not_ok "aiosd's memory is steady (< 50 MiB growth)" "before ${rss_before} KiB, after ${rss_after} KiB"; fi
check_eq "NRestarts of aiosd.service is 0" 0 "$(unit_prop aiosd.service NRestarts)"

# Pipelining: two requests in one write get two answers, in order.
pipelined=$(inside python3 -c '
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("/run/aiosd/aiosd.sock")
s.sendall(b"GET /v1/version HTTP/1.1\r\nHost: aiosd\r\n\r\nGET /v1/status HTTP/1.1\r\nHost: aiosd\r\nConnection: close\r\n\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk: break
    data += chunk
print(data.count(b"HTTP/1.1 200"), data.find(b"\"libcurl\"") < data.find(b"\"pid\""))
')
check_eq "two pipelined requests are both answered, in order" "2 True" "$pipelined"

# A flood from one member of aios: 100 connections that never finish their request.
inside useradd -M -G aios flooder >/dev/null 2>&1
inside useradd -M -G aios operator2 >/dev/null 2>&1
"$TB" cp "$E2E_NAME" "$E2E_DIR/../../tools/control-flood.py" /tmp/flood.py
inside chmod 0644 /tmp/flood.py
# Its stdin (the sleep) keeps the connections open 20 s.
inside sh -c 'sleep 20 | setpriv --reuid=flooder --regid=aios --init-groups python3 /tmp/flood.py /run/aiosd/aiosd.sock 100 > /tmp/flood.out 2>&1 &'
flood_done() { inside test -s /tmp/flood.out; }
check_within 10 "the flood holds its connections" -- flood_done
check_eq "... 16 held open (a quarter of maxConnections 64), the other 84 refused" 16 "$(inside cat /tmp/flood.out)"
check_rc 0 "during the flood root is served" -- inside aiosctl status
check_rc 0 "during the flood another member of aios is served" -- inside_as operator2 aiosctl status
check_rc 5 "during the flood the flooding user is told busy (exit 5, not 3)" -- inside_as flooder aiosctl status
check_contains "... saying so" "too many open control connections from this user" "$LAST_OUT"
refusals=$(inside journalctl -u aiosd.service --no-pager -o cat MESSAGE="Control connections refused: too many" | grep -c . || true)
if (( refusals >= 1 && refusals <= 3 )); then ok "refusals are logged, rate-limited ($refusals journal lines for 85 refusals)"
else not_ok "refusals are logged, rate-limited (1 to 3 lines)" "$refusals lines"; fi
check_eq "aiosd's MainPID is still unchanged" "$pid" "$(main_pid)"

# Bounded outbound bodies: a 300 MB answer to a Key Vault read (a broken or hostile middlebox) is cut at Key Vault's
# cap of 1 MiB: the sync of that secret fails with the cap named, aiosd's memory and PID stay as they were, and the
# next sync, with the vault answering normally again, works.
check "remove the bomb (a failing definition of its own)" -- kc delete secretsync bomb
check "... and its SecretProviderClass" -- kc delete secretproviderclass bomb-spc
check_rc 0 "without the bomb, sync --wait works" -- inside aiosctl sync --wait
# The fault goes in before the definition: a cycle something else starts (the SecretSync watch after the bomb's
# removal, a retry of the bomb's failed cycles) may fetch the new secret as soon as its file exists.
rss_before=$(rss_kib)
"$TB" fault "$E2E_NAME" keyvault oversize 300000000 --match "GET /secrets/plain-utf8" >/dev/null
check_rc 0 "secret add capped (plain-utf8)" -- inside aiosctl secret add capped --vault "$vault" --object plain-utf8 --key value
check_rc 1 "sync --wait while Key Vault answers 300 MB exits 1" -- inside aiosctl sync --wait
check_contains "... the secret's error names the cap" "exceeds 1048576 bytes" "$(inside aiosctl secret show capped 2>&1)"
rss_after=$(rss_kib)
echo "# VmRSS before ${rss_before} KiB, after ${rss_after} KiB"
if (( rss_after < rss_before + 51200 )); then ok "aiosd's memory is steady after a 300 MB answer (grew $(( (rss_after - rss_before) / 1024 )) MiB < 50 MiB)"
else not_ok "aiosd's memory is steady after a 300 MB answer (< 50 MiB growth)" "before ${rss_before} KiB, after ${rss_after} KiB"; fi
check_eq "aiosd's MainPID is unchanged after the 300 MB answer" "$pid" "$(main_pid)"
"$TB" fault "$E2E_NAME" keyvault clear >/dev/null
check_rc 0 "with the vault answering normally again, sync --wait works" -- inside aiosctl sync --wait
e2e_finish
