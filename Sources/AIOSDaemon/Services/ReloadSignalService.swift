import Dispatch
import Glibc
import Logging
import ServiceLifecycle

/// Turns SIGHUP into a configuration reload (`systemctl reload aiosd`).
struct ReloadSignalService: Service {
    static let serviceName = "config-reloader"

    let manager: ConfigurationManager
    let state: DaemonState
    let logger: Logger

    func run() async throws {
        let (signals, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler { continuation.yield() }
        source.resume()
        defer { source.cancel() }
        state.setService(Self.serviceName, .running, detail: "reloads on SIGHUP")

        for await _ in signals.cancelOnGracefulShutdown() {
            logger.info("SIGHUP received")
            // A refused config is logged and reported by the manager; the daemon keeps running.
            _ = try? manager.reload(trigger: .signal)
        }
        state.setService(Self.serviceName, .stopped)
    }
}
