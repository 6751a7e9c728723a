import AIOSCore
import Logging
import ServiceLifecycle

/// The watch of the published definitions' Leases (`PublishedDefinitionsWatch`), on a thread of its own: a watch
/// request stays open for a minute. It watches while this node is a server (agents publish nothing). A shutdown
/// stops it without waiting: a request in progress cannot be interrupted and ends unwaited.
struct DefinitionWatchService: Service {
    static let serviceName = "definition-watch"

    let watch: PublishedDefinitionsWatch
    let state: DaemonState

    func run() async throws {
        let threads = BlockingPool(threads: 1)
        let watch = self.watch
        state.setService(Self.serviceName, .running, detail: "watching the definitions published in the cluster")
        await withTaskCancellationHandler {
            await cancelWhenGracefulShutdown {
                try? await threads.run { watch.run() }
            }
        } onCancel: {
            watch.stop()
        }
        watch.stop()
        state.setService(Self.serviceName, .stopped)
    }
}
