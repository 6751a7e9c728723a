import FoundationEssentials

/// `GET /v1/cluster`: every node's aiosd as its heartbeat Lease shows it, and the sync leader.
public struct ClusterResponse: Codable, Sendable, Equatable {
    /// The node answering.
    public var node: String
    /// The node holding the sync Lease (nil: no one, or its claim has lapsed).
    public var leader: String?
    /// When the leader acquired the Lease.
    public var leaderSince: Date?
    /// How often the Lease changed hands (`leaseTransitions`).
    public var leaseTransitions: Int?
    public var nodes: [ClusterNodeInfo]
    /// Why the cluster could not be read (the API server unreachable, no kubeconfig on an agent node).
    public var error: String?

    public init(node: String, leader: String?, leaderSince: Date?, leaseTransitions: Int?, nodes: [ClusterNodeInfo], error: String? = nil) {
        self.node = node
        self.leader = leader
        self.leaderSince = leaderSince
        self.leaseTransitions = leaseTransitions
        self.nodes = nodes
        self.error = error
    }
}

public struct ClusterNodeInfo: Codable, Sendable, Equatable {
    public var name: String
    /// `server`, `agent` (K3s' role of the host) or `none`.
    public var role: String
    public var version: String
    /// `leader`, `follower (leader: NAME)`, `not a candidate (...)`, `single node (...)`, as the node last reported.
    public var syncRole: String
    public var candidate: Bool
    public var lastHeartbeat: Date?
    /// The heartbeat is younger than its duration (40 s).
    public var ready: Bool
    public var issuerConfigured: String?
    public var issuerServed: String?
    public var issuerRunning: String?

    public init(name: String, role: String, version: String, syncRole: String, candidate: Bool, lastHeartbeat: Date?, ready: Bool,
                issuerConfigured: String?, issuerServed: String?, issuerRunning: String?) {
        self.name = name
        self.role = role
        self.version = version
        self.syncRole = syncRole
        self.candidate = candidate
        self.lastHeartbeat = lastHeartbeat
        self.ready = ready
        self.issuerConfigured = issuerConfigured
        self.issuerServed = issuerServed
        self.issuerRunning = issuerRunning
    }
}

/// This node's place in the cluster, in `GET /v1/status`.
public struct NodeClusterRole: Codable, Sendable, Equatable {
    public var node: String
    /// `server`, `agent` or `none` (no K3s on the host).
    public var nodeRole: String
    /// `leader`, `follower (leader: NAME)`, `not a candidate (...)`, `single node (...)`.
    public var syncRole: String
    public var leader: String?

    public init(node: String, nodeRole: String, syncRole: String, leader: String?) {
        self.node = node
        self.nodeRole = nodeRole
        self.syncRole = syncRole
        self.leader = leader
    }
}
