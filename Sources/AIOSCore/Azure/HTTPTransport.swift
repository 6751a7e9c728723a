import AIOSHTTP

/// How the Azure clients send a request: over libcurl in production, a fake in unit tests.
struct HTTPTransport: Sendable {
    let send: @Sendable (HTTPRequest) throws(HTTPClientError) -> HTTPResponse

    /// A fresh connection per request: for token endpoints, which are called rarely.
    static let curl = HTTPTransport { request throws(HTTPClientError) in try HTTPClient().send(request) }
}

/// How a watch streams a response: over libcurl in production, a fake API server in unit tests. Returns the status.
struct HTTPStreamTransport: Sendable {
    let stream: @Sendable (HTTPRequest, (UnsafeRawBufferPointer) -> Void) throws(HTTPClientError) -> Int

    static let curl = HTTPStreamTransport { request, onData throws(HTTPClientError) in try HTTPClient().stream(request, onData: onData) }
}
