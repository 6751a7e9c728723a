import FoundationEssentials

/// What went wrong with an object or a definition: a stable code, a message without any value, a fix.
public struct SyncIssue: Codable, Sendable, Equatable, Error, CustomStringConvertible {
    public var code: String
    public var message: String
    public var hint: String?

    public init(code: String, message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String { "\(code): \(message)" }
}

/// The last known state of one Key Vault object of a definition. Persisted; holds hashes, never values.
public struct SyncObjectStatus: Codable, Sendable, Equatable {
    public var objectName: String
    public var alias: String
    public var lastAttempt: Date?
    public var lastSuccess: Date?
    /// The vault version last synced (the newest one with a version history).
    public var vaultVersion: String?
    /// The secret's `updated` time in the vault when it was last synced (Unix seconds): the change detector.
    public var vaultUpdated: Int?
    /// When aiosd last fetched the value (Unix seconds, local clock). `updated` has one-second resolution: a
    /// write later in the same second as a fetch would not change it, so a value fetched within that window is
    /// fetched again at the next sync.
    public var observedAt: Int?
    /// Keyed hash (HMAC-SHA-256 with this host's key) of what was synced from this object.
    public var contentHash: String?
    public var issue: SyncIssue?
    /// The synced version's expiry (the earlier of `exp` and a certificate's notAfter) and `nbf` (Unix seconds).
    public var expires: Int?
    public var notBefore: Int?
    /// The last expiry warning given for `expires` (days; 0 = expired), so each threshold is warned once.
    public var expiryWarnedDays: Int?

    public init(objectName: String, alias: String) {
        self.objectName = objectName
        self.alias = alias
    }
}

/// The last known state of one definition and its target Secret.
public struct SyncDefinitionStatus: Codable, Sendable, Equatable {
    public var name: String
    public var lastAttempt: Date?
    public var lastSuccess: Date?
    /// When aiosd last wrote the Secret (its content changed).
    public var lastApplied: Date?
    /// Keyed hash of the target Secret's content as last applied (also its `aios.microsoft.com/content-hash`).
    public var targetHash: String?
    /// The target Secret's resourceVersion after aiosd last wrote or checked it: when the listed one differs,
    /// someone else wrote the Secret and its data is compared with what it should hold.
    public var targetResourceVersion: String?
    /// Hash of the definition itself when last synced: an edited definition is synced again.
    public var definitionHash: String?
    public var objects: [SyncObjectStatus]
    /// A problem with the whole definition (identity, target Secret); object problems are on the objects.
    public var issue: SyncIssue?
    /// The target Secret was deleted by the deleted-in-vault policy.
    public var targetDeleted = false

    public init(name: String, objects: [SyncObjectStatus] = []) {
        self.name = name
        self.objects = objects
    }

    /// True when the Secret may hold older content than the vault: the last attempt did not fully succeed.
    public var isStale: Bool {
        issue != nil || objects.contains { $0.issue != nil }
    }
}

/// How one definition fared in one sync cycle.
public struct SyncOutcome: Sendable, Equatable {
    public enum Result: String, Sendable, Codable {
        /// The Secret was created or changed.
        case applied
        /// Nothing changed in the vault or the Secret: nothing was fetched or written.
        case unchanged
        /// Something failed; the last good Secret was kept.
        case failed
        /// Objects are gone from the vault; the Secret was kept (policy `retain`).
        case retained
        /// Objects are gone from the vault; the Secret was deleted (policy `delete`).
        case deleted
    }

    public var name: String
    public var result: Result
    public var seconds: Double
    public var fetched: Int
    public var issue: SyncIssue?
}

/// A whole sync cycle.
public struct SyncCycleReport: Sendable {
    public var startedAt: Date
    public var finishedAt: Date
    public var outcomes: [SyncOutcome]
    public var vaultRequests: Int
    public var kubernetesRequests: Int
    /// Definitions in secrets.d that could not be read (file:line: message); they were left alone.
    public var invalidDefinitions: [String]
    /// Set when this node did not sync at all, and why (a follower: another node leads); nothing was read or written.
    public var standDown: String?

    public var failed: Bool { !invalidDefinitions.isEmpty || outcomes.contains { $0.result == .failed } }

    /// A cycle this node did not run (`reason`: another node syncs).
    public static func stoodDown(_ reason: String, at time: Date = Date()) -> SyncCycleReport {
        SyncCycleReport(startedAt: time, finishedAt: time, outcomes: [], vaultRequests: 0, kubernetesRequests: 0, invalidDefinitions: [],
                        standDown: reason)
    }
}
