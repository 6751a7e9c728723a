/// Why a Key Vault call failed. Carries Key Vault's error code and the first line of its message, never a
/// secret value or a token.
public struct KeyVaultError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// 404 `SecretNotFound`: no such secret or version.
        case notFound
        /// 403 with inner error `SecretDisabled`.
        case disabled
        /// Any other 403 (`ForbiddenByRbac`, `AccessDenied`, `ForbiddenByFirewall`, …).
        case forbidden
        /// 429 after all retries.
        case throttled
        /// 401 that a fresh token did not cure, or without a usable challenge.
        case unauthorized
        /// 5xx after all retries.
        case server
        /// No HTTP response (DNS, connect, TLS, timeout) after all retries.
        case unreachable
        /// A response of the wrong shape, or paging that does not end.
        case badResponse
        /// Refused before sending: a bad vault or secret name, or a challenge for another resource.
        case invalidRequest
        /// No token could be obtained.
        case authentication(AzureAuthError)
    }

    public let kind: Kind
    /// Key Vault's `error.code`, or the innermost `innererror.code` when present (`SecretDisabled`, `ForbiddenByRbac`).
    public let code: String?
    public let message: String
    public let httpStatus: Int?
    /// The operation that failed, e.g. "get secret db-password" or "list secrets".
    public let operation: String

    public init(kind: Kind, code: String? = nil, message: String, httpStatus: Int? = nil, operation: String) {
        self.kind = kind
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.operation = operation
    }

    /// True only when Key Vault itself says the secret is gone or disabled. An outage, a throttle or a
    /// permission problem is never reported as absence (that would delete synced Secrets).
    public var meansAbsentInVault: Bool { kind == .notFound || kind == .disabled }

    public var hint: String? {
        switch kind {
        case .forbidden: "assign the role \"Key Vault Secrets User\" on the vault to the identity (or allow it in the vault's access policy / firewall)"
        case .authentication(let error): error.hint
        default: nil
        }
    }

    public var description: String {
        var text = "\(operation): "
        if case .authentication(let error) = kind {
            text += "cannot obtain a token: \(error.description)"
            return text
        }
        if let httpStatus { text += "HTTP \(httpStatus) " }
        if let code { text += "\(code): " }
        text += message
        if let hint { text += " Fix: \(hint)" }
        return text
    }
}
