/// A blocking HTTP client (`HTTPConnection`: HTTP/1.1 over OpenSSL, libcurl through a proxy). Blocking suits its
/// callers: the daemon calls it from its own threads, never from an event loop. Each call uses a fresh
/// `HTTPConnection`; keep an `HTTPConnection` to reuse connections across requests.
public struct HTTPClient: Sendable {
    public init() {}

    /// The libcurl version at run time, for `aiosd --version` and `/v1/version` ("not installed" without libcurl4).
    /// Asking loads libcurl, which aiosd otherwise loads at the first request through a proxy.
    public static var libcurlVersion: String { CurlEasy.libraryVersion }

    /// Sends `request` and collects the whole body.
    public func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        try HTTPConnection().send(request)
    }

    /// Sends `request` and hands each chunk of the body to `onData` as it arrives (for NDJSON progress streams).
    /// Returns the HTTP status.
    public func stream(_ request: HTTPRequest, onData: (UnsafeRawBufferPointer) -> Void) throws(HTTPClientError) -> Int {
        try HTTPConnection().stream(request, onData: onData).status
    }
}
