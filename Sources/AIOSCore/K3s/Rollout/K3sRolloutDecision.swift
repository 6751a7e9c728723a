/// What one server's aiosd should do about a rollout now: a pure function of the recorded rollout and the
/// cluster's servers, so every server decides alike and any of them can carry a rollout on.
public enum K3sRolloutDecision: Sendable, Equatable {
    /// Nothing for this server: no rollout running, or it is not one of the rollout's servers, or its part is done.
    case idle(String)
    /// Not yet: another server's turn, or changing now would leave the cluster without a ready server.
    case wait(String)
    /// This server's turn: take the restart lock and apply.
    case apply
    /// Record the rollout's end: every server done, or one failed (the rest are left as they are).
    case finish(K3sRollout.State)

    public static func decide(_ rollout: K3sRollout?, node: String, servers: [K3sServerNode]) -> K3sRolloutDecision {
        guard let rollout, rollout.state == .running else { return .idle("no rollout is running") }
        if rollout.servers.contains(where: { $0.state.isFailure }) { return .finish(.failed) }
        if rollout.servers.allSatisfy({ $0.state == .done }) { return .finish(.succeeded) }
        guard let mine = rollout.progress(of: node) else { return .idle("\(node) is not one of the rollout's servers") }
        if mine.state == .done { return .idle("\(node) is done") }
        if let other = rollout.servers.first(where: { $0.state == .applying && $0.name != node }) {
            return .wait("\(other.name) is applying the change")
        }
        // Mine is applying (an aiosd that stopped mid-change carries on), or the first pending one is mine.
        if mine.state != .applying, let next = rollout.servers.first(where: { $0.state == .pending }), next.name != node {
            return .wait("\(next.name) goes first")
        }
        for other in rollout.servers where other.name != node {
            guard let seen = servers.first(where: { $0.name == other.name }) else {
                return .wait("\(other.name) is not in the cluster's Node list")
            }
            if !seen.ready { return .wait("\(other.name) is not Ready") }
        }
        return .apply
    }
}
