internal import CSystemd

/// The watchdog systemd expects us to ping (`WatchdogSec=` in the unit), if any.
public struct WatchdogSettings: Sendable, Equatable {
    /// The interval within which systemd must hear `WATCHDOG=1`.
    public let interval: Duration

    /// Ping at half the interval, as sd_watchdog_enabled(3) advises.
    public var pingInterval: Duration { interval / 2 }

    public init(interval: Duration) { self.interval = interval }

    /// Reads `WATCHDOG_USEC`/`WATCHDOG_PID` through libsystemd; nil when no watchdog is set for this process.
    public static func fromEnvironment() -> WatchdogSettings? {
        let usec = aios_sd_watchdog_usec()
        guard usec > 0 else { return nil }
        return WatchdogSettings(interval: .microseconds(Int64(usec)))
    }
}
