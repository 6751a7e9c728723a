import AIOSAPI
import AIOSCore
import Dispatch
import Foundation
import Logging
import ServiceLifecycle

/// Runs the sync election: a step every `retryPeriod` (with client-go's jitter of up to 1.2 × while not
/// leading), the journal told of each change of leader; on a graceful stop the leader releases the Lease.
struct LeaderElectionService: Service {
    static let serviceName = "leader-election"

    let election: SyncElection
    let state: DaemonState
    let logger: Logger
    /// A leader's first cycle: syncing starts at once instead of at the next scheduled cycle.
    let onBecameLeader: @Sendable () -> Void
    private let queue = DispatchQueue(label: "aiosd.leader-election")

    init(election: SyncElection, state: DaemonState, logger: Logger, onBecameLeader: @escaping @Sendable () -> Void) {
        self.election = election
        self.state = state
        self.logger = logger
        self.onBecameLeader = onBecameLeader
    }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let transitions = await withCheckedContinuation { continuation in
                queue.async { continuation.resume(returning: election.step()) }
            }
            for transition in transitions ?? [] { report(transition) }
            let settings = election.configuration().cluster.leaderElection
            state.setService(Self.serviceName, .running, detail: election.roleText)
            let leading = election.view?.leading ?? false
            let wait = leading ? settings.retryPeriod : settings.retryPeriod * Double.random(in: 1...1.2)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        }
        await withCheckedContinuation { continuation in
            queue.async { election.release(); continuation.resume() }
        }
        state.setService(Self.serviceName, .stopped)
    }

    private func report(_ transition: LeaderElector.Transition) {
        let lease = "\(LeaderElectionSettings.namespace)/\(LeaderElectionSettings.leaseName)"
        switch transition {
        case .becameLeader:
            logger.notice("This node leads secret sync", metadata: ["lease": "\(lease)", "node": "\(election.nodeName)"])
            onBecameLeader()
        case .stoppedLeading(let reason):
            logger.warning("This node stopped leading secret sync; it writes nothing", metadata: ["lease": "\(lease)", "reason": "\(reason)"])
        case .newLeader(let name):
            logger.notice("Secret sync is led by another node", metadata: ["lease": "\(lease)", "leader": "\(name)"])
        }
    }
}
