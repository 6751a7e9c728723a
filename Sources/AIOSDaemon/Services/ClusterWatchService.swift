import AIOSCore
import Logging
import ServiceLifecycle

/// The cluster's SecretSync and SecretProviderClass watches. They start when the sync runner first needs the
/// cluster (no kubeconfig, no K3s: no watch) and each blocks a thread of a pool of their own, since a watch
/// request stays open for minutes. A shutdown stops them without waiting: a request in progress cannot be
/// interrupted and ends unwaited.
struct ClusterWatchService: Service {
    static let serviceName = "cluster-watch"

    let runner: SecretSyncRunner
    let state: DaemonState
    let logger: Logger

    func run() async throws {
        var first: ClusterSyncSource?
        for await source in runner.clusterSources.cancelOnGracefulShutdown() {
            first = source
            break
        }
        guard let source = first else { return }
        let threads = BlockingPool(threads: ClusterSyncSource.Kind.allCases.count)
        state.setService(Self.serviceName, .running, detail: "watching SecretSyncs and SecretProviderClasses")
        await withTaskCancellationHandler {
            await cancelWhenGracefulShutdown {
                await withDiscardingTaskGroup { group in
                    for kind in ClusterSyncSource.Kind.allCases {
                        group.addTask { try? await threads.run { source.watch(kind) } }
                    }
                }
            }
        } onCancel: {
            source.stop()
        }
        source.stop()
        state.setService(Self.serviceName, .stopped)
    }
}
