import AIOSCore
import Logging
import ServiceLifecycle

/// The watch of the published definitions' Leases (`PublishedDefinitionsWatch`), on a thread of its own: a watch
/// request stays open for a minute. Only a K3s server publishes definitions: until this host is one, the service
/// waits for K3s without a thread (no wakeups on a host without K3s); a host that stops being a server later has
/// its watch pause (`shouldWatch`). A shutdown stops the watch without waiting: a request in progress cannot be
/// interrupted and ends unwaited.
struct DefinitionWatchService: Service {
    static let serviceName = "definition-watch"

    let watch: PublishedDefinitionsWatch
    let election: SyncElection
    let k3sArrival: K3sArrival
    let state: DaemonState

    func run() async throws {
        while election.nodeRole != .server {
            if Task.isCancelled || Task.isShuttingDownGracefully {
                state.setService(Self.serviceName, .stopped)
                return
            }
            state.setService(Self.serviceName, .running, detail: "not a K3s server: no definitions to watch")
            await k3sArrival.wait()
        }
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
