/// A failed Kubernetes API call: the API server's `Status` (code, reason, message) or a transport failure.
public struct KubernetesError: Error, CustomStringConvertible, Sendable, Equatable {
    /// HTTP status; 0 when no response came.
    public var code: Int
    /// The Status `reason` (`NotFound`, `Conflict`, `Forbidden`, ...) or `Unreachable` / `BadResponse`.
    public var reason: String
    public var message: String

    public init(code: Int, reason: String, message: String) {
        self.code = code
        self.reason = reason
        self.message = message
    }

    public var description: String { code == 0 ? message : "\(message) (HTTP \(code) \(reason))" }
    public var isNotFound: Bool { code == 404 }
}
