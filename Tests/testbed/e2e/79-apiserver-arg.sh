#!/bin/bash
# `aiosctl k3s apiserver-arg set/unset/list` against the K3s stand-in: validated edits, restart and verify,
# rollback when the API server rejects a flag, refusals that change nothing.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init apiarg
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../k3s"

dropin=/etc/rancher/k3s/config.yaml.d/90-aios.yaml
running_args() { inside cat /var/lib/rancher/k3s/aios-standin/apiserver-args.json; }
dropin_sum() { inside sh -c "sha256sum $dropin 2>/dev/null || echo absent"; }
k3s_pid() { unit_prop k3s.service MainPID; }

check_rc 0 "apiserver-arg set succeeds" -- inside aiosctl k3s apiserver-arg set audit-log-maxage=30 v=2
check_contains "... restarting and verifying K3s" "ok   wait for /readyz" "$LAST_OUT"
check_contains "K3s now runs with audit-log-maxage=30" "--audit-log-maxage=30" "$(running_args)"
check_rc 0 "apiserver-arg list works" -- inside aiosctl k3s apiserver-arg list
check_contains "... showing the agent's entry" "  - audit-log-maxage=30" "$LAST_OUT"
check_contains "... and where it is in effect from" "audit-log-maxage=30    # $dropin:" "$LAST_OUT"

pid=$(k3s_pid); sum=$(dropin_sum)
check_rc 0 "setting the same value again succeeds" -- inside aiosctl k3s apiserver-arg set v=2
check_contains "... and does nothing" "Nothing to do" "$LAST_OUT"
check_eq "... K3s was not restarted" "$pid" "$(k3s_pid)"

for bad in "audit-log-maxag=30" "Audit-Log-MaxAge=30"; do
    check_rc 1 "set refuses the unknown flag $bad" -- inside aiosctl k3s apiserver-arg set "$bad"
    check_contains "... naming it as no kube-apiserver flag" "'${bad%%=*}' is not a" "$LAST_OUT"
done
check_rc 1 "set refuses a value with a newline" -- inside aiosctl k3s apiserver-arg set "$(printf 'audit-log-path=/tmp/a\nkube-apiserver-arg: x')"
check_contains "... naming the control character" "control character" "$LAST_OUT"
check_rc 2 "set refuses an argument without '=' (usage error)" -- inside aiosctl k3s apiserver-arg set audit-log-maxage
check_eq "after the refusals the drop-in is unchanged" "$sum" "$(dropin_sum)"
check_eq "... and K3s was not restarted" "$pid" "$(k3s_pid)"

# A value the API server rejects: rolled back to the previous drop-in, K3s up again.
check_rc 1 "set with a value K3s rejects fails" -- inside aiosctl k3s apiserver-arg set service-account-max-token-expiration=10m
check_contains "... and rolls back" "rolled back: the previous $dropin is restored" "$LAST_OUT"
check_eq "... the drop-in is the previous one" "$sum" "$(dropin_sum)"
check "... and K3s is ready again" -- inside kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml get --raw /readyz
inside systemctl reset-failed k3s.service >/dev/null 2>&1

check_rc 0 "apiserver-arg unset succeeds" -- inside aiosctl k3s apiserver-arg unset audit-log-maxage
check_not_contains "K3s no longer runs with audit-log-maxage" "audit-log-maxage" "$(running_args)"
check_rc 0 "unset of the last entry succeeds" -- inside aiosctl k3s apiserver-arg unset v
check "... and removes the drop-in" -- inside sh -c "! test -e $dropin"

# A later drop-in without '+' would replace the agent's list: refused.
check_rc 0 "set again" -- inside aiosctl k3s apiserver-arg set v=3
inside sh -c 'printf "kube-apiserver-arg:\n  - profiling=false\n" > /etc/rancher/k3s/config.yaml.d/99-site.yaml'
check_rc 1 "set refuses when a later drop-in replaces the list" -- inside aiosctl k3s apiserver-arg set v=4
check_contains "... naming that file" "/etc/rancher/k3s/config.yaml.d/99-site.yaml sets kube-apiserver-arg without '+'" "$LAST_OUT"

# One host job at a time: a second restart waits for the first and is told its position.
inside sh -c 'echo K3S_STANDIN_START_DELAY=3 > /etc/systemd/system/k3s.service.env && chmod 600 /etc/systemd/system/k3s.service.env'
inside aiosctl k3s restart >/dev/null 2>&1 &
first=$!
sleep 1
check_rc 0 "a second k3s restart while the first runs succeeds" -- inside aiosctl k3s restart
check_contains "... after waiting its turn" "queued: 1 job(s) ahead" "$LAST_OUT"
wait "$first"
check_eq "the first restart succeeded too" 0 "$?"

e2e_finish
