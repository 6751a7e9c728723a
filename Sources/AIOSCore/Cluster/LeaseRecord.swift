import FoundationEssentials

/// What a `coordination.k8s.io/v1` Lease says: the fields of client-go's `LeaderElectionRecord` (its `spec`) and
/// the metadata aiosd reads (annotations, labels, resourceVersion for optimistic concurrency).
public struct LeaseRecord: Sendable, Equatable {
    public var holderIdentity: String?
    public var leaseDurationSeconds: Int?
    public var acquireTime: Date?
    public var renewTime: Date?
    public var leaseTransitions: Int?
    public var labels: [String: String]
    public var annotations: [String: String]
    /// "" for a Lease not yet created; an update carries it, so a concurrent writer's update wins and ours gets 409.
    public var resourceVersion: String

    public init(holderIdentity: String? = nil, leaseDurationSeconds: Int? = nil, acquireTime: Date? = nil, renewTime: Date? = nil,
                leaseTransitions: Int? = nil, labels: [String: String] = [:], annotations: [String: String] = [:], resourceVersion: String = "") {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
        self.labels = labels
        self.annotations = annotations
        self.resourceVersion = resourceVersion
    }

    /// The election fields alone: two observations are "the same record" when these agree (client-go compares
    /// the raw record; the resourceVersion moves with every renewal and is compared with it here).
    func sameElection(as other: LeaseRecord) -> Bool {
        holderIdentity == other.holderIdentity && leaseDurationSeconds == other.leaseDurationSeconds && acquireTime == other.acquireTime
            && renewTime == other.renewTime && leaseTransitions == other.leaseTransitions && resourceVersion == other.resourceVersion
    }
}

/// The Lease calls leader election and heartbeats make (`KubernetesClient` in aiosd, a fake in tests).
public protocol LeaseClient: Sendable {
    /// The Lease, or nil if there is none (404).
    func getLease(namespace: String, name: String) throws(KubernetesError) -> LeaseRecord?
    /// Creates the Lease; 409 (`KubernetesError.code`) when one of that name exists.
    func createLease(namespace: String, name: String, _ record: LeaseRecord) throws(KubernetesError) -> LeaseRecord
    /// Replaces the Lease if its resourceVersion is still `record.resourceVersion`; 409 otherwise.
    func updateLease(namespace: String, name: String, _ record: LeaseRecord) throws(KubernetesError) -> LeaseRecord
    /// Every Lease in `namespace` carrying `labelSelector`, by name.
    func listLeases(namespace: String, labelSelector: String) throws(KubernetesError) -> [String: LeaseRecord]
    /// Deletes the Lease (gone already is fine).
    func deleteLease(namespace: String, name: String) throws(KubernetesError)
    /// `listLeases`, with the list's resourceVersion: a watch of the same Leases starts there.
    func listLeasesForWatch(namespace: String, labelSelector: String) throws(KubernetesError) -> (leases: [String: LeaseRecord], resourceVersion: String)
    /// Reports each change to the Leases carrying `labelSelector` after `resourceVersion`, with the resourceVersion
    /// it brings, until the API server ends the stream (`.ended`, after about `timeoutSeconds`) or no longer holds
    /// the history since `resourceVersion` (`.expired`: list again).
    func watchLeases(namespace: String, labelSelector: String, from resourceVersion: String, timeoutSeconds: Int,
                     onChange: (LeaseChange) -> Void) throws(KubernetesError) -> KubernetesWatch.Outcome
}

/// One event of a watch of Leases.
public struct LeaseChange: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// ADDED or MODIFIED (or started to match the selector): the Lease as it is now.
        case put(LeaseRecord)
        /// DELETED (or stopped matching the selector).
        case deleted
        /// BOOKMARK: nothing else changed up to `resourceVersion`.
        case progress
    }

    public var name: String
    public var kind: Kind
    /// Where a watch resumes after this event.
    public var resourceVersion: String

    public init(name: String, kind: Kind, resourceVersion: String) {
        self.name = name
        self.kind = kind
        self.resourceVersion = resourceVersion
    }
}
