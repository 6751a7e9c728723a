import Logging
import ServiceLifecycle
import UnixSignals

/// Turns SIGHUP into a configuration reload (`systemctl reload aiosd`).
struct ReloadSignalService: Service {
    static let serviceName = "config-reloader"

    let manager: ConfigurationManager
    let state: DaemonState
    /// The configuration file is read there, not on the cooperative pool.
    let io: BlockingPool
    let logger: Logger

    func run() async throws {
        // Trapping ignores the signal's default action (termination) from here on.
        let signals = await UnixSignalsSequence(trapping: .sighup)
        state.setService(Self.serviceName, .running, detail: "reloads on SIGHUP")

        let manager = self.manager
        for await _ in signals.cancelOnGracefulShutdown() {
            logger.info("SIGHUP received")
            // A refused config is logged and reported by the manager; the daemon keeps running.
            _ = try? await io.run { try? manager.reload(trigger: .signal) }
        }
        state.setService(Self.serviceName, .stopped)
    }
}
