import AIOSAPI
import AIOSCore
import FoundationEssentials
import Logging

/// A decoded request as the handlers see it.
public struct APIRequest: Sendable {
    public var endpoint: Endpoint
    public var body: [UInt8]
    public var peer: PeerCredentials
    /// The peer's level, established for endpoints above `reader` (handlers with finer rules pass it to the
    /// domain's policies); `reader` on read endpoints, where it is not looked up.
    public var caller: AccessLevel = .reader
    /// Values of `{name}` segments in the endpoint's path.
    public var parameters: [String: String] = [:]
    /// The client asked for NDJSON progress (`Accept: application/x-ndjson`).
    public var wantsStream = false
}

/// A response: status and JSON body, or (for jobs) a stream of NDJSON lines sent as they come.
public struct APIReply: Sendable {
    public var status: Int
    public var body: [UInt8]
    var stream: LineBatches?
    public var contentType = "application/json"

    init(status: Int, body: [UInt8], stream: LineBatches? = nil) {
        self.status = status
        self.body = body
        self.stream = stream
    }

    /// A text body of another type (the Prometheus exposition).
    static func text(_ text: String, contentType: String) -> APIReply {
        var reply = APIReply(status: 200, body: Array(text.utf8))
        reply.contentType = contentType
        return reply
    }

    static func ndjson(_ stream: LineBatches) -> APIReply { APIReply(status: 200, body: [], stream: stream) }

    static func json(_ value: some Encodable, status: Int = 200) -> APIReply {
        do {
            return APIReply(status: status, body: Array(try APICoding.encoder().encode(value)) + [0x0A])
        } catch {
            return .error(APIError(code: .internalError, message: "cannot encode the response: \(error)"))
        }
    }

    static func error(_ error: APIError) -> APIReply {
        let status = APIErrorCode(rawValue: error.code)?.httpStatus ?? 500
        let body = (try? APICoding.encoder().encode(APIErrorResponse(error: error))) ?? Data()
        return APIReply(status: status, body: Array(body) + [0x0A])
    }
}

/// One control API method. Each lives in its own file under Handlers/.
public protocol APIHandler: Sendable {
    var endpoint: Endpoint { get }
    func handle(_ request: APIRequest) async throws(APIError) -> APIReply
}

/// Maps method and path to a handler, refuses a peer below the endpoint's declared level, and audits every
/// mutating request (authorized, denied, or refused by a handler's policy) with the peer's uid, pid, command and level.
public struct Router: Sendable {
    private let handlers: [Endpoint: any APIHandler]
    private let authorizer: @Sendable () -> Authorizer
    private let logger: Logger

    public init(handlers: [any APIHandler], authorizer: @escaping @Sendable () -> Authorizer, logger: Logger) {
        self.handlers = Dictionary(uniqueKeysWithValues: handlers.map { ($0.endpoint, $0) })
        self.authorizer = authorizer
        self.logger = logger
    }

    public func route(method: String, path: String, body: [UInt8], peer: PeerCredentials, wantsStream: Bool = false) async -> APIReply {
        let knownPath = handlers.keys.filter { $0.match(path) != nil }
        guard !knownPath.isEmpty else {
            return .error(APIError(code: .notFound, message: "no such endpoint: \(path)",
                                   hint: "endpoints: " + Endpoint.all.map(\.description).joined(separator: ", ")))
        }
        guard let endpoint = knownPath.first(where: { $0.method.rawValue == method }), let handler = handlers[endpoint] else {
            let allowed = knownPath.map(\.method.rawValue).sorted().joined(separator: ", ")
            return .error(APIError(code: .methodNotAllowed, message: "\(method) is not allowed on \(path); use \(allowed)"))
        }
        // Read endpoints admit anyone who could connect; only changes need the peer's level established.
        var caller = AccessLevel.reader
        if endpoint.level > .reader {
            let policy = authorizer()
            caller = policy.level(of: peer)
            let allowed = caller >= endpoint.level
            logger.notice(allowed ? "Mutating request authorized" : "Mutating request denied", metadata: [
                "request.endpoint": "\(endpoint)", "request.level": "\(endpoint.level)", "peer.level": "\(caller)",
                "peer.uid": "\(peer.uid)", "peer.gid": "\(peer.gid)", "peer.pid": "\(peer.pid)", "peer.comm": "\(peer.command)",
            ])
            guard allowed else {
                return .error(APIError(
                    code: .permissionDenied,
                    message: "uid \(peer.uid) may not \(endpoint): it needs the \(endpoint.level) level (\(policy.holders(of: endpoint.level))); uid \(peer.uid) is a \(caller)",
                    hint: policy.howToBecome(endpoint.level)))
            }
        }
        do {
            // Parameters arrive percent-encoded (a SecretSync's name is NAMESPACE%2FNAME).
            let parameters = (endpoint.match(path) ?? [:]).mapValues { PercentEncoding.decode($0) ?? $0 }
            return try await handler.handle(APIRequest(endpoint: endpoint, body: body, peer: peer, caller: caller,
                                                       parameters: parameters, wantsStream: wantsStream))
        } catch {
            if error.code == APIErrorCode.permissionDenied.rawValue {
                // A handler's policy (apiserver flags, secret targets) refused the authorized peer.
                logger.notice("Mutating request refused by policy", metadata: [
                    "request.endpoint": "\(endpoint)", "peer.level": "\(caller)", "peer.uid": "\(peer.uid)",
                    "peer.pid": "\(peer.pid)", "peer.comm": "\(peer.command)", "request.error": "\(error.message)",
                ])
            }
            return .error(error)
        }
    }
}
