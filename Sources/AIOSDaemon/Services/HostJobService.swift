import Logging
import ServiceLifecycle

/// Host jobs (`HostOperations`): first rolls back a K3s change a crash interrupted, then runs the queued jobs
/// one at a time until the shutdown. A job still running then is waited for (within `shutdownTimeout`); one
/// cut short or still queued is marked `interrupted` at the next start.
struct HostJobService: Service {
    static let serviceName = "host-jobs"

    let operations: HostOperations
    let state: DaemonState

    func run() async throws {
        state.setService(Self.serviceName, .running, detail: "one job at a time")
        await operations.serve()
        state.setService(Self.serviceName, .stopped)
    }
}
