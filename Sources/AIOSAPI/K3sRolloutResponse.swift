import FoundationEssentials

/// `GET /v1/k3s/rollout`, and the answer to a change requested with `allServers`: the cluster's last rollout of
/// a K3s change across its servers, with each server's progress.
public struct K3sRolloutResponse: Codable, Sendable, Equatable {
    public struct Server: Codable, Sendable, Equatable {
        public var name: String
        /// `pending`, `applying`, `done`, `refused`, `rolled-back` or `failed`.
        public var state: String
        public var startedAt: Date?
        public var finishedAt: Date?
        /// False when that server already had the change (K3s not restarted).
        public var changed: Bool?
        public var message: String?

        public init(name: String, state: String, startedAt: Date?, finishedAt: Date?, changed: Bool?, message: String?) {
            self.name = name
            self.state = state
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.changed = changed
            self.message = message
        }
    }

    public var generation: Int
    /// The request in aiosctl's words (flag values left out).
    public var change: String
    public var requestedBy: String
    public var requestedAt: Date
    /// `running`, `succeeded`, `failed` or `aborted`.
    public var state: String
    public var finishedAt: Date?
    /// The node where `aiosctl k3s rollout abort` stopped it.
    public var abortedBy: String?
    /// In the order they change.
    public var servers: [Server]
    /// Where the rollout is kept (`namespace/name`).
    public var object: String

    public init(generation: Int, change: String, requestedBy: String, requestedAt: Date, state: String, finishedAt: Date?,
                servers: [Server], object: String, abortedBy: String? = nil) {
        self.abortedBy = abortedBy
        self.generation = generation
        self.change = change
        self.requestedBy = requestedBy
        self.requestedAt = requestedAt
        self.state = state
        self.finishedAt = finishedAt
        self.servers = servers
        self.object = object
    }

    public var running: Bool { state == "running" }
}
