#!/bin/bash
# Host operations over D-Bus from inside aiosd's hardened sandbox (issue #4's bare operations):
# `aiosctl systemd daemon-reload` and `aiosctl k3s restart` against a stand-in k3s.service.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init hostops
e2e_up --deb "$DEB"

write_k3s_unit() { # write_k3s_unit DESCRIPTION EXECSTART
    # The environment file as K3s' installer names it (get.k3s.io: EnvironmentFile=-/etc/systemd/system/k3s.service.env):
    # aiosd reads the environment files the unit names, as systemd does, and no others.
    inside sh -c "printf '[Unit]\nDescription=%s\n[Service]\nType=simple\nEnvironmentFile=-/etc/systemd/system/k3s.service.env\nExecStart=%s\n' '$1' '$2' > /etc/systemd/system/k3s.service"
}

write_k3s_unit "stand-in k3s one" "/bin/sleep infinity"
check "systemctl daemon-reload && start the stand-in k3s.service" -- inside sh -c 'systemctl daemon-reload && systemctl start k3s.service'
check_eq "stand-in k3s.service has its first description" "stand-in k3s one" "$(unit_prop k3s.service Description)"

# daemon-reload through aiosd: systemd sees the edited unit file only after Reload().
write_k3s_unit "stand-in k3s two" "/bin/sleep infinity"
check_rc 0 "aiosctl systemd daemon-reload succeeds" -- inside aiosctl systemd daemon-reload
check_contains "... and says so" "reloaded (job done" "$LAST_OUT"
check_eq "systemd re-read the unit file (new description)" "stand-in k3s two" "$(unit_prop k3s.service Description)"

# RestartUnit with the JobRemoved result.
k3s_pid1=$(unit_prop k3s.service MainPID)
check_rc 0 "aiosctl k3s restart succeeds" -- inside aiosctl k3s restart
check_contains "... and reports the job result and state" "k3s.service restarted (job done, active/running" "$LAST_OUT"
k3s_pid2=$(unit_prop k3s.service MainPID)
check_ne "k3s.service has a new MainPID (was $k3s_pid1)" "$k3s_pid1" "$k3s_pid2"
events=$(inside aiosctl k3s restart --json 2>&1)
check_contains "k3s restart --json streams the job's events (NDJSON)" '"event":"stepStarted"' "$events"
js=$(tail -n 1 <<<"$events")
check_eq "... the last event is 'finished'" finished "$(json_get 'd["event"]' <<<"$js")" "$events"
check_eq "... its response says the job is done" done "$(json_get '__import__("json").loads(d["response"])["result"]' <<<"$js")" "$js"
check_eq "... with the unit's new MainPID" "$(unit_prop k3s.service MainPID)" "$(json_get '__import__("json").loads(d["response"])["mainPID"]' <<<"$js")" "$js"
check_journal "the journal records the restart with the job result" -u aiosd.service -- \
    MESSAGE="Unit restarted" AIOS_UNIT=k3s.service AIOS_JOB_RESULT=done

# A unit that fails to start: exit 1 with systemd's results, not a hang.
write_k3s_unit "stand-in k3s broken" "/bin/false"
check_rc 0 "aiosctl systemd daemon-reload picks up the broken unit" -- inside aiosctl systemd daemon-reload
inside sh -c 'sed -i "s/^Type=simple/Type=oneshot/" /etc/systemd/system/k3s.service' >/dev/null
check_rc 0 "... reloaded again as Type=oneshot (start fails synchronously)" -- inside aiosctl systemd daemon-reload
check_rc 1 "aiosctl k3s restart fails (exit 1) when k3s does not come up" -- inside aiosctl --timeout 60 k3s restart
check_contains "... naming the job result" "did not restart: job failed" "$LAST_OUT"
check_contains "... and the unit's Result" "result exit-code" "$LAST_OUT"
check_contains "... with a hint to read K3s' journal" "journalctl -u k3s.service" "$LAST_OUT"
check_journal "the journal records the failed restart" -u aiosd.service -- \
    MESSAGE="Unit restart failed" AIOS_UNIT=k3s.service AIOS_JOB_RESULT=failed AIOS_UNIT_RESULT=exit-code

# k3s config: files, the unit's command line, the effective merge; credentials never shown.
inside sh -c 'printf "#!/bin/sh\nexec sleep infinity\n" > /usr/local/bin/k3s && chmod 755 /usr/local/bin/k3s' >/dev/null
# Every credential form K3s has (issue 10: token, -t, agent-token, vpn-auth, datastore-endpoint, etcd-s3-*), on the
# command line, in the files and in the environment file (K3s reads the etcd S3 keys as AWS_*, pkg/cli/cmds/server.go).
write_k3s_unit "stand-in k3s" "/usr/local/bin/k3s server --kube-apiserver-arg=audit-log-maxage=7 --token=s3cr3t-cli -t s3cr3t-short --vpn-auth=s3cr3t-vpn-cli"
inside mkdir -p /etc/rancher/k3s/config.yaml.d
inside sh -c 'printf "token: s3cr3t-file\nnode-label:\n  - a=1\nkube-apiserver-arg:\n  - v=2\nagent-token: s3cr3t-agent\ndatastore-endpoint: postgres://k3s:s3cr3t-ds@db:5432/k3s\netcd-s3-secret-key: s3cr3t-s3-file\n" > /etc/rancher/k3s/config.yaml'
inside sh -c 'printf "node-label+:\n  - b=2\netcd-s3-access-key: s3cr3t-s3-access\netcd-s3-endpoint: https://u:s3cr3t-s3-url@s3.example\n" > /etc/rancher/k3s/config.yaml.d/50-site.yaml'
inside sh -c 'printf "K3S_TOKEN=s3cr3t-env\nK3S_NODE_NAME=edge-7\nK3S_AGENT_TOKEN=s3cr3t-env-agent\nK3S_VPN_AUTH=name=tailscale,joinKey=s3cr3t-env-vpn\nAWS_SECRET_ACCESS_KEY=s3cr3t-env-aws\nK3S_DATASTORE_ENDPOINT=mysql://k3s:s3cr3t-env-ds@tcp(db:3306)/k3s\n" > /etc/systemd/system/k3s.service.env && chmod 600 /etc/systemd/system/k3s.service.env'
check_rc 0 "aiosctl systemd daemon-reload loads the unit with flags" -- inside aiosctl systemd daemon-reload
check_rc 0 "aiosctl k3s config succeeds" -- inside aiosctl k3s config
check_contains "... lists config.yaml" "# /etc/rancher/k3s/config.yaml" "$LAST_OUT"
check_contains "... lists the drop-in" "# /etc/rancher/k3s/config.yaml.d/50-site.yaml" "$LAST_OUT"
check_contains "... shows the unit's command line" "ExecStart: /usr/local/bin/k3s server --kube-apiserver-arg=audit-log-maxage=7 --token=<redacted> -t <redacted> --vpn-auth=<redacted>" "$LAST_OUT"
check_rc 0 "aiosctl k3s config --effective succeeds" -- inside aiosctl k3s config --effective
check_contains "node-label+ in a later drop-in appends, with provenance" "  - b=2    # /etc/rancher/k3s/config.yaml.d/50-site.yaml:2" "$LAST_OUT"
check_contains "... after the value from config.yaml" "  - a=1    # /etc/rancher/k3s/config.yaml:3" "$LAST_OUT"
check_contains "the command line's kube-apiserver-arg replaces the file's list" "  - audit-log-maxage=7    # ExecStart of k3s.service" "$LAST_OUT"
check_not_contains "... so v=2 from the file is not in effect" "v=2" "$LAST_OUT"
check_contains "the environment file's K3S_NODE_NAME is a flag, with its line" "node-name: edge-7    # /etc/systemd/system/k3s.service.env:2" "$LAST_OUT"
check_contains "AWS_SECRET_ACCESS_KEY is K3s' etcd-s3-secret-key (over the file's), redacted" \
    "etcd-s3-secret-key: <redacted>    # /etc/systemd/system/k3s.service.env:5" "$LAST_OUT"
all=$(inside aiosctl k3s config --effective --json 2>&1; inside aiosctl k3s config --effective 2>&1; inside aiosctl k3s config --json 2>&1
      inside aiosctl k3s config 2>&1; inside journalctl -u aiosd --no-pager -o json 2>&1)
check_not_contains "no credential of any form reaches aiosctl's output or the journal" "s3cr3t" "$all"
check_not_contains "no credential reaches aiosctl's output or the journal (file)" "s3cr3t-file" "$all"
check_not_contains "no credential reaches aiosctl's output or the journal (command line)" "s3cr3t-cli" "$all"
check_not_contains "no credential reaches aiosctl's output or the journal (environment file)" "s3cr3t-env" "$all"

# Jobs: listed with their outcome, one shown with its steps; they survive a restart of aiosd.
check_rc 0 "aiosctl jobs lists the host jobs" -- inside aiosctl jobs
check_contains "... a succeeded k3s-restart" "k3s-restart                 succeeded" "$LAST_OUT"
check_contains "... and the failed one" "k3s-restart                 failed" "$LAST_OUT"
failed=$(inside aiosctl jobs --json | json_get '[j["id"] for j in d if j["state"] == "failed"][-1]')
check_rc 0 "aiosctl jobs show ID works" -- inside aiosctl jobs show "$failed"
check_contains "... with the failed step and systemd's verdict" "FAIL restart k3s.service" "$LAST_OUT"
check "restart aiosd" -- inside systemctl restart aiosd.service
check_rc 0 "after a restart of aiosd, the job is still there" -- inside aiosctl jobs show "$failed"
check_rc 1 "aiosctl jobs show of an unknown id fails" -- inside aiosctl jobs show ffffffff

# Mutating: a user outside the admin group may not restart K3s.
inside useradd -m bob >/dev/null 2>&1
check_rc 4 "a user outside group aios cannot restart k3s (exit 4)" -- inside_as bob aiosctl k3s restart

e2e_finish
