#!/bin/bash
# Expiry: Key Vault's `exp` and a certificate's notAfter reach `secret list/show`; the journal warns at 30, 7 and
# 1 days and at expiry, each threshold once (not once per cycle, and not again after a restart); an expired
# secret is still synced (Key Vault serves it) and flagged.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init expiry
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../aio"

ns=azure-iot-operations
data() { inside kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n "$ns" get secret "$1" -o "jsonpath={.data.$2}" | base64 -d; }
set_exp() { "$TB" vault "$E2E_NAME" set-attributes "$vault" plain-utf8 --exp "$1" >/dev/null; }
# warnings MESSAGE [FIELD=VALUE...]: how many journal entries of aiosd have them, for the object plain-utf8.
warnings() { inside journalctl --no-pager -o json -u aiosd.service | journal_match MESSAGE="$1" AIOS_OBJECT=plain-utf8 "${@:2}" | wc -l; }
soon="Key Vault object expires soon"
expired="Key Vault object has expired; still synced"

aio_identity
check_rc 0 "secret add plain" -- inside aiosctl secret add plain --vault "$vault" --object plain-utf8 --key value
check_rc 0 "secret add web-pem (a certificate valid 365 days, no exp attribute)" -- inside aiosctl secret add web-pem --vault "$vault" --object tls-pem --type tls
check_rc 0 "workload-identity enable" -- inside aiosctl workload-identity enable --issuer "$issuer"
check_rc 0 "sync --wait" -- inside aiosctl sync --wait

check_rc 0 "secret show web-pem" -- inside aiosctl secret show web-pem
check_contains "... shows the certificate's notAfter as its expiry" "expires:  " "$LAST_OUT"
check_contains "... a year ahead" "(in 364d" "$LAST_OUT"
check_rc 0 "secret list" -- inside aiosctl secret list
check_contains "... has an EXPIRES column" "EXPIRES" "$LAST_OUT"
check_eq "... plain has no expiry" "-" "$(awk '$1 == "plain" {print $NF}' <<<"$LAST_OUT")" "$LAST_OUT"
check_eq "no expiry warning for a secret without exp" 0 "$(warnings "$soon")"

set_exp +$((20 * 86400))
check_rc 0 "sync after exp is set 20 days ahead" -- inside aiosctl sync --wait
check_eq "... the journal warns once at the 30-day threshold" 1 "$(warnings "$soon" AIOS_THRESHOLD_DAYS=30 AIOS_SECRET=plain AIOS_VAULT="$vault")"
check_rc 0 "another sync" -- inside aiosctl sync --wait --force
check_eq "... does not repeat the warning" 1 "$(warnings "$soon")"
check_rc 0 "secret show plain" -- inside aiosctl secret show plain
check_contains "... shows the expiry counting down" "(in 19d23h)" "$LAST_OUT"

set_exp +$((5 * 86400))
check_rc 0 "sync after exp moves to 5 days ahead" -- inside aiosctl sync --wait
check_eq "... warns at the 7-day threshold" 1 "$(warnings "$soon" AIOS_THRESHOLD_DAYS=7)"
set_exp +$((12 * 3600))
check_rc 0 "sync after exp moves to 12 hours ahead" -- inside aiosctl sync --wait
check_eq "... warns at the 1-day threshold" 1 "$(warnings "$soon" AIOS_THRESHOLD_DAYS=1)"

check "restart aiosd" -- inside systemctl restart aiosd.service
check_rc 0 "sync after the restart" -- inside aiosctl sync --wait --force
check_eq "... the warnings given are remembered (still 3 in all)" 3 "$(warnings "$soon")"

# A new version that has already expired: Key Vault still serves it; aiosd syncs it and flags it.
"$TB" vault "$E2E_NAME" set "$vault" plain-utf8 "PLANTED-expired-value" >/dev/null
set_exp -60
check_rc 0 "sync of an expired secret succeeds" -- inside aiosctl sync --wait
check_eq "... the Secret has its value" "PLANTED-expired-value" "$(data plain value)"
check_eq "... the journal says it has expired, once" 1 "$(warnings "$expired" AIOS_THRESHOLD_DAYS=0)"
check_rc 0 "secret list" -- inside aiosctl secret list
check_contains "... flags it EXPIRED" "EXPIRED 1m" "$LAST_OUT"
check_rc 0 "secret show plain" -- inside aiosctl secret show plain
check_contains "... says Key Vault still serves it" "Key Vault still serves it, renew it" "$LAST_OUT"
check_rc 0 "secret show plain --json" -- inside aiosctl secret show plain --json
check_eq "... expired is true in JSON" true "$(json_get 'd["status"]["expired"]' <<<"$LAST_OUT")" "$LAST_OUT"
check_contains "... with the expiry time" '"expires"' "$LAST_OUT"

journal=$("$TB" journal "$E2E_NAME" -u aiosd.service -o verbose 2>&1)
check_not_contains "no planted value in aiosd's journal" "PLANTED-expired" "$journal"
e2e_finish
