import FoundationEssentials

/// Each aiosd's heartbeat: a Lease `aios-node-<node>` in kube-system, renewed every `interval`, whose
/// annotations say what the node is (role, version, sync role, issuers). Any node lists them to show the cluster;
/// no agent talks to another.
public struct NodeHeartbeat: Sendable, Equatable {
    public static let leasePrefix = "aios-node-"
    public static let label = "aios.microsoft.com/heartbeat"
    public static let selector = "\(SecretSyncEngine.managedByLabel)=\(SecretSyncEngine.managedByValue),\(label)=node"
    /// A heartbeat is renewed this often and counts for `leaseSeconds` (as the kubelet's node Lease: 10 s / 40 s).
    public static let interval: Duration = .seconds(10)
    public static let leaseSeconds = 40

    enum Annotation {
        static let prefix = "aios.microsoft.com/"
        static let role = prefix + "node-role"
        static let version = prefix + "version"
        static let syncRole = prefix + "sync-role"
        static let candidate = prefix + "sync-candidate"
        static let issuerConfigured = prefix + "issuer-configured"
        static let issuerServed = prefix + "issuer-served"
        static let issuerRunning = prefix + "issuer-running"
    }

    public var name: String
    public var role: NodeRole
    public var version: String
    /// `leader`, `follower`, `not a candidate (...)`, `single node (...)`.
    public var syncRole: String
    public var candidate: Bool
    public var issuerConfigured: String?
    public var issuerServed: String?
    public var issuerRunning: String?
    /// When the heartbeat was last renewed, and until when it counts (read back from the Lease).
    public var renewedAt: Date?
    public var ready = false

    public init(name: String, role: NodeRole, version: String, syncRole: String, candidate: Bool,
                issuerConfigured: String? = nil, issuerServed: String? = nil, issuerRunning: String? = nil) {
        self.name = name
        self.role = role
        self.version = version
        self.syncRole = syncRole
        self.candidate = candidate
        self.issuerConfigured = issuerConfigured
        self.issuerServed = issuerServed
        self.issuerRunning = issuerRunning
    }

    /// Lease names are DNS subdomains: the node name as K3s has it (lowercase) fits.
    public static func leaseName(node: String) -> String { leasePrefix + node }

    /// The Lease this heartbeat writes at `time`, over `existing` (its resourceVersion and acquireTime kept).
    public func record(at time: Date, over existing: LeaseRecord?) -> LeaseRecord {
        var annotations = [Annotation.role: role.rawValue, Annotation.version: version, Annotation.syncRole: syncRole,
                           Annotation.candidate: candidate ? "true" : "false"]
        annotations[Annotation.issuerConfigured] = issuerConfigured
        annotations[Annotation.issuerServed] = issuerServed
        annotations[Annotation.issuerRunning] = issuerRunning
        return LeaseRecord(holderIdentity: name, leaseDurationSeconds: Self.leaseSeconds,
                           acquireTime: existing?.holderIdentity == name ? existing?.acquireTime ?? time : time, renewTime: time,
                           leaseTransitions: existing?.leaseTransitions ?? 0,
                           labels: [SecretSyncEngine.managedByLabel: SecretSyncEngine.managedByValue, Self.label: "node"],
                           annotations: annotations, resourceVersion: existing?.resourceVersion ?? "")
    }

    /// Writes (creates or renews) the heartbeat Lease; one retry when a concurrent write moved its resourceVersion.
    public func publish(to client: any LeaseClient, at time: Date, namespace: String = LeaderElectionSettings.namespace) throws(KubernetesError) {
        let name = Self.leaseName(node: self.name)
        for attempt in 0..<2 {
            let existing = try client.getLease(namespace: namespace, name: name)
            do {
                if existing == nil {
                    _ = try client.createLease(namespace: namespace, name: name, record(at: time, over: nil))
                } else {
                    _ = try client.updateLease(namespace: namespace, name: name, record(at: time, over: existing))
                }
                return
            } catch where error.code == 409 && attempt == 0 {
                continue
            }
        }
    }

    /// The nodes the heartbeat Leases show, by name; `ready` when a heartbeat's renewal is younger than its
    /// duration by the reader's clock (nodes' clocks are assumed roughly in step, as the kubelet's node Leases assume).
    public static func nodes(from leases: [String: LeaseRecord], now: Date) -> [NodeHeartbeat] {
        leases.compactMap { name, lease -> NodeHeartbeat? in
            guard name.hasPrefix(leasePrefix) else { return nil }
            let a = lease.annotations
            var node = NodeHeartbeat(name: lease.holderIdentity.flatMap { $0.isEmpty ? nil : $0 } ?? String(name.dropFirst(leasePrefix.count)),
                                     role: NodeRole(rawValue: a[Annotation.role] ?? "") ?? .none, version: a[Annotation.version] ?? "",
                                     syncRole: a[Annotation.syncRole] ?? "", candidate: a[Annotation.candidate] == "true",
                                     issuerConfigured: a[Annotation.issuerConfigured], issuerServed: a[Annotation.issuerServed],
                                     issuerRunning: a[Annotation.issuerRunning])
            node.renewedAt = lease.renewTime
            if let renewed = lease.renewTime {
                node.ready = renewed.addingTimeInterval(TimeInterval(lease.leaseDurationSeconds ?? leaseSeconds)) > now
            }
            return node
        }.sorted { $0.name < $1.name }
    }
}
