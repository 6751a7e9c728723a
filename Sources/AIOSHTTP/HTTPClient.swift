internal import CCurl

/// A blocking HTTP client over libcurl. Blocking suits its callers: aiosctl runs one request per process,
/// and the daemon calls it from its own threads, never from an event loop.
public struct HTTPClient: Sendable {
    public init() {}

    /// The libcurl version at run time, for `aiosd --version` and `/v1/version`.
    public static var libcurlVersion: String { CurlEasy.libraryVersion }

    /// Sends `request` and collects the whole body.
    public func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        var body: [UInt8] = []
        let status = try stream(request) { body.append(contentsOf: $0) }
        return HTTPResponse(status: status, body: body)
    }

    /// Sends `request` and hands each chunk of the body to `onData` as it arrives (for NDJSON progress streams).
    /// Returns the HTTP status.
    public func stream(_ request: HTTPRequest, onData: (UnsafeRawBufferPointer) -> Void) throws(HTTPClientError) -> Int {
        let easy = CurlEasy()
        do {
            try easy.set(CURLOPT_URL, request.url)
            try easy.set(CURLOPT_CUSTOMREQUEST, request.method.rawValue)
            if let socket = request.unixSocketPath { try easy.set(CURLOPT_UNIX_SOCKET_PATH, socket) }
            try easy.set(CURLOPT_NOSIGNAL, 1)
            try easy.set(CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout))
            try easy.set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.timeout))
            try easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
            // TLS verification is always on; only the CA bundle is configurable.
            try easy.set(CURLOPT_SSL_VERIFYPEER, 1)
            try easy.set(CURLOPT_SSL_VERIFYHOST, 2)
            if let tls = request.tls {
                if let ca = tls.caBundlePEM { try easy.set(CURLOPT_CAINFO_BLOB, blob: ca) }
                if let certificate = tls.clientCertificatePEM {
                    try easy.set(CURLOPT_SSLCERT_BLOB, blob: certificate)
                    try easy.set(CURLOPT_SSLCERTTYPE, "PEM")
                }
                if let key = tls.clientKeyPEM {
                    try easy.set(CURLOPT_SSLKEY_BLOB, blob: key)
                    try easy.set(CURLOPT_SSLKEYTYPE, "PEM")
                }
            }
            var headers = request.headers.map { "\($0.name): \($0.value)" }
            if let body = request.body {
                try easy.set(CURLOPT_POSTFIELDSIZE_LARGE, body.count)
                // COPYPOSTFIELDS copies POSTFIELDSIZE bytes now, so the array's storage need not outlive this call.
                var bytes = body.isEmpty ? [0] : body
                try bytes.withUnsafeMutableBytes { try easy.set(CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
                headers.append("Expect:")  // no 100-continue round trip for small bodies
            }
            try easy.setHeaders(headers)
        } catch let error as HTTPClientError {
            throw error
        } catch {
            throw HTTPClientError(kind: .transport, message: "\(error)")
        }

        return try withoutActuallyEscaping(onData) { onData throws(HTTPClientError) -> Int in
            let sink = BodySink(onData: onData)
            let unmanaged = Unmanaged.passRetained(sink)
            defer { unmanaged.release() }
            do {
                try easy.set(CURLOPT_WRITEDATA, unmanaged.toOpaque())
                try easy.setWriteFunction { data, size, count, userdata in
                    let sink = Unmanaged<BodySink>.fromOpaque(userdata!).takeUnretainedValue()
                    sink.onData(UnsafeRawBufferPointer(start: data, count: size * count))
                    return size * count
                }
            } catch {
                throw HTTPClientError(kind: .transport, message: "\(error)")
            }
            try easy.perform()
            return easy.responseCode()
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}

private final class BodySink {
    let onData: (UnsafeRawBufferPointer) -> Void
    init(onData: @escaping (UnsafeRawBufferPointer) -> Void) { self.onData = onData }
}
