#!/bin/bash
# Scenario 3 (issue #3): aiosd logs natively to the journal, with
# SYSLOG_IDENTIFIER=aiosd and AIOS_* metadata fields; a mutating request
# (aiosctl config reload) is audited with the peer's credentials.
. "$(dirname "$0")/lib.sh"
e2e_deb_arg "$@"
e2e_init journal
e2e_up --deb "$DEB"

pid=$(main_pid)
check_journal "journal has entries with SYSLOG_IDENTIFIER=aiosd" -u aiosd -- SYSLOG_IDENTIFIER=aiosd
check_journal "journal entries of aiosd carry AIOS_* fields (AIOS_VERSION on 'aiosd ready')" -u aiosd -- \
    SYSLOG_IDENTIFIER=aiosd "MESSAGE=aiosd ready" AIOS_VERSION=*
check_journal "'aiosd ready' says AIOS_SOCKET_ACTIVATED=true" -u aiosd -- \
    "MESSAGE=aiosd ready" AIOS_SOCKET_ACTIVATED=true
check_journal "entries are attributed to the daemon's pid ($pid) via _PID" -u aiosd -- \
    SYSLOG_IDENTIFIER=aiosd "_PID=$pid" "MESSAGE=aiosd ready"
check_journal "native journal entries (_TRANSPORT=journal, not stdout)" -u aiosd -- \
    SYSLOG_IDENTIFIER=aiosd "MESSAGE=aiosd ready" _TRANSPORT=journal

check_rc 0 "aiosctl config reload as root exits 0" -- inside aiosctl config reload
check_journal "'Mutating request authorized' with AIOS_PEER_UID=0 and AIOS_PEER_COMM=aiosctl" -u aiosd -- \
    "MESSAGE=Mutating request authorized" AIOS_PEER_UID=0 AIOS_PEER_COMM=aiosctl \
    "AIOS_REQUEST_ENDPOINT=POST /v1/config/reload" AIOS_PEER_PID=*
check_journal "'Configuration reloaded' with AIOS_RELOAD_TRIGGER=api" -u aiosd -- \
    "MESSAGE=Configuration reloaded" AIOS_RELOAD_TRIGGER=api AIOS_CONFIG_PATH=/etc/aios/aiosd.yaml

# A read-only request is not audited as a mutation.
n_before=$(inside journalctl -u aiosd -o json --no-pager | journal_match "MESSAGE=Mutating request authorized" | wc -l)
inside aiosctl status >/dev/null 2>&1
n_after=$(inside journalctl -u aiosd -o json --no-pager | journal_match "MESSAGE=Mutating request authorized" | wc -l)
if (( n_before > 0 && n_before == n_after )); then ok "aiosctl status (read-only) adds no 'Mutating request' entry"
else not_ok "aiosctl status (read-only) adds no 'Mutating request' entry" "authorized entries before: $n_before, after: $n_after"; fi

e2e_finish
