#!/bin/bash
# `aiosctl workload-identity status` and `aiosctl k3s restart` against the K3s stand-in (a Type=notify
# k3s.service serving TLS with client-cert auth and OIDC discovery), from aiosd's hardened sandbox.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init wistatus
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../k3s"

default=https://kubernetes.default.svc.cluster.local
arc=https://eastus.oic.prod-arc.azure.com/00000000-0000-0000-0000-000000000001/11111111-2222-3333-4444-555555555555/

js=$(inside aiosctl workload-identity status --json 2>&1)
check_eq "before: the API server serves K3s' default issuer" "$default" "$(json_get 'd.get("servedIssuer")' <<<"$js")" "$js"
check_eq "before: configured issuer is K3s' default" "$default" "$(json_get 'd["configuredIssuers"][0]["value"]' <<<"$js")" "$js"
check_eq "before: workload identity is not enabled" false "$(json_get 'd["enabled"]' <<<"$js")" "$js"

# The agent's drop-in as the host-duties issue will write it, then restart through aiosd.
inside mkdir -p /etc/rancher/k3s/config.yaml.d
inside sh -c "printf 'kube-apiserver-arg+:\n  - \"service-account-issuer=$arc\"\n  - \"service-account-issuer=$default\"\n  - \"service-account-max-token-expiration=24h\"\n' > /etc/rancher/k3s/config.yaml.d/90-aios.yaml"
check_rc 0 "status before the restart works" -- inside aiosctl workload-identity status
check_contains "... and says the served issuer differs from the configuration" "K3s has not been restarted since it changed" "$LAST_OUT"

k3s_pid1=$(unit_prop k3s.service MainPID)
check_rc 0 "aiosctl k3s restart restarts the Type=notify stand-in" -- inside aiosctl k3s restart
check_ne "k3s.service has a new MainPID" "$k3s_pid1" "$(unit_prop k3s.service MainPID)"

js=$(inside aiosctl workload-identity status --json 2>&1)
check_eq "after: the API server serves the Arc issuer" "$arc" "$(json_get 'd.get("servedIssuer")' <<<"$js")" "$js"
check_eq "after: it is the first configured issuer, from the drop-in" "/etc/rancher/k3s/config.yaml.d/90-aios.yaml:2" "$(json_get 'd["configuredIssuers"][0]["from"]' <<<"$js")" "$js"
check_eq "after: the previous issuer stays second" "$default" "$(json_get 'd["configuredIssuers"][1]["value"]' <<<"$js")" "$js"
check_eq "after: max token expiration 24h" 24h "$(json_get 'd["maxTokenExpiration"]["value"]' <<<"$js")" "$js"
check_eq "after: workload identity is enabled" true "$(json_get 'd["enabled"]' <<<"$js")" "$js"
check_rc 0 "human status works" -- inside aiosctl workload-identity status
check_contains "... and prints the exact az command" \
    "az identity federated-credential create --name aios-aio-ssc-sa --identity-name <user-assigned-identity> --resource-group <resource-group> --issuer $arc --subject system:serviceaccount:azure-iot-operations:aio-ssc-sa --audience api://AzureADTokenExchange" \
    "$LAST_OUT"

# An API server that does not come up: the restart fails with systemd's verdict, status says it cannot ask.
inside sh -c "printf 'kube-apiserver-arg+:\n  - \"no-such-flag=1\"\n' > /etc/rancher/k3s/config.yaml.d/95-typo.yaml"
check_rc 1 "aiosctl k3s restart fails when the API server rejects a flag" -- inside aiosctl --timeout 30 k3s restart
check_contains "... with the job result" "did not restart" "$LAST_OUT"
js=$(inside aiosctl workload-identity status --json 2>&1)
check_eq "status with K3s down: served issuer unknown" null "$(json_get 'd.get("servedIssuer")' <<<"$js")" "$js"
check_contains "... and says why" "cannot reach the API server" "$(json_get 'd["servedIssuerError"]' <<<"$js")"
inside rm -f /etc/rancher/k3s/config.yaml.d/95-typo.yaml
inside systemctl reset-failed k3s.service >/dev/null 2>&1
check_rc 0 "after removing the typo, aiosctl k3s restart succeeds again" -- inside aiosctl k3s restart

e2e_finish
