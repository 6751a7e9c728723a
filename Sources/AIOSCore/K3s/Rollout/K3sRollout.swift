import FoundationEssentials

/// A K3s change to make on every server of the cluster, as recorded in the cluster by the node that was asked.
/// Each aiosd reads it from there and makes it on its own host with the single-host workflow.
public struct K3sDesiredChange: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case enableWorkloadIdentity = "workload-identity-enable"
        case disableWorkloadIdentity = "workload-identity-disable"
        case editAPIServerArguments = "apiserver-arg-edit"
    }

    public var kind: Kind
    public var issuer: String?
    public var maxTokenExpiration: String?
    /// `name=value` elements (apiserver-arg set).
    public var set: [String]?
    /// Flag names (apiserver-arg unset).
    public var unset: [String]?
    public var force: Bool?
    /// The level of whoever asked, judged on the node that was asked (`operator` or `root`); every server
    /// judges the change again against its own policy with this level.
    public var requester: String

    public init(kind: Kind, issuer: String? = nil, maxTokenExpiration: String? = nil, set: [String]? = nil, unset: [String]? = nil,
                force: Bool? = nil, requester: Privilege) {
        self.kind = kind
        self.issuer = issuer
        self.maxTokenExpiration = maxTokenExpiration
        self.set = set
        self.unset = unset
        self.force = force
        self.requester = requester.description
    }

    /// What the operator asked for, in their words (for status and the journal; values of flags left out).
    public var summary: String {
        switch kind {
        case .enableWorkloadIdentity: "workload-identity enable --issuer \(issuer ?? "")"
        case .disableWorkloadIdentity: "workload-identity disable"
        case .editAPIServerArguments:
            (["k3s apiserver-arg"] + (set ?? []).map { "set \(APIServerArgument(parsing: $0).name)=..." } + (unset ?? []).map { "unset \($0)" })
                .joined(separator: " ")
        }
    }
}

/// Progress of one server in a rollout.
public struct K3sServerProgress: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case pending
        /// Its aiosd holds the restart lock and is changing K3s.
        case applying
        case done
        /// Refused by that server's own checks or policy before anything was touched.
        case refused
        /// Failed and restored: K3s runs with its previous configuration again.
        case rolledBack = "rolled-back"
        /// Failed, and the rollback failed too (or the change could not be written).
        case failed

        /// The rollout stops here.
        public var isFailure: Bool { self == .refused || self == .rolledBack || self == .failed }
    }

    public var name: String
    public var state: State
    public var startedAt: Date?
    public var finishedAt: Date?
    /// False when the server already had the change (nothing written, K3s not restarted).
    public var changed: Bool?
    public var message: String?

    public init(name: String, state: State = .pending, startedAt: Date? = nil, finishedAt: Date? = nil, changed: Bool? = nil,
                message: String? = nil) {
        self.name = name
        self.state = state
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.changed = changed
        self.message = message
    }
}

/// The desired change and every server's progress: the whole state of a rollout, kept in the cluster (not in
/// any one aiosd), so it goes on when the node that was asked, or the node applying, goes away.
public struct K3sRollout: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case running
        case succeeded
        /// Stopped at a server's failure; the servers after it were not touched.
        case failed
        /// Stopped by `aiosctl k3s rollout abort`: no server started its turn after it (one applying then
        /// finished or rolled back its own change); the pending servers were not touched.
        case aborted
    }

    /// Incremented by every new request: a server never confuses one rollout's progress with the next.
    public var generation: Int
    public var change: K3sDesiredChange
    public var requestedBy: String
    public var requestedAt: Date
    public var state: State
    public var finishedAt: Date?
    /// The node whose `aiosctl k3s rollout abort` stopped it.
    public var abortedBy: String?
    /// In the order they change: by name, as they were when the rollout was requested.
    public var servers: [K3sServerProgress]

    public init(generation: Int, change: K3sDesiredChange, requestedBy: String, requestedAt: Date, servers: [String]) {
        self.generation = generation
        self.change = change
        self.requestedBy = requestedBy
        self.requestedAt = requestedAt
        self.state = .running
        self.servers = servers.sorted().map { K3sServerProgress(name: $0) }
    }

    public func progress(of server: String) -> K3sServerProgress? { servers.first { $0.name == server } }

    mutating func update(_ server: String, _ body: (inout K3sServerProgress) -> Void) {
        guard let index = servers.firstIndex(where: { $0.name == server }) else { return }
        body(&servers[index])
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// A rollout as stored in the cluster. Anyone who can write the object can write anything into it: it is
    /// bounded and decoded as untrusted input, and each server judges the change with its own policy.
    public static func decode(_ text: String) throws(K3sRolloutError) -> K3sRollout {
        guard text.utf8.count <= maximumBytes else {
            throw K3sRolloutError("the rollout record is larger than \(maximumBytes) bytes")
        }
        do {
            return try decoder.decode(K3sRollout.self, from: Data(text.utf8))
        } catch {
            throw K3sRolloutError("the rollout record cannot be read: \(error)")
        }
    }

    public func encoded() throws(K3sRolloutError) -> String {
        guard let data = try? Self.encoder.encode(self) else { throw K3sRolloutError("cannot encode the rollout record") }
        return String(decoding: data, as: UTF8.self)
    }

    public static let maximumBytes = 256 << 10
}

/// A rollout could not be read, recorded or advanced (the cluster did not answer, or answered nonsense).
public struct K3sRolloutError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    public var description: String { message }
}
