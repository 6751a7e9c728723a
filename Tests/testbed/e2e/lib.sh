# shellcheck shell=bash
# lib.sh: shared helpers for the end-to-end scenarios (sourced, not executed).
#
# A scenario does:
#   . "$(dirname "$0")/lib.sh"
#   e2e_init install            # container name e2e-install-<pid>, teardown trap
#   e2e_up --deb "$DEB"         # boot (stops the scenario on failure)
#   check "aiosd.service is active" -- inside systemctl is-active aiosd.service
#   ...
#   e2e_finish                  # plan line, summary, exit status
#
# Output is TAP-like: "ok N - what" / "not ok N - what", evidence of a failure
# as "#   ..." lines below it.

set -u -o pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
TB=$(cd "$E2E_DIR/.." && pwd -P)/testbed
E2E_PREFIX=e2e-
# Host services enabled in the host's /etc that every container would start
# otherwise (the container boots the host's /etc); add more with E2E_MASKS.
E2E_DEFAULT_MASKS="postgresql.service e2scrub_reap.service"
E2E_N=0
E2E_FAILED=0
E2E_NAME=""
E2E_T0=$(date +%s.%N)

# A typo or a missing helper in a scenario is a failure, not a silent skip.
command_not_found_handle() {
    E2E_N=$((E2E_N + 1)); E2E_FAILED=$((E2E_FAILED + 1))
    echo "not ok $E2E_N - test script error: command not found: $1"
    return 127
}

e2e_require_root() {
    if [[ $(id -u) -ne 0 ]]; then
        echo "$(basename "$0"): must run as root (testbed boots systemd-nspawn containers)" >&2
        exit 2
    fi
}

# e2e_init TAG: names this scenario's container e2e-TAG-PID and arranges teardown.
e2e_init() {
    e2e_require_root
    E2E_NAME=$E2E_PREFIX$1-$$
    (( ${#E2E_NAME} <= 32 )) || { echo "container name $E2E_NAME too long" >&2; exit 2; }
    trap e2e_teardown EXIT
    trap 'echo "# interrupted" >&2; exit 130' INT TERM HUP
    echo "# scenario $1: container $E2E_NAME"
}

# E2E_ON_EXIT: optional extra cleanup command (eval'd) run before the teardown.
e2e_teardown() {
    local rc=$?
    [[ -n ${E2E_ON_EXIT-} ]] && eval "$E2E_ON_EXIT"
    [[ -n ${E2E_DEB_DIR-} ]] && rm -rf "$E2E_DEB_DIR"
    if [[ -n $E2E_NAME ]]; then
        if [[ -n ${E2E_LOG_DIR-} ]]; then
            TESTBED_LOG_DIR=$E2E_LOG_DIR "$TB" down "$E2E_NAME" >/dev/null 2>&1 || true
        else
            "$TB" down "$E2E_NAME" >/dev/null 2>&1 || true
        fi
    fi
    exit "$rc"
}

# e2e_up [testbed up options...]: boots the container; a failure ends the scenario.
e2e_up() {
    local -a masks=() m out
    for m in $E2E_DEFAULT_MASKS ${E2E_MASKS-}; do masks+=(--mask "$m"); done
    if out=$("$TB" up "$E2E_NAME" "${masks[@]}" "$@" 2>&1); then
        ok "container $E2E_NAME boots${*:+ ($*)}"
        [[ -n $out ]] && printf '# %s\n' "$out"
        return 0
    fi
    # the testbed's error lines first: a summary shows only the start of the evidence
    not_ok "container $E2E_NAME boots${*:+ ($*)}" "$(grep -E '^testbed: (error|warning):' <<<"$out")" "$out"
    e2e_finish
}

# in_synced_set NAMESPACE/NAME: the last command's output (aiosctl sync --wait) lists NAME as applied or unchanged
# (a sync asked for while another runs waits for it, and may find the Secret that one applied); else shows it.
in_synced_set() { grep -Eq "^ *(applied|unchanged) +$1 " <<<"$LAST_OUT" || { printf '%s\n' "$LAST_OUT"; return 1; }; }

# inside CMD...: run CMD as root in the container. inside_as USER CMD...: as USER.
inside() { "$TB" exec "$E2E_NAME" -- "$@"; }
inside_as() { local u=$1; shift; "$TB" exec "$E2E_NAME" --user "$u" -- "$@"; }

# ---------------------------------------------------------------- TAP output

evidence() { # evidence TEXT...: indented "#   " lines
    local t
    for t in "$@"; do
        [[ -n $t ]] || continue
        printf '%s\n' "$t" | sed 's/^/#   /'
    done
}

ok() { E2E_N=$((E2E_N + 1)); echo "ok $E2E_N - $1"; }

not_ok() { # not_ok DESC [EVIDENCE...]
    E2E_N=$((E2E_N + 1)); E2E_FAILED=$((E2E_FAILED + 1))
    echo "not ok $E2E_N - $1"
    shift
    evidence "$@"
}

# check DESC -- CMD...: passes when CMD exits 0; otherwise shows its output and exit code.
check() {
    local desc=$1; shift; [[ ${1-} == -- ]] && shift
    local out rc
    out=$("$@" 2>&1); rc=$?
    if (( rc == 0 )); then ok "$desc"; return 0; fi
    not_ok "$desc" "command: $*" "exit code: $rc" "$out"
    return 1
}

# check_rc EXPECTED DESC -- CMD...: passes when CMD exits with EXPECTED.
# Sets LAST_OUT (stdout+stderr) and LAST_RC.
check_rc() {
    local want=$1 desc=$2; shift 2; [[ ${1-} == -- ]] && shift
    LAST_OUT=$("$@" 2>&1); LAST_RC=$?
    if (( LAST_RC == want )); then ok "$desc"; return 0; fi
    not_ok "$desc" "command: $*" "exit code: $LAST_RC (expected $want)" "$LAST_OUT"
    return 1
}

# check_eq DESC EXPECTED ACTUAL [EVIDENCE...]
check_eq() {
    local desc=$1 want=$2 got=$3; shift 3
    if [[ $got == "$want" ]]; then ok "$desc"; return 0; fi
    not_ok "$desc" "expected: $want" "got:      $got" "$@"
    return 1
}

# check_ne DESC UNEXPECTED ACTUAL [EVIDENCE...]
check_ne() {
    local desc=$1 bad=$2 got=$3; shift 3
    if [[ -n $got && $got != "$bad" ]]; then ok "$desc"; return 0; fi
    not_ok "$desc" "expected something other than: '$bad'" "got: '$got'" "$@"
    return 1
}

# check_contains DESC NEEDLE HAYSTACK [EVIDENCE...] (fixed string)
check_contains() {
    local desc=$1 needle=$2 hay=$3; shift 3
    if [[ $hay == *"$needle"* ]]; then ok "$desc"; return 0; fi
    not_ok "$desc" "expected to contain: $needle" "in:" "$hay" "$@"
    return 1
}

# check_not_contains DESC NEEDLE HAYSTACK [EVIDENCE...]
check_not_contains() {
    local desc=$1 needle=$2 hay=$3; shift 3
    if [[ $hay != *"$needle"* ]]; then ok "$desc"; return 0; fi
    not_ok "$desc" "expected NOT to contain: $needle" "in:" "$hay" "$@"
    return 1
}

# check_within SECONDS DESC -- CMD...: polls CMD (every 0.2 s) until it exits 0.
check_within() {
    local secs=$1 desc=$2; shift 2; [[ ${1-} == -- ]] && shift
    local t0 out rc
    t0=$(date +%s.%N)
    if wait_for "$secs" "$@"; then
        ok "$desc ($(elapsed_since "$t0")s)"; return 0
    fi
    out=$("$@" 2>&1); rc=$?
    not_ok "$desc (gave up after ${secs}s)" "command: $*" "last exit code: $rc" "$out"
    return 1
}

# wait_for SECONDS CMD...: true as soon as CMD succeeds, false after SECONDS.
wait_for() {
    local secs=$1; shift
    local deadline; deadline=$(awk -v t="$(date +%s.%N)" -v s="$secs" 'BEGIN{printf "%.3f", t+s}')
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        awk -v d="$deadline" -v t="$(date +%s.%N)" 'BEGIN{exit !(t>=d)}' && return 1
        sleep 0.2
    done
}

elapsed_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

# ---------------------------------------------------------------- helpers

# unit_prop UNIT PROP: systemctl show -P PROP UNIT inside.
unit_prop() { inside systemctl show -P "$2" "$1" 2>/dev/null; }
main_pid() { unit_prop aiosd.service MainPID; }

# json_get EXPR < JSON: prints the Python expression EXPR evaluated on the
# parsed document `d` (True/False as true/false, None as null).
json_get() {
    python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    v = eval(sys.argv[1], {"d": d})
except Exception as e:
    print("<%s: %s>" % (type(e).__name__, e)); sys.exit(1)
print(json.dumps(v) if isinstance(v, (bool, type(None), dict, list)) else v)' "$1"
}

# journal_match FIELD=VALUE... < journalctl -o json lines: prints the matching
# entries (MESSAGE, SYSLOG_IDENTIFIER, AIOS_* fields) and exits 0 if there
# is at least one. VALUE ending in '*' is a prefix match; FIELD~TEXT means
# "contains TEXT"; FIELD=* means "present".
journal_match() {
    python3 -c '
import json, sys
conds = sys.argv[1:]
def test(e, c):
    if "~" in c and ("=" not in c or c.index("~") < c.index("=")):
        k, v = c.split("~", 1); return v in str(e.get(k, ""))
    k, v = c.split("=", 1)
    if k not in e: return False
    if v == "*": return True
    if v.endswith("*"): return str(e[k]).startswith(v[:-1])
    return str(e[k]) == v
n = 0
for line in sys.stdin:
    line = line.strip()
    if not line: continue
    try: e = json.loads(line)
    except ValueError: continue
    if all(test(e, c) for c in conds):
        n += 1
        print(json.dumps({k: v for k, v in sorted(e.items())
                          if k in ("MESSAGE", "SYSLOG_IDENTIFIER", "PRIORITY") or k.startswith("AIOS_")}))
sys.exit(0 if n else 1)' "$@"
}

# check_journal DESC JOURNALCTL-ARGS... -- FIELD=VALUE...: asserts that a
# journal entry (journalctl -o json inside, with the given filter) matches.
check_journal() {
    local desc=$1; shift
    local -a jargs=()
    while (( $# )) && [[ $1 != -- ]]; do jargs+=("$1"); shift; done
    shift
    local js out
    js=$(inside journalctl --no-pager -o json "${jargs[@]}" 2>&1)
    if out=$(journal_match "$@" <<<"$js"); then
        ok "$desc"; return 0
    fi
    not_ok "$desc" "no entry of 'journalctl ${jargs[*]}' has: $*" "last entries:" \
        "$(journal_match SYSLOG_IDENTIFIER=* <<<"$js" | tail -n 12)"
    return 1
}

# Diagnostics for a failing scenario: the daemon's recent journal.
diag_journal() {
    "$TB" pid "$E2E_NAME" >/dev/null 2>&1 || return 0
    echo "# ---- journalctl -u aiosd.socket -u aiosd.service (last ${1:-25}) ----"
    inside journalctl --no-pager -u aiosd.socket -u aiosd.service -n "${1:-25}" 2>&1 | sed 's/^/#   /'
}

e2e_finish() {
    local t; t=$(elapsed_since "$E2E_T0")
    echo "1..$E2E_N"
    if (( E2E_FAILED )); then
        diag_journal 30
        echo "# FAILED $E2E_FAILED of $E2E_N assertions (${t}s)"
        exit 1
    fi
    echo "# passed all $E2E_N assertions (${t}s)"
    exit 0
}

# e2e_deb_arg PATH: validate PATH as the .deb under test and set DEB to a
# private copy of it (removed at exit), so that a concurrent `make deb`
# rewriting dist/ cannot hand half a file to a later step.
e2e_deb_arg() {
    if [[ $# -lt 1 || ! -f $1 ]]; then
        echo "usage: $(basename "$0") PATH/TO/aios-agent_VERSION_amd64.deb" >&2
        exit 2
    fi
    e2e_require_root
    E2E_DEB_DIR=$(mktemp -d /tmp/e2e-deb.XXXXXX)
    trap e2e_teardown EXIT
    DEB=$E2E_DEB_DIR/$(basename "$1")
    if ! cp "$1" "$DEB" || ! dpkg-deb -c "$DEB" >/dev/null 2>&1; then
        echo "$(basename "$0"): $1 is not a valid .deb (still being built?)" >&2
        rm -rf "$E2E_DEB_DIR"; exit 2
    fi
}

# Number of finished config reloads in the journal ("Configuration reloaded" /
# "Configuration refused; ...").
reload_count() {
    inside journalctl -u aiosd -o json --no-pager 2>/dev/null | journal_match "MESSAGE~Configuration re" | wc -l
}

# reload_and_wait DESC: `systemctl reload aiosd` (asserted), then waits up to
# 10 s until the daemon has logged the outcome, so that the next assertion
# never races the reload (however the reload job and the daemon's
# RELOADING=1/READY=1 are ordered on a given systemd version).
reload_and_wait() {
    local desc=$1 n0 t0
    # shellcheck disable=SC2034  # read by the eval in wait_for
    n0=$(reload_count)
    t0=$(date +%s.%N)
    check "$desc" -- inside systemctl reload aiosd || return 1
    if wait_for 10 eval '(( $(reload_count) > n0 ))'; then
        echo "# reload outcome logged $(elapsed_since "$t0")s after 'systemctl reload' was started"
        return 0
    fi
    not_ok "aiosd logged the outcome of the reload within 10 s" "$(diag_journal 10)"
    return 1
}

# aio_identity [YAML-LINES]: (aio fixture) reads the fixture's facts into tenant, client, issuer and vault
# (fact EXPR reads any other), then writes aiosd.yaml with that identity, an hourly sync without jitter and
# YAML-LINES, and reloads aiosd.
aio_identity() {
    AIO_FIXTURE=$("$TB" fixture "$E2E_NAME" --json)
    tenant=$(fact 'd["tenantId"]'); client=$(fact 'd["clientId"]'); issuer=$(fact 'd["issuer"]'); vault=$(fact 'd["vault"]')
    inside sh -c "cat > /etc/aios/aiosd.yaml" <<EOF2
identity:
  tenantId: $tenant
  clientId: $client
sync:
  interval: 1h
  jitter: 0s
${1-}
EOF2
    check "reload aiosd with the fixture's identity" -- inside systemctl reload aiosd.service
}
fact() { json_get "$1" <<<"$AIO_FIXTURE"; }
