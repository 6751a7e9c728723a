import AIOSCore
import Logging
import ServiceLifecycle

/// Announces a possible K3s arrival whenever something changes where K3s' unit files and its admin kubeconfig
/// appear (inotify), so the services waiting for a K3s server (leader election, heartbeat, rollouts) notice an
/// install at once while an idle host without K3s is not woken by a timer. K3s' installer writes
/// `/etc/systemd/system/k3s.service` (or `k3s-agent.service`) and K3s writes its kubeconfig at start.
struct K3sArrivalWatchService: Service {
    static let serviceName = "k3s-arrival-watch"

    let arrival: K3sArrival
    /// The kubeconfig aiosd uses (its directory is watched too).
    let kubeconfig: @Sendable () -> String
    let state: DaemonState
    let logger: Logger
    /// The watch blocks in poll(2) on a thread of its own.
    private let threads = BlockingPool(threads: 1)

    init(arrival: K3sArrival, kubeconfig: @escaping @Sendable () -> String, state: DaemonState, logger: Logger) {
        self.arrival = arrival
        self.kubeconfig = kubeconfig
        self.state = state
        self.logger = logger
    }

    func run() async throws {
        let directories = NodeRole.unitDirectories + [Self.directory(of: kubeconfig())]
        guard let watch = DirectoryWatch(directories: directories) else {
            // Not fatal: the waiting services still look every K3sArrival.interval.
            logger.warning("Cannot watch for K3s' arrival; looking once a minute", metadata: ["directories": "\(directories)"])
            state.setService(Self.serviceName, .disabled, detail: "inotify unavailable: looking for K3s once a minute")
            try? await gracefulShutdown()
            return
        }
        state.setService(Self.serviceName, .running, detail: "watching \(watch.watched.joined(separator: ", "))")
        let arrival = self.arrival
        try? await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await threads.run { watch.run { arrival.announce() } }
            } onCancel: {
                watch.stop()
            }
        } onGracefulShutdown: {
            watch.stop()
        }
        state.setService(Self.serviceName, .stopped)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
