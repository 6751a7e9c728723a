import AIOSAPI
import AIOSCore
import FoundationEssentials
import Logging
import Synchronization

/// This node's part in "one syncer per cluster": whether it competes for the sync Lease (its K3s role and
/// `cluster.leaderElection.mode`), the elector when it does, and the fence every write checks.
final class SyncElection: Sendable {
    let configuration: @Sendable () -> AgentConfiguration
    let leases: any LeaseClient
    let logger: Logger
    private let now: @Sendable () -> Date
    private let current = Mutex<LeaderElector?>(nil)

    init(configuration: @escaping @Sendable () -> AgentConfiguration, leases: any LeaseClient,
         logger: Logger = Logger(label: "aiosd.election") { _ in SwiftLogNoOpLogHandler() }, now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.leases = leases
        self.logger = logger
        self.now = now
    }

    var nodeName: String { configuration().cluster.nodeName ?? NodeRole.hostNodeName() }

    /// The K3s role, looked up again once `roleLookupInterval` has passed: the fence asks for it before every
    /// Secret written (10,000 in a first sync at that scale, each lookup a stat of the kubeconfig and of the unit
    /// directories: 2% of that sync's CPU). K3s installed or removed shows within that interval.
    var nodeRole: NodeRole {
        let kubeconfig = configuration().sync.kubeconfig
        let now = ContinuousClock.now
        if let known = role.withLock({ $0 }), known.kubeconfig == kubeconfig, now - known.at < Self.roleLookupInterval { return known.role }
        let detected = NodeRole.detect(kubeconfig: kubeconfig)
        role.withLock { $0 = (kubeconfig, detected, now) }
        return detected
    }
    static let roleLookupInterval = Duration.seconds(1)
    private let role = Mutex<(kubeconfig: String, role: NodeRole, at: ContinuousClock.Instant)?>(nil)

    var candidacy: SyncCandidacy { SyncCandidacy.decide(mode: configuration().cluster.leaderElection.mode, role: nodeRole) }

    /// The elector for the settings in force (a reload that changes them starts a new one; the old one releases).
    func elector() -> LeaderElector? {
        guard candidacy == .candidate else { return retire() }
        let settings = configuration().cluster.leaderElection, identity = nodeName
        let (elector, retired) = current.withLock { existing -> (LeaderElector, LeaderElector?) in
            if let existing, existing.settings == settings, existing.identity == identity { return (existing, nil) }
            let made = LeaderElector(identity: identity, settings: settings, client: leases, now: now)
            defer { existing = made }
            return (made, existing)
        }
        retired?.release()
        return elector
    }

    @discardableResult
    private func retire() -> LeaderElector? {
        current.withLock { existing -> LeaderElector? in defer { existing = nil }; return existing }?.release()
        return nil
    }

    /// Why this node does not sync now, or nil when it does: alone (election off), leading with a fresh renewal,
    /// or on a host without K3s (a cycle then reports that nothing can be written: no kubeconfig).
    var standDownReason: String? {
        switch candidacy {
        case .alone: return nil
        case .notCandidate(let reason): return nodeRole == .none ? nil : "not a sync candidate (\(reason))"
        case .candidate:
            guard let elector = current.withLock({ $0 }) else { return "follower (the sync Lease not tried yet)" }
            if elector.mayWrite { return nil }
            let view = elector.view
            return "follower (leader: \(view.leader ?? "none yet")\(view.lastError.map { "; \($0)" } ?? ""))"
        }
    }

    /// The fence: checked before every Secret and status write.
    var mayWrite: Bool { standDownReason == nil }

    /// One election step (blocking: Lease calls), its changes told to the journal; nil when this node is no candidate.
    func step() -> [LeaderElector.Transition]? {
        guard let transitions = elector()?.step() else { return nil }
        let lease = "\(LeaderElectionSettings.namespace)/\(LeaderElectionSettings.leaseName)"
        for transition in transitions {
            switch transition {
            case .becameLeader:
                logger.notice("This node leads secret sync", metadata: ["lease": "\(lease)", "node": "\(nodeName)"])
            case .stoppedLeading(let reason):
                logger.warning("This node stopped leading secret sync; it writes nothing", metadata: ["lease": "\(lease)", "reason": "\(reason)"])
            case .newLeader(let name):
                logger.notice("Secret sync is led by another node", metadata: ["lease": "\(lease)", "leader": "\(name)"])
            }
        }
        return transitions
    }

    /// Before a cycle: a candidate that does not lead tries the Lease once more now (right after start, or
    /// after K3s came back, the schedule's next attempt may be seconds away), then says whether it syncs.
    func standDownBeforeCycle() -> String? {
        if candidacy == .candidate, !(current.withLock { $0 }?.mayWrite ?? false) { _ = step() }
        return standDownReason
    }

    /// On a graceful stop: the leader gives the Lease up so another node takes over at once.
    func release() { retire() }

    var view: LeaderElector.View? { current.withLock { $0 }?.view }

    /// Seconds until the leader's claim lapses as this node sees it (nil: leading, or no leader).
    var secondsUntilExpiry: TimeInterval? { current.withLock { $0 }?.secondsUntilExpiry }

    /// `leader`, `follower (leader: NAME)`, `not a candidate (...)`, `single node (...)`, for status and heartbeats.
    var roleText: String {
        switch candidacy {
        case .alone: return "single node (cluster.leaderElection.mode: off)"
        case .notCandidate(let reason): return "not a candidate (\(reason))"
        case .candidate:
            guard let view else { return "follower (leader: none yet)" }
            if view.leading && mayWrite { return "leader" }
            return "follower (leader: \(view.leader ?? "none yet"))"
        }
    }

    /// 1 while this node may write as the elected (or only) syncer, for `aiosd_sync_leader`.
    var leaderGauge: Double {
        switch candidacy {
        case .alone: return 1
        case .notCandidate: return 0
        case .candidate: return mayWrite ? 1 : 0
        }
    }

    var clusterRole: NodeClusterRole {
        NodeClusterRole(node: nodeName, nodeRole: nodeRole.rawValue, syncRole: roleText, leader: candidacy == .alone ? nodeName : view?.leader)
    }

    /// Every node's heartbeat and the sync Lease, read from the API server (blocking).
    func clusterView(now: Date = Date()) -> ClusterResponse {
        let namespace = LeaderElectionSettings.namespace
        do {
            let heartbeats = try leases.listLeases(namespace: namespace, labelSelector: NodeHeartbeat.selector)
            let lease = try leases.getLease(namespace: namespace, name: LeaderElectionSettings.leaseName)
            let leader = lease.flatMap { LeaderElector.currentHolder(of: $0, at: now) }
            let nodes = NodeHeartbeat.nodes(from: heartbeats, now: now).map { node in
                ClusterNodeInfo(name: node.name, role: node.role.rawValue, version: node.version, syncRole: node.syncRole, candidate: node.candidate,
                                lastHeartbeat: node.renewedAt, ready: node.ready, issuerConfigured: node.issuerConfigured,
                                issuerServed: node.issuerServed, issuerRunning: node.issuerRunning)
            }
            return ClusterResponse(node: nodeName, leader: leader, leaderSince: leader == nil ? nil : lease?.acquireTime,
                                   leaseTransitions: lease?.leaseTransitions, nodes: nodes)
        } catch {
            return ClusterResponse(node: nodeName, leader: nil, leaderSince: nil, leaseTransitions: nil, nodes: [],
                                   error: "cannot read the cluster's Leases: \(error)")
        }
    }
}
