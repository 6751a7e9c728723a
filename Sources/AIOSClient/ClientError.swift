import AIOSAPI

/// Why a control API call failed, with the hint an operator needs. aiosctl maps `kind` to its exit status.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// No daemon answered on the socket: it is not running (no socket, or nobody listening on it).
        case unreachable
        /// aiosd is running but did not answer in time, or refused the connection as one too many.
        case busy
        /// The socket or the request was refused for lack of privilege.
        case permissionDenied
        /// The daemon answered with an error.
        case failed
    }

    public var kind: Kind
    public var message: String
    public var hint: String?
    /// The daemon's error, when it sent one.
    public var apiError: APIError?
    /// The raw error body, for `--json`.
    public var body: [UInt8]?

    public var description: String { message }

    public init(kind: Kind, message: String, hint: String? = nil, apiError: APIError? = nil, body: [UInt8]? = nil) {
        self.kind = kind
        self.message = message
        self.hint = hint
        self.apiError = apiError
        self.body = body
    }
}
