/// A blocking HTTP client over libcurl. Blocking suits its callers: aiosctl runs one request per process,
/// and the daemon calls it from its own threads, never from an event loop. Each call uses a fresh
/// `HTTPConnection`; keep an `HTTPConnection` to reuse connections across requests.
public struct HTTPClient: Sendable {
    public init() {}

    /// The libcurl version at run time, for `aiosd --version` and `/v1/version`.
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
