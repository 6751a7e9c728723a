import AIOSAPI
import AIOSCore
import FoundationEssentials
import Logging
import ServiceLifecycle
import Synchronization

/// Renews this node's heartbeat Lease (`kube-system/aios-node-<node>`) every 10 s, so `aiosctl cluster status`
/// on any node shows every aiosd. The issuers (a journal read and an API server probe) are looked up once a
/// minute and after each K3s job, not at every beat.
struct NodeHeartbeatService: Service {
    static let serviceName = "heartbeat"
    static let issuerRefreshBeats = 6

    /// The first issuer `service-account-issuer` K3s is configured with, serves, and runs with (nil: unknown).
    struct Issuers: Sendable { var configured: String?; var served: String?; var running: String? }

    let election: SyncElection
    /// This node's definition files, published at every beat.
    let publisher: DefinitionPublisher
    let state: DaemonState
    let logger: Logger
    let issuers: @Sendable () -> Issuers
    let onPublishedChange: @Sendable () -> Void
    /// Set after a K3s job: the issuers are looked up again at the next beat, not a minute later.
    let refresh: IssuerRefresh
    /// The Lease writes and the issuer lookup block (HTTP, the journal).
    private let threads = BlockingPool(threads: 1)

    final class IssuerRefresh: Sendable {
        private let pending = Mutex(false)
        func request() { pending.withLock { $0 = true } }
        func take() -> Bool { pending.withLock { let was = $0; $0 = false; return was } }
    }

    /// Wakes a host without K3s when K3s arrives.
    let k3sArrival: K3sArrival

    init(election: SyncElection, publisher: DefinitionPublisher, state: DaemonState, logger: Logger, k3sArrival: K3sArrival,
         issuers: @escaping @Sendable () -> Issuers,
         refresh: IssuerRefresh, onPublishedChange: @escaping @Sendable () -> Void) {
        self.refresh = refresh
        self.k3sArrival = k3sArrival
        self.election = election
        self.publisher = publisher
        self.state = state
        self.logger = logger
        self.issuers = issuers
        self.onPublishedChange = onPublishedChange
    }

    func run() async throws {
        var beat = 0
        var known = Issuers()
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let role = election.nodeRole
            if role != .none {
                if role == .server && (refresh.take() || beat % Self.issuerRefreshBeats == 0) { known = await blocking { issuers() } ?? known }
                let heartbeat = NodeHeartbeat(name: election.nodeName, role: role, version: AgentVersion.current, syncRole: election.roleText,
                                              candidate: election.candidacy == .candidate, issuerConfigured: known.configured,
                                              issuerServed: known.served, issuerRunning: known.running)
                let leases = election.leases, publisher = self.publisher
                guard let (failure, published) = await blocking({ () -> (String?, Bool) in
                    do { try heartbeat.publish(to: leases, at: Date()) } catch { return ("\(error)", false) }
                    // Agent nodes have no admin kubeconfig: only servers publish definitions.
                    guard role == .server else { return (nil, false) }
                    do { return (nil, try publisher.reconcile(node: heartbeat.name)) } catch { return ("\(error)", false) }
                }) else { break }  // cancelled: aiosd is stopping
                if published { onPublishedChange() }
                if let failure, !failing {
                    logger.warning("Cannot renew this node's heartbeat Lease or publish its definitions", metadata: ["error": "\(failure)"])
                } else if failure == nil, failing {
                    logger.notice("Heartbeat Lease renewed again", metadata: ["node": "\(heartbeat.name)"])
                }
                failing = failure != nil
                state.setService(Self.serviceName, .running,
                                 detail: failure.map { "heartbeat failing: \($0)" } ?? "heartbeat \(NodeHeartbeat.leaseName(node: heartbeat.name)) every 10s")
                beat += 1
            } else {
                state.setService(Self.serviceName, .running, detail: "no K3s on this host: no heartbeat")
                await k3sArrival.wait()
                continue
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: NodeHeartbeat.interval) }
        }
        state.setService(Self.serviceName, .stopped)
    }

    /// The first issuer of each: configured (files and flags), served (discovery), running (K3s' journal).
    static func issuers(of workflow: K3sChangeWorkflow) -> Issuers {
        guard let status = try? workflow.issuerStatus() else { return Issuers() }
        return Issuers(configured: status.configuredIssuers.first?.value, served: status.servedIssuer, running: status.runningIssuers?.first)
    }

    /// nil when cancelled (aiosd is stopping).
    private func blocking<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T? {
        try? await threads.run(body)
    }
}
