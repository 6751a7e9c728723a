# shellcheck shell=bash
# k3s-layouts.bash: the K3s host layouts operators have, checked the same way in both install orders
# (sourced by 88-k3s-layouts-agent-first.sh and 89-k3s-layouts-k3s-first.sh after K3s and the agent are
# both installed). Each layout checks the exit code, the files byte for byte, and whether K3s was restarted
# (InvocationID and NRestarts of k3s.service). Between layouts the operator's own files are reset the way an
# operator would: edit the files, `systemctl restart k3s`.

default=https://kubernetes.default.svc.cluster.local
arc=https://eastus.oic.prod-arc.azure.com/00000000-0000-0000-0000-000000000001/11111111-2222-3333-4444-555555555555/
etc=/etc/rancher/k3s

# The drop-in aiosd writes for `enable --issuer $1` on a host whose issuer was $2 (K3s' default).
expected_dropin() {
    printf '%s\n' \
        '# Managed by aiosd (aios-agent). Change it with `aiosctl k3s apiserver-arg` and' \
        '# `aiosctl workload-identity`, not by hand: aiosd rewrites this file.' \
        '# Removing it changes the K3s API server at its next restart; `aiosctl workload-identity disable`' \
        '# removes the agent'"'"'s entries safely.' \
        'kube-apiserver-arg+:' \
        "  - \"service-account-issuer=$1\"" \
        "  - \"service-account-issuer=${2:-$default}\"" \
        '  - "service-account-max-token-expiration=24h"'
}

served() { inside kubectl --kubeconfig $etc/k3s.yaml get --raw /.well-known/openid-configuration | json_get 'd["issuer"]'; }
# check_bytes DESC PATH TEXT: the file holds exactly TEXT (sha256 of both; the file shown on a mismatch).
check_bytes() {
    local want got
    want=$(printf '%s' "$3" | sha256sum | cut -d' ' -f1)
    got=$(inside sh -c "sha256sum < '$2' 2>/dev/null | cut -d' ' -f1 || true")
    check_eq "$1" "$want" "$got" "file:" "$(file_or_absent "$2")" "expected:" "$3"
}
file_or_absent() { inside sh -c "cat '$1' 2>/dev/null || echo '<absent>'"; }
k3s_state() { echo "$(unit_prop k3s.service InvocationID)/$(unit_prop k3s.service NRestarts)"; }

# layout_reset CONFIG_TEXT: the operator's layout: only config.yaml with CONFIG_TEXT, the unit as K3s' installer
# wrote it (no override), K3s restarted on it.
layout_reset() {
    inside sh -c "rm -rf $etc/config.yaml $etc/config.yaml.d $etc/server.yaml $etc/server.yaml.d $etc/node.yaml $etc/node.yaml.d \
                         /etc/rancher/site /var/lib/aiosd/k3s-dropin.last
                  if [ -d /etc/systemd/system/k3s.service.d ]; then rm -r /etc/systemd/system/k3s.service.d; systemctl daemon-reload; fi
                  : > /etc/systemd/system/k3s.service.env; chmod 600 /etc/systemd/system/k3s.service.env
                  printf '%s' \"\$0\" > $etc/config.yaml; chmod 600 $etc/config.yaml" "$1"
    inside systemctl reset-failed k3s.service >/dev/null 2>&1
    check "[$ORDER] layout reset: K3s restarted on its own files" -- inside systemctl restart k3s.service
}

# expect_restarted BEFORE DESC / expect_not_restarted BEFORE DESC
expect_restarted() {
    local now; now=$(k3s_state)
    check_ne "$2: K3s was restarted (new InvocationID)" "${1%/*}" "${now%/*}"
    check_eq "$2: ... once, cleanly (NRestarts unchanged)" "${1#*/}" "${now#*/}"
}
expect_not_restarted() { check_eq "$2: K3s was not restarted (InvocationID, NRestarts)" "$1" "$(k3s_state)"; }

layouts() {
    local before dropin=$etc/config.yaml.d/90-aios.yaml plain='write-kubeconfig-mode: "0644"
'
    # 1. The installer's layout: config.yaml only.
    layout_reset "$plain"
    before=$(k3s_state)
    check_rc 0 "[$ORDER] default layout: enable succeeds" -- inside aiosctl workload-identity enable --issuer "$arc"
    check_contains "[$ORDER] default layout: ... and reports the served issuer" "the API server serves $arc" "$LAST_OUT"
    check_bytes "[$ORDER] default layout: the drop-in, byte for byte" $dropin "$(expected_dropin "$arc")"$'\n'
    check_bytes "[$ORDER] default layout: config.yaml untouched" $etc/config.yaml "$plain"
    expect_restarted "$before" "[$ORDER] default layout"
    check_eq "[$ORDER] default layout: the API server serves the Arc issuer" "$arc" "$(served)"
    js=$(inside aiosctl workload-identity status --json)
    check_eq "[$ORDER] status: running issuers from K3s' journal" "[\"$arc\", \"$default\"]" "$(json_get 'd.get("runningIssuers")' <<<"$js")" "$js"
    check_eq "[$ORDER] status: no restart pending" false "$(json_get 'd.get("restartPending")' <<<"$js")" "$js"
    inside cp $dropin /root/90-aios.yaml.saved
    inside rm $dropin
    check_rc 0 "[$ORDER] status after a hand removal of the drop-in" -- inside aiosctl workload-identity status
    check_contains "[$ORDER] ... says the configuration is not applied yet" "the configuration is not applied yet" "$LAST_OUT"
    check_contains "[$ORDER] ... and shows what K3s runs with" "running issuers (K3s' last start of its API server):"$'\n'"  $arc" "$LAST_OUT"
    inside cp /root/90-aios.yaml.saved $dropin

    # 2. The issuer already set by hand to the same URL (the manual procedure of the Arc and AIO docs:
    #    two elements in config.yaml): nothing to do.
    local hand="kube-apiserver-arg:
  - service-account-issuer=$arc
  - service-account-max-token-expiration=24h
"
    layout_reset "$hand"
    before=$(k3s_state)
    check_rc 0 "[$ORDER] issuer set by hand: enable succeeds" -- inside aiosctl workload-identity enable --issuer "$arc"
    check_contains "[$ORDER] issuer set by hand: ... with nothing to do" "Nothing to do" "$LAST_OUT"
    check_eq "[$ORDER] issuer set by hand: no drop-in written" "<absent>" "$(file_or_absent $dropin)"
    expect_not_restarted "$before" "[$ORDER] issuer set by hand"
    check_eq "[$ORDER] issuer set by hand: the API server still serves it" "$arc" "$(served)"

    # 3. A later drop-in replacing kube-apiserver-arg without '+': refused up front, naming the file.
    layout_reset "$plain"
    inside sh -c "mkdir -p $etc/config.yaml.d && printf 'kube-apiserver-arg:\n  - audit-log-maxage=30\n' > $etc/config.yaml.d/99-site.yaml"
    inside systemctl restart k3s.service
    before=$(k3s_state)
    check_rc 1 "[$ORDER] later drop-in without '+': enable is refused" -- inside aiosctl workload-identity enable --issuer "$arc"
    check_contains "[$ORDER] ... naming the file" "$etc/config.yaml.d/99-site.yaml sets kube-apiserver-arg without '+'" "$LAST_OUT"
    check_eq "[$ORDER] ... no drop-in written" "<absent>" "$(file_or_absent $dropin)"
    expect_not_restarted "$before" "[$ORDER] later drop-in"

    # 4. K3S_CONFIG_FILE in the unit's environment file: the drop-in goes where K3s reads.
    layout_reset "$plain"
    inside sh -c "mv $etc/config.yaml $etc/server.yaml && echo K3S_CONFIG_FILE=$etc/server.yaml > /etc/systemd/system/k3s.service.env"
    inside systemctl restart k3s.service
    before=$(k3s_state)
    check_rc 0 "[$ORDER] K3S_CONFIG_FILE: enable succeeds" -- inside aiosctl workload-identity enable --issuer "$arc"
    check_bytes "[$ORDER] K3S_CONFIG_FILE: the drop-in is in server.yaml.d, byte for byte" $etc/server.yaml.d/90-aios.yaml "$(expected_dropin "$arc")"$'\n'
    check_eq "[$ORDER] K3S_CONFIG_FILE: nothing in config.yaml.d, which K3s does not read" "<absent>" "$(file_or_absent $dropin)"
    expect_restarted "$before" "[$ORDER] K3S_CONFIG_FILE"
    check_eq "[$ORDER] K3S_CONFIG_FILE: the API server serves the Arc issuer" "$arc" "$(served)"

    # 4b. --config (agent-first) or -c (K3s-first) on K3s' ExecStart, by a unit override (`systemctl edit k3s`),
    #     K3S_CONFIG_FILE unset (K3s would read that first): the drop-in goes next to the flag's file.
    layout_reset "$plain"
    local flag=--config; [[ $ORDER == k3s-first ]] && flag=-c
    inside sh -c "mv $etc/config.yaml $etc/node.yaml
                  mkdir -p /etc/systemd/system/k3s.service.d
                  printf '[Service]\nExecStart=\nExecStart=/usr/local/bin/k3s server $flag $etc/node.yaml\n' > /etc/systemd/system/k3s.service.d/50-config.conf
                  systemctl daemon-reload"
    inside systemctl restart k3s.service
    before=$(k3s_state)
    check_rc 0 "[$ORDER] $flag on ExecStart: enable succeeds" -- inside aiosctl workload-identity enable --issuer "$arc"
    check_bytes "[$ORDER] $flag on ExecStart: the drop-in is in node.yaml.d, byte for byte" $etc/node.yaml.d/90-aios.yaml "$(expected_dropin "$arc")"$'\n'
    check_bytes "[$ORDER] $flag on ExecStart: node.yaml untouched" $etc/node.yaml "$plain"
    check_eq "[$ORDER] $flag on ExecStart: nothing in config.yaml.d, which K3s does not read" "<absent>" "$(file_or_absent $dropin)"
    expect_restarted "$before" "[$ORDER] $flag on ExecStart"
    check_eq "[$ORDER] $flag on ExecStart: the API server serves the Arc issuer" "$arc" "$(served)"

    # 5. config.yaml is a symlink to a root-owned file (config management): followed, as K3s does.
    layout_reset "$plain"
    inside sh -c "mkdir -p /etc/rancher/site && mv $etc/config.yaml /etc/rancher/site/k3s.yaml && ln -s /etc/rancher/site/k3s.yaml $etc/config.yaml"
    inside systemctl restart k3s.service
    before=$(k3s_state)
    check_rc 0 "[$ORDER] symlinked config.yaml: enable succeeds" -- inside aiosctl workload-identity enable --issuer "$arc"
    check_bytes "[$ORDER] symlinked config.yaml: the drop-in, byte for byte" $dropin "$(expected_dropin "$arc")"$'\n'
    check_bytes "[$ORDER] symlinked config.yaml: the link's target untouched" /etc/rancher/site/k3s.yaml "$plain"
    check "[$ORDER] symlinked config.yaml: still a link" -- inside test -L $etc/config.yaml
    expect_restarted "$before" "[$ORDER] symlinked config.yaml"

    # 6. A hand-written 90-aios.yaml with other keys and comments: never dropped.
    layout_reset "$plain"
    local own='# site: extra SANs
tls-san: edge.example
kube-apiserver-arg+:
  - "v=2"
'
    inside sh -c "mkdir -p $etc/config.yaml.d && printf '%s' \"\$0\" > $dropin" "$own"
    inside systemctl restart k3s.service
    before=$(k3s_state)
    check_rc 1 "[$ORDER] hand-written 90-aios.yaml: enable is refused" -- inside aiosctl workload-identity enable --issuer "$arc" --force
    check_contains "[$ORDER] ... saying what it would drop" "holds settings aiosd did not write (tls-san)" "$LAST_OUT"
    check_bytes "[$ORDER] ... the file byte for byte" $dropin "$own"
    expect_not_restarted "$before" "[$ORDER] hand-written 90-aios.yaml"

    # 7. Hand edits to the agent's own entries: refused, then --force.
    layout_reset "$plain"
    check_rc 0 "[$ORDER] drift: enable" -- inside aiosctl workload-identity enable --issuer "$arc"
    inside sed -i 's/max-token-expiration=24h/max-token-expiration=12h/' $dropin
    local edited; edited=$(inside cat $dropin; echo x); edited=${edited%x}
    before=$(k3s_state)
    check_rc 1 "[$ORDER] drift: apiserver-arg set is refused" -- inside aiosctl k3s apiserver-arg set audit-log-maxage=30
    check_contains "[$ORDER] ... saying the file was edited by hand" "was edited by hand since aiosd last wrote it" "$LAST_OUT"
    check_bytes "[$ORDER] ... the hand edit kept byte for byte" $dropin "$edited"
    expect_not_restarted "$before" "[$ORDER] drift"
    check_rc 0 "[$ORDER] drift: --force rewrites it" -- inside aiosctl k3s apiserver-arg set audit-log-maxage=30 --force
    check_contains "[$ORDER] ... keeping the hand-edited entry as an entry" '"service-account-max-token-expiration=12h"' "$(file_or_absent $dropin)"
    expect_restarted "$before" "[$ORDER] drift --force"

    # 8. The write fails (here: a directory stands where the drop-in goes, which K3s skips; the rename onto it
    #    fails): nothing was changed, so K3s is not restarted, and the transaction record is gone.
    layout_reset "$plain"
    inside mkdir -p $dropin
    before=$(k3s_state)
    check_rc 1 "[$ORDER] write fails: enable fails" -- inside aiosctl workload-identity enable --issuer "$arc"
    check_contains "[$ORDER] ... saying nothing was changed" "nothing was changed and K3s was not restarted" "$LAST_OUT"
    check_not_contains "[$ORDER] ... and nothing about a rollback" "rollback" "$LAST_OUT"
    check "[$ORDER] ... the directory is still there, no transaction record" -- \
        inside sh -c "test -d $dropin && ! test -e /var/lib/aiosd/k3s-transaction.json"
    check_bytes "[$ORDER] ... config.yaml untouched" $etc/config.yaml "$plain"
    expect_not_restarted "$before" "[$ORDER] write fails"
}
