import AIOSAPI
import AIOSCore
import AIOSSystemd
import Logging
import NIOCore
import ServiceLifecycle

/// Pings the systemd watchdog at half its interval, but only after the control server's event loop has
/// answered: a wedged loop stops the pings and systemd restarts us.
struct WatchdogService: Service {
    static let serviceName = "watchdog"

    let settings: WatchdogSettings
    let eventLoop: any EventLoop
    /// Sends `WATCHDOG=1` (the notifier in aiosd; a counter in the tests).
    let ping: @Sendable () -> Void
    let state: DaemonState
    let logger: Logger

    func run() async throws {
        state.setService(Self.serviceName, .running, detail: "pinging every \(DurationText.format(seconds: SecretSyncService.seconds(settings.pingInterval)))")
        logger.info("Watchdog enabled", metadata: ["watchdog.interval": "\(settings.interval)"])
        // The group shuts services down in reverse order and this one is first in the list, so pings
        // continue until every other service has finished.
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try await eventLoop.submit {}.get()
            ping()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: settings.pingInterval) }
        }
        state.setService(Self.serviceName, .stopped)
    }
}
