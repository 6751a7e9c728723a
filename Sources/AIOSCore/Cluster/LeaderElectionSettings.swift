/// `cluster.leaderElection` in aiosd.yaml: whether this aiosd competes for the sync Lease, and the timing of
/// client-go's leader election (the same defaults as client-go's users: 15 s / 10 s / 2 s).
public struct LeaderElectionSettings: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Compete on a K3s server (a host with the admin kubeconfig); an agent (worker) node does not.
        case auto
        /// Compete on any host with a kubeconfig (an agent node given one on purpose).
        case on
        /// No election: this aiosd syncs as if it were alone (one node only; two would both write).
        case off
    }

    /// Where the cluster-wide objects live: a namespace every cluster has and only admins write.
    public static let namespace = "kube-system"
    /// The Lease whose holder is the one node that syncs.
    public static let leaseName = "aios-sync-leader"

    public var mode: Mode = .auto
    /// How long a holder's claim lasts after its last renewal, as other candidates see it.
    public var leaseDuration: Duration = .seconds(15)
    /// A leader that has not renewed for this long stops writing and stops leading (before its claim lapses).
    public var renewDeadline: Duration = .seconds(10)
    /// The wait between attempts to acquire or renew.
    public var retryPeriod: Duration = .seconds(2)

    public init() {}

    /// client-go's own checks (NewLeaderElector): the deadline leaves room for retries, and the lease outlasts
    /// the deadline, so a leader stops writing before anyone else may start. Whole seconds (the Lease holds seconds).
    public var problem: String? {
        let lease = leaseDuration.components.seconds, deadline = renewDeadline.components.seconds, retry = retryPeriod.components.seconds
        if retry < 1 { return "cluster.leaderElection.retryPeriod must be at least 1s" }
        if Double(deadline) <= Double(retry) * 1.2 { return "cluster.leaderElection.renewDeadline must be more than 1.2 × retryPeriod" }
        if lease <= deadline { return "cluster.leaderElection.leaseDuration must be more than renewDeadline" }
        return nil
    }
}
