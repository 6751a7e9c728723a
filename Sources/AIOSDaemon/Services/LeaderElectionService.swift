import AIOSAPI
import AIOSCore
import FoundationEssentials
import Logging
import ServiceLifecycle

/// Runs the sync election: a step every `retryPeriod` (with client-go's jitter of up to 1.2 × while not
/// leading, and right when the leader's claim lapses); a node that takes over from another leader syncs at
/// once; on a graceful stop the leader releases the Lease.
struct LeaderElectionService: Service {
    static let serviceName = "leader-election"

    let election: SyncElection
    let state: DaemonState
    let logger: Logger
    /// A leader's first cycle: syncing starts at once instead of at the next scheduled cycle.
    let onBecameLeader: @Sendable () -> Void
    /// Lease requests block (HTTP): one thread of their own, so a slow API server never delays the sync lane.
    private let threads = BlockingPool(threads: 1)

    /// Wakes a host that is no candidate (no K3s server yet) when K3s arrives.
    let k3sArrival: K3sArrival

    init(election: SyncElection, state: DaemonState, logger: Logger, k3sArrival: K3sArrival, onBecameLeader: @escaping @Sendable () -> Void) {
        self.k3sArrival = k3sArrival
        self.election = election
        self.state = state
        self.logger = logger
        self.onBecameLeader = onBecameLeader
    }

    func run() async throws {
        // The first Lease a node takes at start needs no extra cycle (the schedule's first one comes 2 s after
        // start); a takeover after following (failover) syncs at once.
        var followed = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let transitions: [LeaderElector.Transition]?
            do {
                transitions = try await threads.run { election.step() }
            } catch {
                break  // cancelled: aiosd is stopping
            }
            if transitions?.contains(.becameLeader) == true && followed { onBecameLeader() }
            if transitions != nil && !(election.view?.leading ?? false) { followed = true }
            let settings = election.configuration().cluster.leaderElection
            state.setService(Self.serviceName, .running, detail: election.roleText)
            let leading = election.view?.leading ?? false
            // Not a candidate (no K3s server here yet, or election off): look again when K3s arrives, not every
            // retryPeriod, so an idle host without K3s is not woken every 2 s.
            guard transitions != nil else {
                await k3sArrival.wait()
                continue
            }
            var retry = leading ? settings.retryPeriod : settings.retryPeriod * Double.random(in: 1...1.2)
            // A follower tries again the moment the leader's claim lapses, not up to a retry period later.
            if !leading, let left = election.secondsUntilExpiry, .seconds(left) < retry { retry = .seconds(left + 0.05) }
            let wait = retry
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
        }
        try? await threads.run { election.release() }
        state.setService(Self.serviceName, .stopped)
    }
}
