/// How long aiosctl waits for aiosd unless `--timeout` says otherwise: one table for every command.
enum DefaultTimeout: Double, CaseIterable, Sendable {
    /// A read or a quick change answered from aiosd's memory or its files.
    case standard = 10
    /// A read that asks K3s' API server or its journal (workload identity status, apiserver-arg list).
    case k3sRead = 30
    /// systemd's daemon-reload.
    case systemdReload = 120
    /// A K3s restart: systemd's job plus the wait for the API server (k3s.readyTimeout, 300 s by default).
    case k3sRestart = 330
    /// A K3s change (write, restart, verify, and on failure restore and restart again), or a sync that waits.
    case long = 900

    var seconds: Double { rawValue }
}
