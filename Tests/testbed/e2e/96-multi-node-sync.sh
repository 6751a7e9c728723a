#!/bin/bash
# One syncer on a three-server cluster (issue 13): aiosd on every server, exactly one leader (the Lease
# kube-system/aios-sync-leader); a secret added on NAME-3 is written once, also after NAME-3's aiosd is
# stopped; kill -9 of the leader's aiosd: a new leader within the lease duration, the next cycle writes
# nothing, no Secret written by two nodes; the leader cut off the network stops leading, another leads.
# Writes are counted per node at each node's K3s server (`testbed counts NAME-I`, writesByObject). Prints
# the failover times and the writes during failover.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init msync
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../aio" --servers 3
NODES=("$E2E_NAME-1" "$E2E_NAME-2" "$E2E_NAME-3")
N3=${NODES[2]}
LEASE_SECONDS=15 RETRY_SECONDS=2
on() { local n=$1; shift; "$TB" exec "$n" -- "$@"; }
inside() { on "${NODES[0]}" "$@"; }
ns=azure-iot-operations
kc() { local n=$1; shift; on "$n" kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n "$ns" "$@"; }
AIO_FIXTURE=$("$TB" fixture "${NODES[0]}" --json)
tenant=$(fact 'd["tenantId"]'); client=$(fact 'd["clientId"]'); issuer=$(fact 'd["issuer"]'); vault=$(fact 'd["vault"]')

# leader_seen_by NODE: the leader `aiosctl cluster status --json` names on NODE ("" if none)
leader_seen_by() { on "$1" aiosctl cluster status --json 2>/dev/null | json_get 'd.get("leader") or ""'; }
sync_role() { on "$1" aiosctl status --json 2>/dev/null | json_get '(d.get("cluster") or {}).get("syncRole", "")'; }
# secret_writes NODE: "VERB secrets NS/NAME" -> count, the writes of synced Secrets (namespace $ns) NODE's K3s
# server took (= NODE's aiosd). Not kube-system: there every node publishes its own definition files and may
# try to create the cluster's hash key (create-if-absent: a 409 for all but one).
secret_writes() { "$TB" counts "$1" | json_get '{k: v for k, v in d["k3s"]["writesByObject"].items() if " secrets '"$ns"'/" in k}'; }
total_secret_writes() { # total_secret_writes NODE...: over the nodes given
    local n t=0 c
    for n in "$@"; do c=$("$TB" counts "$n" | json_get 'sum(v for k, v in d["k3s"]["writesByObject"].items() if " secrets '"$ns"'/" in k)'); t=$((t + c)); done
    echo "$t"
}
agreed_leader() { # agreed_leader NODE...: every given node names the same, non-empty leader
    local n l first=""
    for n in "$@"; do
        l=$(leader_seen_by "$n"); [[ -n $l ]] || return 1
        [[ -z $first ]] && first=$l
        [[ $l == "$first" ]] || return 1
    done
    echo "$first"
}

for n in "${NODES[@]}"; do
    on "$n" sh -c "cat > /etc/aios/aiosd.yaml" <<EOF2
identity:
  tenantId: $tenant
  clientId: $client
sync:
  interval: 10s
  jitter: 0s
EOF2
    check "$n: reload aiosd with the identity" -- on "$n" systemctl reload aiosd.service
    # each server's own K3s gets the issuer (a per-host setting)
    check "$n: workload-identity enable" -- on "$n" aiosctl workload-identity enable --issuer "$issuer"
done

check_within 40 "the three nodes agree on one leader" -- agreed_leader "${NODES[@]}"
leader=$(agreed_leader "${NODES[@]}")
echo "# leader: $leader"
leaders=0
for n in "${NODES[@]}"; do [[ $(sync_role "$n") == leader ]] && leaders=$((leaders + 1)); done
check_eq "exactly one node says it is the leader" 1 "$leaders"
check_eq "the Lease kube-system/aios-sync-leader names it" "$leader" \
    "$(on "$N3" kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n kube-system get lease aios-sync-leader -o jsonpath='{.spec.holderIdentity}')"
check_eq "cluster status lists three ready server nodes" "3" \
    "$(on "${NODES[0]}" aiosctl cluster status --json | json_get 'len([x for x in d["nodes"] if x["role"] == "server" and x["ready"]])')"

# ---------------------------------------------------------------- a secret added on NAME-3
check_rc 0 "secret add on $N3" -- on "$N3" aiosctl secret add from-three --vault "$vault" --object plain-utf8 --key value
# published by the request itself, not at the next heartbeat (10 s): the Lease is there as soon as the add answers
check_eq "the definition Lease exists when secret add returns" "$N3" \
    "$(on "$N3" kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n kube-system get lease aios-definition-from-three -o jsonpath='{.spec.holderIdentity}')"
check_within 60 "the Secret is written" -- kc "${NODES[0]}" get secret from-three
# scheduled_cycle_since T NODE...: the node that leads (as the given nodes agree) finished a cycle of its own
# schedule (`sync.interval: 10s`, reason "schedule") that started after T (seconds since the epoch): what a user
# relies on, no `aiosctl sync` to push it.
scheduled_cycle_since() {
    local t=$1 l; shift
    l=$(agreed_leader "$@") || return 1
    on "$l" aiosctl status --json | json_get '"yes" if (c := (d.get("sync") or {}).get("lastCycle")) and c["reason"] == "schedule" and __import__("datetime").datetime.fromisoformat(c["startedAt"].replace("Z", "+00:00")).timestamp() > '"$t"' else ""' | grep -qx yes
}
# leader_cycle NODE...: wait (at most two intervals + slack) for a scheduled cycle on the leader after now
leader_cycle() { local t; t=$(date +%s.%N); wait_for 25 scheduled_cycle_since "$t" "$@"; }
check "a scheduled cycle on the leader" -- leader_cycle "${NODES[@]}"
writers=()
for n in "${NODES[@]}"; do [[ $(secret_writes "$n") == *"/from-three"* ]] && writers+=("$n"); done
check_eq "one node wrote it" "1" "${#writers[@]}" "writers: ${writers[*]}"
check_eq "... once" "1" "$(total_secret_writes "${NODES[@]}")"
follower=""; for n in "${NODES[@]}"; do [[ $n != "$leader" ]] && follower=$n && break; done
shown=$(on "$follower" aiosctl secret show from-three --json)
check_eq "secret show on a follower ($follower) names the leader" "follower (leader: $leader)" "$(json_get 'd.get("syncedBy")' <<<"$shown")"
check_eq "... and shows the Secret the leader wrote as synced" "synced" "$(json_get 'd["status"]["state"]' <<<"$shown")"
check_eq "... with the content hash the leader wrote" \
    "$(kc "${NODES[0]}" get secret from-three -o jsonpath='{.metadata.annotations.aios\.microsoft\.com/content-hash}')" \
    "$(json_get 'd["status"].get("contentHash")' <<<"$shown")"
check "stop aiosd on $N3" -- on "$N3" systemctl stop aiosd.socket aiosd.service
"$TB" vault "$N3" set "$vault" plain-utf8 "PLANTED-rotated-after-stop" >/dev/null   # the cluster's one Key Vault
value() { kc "$1" get secret from-three -o jsonpath='{.data.value}' | base64 -d; }
# the definition came from NAME-3, whose aiosd is down: the leader (one of the two others) still syncs it
check_within 30 "the two others agree on a leader" -- agreed_leader "${NODES[0]}" "${NODES[1]}"
check "a scheduled cycle on the leader, with $N3's aiosd stopped" -- leader_cycle "${NODES[0]}" "${NODES[1]}"
check_eq "... writes the new vault version" "PLANTED-rotated-after-stop" "$(value "${NODES[0]}")"
check "start aiosd on $N3 again" -- on "$N3" systemctl start aiosd.socket aiosd.service

# ---------------------------------------------------------------- kill -9 of the leader's aiosd
# E2E_FAILOVER_RUNS=N repeats it N times (to measure the failover time; default once).
for run in $(seq 1 "${E2E_FAILOVER_RUNS:-1}"); do
    check_within 30 "the nodes agree on the leader again" -- agreed_leader "${NODES[@]}"
    old=$(agreed_leader "${NODES[@]}")
    others=(); for n in "${NODES[@]}"; do [[ $n != "$old" ]] && others+=("$n"); done
    before=$(total_secret_writes "${NODES[@]}")
    pid=$(on "$old" systemctl show -P MainPID aiosd.service)
    # It stays down (as after a crash of the host or a crash loop): without a runtime Restart=no systemd would start
    # it again 2 s later, and it would simply renew its own Lease (the holder identity is the node name).
    on "$old" sh -c 'mkdir -p /run/systemd/system/aiosd.service.d && printf "[Service]\nRestart=no\n" > /run/systemd/system/aiosd.service.d/e2e-no-restart.conf && systemctl daemon-reload'
    t0=$(date +%s.%N)
    check "kill -9 the leader's aiosd ($old, pid $pid)" -- on "$old" kill -9 "$pid"
    # its last renewal, as the Lease says (one host: the same clock as t0)
    renewed=$(on "${others[0]}" kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n kube-system get lease aios-sync-leader -o jsonpath='{.spec.renewTime}')
    new_leader() { local l; l=$(agreed_leader "${others[@]}") && [[ $l != "$old" ]]; }
    # The bound: one lease duration after the last renewal (the nodes' clocks agree here: one host), the followers
    # counting it from the Lease's renewTime and trying again right when it ends (README, "Multi-node clusters");
    # plus 2 s for this test's polling (a round is one aiosctl on each of two nodes and 0.2 s).
    bound=$((LEASE_SECONDS + 2))
    if wait_for $((bound + 5)) new_leader; then
        failover=$(elapsed_since "$t0"); new=$(agreed_leader "${others[@]}")
        since_renewal=$(python3 -c 'import datetime,sys; print("%.1f" % (float(sys.argv[2]) - datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).timestamp()))' "$renewed" "$(date +%s.%N)")
        # the new leader's Lease acquireTime is the start of its winning attempt: the takeover itself, without polling
        acquired=$(on "$new" kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n kube-system get lease aios-sync-leader -o jsonpath='{.spec.acquireTime}')
        takeover=$(python3 -c 'import datetime,sys; t=lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp(); print("%.2f" % (t(sys.argv[2]) - t(sys.argv[1])))' "$renewed" "$acquired")
        echo "# failover after kill -9 (run $run): ${failover}s after the kill, ${since_renewal}s after the last renewal as seen by this test; the new leader's attempt started ${takeover}s after the last renewal (lease ${LEASE_SECONDS}s, retry ${RETRY_SECONDS}s), new leader $new"
        check "a new leader ($new) within the lease duration (+2 s polling): ${failover}s <= ${bound}s" -- \
            awk -v t="$failover" -v m="$bound" 'BEGIN{exit !(t <= m)}'
    else
        not_ok "a new leader within $((bound + 5))s of the kill" "$(for n in "${others[@]}"; do on "$n" aiosctl cluster status; done 2>&1)"
        new=""
    fi
    check "a scheduled cycle on the new leader" -- leader_cycle "${others[@]}"
    during=$(( $(total_secret_writes "${NODES[@]}") - before ))
    echo "# Secret writes during and after the failover: $during"
    check_eq "the new leader's cycles write nothing (no churn)" "0" "$during"
    check "start the old leader's aiosd again" -- on "$old" sh -c 'rm /run/systemd/system/aiosd.service.d/e2e-no-restart.conf && systemctl daemon-reload && systemctl start aiosd.socket aiosd.service'
done

# ---------------------------------------------------------------- partition of the leader
check_within 30 "the nodes agree on the leader again" -- agreed_leader "${NODES[@]}"
cut=$(agreed_leader "${NODES[@]}")
others=(); for n in "${NODES[@]}"; do [[ $n != "$cut" ]] && others+=("$n"); done
t0=$(date +%s.%N)
check "partition the leader $cut" -- "$TB" partition "$cut"
check_within 12 "$cut stops leading (renew deadline)" -- sh -c "[ \"\$($TB exec $cut -- aiosctl status --json | python3 -c 'import json,sys; print((json.load(sys.stdin).get(\"cluster\") or {}).get(\"syncRole\",\"\"))')\" != leader ]"
other_leads() { local l; l=$(agreed_leader "${others[@]}") && [[ $l != "$cut" ]]; }
if wait_for $((bound + 5)) other_leads; then
    echo "# failover after partition: $(elapsed_since "$t0")s, new leader $(agreed_leader "${others[@]}")"
    ok "another node leads while $cut is cut off"
else
    not_ok "another node leads while $cut is cut off" "$(for n in "${others[@]}"; do on "$n" aiosctl cluster status; done 2>&1)"
fi
cut_writes=$(total_secret_writes "$cut")
check "a scheduled cycle on the new leader" -- leader_cycle "${others[@]}"
check_eq "$cut writes no Secret while cut off" "$cut_writes" "$(total_secret_writes "$cut")"
check "heal $cut" -- "$TB" heal "$cut"

# ---------------------------------------------------------------- removed on another server than the one that added it
check_within 30 "the nodes agree on the leader again" -- agreed_leader "${NODES[@]}"
remover=${NODES[0]}; [[ $remover == "$N3" ]] && remover=${NODES[1]}
check_rc 0 "secret remove from-three on $remover (it was added on $N3)" -- on "$remover" aiosctl secret remove from-three
check_eq "the definition Lease is marked removed by $remover" "$remover" \
    "$(on "$N3" kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml -n kube-system get lease aios-definition-from-three -o jsonpath='{.metadata.annotations.aios\.microsoft\.com/removed-by}')"
check_within 15 "$N3 removes its file at its next heartbeat" -- on "$N3" sh -c '! test -e /etc/aios/secrets.d/from-three.yaml'
no_definition() { local l; l=$(agreed_leader "${NODES[@]}") && on "$l" aiosctl secret list --json | json_get '"from-three" not in [e["name"] for e in d["secrets"]]' | grep -qx true; }
check_within 15 "the leader no longer syncs it" -- no_definition

# ---------------------------------------------------------------- no Secret written by two nodes
dups=$(for n in "${NODES[@]}"; do secret_writes "$n" | json_get '"\n".join(sorted({k.split(" ", 2)[2] for k in d}))' | sed "s|^|$n |"; done |
    awk '{print $2}' | sort | uniq -d)
check_eq "no Secret was written by two nodes" "" "$dups" "$(for n in "${NODES[@]}"; do echo "$n: $(secret_writes "$n")"; done)"

e2e_finish
