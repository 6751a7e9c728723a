internal import CSystemd
import FoundationEssentials

/// Talks to systemd over the sd_notify(3) protocol. Outside systemd (no `NOTIFY_SOCKET`) every call is a no-op.
public struct Notifier: Sendable {
    /// True when systemd set `NOTIFY_SOCKET`, i.e. it listens for our notifications.
    public let isEnabled: Bool

    /// `enabled`: whether systemd listens, decided once (a daemon run inside the test process passes false, so it
    /// never talks to a socket another test set up).
    public init(enabled: Bool = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"] != nil) {
        isEnabled = enabled
    }

    /// Startup (or a reload) finished; `status` becomes the line `systemctl status` shows.
    public func ready(status: String) { send(["READY=1", Self.statusLine(status)]) }

    public func status(_ status: String) { send([Self.statusLine(status)]) }

    /// Reload begins; systemd ≥ 253 needs `MONOTONIC_USEC` to match it to `ExecReload=`. Must be followed by `ready`.
    public func reloading(status: String) {
        send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())", Self.statusLine(status)])
    }

    public func stopping(status: String) { send(["STOPPING=1", Self.statusLine(status)]) }

    public func watchdogPing() { send(["WATCHDOG=1"]) }

    private func send(_ assignments: [String]) {
        guard isEnabled else { return }
        // Failure to notify is not fatal: systemd would then time the start out or watchdog us, which is the right outcome.
        _ = aios_sd_notify(assignments.joined(separator: "\n"))
    }

    /// STATUS= takes one line; a newline would start a new assignment.
    static func statusLine(_ status: String) -> String {
        "STATUS=" + status.map { $0.isNewline ? " " : $0 }.reduce(into: "") { $0.append($1) }
    }

    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}
