/// Why no token could be obtained. Never carries a secret (token, client secret, assertion).
public struct AzureAuthError: Error, CustomStringConvertible, Sendable, Equatable {
    /// `AADSTS<n>` for an Entra ID error code, the OAuth `error` otherwise, or one of ours:
    /// `entra_unreachable`, `imds_unavailable`, `invalid_response`, `tenant_mismatch`, `assertion_unavailable`,
    /// `secret_file`, `arc_challenge`, `arc_key_unreadable`.
    public let code: String
    public let message: String
    /// What to do about it, when the agent knows (a command to run, a setting to check).
    public let hint: String?
    /// True for outages (transport, 5xx, 429); a 4xx refusal will not change by retrying.
    public let isRetryable: Bool
    public let httpStatus: Int?

    public init(code: String, message: String, hint: String? = nil, isRetryable: Bool, httpStatus: Int? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
        self.isRetryable = isRetryable
        self.httpStatus = httpStatus
    }

    public var description: String {
        hint.map { "\(code): \(message) Fix: \($0)" } ?? "\(code): \(message)"
    }
}
