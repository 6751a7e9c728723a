import FoundationEssentials

/// `POST /v1/sync`: sync now. Without `wait`, the answer comes at once and the sync runs in the background.
public struct SyncRequest: Codable, Sendable, Equatable {
    /// Wait for the sync to finish (with `Accept: application/x-ndjson`: stream its progress).
    public var wait: Bool
    /// Fetch every value and re-check every Secret, changed or not.
    public var force: Bool

    public init(wait: Bool = false, force: Bool = false) {
        self.wait = wait
        self.force = force
    }

    /// Both fields may be left out (`{}` is a plain background sync).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        wait = try container.decodeIfPresent(Bool.self, forKey: .wait) ?? false
        force = try container.decodeIfPresent(Bool.self, forKey: .force) ?? false
    }
}

public struct SyncResponse: Codable, Sendable, Equatable {
    /// False when the sync was only started (`wait` false).
    public var finished: Bool
    public var startedAt: Date?
    public var finishedAt: Date?
    public var results: [SyncResult]
    public var invalid: [InvalidDefinition]
    /// HTTP requests this cycle sent to Key Vault (including Entra ID's challenge round trips) and to the API server.
    public var vaultRequests: Int
    public var kubernetesRequests: Int
    /// Set when this node did not sync because another node does (`follower (leader: NAME)`) or it is no candidate.
    public var standDown: String?

    public init(finished: Bool, startedAt: Date? = nil, finishedAt: Date? = nil, results: [SyncResult] = [], invalid: [InvalidDefinition] = [],
                vaultRequests: Int = 0, kubernetesRequests: Int = 0, standDown: String? = nil) {
        self.standDown = standDown
        self.finished = finished
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.results = results
        self.invalid = invalid
        self.vaultRequests = vaultRequests
        self.kubernetesRequests = kubernetesRequests
    }

    public var failed: Bool { !invalid.isEmpty || results.contains { $0.result == .failed } }
}

public struct SyncResult: Codable, Sendable, Equatable {
    public var name: String
    public var result: SyncResultKind
    public var seconds: Double
    /// Values fetched from the vault for it.
    public var fetched: Int
    public var issue: SyncIssueInfo?

    public init(name: String, result: SyncResultKind, seconds: Double, fetched: Int, issue: SyncIssueInfo? = nil) {
        self.name = name
        self.result = result
        self.seconds = seconds
        self.fetched = fetched
        self.issue = issue
    }
}

/// One line of `POST /v1/sync`'s NDJSON stream: `started`, one `secret` per definition, then `finished`
/// carrying the whole `SyncResponse` (and `StreamKeepAlive` lines while nothing else is sent).
public struct SyncEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case queued, started, secret, finished }

    public var event: Kind
    public var total: Int?
    public var result: SyncResult?
    public var response: SyncResponse?

    public init(event: Kind, total: Int? = nil, result: SyncResult? = nil, response: SyncResponse? = nil) {
        self.event = event
        self.total = total
        self.result = result
        self.response = response
    }
}

/// What one sync did for a definition.
public enum SyncResultKind: String, Codable, Sendable, CaseIterable {
    case applied, unchanged, failed, retained, deleted
}
