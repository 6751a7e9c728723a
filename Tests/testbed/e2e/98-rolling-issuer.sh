#!/bin/bash
# A rolling K3s change across three servers (testbed up --servers 3): `workload-identity enable --all-servers`
# changes NAME-1, NAME-2, NAME-3 one at a time while a client on each server polls its /readyz every 100 ms:
# never all three down, each serves the new issuer at the end. A change that K3s refuses on NAME-2 only (its
# audit policy file cannot be loaded) rolls NAME-2 back and stops the rollout there: NAME-3 is not touched.
# aiosd killed on the server that is applying: the rollout goes on when systemd brings it back, followed
# from another server. Reports the total rollout time.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init rolling
e2e_up --deb "$DEB" --fixtures "$E2E_DIR/../k3s" --servers 3

arc=https://eastus.oic.prod-arc.azure.com/00000000-0000-0000-0000-000000000001/11111111-2222-3333-4444-555555555555/
default=https://kubernetes.default.svc.cluster.local
dropin=/etc/rancher/k3s/config.yaml.d/90-aios.yaml
policy=/etc/rancher/k3s/audit-policy.yaml
on() { local i=$1; shift; "$TB" exec "$E2E_NAME-$i" -- "$@"; }
kc() { local i=$1; shift; on "$i" kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml "$@"; }
served() { kc "$1" get --raw /.well-known/openid-configuration | json_get 'd["issuer"]'; }
rollout() { on "$1" aiosctl k3s rollout --json | json_get "$2"; }
k3s_run() { echo "$(on "$1" systemctl show -P InvocationID k3s.service)"; }
tmp=$(mktemp -d); E2E_ON_EXIT='rm -rf "$tmp"'

three_ready() {
    [ "$(kc 1 get nodes -l node-role.kubernetes.io/control-plane -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" = 3 ]
}
check_within 90 "three server Nodes, all Ready" -- three_ready
for i in 1 2 3; do
    check_within 60 "aiosd on $E2E_NAME-$i looks at rollouts" -- \
        sh -c "$TB exec $E2E_NAME-$i -- aiosctl status --json | grep -q 'k3s-rollout'"
done

# The readiness client: on each server, /readyz of its own API server every 100 ms with its admin
# credentials, one "time up" line per sample, until /tmp/poll.stop exists.
poller='
import os, ssl, sys, time, base64, tempfile, http.client, yaml
kc = yaml.safe_load(open("/etc/rancher/k3s/k3s.yaml"))
user = kc["users"][0]["user"]
d = tempfile.mkdtemp()
for k, f in (("client-certificate-data", "c.pem"), ("client-key-data", "k.pem")):
    open(os.path.join(d, f), "wb").write(base64.b64decode(user[k]))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
ctx.load_cert_chain(os.path.join(d, "c.pem"), os.path.join(d, "k.pem"))
tick = time.time()
while not os.path.exists("/tmp/poll.stop"):
    up = 0
    try:
        c = http.client.HTTPSConnection("127.0.0.1", 6443, context=ctx, timeout=0.5)
        c.request("GET", "/readyz"); r = c.getresponse(); up = int(r.status == 200 and r.read().startswith(b"ok")); c.close()
    except Exception:
        pass
    print("%.3f %d" % (time.time(), up), flush=True)
    tick += 0.1
    time.sleep(max(0.0, tick - time.time()))
'
start_pollers() {
    pollers=()
    for i in 1 2 3; do
        on "$i" rm -f /tmp/poll.stop
        on "$i" python3 -c "$poller" > "$tmp/poll-$1-$i" 2>&1 &
        pollers+=($!)
    done
    sleep 1
}
stop_pollers() {
    for i in 1 2 3; do on "$i" touch /tmp/poll.stop; done
    wait "${pollers[@]}"
}
# Prints "samples S, all-down slots A, down samples per server D1 D2 D3": for every 100 ms slot, each server's
# latest sample at or before it.
analyse() {
    python3 - "$tmp/poll-$1-1" "$tmp/poll-$1-2" "$tmp/poll-$1-3" <<'PY'
import sys, bisect
series = []
for path in sys.argv[1:]:
    rows = [l.split() for l in open(path) if len(l.split()) == 2]
    series.append(([float(t) for t, _ in rows], [int(u) for _, u in rows]))
start = max(s[0][0] for s in series); end = min(s[0][-1] for s in series)
alldown = 0; t = start
while t <= end:
    states = []
    for times, ups in series:
        i = bisect.bisect_right(times, t) - 1
        states.append(ups[i])
    alldown += not any(states)
    t += 0.1
print("samples %d, all-down slots %d, down samples per server %s" % (
    sum(len(s[0]) for s in series), alldown, " ".join(str(s[1].count(0)) for s in series)))
PY
}

before=("" "$(k3s_run 1)" "$(k3s_run 2)" "$(k3s_run 3)")
start_pollers enable
t0=$(date +%s.%N)
check_rc 0 "workload-identity enable --all-servers on $E2E_NAME-1 succeeds" -- on 1 aiosctl workload-identity enable --issuer "$arc" --all-servers
total=$(elapsed_since "$t0")
stop_pollers
echo "# total rollout time across 3 servers: ${total} s"
echo "$LAST_OUT" | sed 's/^/#   /'
stats=$(analyse enable)
echo "# readiness: $stats"
check_contains "some server answered /readyz at every 100 ms slot (never all down)" "all-down slots 0," "$stats"
downs=$(sed 's/.*per server //' <<<"$stats")
check_eq "every server was seen down during its own restart" "3" "$(for d in $downs; do (( d > 0 )) && echo x; done | wc -l)" "$stats"
for i in 1 2 3; do
    check_eq "$E2E_NAME-$i serves the new issuer" "$arc" "$(served "$i")"
    check_ne "$E2E_NAME-$i's K3s was restarted" "${before[$i]}" "$(k3s_run "$i")"
done
check_eq "the rollout changed the servers in name order, each done" \
    "[[\"$E2E_NAME-1\", \"done\"], [\"$E2E_NAME-2\", \"done\"], [\"$E2E_NAME-3\", \"done\"]]" \
    "$(rollout 3 '[[s["name"], s["state"]] for s in d["servers"]]')"
check_eq "one at a time: each started after the one before finished" "true" \
    "$(rollout 2 'all(d["servers"][i]["startedAt"] >= d["servers"][i-1]["finishedAt"] for i in (1, 2))')"

# NAME-2 cannot load the audit policy the change names: it rolls back, NAME-3 is not touched.
on 1 sh -c "printf 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n' > $policy"
on 3 sh -c "printf 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n' > $policy"
on 2 sh -c "printf 'rules: [this is not a policy\n' > $policy"
sum2=$(on 2 sha256sum "$dropin"); sum3=$(on 3 sha256sum "$dropin"); run3=$(k3s_run 3)
start_pollers fail
check_rc 1 "apiserver-arg set --all-servers fails on $E2E_NAME-2" -- on 1 aiosctl k3s apiserver-arg set "audit-policy-file=$policy" --all-servers
stop_pollers
echo "$LAST_OUT" | sed 's/^/#   /'
stats=$(analyse fail); echo "# readiness: $stats"
check_contains "... never all down meanwhile" "all-down slots 0," "$stats"
check_eq "the rollout stopped at $E2E_NAME-2" "[\"failed\", \"done\", \"rolled-back\", \"pending\"]" \
    "$(rollout 1 '[d["state"]] + [s["state"] for s in d["servers"]]')"
check_contains "... $E2E_NAME-2's entry says it rolled back" "rolled back: the previous $dropin is restored" "$(rollout 3 'd["servers"][1]["message"]')"
job2=$(on 2 aiosctl jobs --json | json_get '[j["id"] for j in d if j["kind"] == "rollout-apiserver-arg-edit"][-1]')
check_contains "... and its host job keeps K3s' own reason" "loading audit policy file" "$(on 2 aiosctl jobs show "$job2")"
check_eq "$E2E_NAME-2's drop-in is the previous one" "$sum2" "$(on 2 sha256sum "$dropin")"
check_eq "$E2E_NAME-2 serves the issuer again" "$arc" "$(served 2)"
check_eq "$E2E_NAME-3's drop-in was not touched" "$sum3" "$(on 3 sha256sum "$dropin")"
check_eq "$E2E_NAME-3's K3s was not restarted" "$run3" "$(k3s_run 3)"
check_contains "$E2E_NAME-1 has the change" "audit-policy-file=$policy" "$(on 1 cat "$dropin")"

# Undo it everywhere: NAME-1 has it, NAME-2 and NAME-3 have nothing to do. aiosd on NAME-1 is killed while it
# applies; systemd starts it again, it recovers its interrupted change and carries on.
# NAME-1's K3s takes 8 s to be ready from now on (a slower box), so its turn is long enough to be caught.
on 1 sh -c 'echo K3S_STANDIN_START_DELAY=8 >> /etc/systemd/system/k3s.service.env'
on 3 aiosctl k3s apiserver-arg unset audit-policy-file --all-servers > "$tmp/unset.out" 2>&1 &
follower=$!
applying1() { [ "$(rollout 3 'd["servers"][0]["state"]')" = applying ]; }
check_within 30 "$E2E_NAME-1 is applying" -- applying1
check "kill -9 aiosd on $E2E_NAME-1 while it applies" -- on 1 systemctl kill -s KILL aiosd.service
succeeded() { [ "$(rollout 3 'd["state"]')" = succeeded ]; }
check_within 180 "the rollout goes on and succeeds" -- succeeded
if on 1 journalctl -u aiosd.service -o cat | grep -q "Interrupted K3s change rolled back"; then
    echo "# the kill interrupted $E2E_NAME-1's change: recovered at its next start, then applied again"
else
    echo "# the kill came after $E2E_NAME-1's change had finished: its aiosd only recorded the result"
fi
check_eq "... each server done" "[\"done\", \"done\", \"done\"]" "$(rollout 2 '[s["state"] for s in d["servers"]]')"
check_not_contains "$E2E_NAME-1's drop-in no longer names the policy" "audit-policy-file" "$(on 1 cat "$dropin")"
check_eq "$E2E_NAME-1 serves the issuer" "$arc" "$(served 1)"
wait "$follower"; rc=$?
check_eq "aiosctl on $E2E_NAME-3 followed it to the end (exit 0)" "0" "$rc" "$(cat "$tmp/unset.out")"

e2e_finish
