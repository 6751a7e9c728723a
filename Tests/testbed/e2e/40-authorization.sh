#!/bin/bash
# Scenario 4 (issues #3, #10, #17): who may talk to aiosd. The socket (0660
# root:aios) keeps out users not in group aios (kernel check, exit 4); members
# of the admin group may mutate; with adminGroup: root a member of aios is a
# reader: it connects, reads, and gets 403 from the peer-credential check on
# every mutation (exit 4), all audited with its level. An operator (non-root
# member of aios) is refused every dangerous kube-apiserver flag family with
# the K3s files unchanged byte for byte and K3s not restarted; the allow-list
# works for it; root may set a root-only flag, but not a file others can write.
# An operator's secret definition may not set clientID under managedIdentity;
# a control.k3sAdminGroup member may, and may set a root-only flag.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init authz
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../k3s"

check "useradd -m alice" -- inside useradd -m alice
uid=$(inside id -u alice 2>&1)

check_rc 4 "alice (not in aios): aiosctl status exits 4" -- inside_as alice aiosctl status
check_contains "... with a message containing 'permission denied'" "permission denied" "${LAST_OUT,,}"
check_rc 4 "alice (not in aios): aiosctl config reload exits 4" -- inside_as alice aiosctl config reload
check_rc 3 "alice: a socket that does not exist is 'unreachable' (exit 3), not 'denied'" -- \
    inside_as alice aiosctl --socket /run/aiosd/nonexistent.sock status

check "usermod -aG aios alice" -- inside usermod -aG aios alice
check_rc 0 "alice (in aios): aiosctl status exits 0" -- inside_as alice aiosctl status
check_rc 0 "alice (in aios): aiosctl config reload exits 0" -- inside_as alice aiosctl config reload
check_journal "journal: 'Mutating request authorized' with AIOS_PEER_UID=$uid (alice)" -u aiosd -- \
    "MESSAGE=Mutating request authorized" "AIOS_PEER_UID=$uid" AIOS_PEER_COMM=aiosctl \
    "AIOS_REQUEST_ENDPOINT=POST /v1/config/reload"

# Socket open to group aios, mutations restricted to group root.
pid=$(main_pid)
check "write /etc/aios/aiosd.yaml with control.adminGroup: root" -- \
    inside sh -c 'printf "control:\n  adminGroup: root\n" > /etc/aios/aiosd.yaml'
reload_and_wait "systemctl reload aiosd"
check_eq "aiosd keeps running (same MainPID) after the reload" "$pid" "$(main_pid)"
js=$(inside aiosctl status --json 2>&1)
check_eq "status --json: the reload was accepted" true "$(json_get 'd["lastReload"]["accepted"]' <<<"$js")" "$js"

check_rc 0 "alice (in aios, not admin): aiosctl status exits 0" -- inside_as alice aiosctl status
check_rc 4 "alice (in aios, not admin): aiosctl config reload exits 4" -- inside_as alice aiosctl config reload
check_contains "... saying 'may not POST /v1/config/reload'" "may not POST /v1/config/reload" "$LAST_OUT"
check_journal "journal: 'Mutating request denied' with AIOS_PEER_UID=$uid" -u aiosd -- \
    "MESSAGE=Mutating request denied" "AIOS_PEER_UID=$uid" "AIOS_REQUEST_ENDPOINT=POST /v1/config/reload"
check_rc 0 "root may still reload (uid 0 is always admin)" -- inside aiosctl config reload

# Membership is read live: adding alice to group root lets her next request through.
check "usermod -aG root alice" -- inside usermod -aG root alice
check_rc 0 "alice (now in root): aiosctl config reload exits 0 without restarting aiosd" -- \
    inside_as alice aiosctl config reload
check_eq "... and aiosd was not restarted" "$pid" "$(main_pid)"

# ---- A reader (issue #17): connects (group aios), so each refusal below comes from the peer-credential
# check in aiosd, not from the socket's file mode. adminGroup is still root here.
check "useradd -m -G aios rita" -- inside useradd -m -G aios rita
rita=$(inside id -u rita 2>&1)
check_rc 0 "rita (reader) can connect and read: aiosctl secret list exits 0" -- inside_as rita aiosctl secret list
for cmd in "sync" "k3s restart" "systemd daemon-reload" "k3s apiserver-arg set audit-log-maxage=30" \
           "workload-identity disable" "secret add db --vault contoso-kv --object db-password" "secret remove db"; do
    # shellcheck disable=SC2086
    check_rc 4 "rita (reader): aiosctl $cmd exits 4" -- inside_as rita aiosctl $cmd
    check_contains "... refused by aiosd's level check ('uid $rita may not POST')" "uid $rita may not POST /v1/" "$LAST_OUT"
done
check_journal "journal: 'Mutating request denied' with AIOS_PEER_LEVEL=reader for rita" -u aiosd -- \
    "MESSAGE=Mutating request denied" "AIOS_PEER_UID=$rita" AIOS_PEER_LEVEL=reader AIOS_REQUEST_LEVEL=operator \
    "AIOS_REQUEST_ENDPOINT=POST /v1/k3s/apiserver-args" AIOS_PEER_COMM=aiosctl AIOS_PEER_PID=*

# ---- An operator (issue #10): the default adminGroup aios, a user who is not root.
check "write /etc/aios/aiosd.yaml with the default adminGroup (aios)" -- \
    inside sh -c 'printf "control:\n  adminGroup: aios\n" > /etc/aios/aiosd.yaml'
reload_and_wait "systemctl reload aiosd"
check "useradd -m -G aios olivia" -- inside useradd -m -G aios olivia
olivia=$(inside id -u olivia 2>&1)
inside_as olivia sh -c 'printf "secret,admin,0,system:masters\n" > ~/tokens.csv; printf "x\n" > ~/audit.yaml'
# A directory olivia owns outside /home, so aiosd (ProtectHome=yes hides /home from it) sees who owns it.
inside install -d -o olivia /srv/olivia
inside_as olivia sh -c 'printf "secret,admin,0,system:masters\n" > /srv/olivia/tokens.csv'

k3s_files() { inside sh -c 'find /etc/rancher/k3s /etc/systemd/system -path "*k3s*" -type f | sort | xargs sha256sum'; }
k3s_unit() { echo "NRestarts=$(unit_prop k3s.service NRestarts) InvocationID=$(unit_prop k3s.service InvocationID) MainPID=$(unit_prop k3s.service MainPID)"; }
running_args() { inside cat /var/lib/rancher/k3s/aios-standin/apiserver-args.json; }
check_ne "K3s (the stand-in) is running" "MainPID=0" "$(k3s_unit | sed 's/.*MainPID/MainPID/')"
files_before=$(k3s_files); unit_before=$(k3s_unit)

for flag in anonymous-auth=true authorization-mode=AlwaysAllow token-auth-file=/srv/olivia/tokens.csv \
            enable-admission-plugins=AlwaysAdmit disable-admission-plugins=NodeRestriction feature-gates=AllAlpha=true \
            tls-min-version=VersionTLS10 tls-cert-file=/home/olivia/tokens.csv audit-policy-file=/home/olivia/audit.yaml \
            oidc-issuer-url=https://evil.example oidc-username-claim=sub service-account-key-file=/home/olivia/tokens.csv \
            requestheader-username-headers=X-Remote-User encryption-provider-config=/home/olivia/audit.yaml \
            authentication-token-webhook-config-file=/home/olivia/audit.yaml runtime-config=api/all=true; do
    check_rc 4 "olivia (operator): apiserver-arg set $flag exits 4" -- inside_as olivia aiosctl k3s apiserver-arg set "$flag"
    check_contains "... naming the rule and who may ('only root')" "rule root-only-flag; you are an operator" "$LAST_OUT"
done
check_rc 4 "olivia: apiserver-arg set service-account-issuer=... exits 4" -- \
    inside_as olivia aiosctl k3s apiserver-arg set service-account-issuer=https://evil.example
check_contains "... pointing at the workload-identity flow" "aiosctl workload-identity enable" "$LAST_OUT"
check_rc 4 "olivia: apiserver-arg set service-account-max-token-expiration=8760h exits 4" -- \
    inside_as olivia aiosctl k3s apiserver-arg set service-account-max-token-expiration=8760h
check_contains "... saying 1h to 24h" "from 1h to 24h" "$LAST_OUT"
check_rc 4 "olivia: workload-identity enable --max-token-expiration 8760h exits 4" -- \
    inside_as olivia aiosctl workload-identity enable --issuer https://issuer.example/ --max-token-expiration 8760h
check_rc 4 "olivia: apiserver-arg unset authorization-mode exits 4" -- inside_as olivia aiosctl k3s apiserver-arg unset authorization-mode
check_eq "after every refusal the K3s files are unchanged byte for byte" "$files_before" "$(k3s_files)"
check_eq "... and K3s was not restarted (NRestarts, InvocationID, MainPID)" "$unit_before" "$(k3s_unit)"
check_journal "journal: 'Mutating request refused by policy' with AIOS_PEER_LEVEL=operator for olivia" -u aiosd -- \
    "MESSAGE=Mutating request refused by policy" "AIOS_PEER_UID=$olivia" AIOS_PEER_LEVEL=operator \
    "AIOS_REQUEST_ENDPOINT=POST /v1/k3s/apiserver-args" "AIOS_REQUEST_ERROR~anonymous-auth"
check_journal "journal: olivia's authorized requests carry AIOS_PEER_LEVEL=operator" -u aiosd -- \
    "MESSAGE=Mutating request authorized" "AIOS_PEER_UID=$olivia" AIOS_PEER_LEVEL=operator AIOS_PEER_COMM=aiosctl

# Secret definitions within the policy (default secrets.allowedNamespaces: azure-iot-operations).
check_rc 4 "olivia: secret add --namespace kube-system exits 4" -- \
    inside_as olivia aiosctl secret add sys --vault contoso-kv --object x --namespace kube-system
check_rc 4 "olivia: secret add --namespace default exits 4" -- \
    inside_as olivia aiosctl secret add dflt --vault contoso-kv --object x --namespace default
check_contains "... naming secrets.allowedNamespaces" "secrets.allowedNamespaces" "$LAST_OUT"
check "... and nothing was written to /etc/aios/secrets.d" -- inside sh -c '! ls /etc/aios/secrets.d/sys.yaml /etc/aios/secrets.d/dflt.yaml 2>/dev/null'
check_rc 0 "olivia: secret add in azure-iot-operations exits 0" -- inside_as olivia aiosctl secret add mine --vault contoso-kv --object x

# The identity rule: under managedIdentity a definition's clientID picks one of the node's own identities
# (IMDS/Arc accept any attached client_id), so it is root's; a control.k3sAdminGroup member is root.
check "groupadd k3sadmin; useradd -m -G aios,k3sadmin kara" -- inside sh -c 'groupadd k3sadmin && useradd -m -G aios,k3sadmin kara'
check "write /etc/aios/aiosd.yaml: identity.method managedIdentity, control.k3sAdminGroup k3sadmin" -- \
    inside sh -c 'printf "control:\n  adminGroup: aios\n  k3sAdminGroup: k3sadmin\nidentity:\n  method: managedIdentity\n  tenantId: 99999999-2222-3333-4444-555555555555\n" > /etc/aios/aiosd.yaml'
reload_and_wait "systemctl reload aiosd"
check_rc 4 "olivia: secret add --client-id under managedIdentity exits 4" -- \
    inside_as olivia aiosctl secret add node-id --vault contoso-kv --object x --client-id 11111111-2222-3333-4444-555555555555
check_contains "... naming the rule and who may" "rule identity-override; you are an operator" "$LAST_OUT"
check_contains "... only root" "only root (uid 0 or control.k3sAdminGroup) may" "$LAST_OUT"
check "... and /etc/aios/secrets.d/node-id.yaml was not created" -- inside test ! -e /etc/aios/secrets.d/node-id.yaml
check_rc 0 "kara (k3sAdminGroup): the same secret add exits 0" -- \
    inside_as kara aiosctl secret add node-id --vault contoso-kv --object x --client-id 11111111-2222-3333-4444-555555555555
check "... written as root's (no writtenBy: operator)" -- inside sh -c '! grep -q writtenBy /etc/aios/secrets.d/node-id.yaml'
check "... while olivia's own definition records her level" -- inside grep -qx "writtenBy: operator" /etc/aios/secrets.d/mine.yaml

# Root narrows secrets.allowedNamespaces later: olivia's definition, added within the old bounds, is held to the
# new ones at the next sync (not only at add): it fails with the rule and nothing is written to its target.
check "write /etc/aios/aiosd.yaml: the same, with secrets.allowedNamespaces: [apps]" -- \
    inside sh -c 'printf "control:\n  adminGroup: aios\n  k3sAdminGroup: k3sadmin\nidentity:\n  method: managedIdentity\n  tenantId: 99999999-2222-3333-4444-555555555555\nsecrets:\n  allowedNamespaces: [apps]\n" > /etc/aios/aiosd.yaml'
reload_and_wait "systemctl reload aiosd"
check_rc 1 "root: aiosctl sync --wait exits 1 (definitions failed)" -- inside aiosctl sync --wait
check_contains "... mine failed with TargetNotAllowed" "TargetNotAllowed" "$(grep -w mine <<<"$LAST_OUT")"
check_rc 0 "aiosctl secret show mine" -- inside aiosctl secret show mine
check_contains "... names the rule" "written by an operator: mine targets namespace azure-iot-operations, which secrets.allowedNamespaces" "$LAST_OUT"
check_journal "journal: Secret sync failed for mine with AIOS_ERROR_CODE=TargetNotAllowed" -u aiosd -- \
    "AIOS_EVENT=Secret sync failed" AIOS_SECRET=mine AIOS_ERROR_CODE=TargetNotAllowed
check "... and no Secret azure-iot-operations/mine was written" -- \
    inside sh -c '! kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n azure-iot-operations get secret mine'
check_rc 0 "aiosctl secret show node-id (kara's, root's)" -- inside aiosctl secret show node-id
check_not_contains "... is not bounded by secrets:" "TargetNotAllowed" "$LAST_OUT"

# The allow-list works for the operator: K3s restarts with the flag.
check_rc 0 "olivia: apiserver-arg set audit-log-maxage=30 (allow-listed) exits 0" -- \
    inside_as olivia aiosctl k3s apiserver-arg set audit-log-maxage=30
check_contains "... and K3s runs with it" "--audit-log-maxage=30" "$(running_args)"

# A control.k3sAdminGroup member may set a root-only flag.
check_rc 0 "kara (k3sAdminGroup): apiserver-arg set profiling=false (root-only) exits 0" -- \
    inside_as kara aiosctl k3s apiserver-arg set profiling=false
check_contains "... and K3s runs with it" "--profiling=false" "$(running_args)"

# Root: a root-only flag is allowed; a file someone else can write is not, not even for root.
files_before=$(k3s_files); unit_before=$(k3s_unit)
check_rc 1 "root: apiserver-arg set token-auth-file=/srv/olivia/tokens.csv exits 1" -- \
    inside aiosctl k3s apiserver-arg set token-auth-file=/srv/olivia/tokens.csv
check_contains "... because olivia owns its directory (rule root-owned-file)" "/srv/olivia is owned by uid $olivia" "$LAST_OUT"
check_contains "... naming the rule" "(rule root-owned-file)" "$LAST_OUT"
check_rc 1 "root: apiserver-arg set token-auth-file=/home/olivia/tokens.csv exits 1 (aiosd cannot vouch for /home)" -- \
    inside aiosctl k3s apiserver-arg set token-auth-file=/home/olivia/tokens.csv
check_contains "... naming the rule" "(rule root-owned-file)" "$LAST_OUT"
check_eq "... K3s files unchanged" "$files_before" "$(k3s_files)"
check_eq "... K3s not restarted" "$unit_before" "$(k3s_unit)"
check_rc 0 "root: apiserver-arg set anonymous-auth=false exits 0" -- inside aiosctl k3s apiserver-arg set anonymous-auth=false
check_contains "... and K3s runs with it" "--anonymous-auth=false" "$(running_args)"
check_ne "... after a restart (InvocationID changed)" "$(sed 's/.*InvocationID=\([^ ]*\).*/\1/' <<<"$unit_before")" "$(unit_prop k3s.service InvocationID)"

e2e_finish
