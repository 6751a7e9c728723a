import FoundationEssentials

/// The narrow views of the cluster a rollout needs, injected so its decisions are proven with fakes and run
/// against the Kubernetes API on a host. Blocking.

/// The rollout record (a ConfigMap on a host), read and replaced with optimistic concurrency.
public protocol K3sRolloutStore: Sendable {
    /// The record and the version to replace it at, or nil when no rollout was ever requested.
    func load() throws(K3sRolloutError) -> (rollout: K3sRollout, version: String)?
    /// Creates the record (`version` nil) or replaces the one at `version`; false when someone else wrote it
    /// first (the caller reads it again and decides again).
    func save(_ rollout: K3sRollout, replacing version: String?) throws(K3sRolloutError) -> Bool
}

/// A server node as the cluster sees it.
public struct K3sServerNode: Sendable, Equatable {
    public var name: String
    /// The Node's `Ready` condition is `True`.
    public var ready: Bool

    public init(name: String, ready: Bool) {
        self.name = name
        self.ready = ready
    }
}

/// The cluster's server nodes (Nodes labelled `node-role.kubernetes.io/control-plane`).
public protocol K3sServerDirectory: Sendable {
    func servers() throws(K3sRolloutError) -> [K3sServerNode]
}

/// The cluster-wide lock that lets one server at a time restart K3s (a Lease on a host).
public protocol K3sRestartLock: Sendable {
    /// Takes the lock for `holder` (or renews it when `holder` has it) unless another holder's lease runs;
    /// false when another server has it.
    func acquire(holder: String, for duration: Duration) throws(K3sRolloutError) -> Bool
    /// Extends the lease by `duration` from now if `holder` has it (a long change keeps it); false otherwise
    /// (never takes a free lock).
    func renew(holder: String, for duration: Duration) throws(K3sRolloutError) -> Bool
    /// Gives it up, if `holder` has it.
    func release(holder: String) throws(K3sRolloutError)
}

/// How the change went on this host, in the rollout's terms.
public struct K3sLocalChangeResult: Sendable, Equatable {
    public var state: K3sServerProgress.State
    public var changed: Bool
    public var message: String?

    public init(state: K3sServerProgress.State, changed: Bool = false, message: String? = nil) {
        self.state = state
        self.changed = changed
        self.message = message
    }
}

/// Makes the change on this host with the single-host workflow (validation, plan, write, restart, verify,
/// rollback) and says how it went.
public protocol K3sLocalChanger: Sendable {
    func apply(_ change: K3sDesiredChange) -> K3sLocalChangeResult
}
