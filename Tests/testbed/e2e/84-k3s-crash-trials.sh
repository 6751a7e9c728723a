#!/bin/bash
# Crash safety of a K3s change: 25 trials of `workload-identity enable` with aiosd killed (-9) at a random
# moment. After each, aiosd's next start must leave no torn config (the drop-in is byte for byte the
# previous or the new file), no transaction record, and K3s serving the issuer its files name.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/k3s-layouts.bash"
e2e_deb_arg "$@"
e2e_init k3scrash
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../k3s"
TRIALS=${TRIALS:-25}
dropin=/etc/rancher/k3s/config.yaml.d/90-aios.yaml
issuer_a=https://a.example/issuer/
issuer_b=https://b.example/issuer/

check_rc 0 "enable issuer A (the starting point)" -- inside aiosctl workload-identity enable --issuer "$issuer_a"
check_bytes "... its drop-in, byte for byte" $dropin "$(expected_dropin "$issuer_a")"$'\n'
current=a torn=0 diverged=0 records=0
for trial in $(seq 1 "$TRIALS"); do
    if [[ $current == a ]]; then next=$issuer_b; else next=$issuer_a; fi
    before=$(inside cat $dropin; echo x); before=${before%x}
    pid=$(main_pid)
    inside aiosctl workload-identity enable --issuer "$next" >/dev/null 2>&1 &
    bg=$!
    sleep "$(awk -v r=$RANDOM 'BEGIN{printf "%.2f", (r % 300) / 100}')"
    inside kill -9 "$pid" >/dev/null 2>&1
    wait "$bg"
    settled() { local p; p=$(main_pid); [[ -n $p && $p != 0 && $p != "$pid" ]] && inside sh -c '! test -e /var/lib/aiosd/k3s-transaction.json' \
        && inside kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml get --raw /readyz >/dev/null 2>&1; }
    wait_for 90 settled || records=$((records + 1))
    after=$(inside cat $dropin; echo x); after=${after%x}
    cur_issuer=$([[ $current == a ]] && echo "$issuer_a" || echo "$issuer_b")
    new=$(expected_dropin "$next" "$cur_issuer")$'\n'
    [[ $after == "$before" || $after == "$new" ]] || { torn=$((torn + 1)); evidence "trial $trial: torn drop-in:" "$after"; }
    first=$(inside sh -c "grep -m1 -o 'service-account-issuer=[^\"]*' $dropin | cut -d= -f2")
    [[ $(served) == "$first" ]] || diverged=$((diverged + 1))
    [[ $first == "$issuer_a" ]] && current=a || current=b
done
check_eq "$TRIALS kill -9 trials: no torn drop-in (each is the previous or the new file)" 0 "$torn"
check_eq "... every trial converged: K3s serves the issuer its files name" 0 "$diverged"
check_eq "... every transaction record was finished by the next start of aiosd" 0 "$records"
check "... and the drop-in still parses as K3s reads it" -- inside env -C / k3s config-check
kept=$(inside journalctl -u aiosd.service --no-pager -o cat MESSAGE="Interrupted K3s change was verified and is kept" | grep -c . || true)
rolled=$(inside journalctl -u aiosd.service --no-pager -o cat MESSAGE="Interrupted K3s change rolled back" | grep -c . || true)
echo "# recoveries at the next start: $kept kept (verified before the kill), $rolled rolled back"

e2e_finish
