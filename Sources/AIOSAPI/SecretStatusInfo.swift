import FoundationEssentials

/// What went wrong: a stable code (Key Vault's, Entra's `AADSTSnnnnn`, or aiosd's), a message, and the fix.
public struct SyncIssueInfo: Codable, Sendable, Equatable {
    public var code: String
    public var message: String
    public var hint: String?

    public init(code: String, message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }
}

/// The sync status of one definition and each of its objects. Hashes and versions, never values.
public struct SecretStatusInfo: Codable, Sendable, Equatable {
    public var state: SyncState
    public var lastAttempt: Date?
    public var lastSuccess: Date?
    /// True when the Secret may be older than the vault's content; `staleSeconds` since the last success.
    public var stale: Bool
    public var staleSeconds: Double?
    /// Keyed hash of the Secret's content (also its `aios.microsoft.com/content-hash` annotation).
    public var contentHash: String?
    public var issue: SyncIssueInfo?
    /// The earliest expiry of the synced objects (Key Vault's `exp` or a certificate's notAfter); `expired` when it
    /// has passed (Key Vault still serves the value, so the Secret is still synced).
    public var expires: Date?
    public var expired: Bool
    public var objects: [ObjectStatus]

    public init(state: SyncState, lastAttempt: Date? = nil, lastSuccess: Date? = nil, stale: Bool, staleSeconds: Double? = nil,
                contentHash: String? = nil, issue: SyncIssueInfo? = nil, expires: Date? = nil, expired: Bool = false, objects: [ObjectStatus]) {
        self.expires = expires
        self.expired = expired
        self.state = state
        self.lastAttempt = lastAttempt
        self.lastSuccess = lastSuccess
        self.stale = stale
        self.staleSeconds = staleSeconds
        self.contentHash = contentHash
        self.issue = issue
        self.objects = objects
    }

    public struct ObjectStatus: Codable, Sendable, Equatable {
        public var objectName: String
        public var alias: String
        public var lastAttempt: Date?
        public var lastSuccess: Date?
        public var vaultVersion: String?
        /// The secret's `updated` time in the vault when it was last synced.
        public var vaultUpdated: Date?
        public var contentHash: String?
        public var issue: SyncIssueInfo?
        /// The synced version's expiry and not-before time, when set.
        public var expires: Date?
        public var notBefore: Date?

        public init(objectName: String, alias: String, lastAttempt: Date? = nil, lastSuccess: Date? = nil, vaultVersion: String? = nil,
                    vaultUpdated: Date? = nil, contentHash: String? = nil, issue: SyncIssueInfo? = nil, expires: Date? = nil,
                    notBefore: Date? = nil) {
            self.expires = expires
            self.notBefore = notBefore
            self.objectName = objectName
            self.alias = alias
            self.lastAttempt = lastAttempt
            self.lastSuccess = lastSuccess
            self.vaultVersion = vaultVersion
            self.vaultUpdated = vaultUpdated
            self.contentHash = contentHash
            self.issue = issue
        }
    }
}

/// Where a definition stands.
public enum SyncState: String, Codable, Sendable, CaseIterable {
    /// The Secret holds the vault's content.
    case synced
    /// Never attempted yet.
    case pending
    /// The last attempt failed; the last good Secret is kept.
    case failed
    /// Gone from the vault (deleted or disabled); the Secret is kept by policy.
    case retained
    /// Gone from the vault; the Secret was deleted by policy.
    case deleted
}
