#!/bin/bash
# `aiosctl workload-identity enable/disable` against the K3s stand-in: write, restart, verify, roll back;
# idempotence; refusals that change nothing; recovery of a transaction a crash interrupted.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init wienable
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../k3s"

default=https://kubernetes.default.svc.cluster.local
arc=https://eastus.oic.prod-arc.azure.com/00000000-0000-0000-0000-000000000001/11111111-2222-3333-4444-555555555555/
dropin=/etc/rancher/k3s/config.yaml.d/90-aios.yaml
served() { inside kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml get --raw /.well-known/openid-configuration | json_get 'd["issuer"]'; }
k3s_pid() { unit_prop k3s.service MainPID; }
dropin_sum() { inside sh -c "sha256sum $dropin 2>/dev/null || echo absent"; }

check_rc 0 "workload-identity enable succeeds" -- inside aiosctl workload-identity enable --issuer "$arc"
check_contains "... reports each step" "ok   restart k3s.service" "$LAST_OUT"
check_contains "... and the served issuer" "Workload identity enabled; the API server serves $arc" "$LAST_OUT"
check_eq "the API server serves the Arc issuer (kubectl)" "$arc" "$(served)"
check_contains "the drop-in keeps the default issuer second" "\"service-account-issuer=$default\"" "$(inside cat $dropin)"
check_contains "the drop-in uses the append form" "kube-apiserver-arg+:" "$(inside cat $dropin)"
args=$(inside cat /var/lib/rancher/k3s/aios-standin/apiserver-args.json)
check_contains "K3s runs with both issuers and 24h" "service-account-max-token-expiration" "$args"

pid=$(k3s_pid); sum=$(dropin_sum)
check_rc 0 "enabling the same issuer again succeeds" -- inside aiosctl workload-identity enable --issuer "$arc"
check_contains "... and does nothing" "Nothing to do" "$LAST_OUT"
check_eq "... K3s was not restarted" "$pid" "$(k3s_pid)"
check_eq "... the drop-in is unchanged" "$sum" "$(dropin_sum)"

# Refusals change nothing.
inside sh -c 'cp /etc/rancher/k3s/config.yaml /tmp/config.yaml.orig && printf "kube-apiserver-arg:\n  - service-account-issuer=https://other.example/\n" >> /etc/rancher/k3s/config.yaml'
check_rc 1 "enable refuses when config.yaml sets another issuer" -- inside aiosctl workload-identity enable --issuer https://new.example/
check_contains "... naming the file and line" "/etc/rancher/k3s/config.yaml:3 already sets service-account-issuer=https://other.example/" "$LAST_OUT"
check_eq "... K3s was not restarted" "$pid" "$(k3s_pid)"
check_eq "... the drop-in is unchanged" "$sum" "$(dropin_sum)"
inside cp /tmp/config.yaml.orig /etc/rancher/k3s/config.yaml
check_rc 1 "enable refuses an http:// issuer" -- inside aiosctl workload-identity enable --issuer http://plain.example/
check_contains "... saying why" "must be an https:// URL" "$LAST_OUT"

# A change K3s rejects (token expiration under 1h): rolled back, K3s serving the old issuer again.
check_rc 1 "enable with a value the API server rejects fails" -- inside aiosctl workload-identity enable --issuer https://second.example/ --max-token-expiration 30m
check_contains "... and says it rolled back" "rolled back: the previous $dropin is restored and the API server serves $arc again" "$LAST_OUT"
check_eq "after the rollback the drop-in is the previous one" "$sum" "$(dropin_sum)"
check_eq "after the rollback the API server serves the previous issuer" "$arc" "$(served)"
check_journal "the journal records the failed step" -u aiosd.service -- MESSAGE="K3s change step failed"
failed=$(inside aiosctl jobs --json | json_get '[j["id"] for j in d if j["state"] == "failed"][-1]')
check_rc 0 "aiosctl jobs show of the failed change works" -- inside aiosctl jobs show "$failed"
check_contains "... it lists the rollback steps" "ok   rollback: verify the served issuer" "$LAST_OUT"
check_contains "... and K3s' own journal lines that explain it" "should not be less than 1h" "$LAST_OUT"

# A transaction a crash interrupted is rolled back at the next start of aiosd.
inside systemctl reset-failed k3s.service >/dev/null 2>&1
inside sh -c "printf '{\"path\":\"$dropin\",\"previous\":null,\"startedAt\":\"2026-01-01T00:00:00Z\"}' > /var/lib/aiosd/k3s-transaction.json"
check "restart aiosd with an interrupted transaction on record" -- inside systemctl restart aiosd.service
check_within 60 "aiosd rolls it back: the drop-in is removed" -- inside sh -c "! test -e $dropin"
served_is_default() { [ "$(served)" = "$default" ]; }
check_within 60 "... and K3s serves the default issuer again" -- served_is_default
check_within 30 "... and the record is gone" -- inside sh -c '! test -e /var/lib/aiosd/k3s-transaction.json'

# kill -9 of aiosd in the middle of an edit: its next start rolls the edit back to a consistent config.
check_rc 0 "enable (before the crash test)" -- inside aiosctl workload-identity enable --issuer "$arc"
sum=$(dropin_sum)
inside sh -c 'echo K3S_STANDIN_START_DELAY=4 > /etc/systemd/system/k3s.service.env && chmod 600 /etc/systemd/system/k3s.service.env'
inside aiosctl workload-identity enable --issuer https://third.example/ >/dev/null 2>&1 &
bg=$!
check_within 20 "the edit is under way (transaction recorded, new drop-in written)" -- \
    inside sh -c "test -e /var/lib/aiosd/k3s-transaction.json && grep -q third.example $dropin"
aiosd_pid=$(main_pid)
check "kill -9 aiosd in the middle of the edit" -- inside kill -9 "$aiosd_pid"
wait "$bg"
aiosd_restarted() { local p; p=$(main_pid); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$aiosd_pid" ]; }
check_within 30 "systemd restarts aiosd" -- aiosd_restarted
dropin_is_previous() { [ "$(dropin_sum)" = "$sum" ]; }
check_within 60 "the interrupted edit is rolled back: the previous drop-in is back" -- dropin_is_previous
served_is_arc() { [ "$(served)" = "$arc" ]; }
check_within 60 "... and K3s serves the previous issuer" -- served_is_arc
check_within 30 "... and the transaction record is gone" -- inside sh -c '! test -e /var/lib/aiosd/k3s-transaction.json'
check_eq "the killed job is listed as interrupted" interrupted \
    "$(inside aiosctl jobs --json | json_get '[j["state"] for j in d if j["kind"] == "workload-identity-enable"][-1]')"
inside rm -f /etc/systemd/system/k3s.service.env

# Enable then disable.
check_rc 0 "enable again" -- inside aiosctl workload-identity enable --issuer "$arc"
check_rc 0 "workload-identity disable succeeds" -- inside aiosctl workload-identity disable
check_eq "the API server serves the default issuer after disable" "$default" "$(served)"
check "the agent's drop-in is gone (it held only issuer entries)" -- inside sh -c "! test -e $dropin"
check_rc 0 "disable again does nothing" -- inside aiosctl workload-identity disable
check_contains "... saying so" "Nothing to do" "$LAST_OUT"

e2e_finish
