/// The error body of every failed request: `{"error": {"code", "message", "hint"}}`.
public struct APIErrorResponse: Codable, Sendable, Equatable {
    public var error: APIError

    public init(error: APIError) { self.error = error }
}

public struct APIError: Codable, Sendable, Equatable, Error, CustomStringConvertible {
    /// A stable code from `APIErrorCode`; clients switch on it, humans read `message`.
    public var code: String
    public var message: String
    /// What to do about it, naming a command where one exists.
    public var hint: String?

    public init(code: APIErrorCode, message: String, hint: String? = nil) {
        self.code = code.rawValue
        self.message = message
        self.hint = hint
    }

    public var description: String { message }
}

/// The documented, stable error codes of the control API and the HTTP status each is sent with.
public enum APIErrorCode: String, Sendable, CaseIterable {
    case badRequest = "bad_request"
    case notFound = "not_found"
    /// The thing exists already (e.g. a secret definition of that name).
    case conflict = "conflict"
    case methodNotAllowed = "method_not_allowed"
    case permissionDenied = "permission_denied"
    case originRefused = "origin_refused"
    case payloadTooLarge = "payload_too_large"
    case configInvalid = "config_invalid"
    case internalError = "internal_error"
    case unavailable = "unavailable"
    /// Too many open control connections from this user (or in all); nothing was done, try again.
    case busy = "busy"
    /// systemd could not be asked (no bus, or it refused the call).
    case systemdError = "systemd_error"
    /// systemd ran the operation and it failed (e.g. the unit did not come back up).
    case operationFailed = "operation_failed"

    public var httpStatus: Int {
        switch self {
        case .badRequest: 400
        case .notFound: 404
        case .conflict: 409
        case .methodNotAllowed: 405
        case .permissionDenied, .originRefused: 403
        case .payloadTooLarge: 413
        case .configInvalid: 422
        case .internalError, .operationFailed: 500
        case .unavailable, .busy: 503
        case .systemdError: 502
        }
    }
}
