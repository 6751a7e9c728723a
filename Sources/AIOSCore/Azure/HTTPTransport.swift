import AIOSHTTP

/// How the Azure clients send a request: over libcurl in production, a fake in unit tests.
struct HTTPTransport: Sendable {
    let send: @Sendable (HTTPRequest) throws(HTTPClientError) -> HTTPResponse

    /// A fresh connection per request: for token endpoints, which are called rarely.
    static let curl = HTTPTransport { request throws(HTTPClientError) in try HTTPClient().send(request) }
}
