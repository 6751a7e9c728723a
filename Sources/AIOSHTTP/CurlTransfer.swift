internal import CCurl

/// One libcurl easy handle kept across requests, so libcurl reuses the open TCP/TLS connection (and its DNS and TLS
/// session caches) for the next request to the same host. HTTP/2 is used when the server offers it over TLS.
/// `HTTPConnection` sends through it only the requests that go through a proxy.
final class CurlTransfer {
    private let easy: CurlEasy
    private let systemTrust: SystemTrustStore
    /// The trust store of the request under way: held until the next request so a reload cannot free it while
    /// libcurl sets up a connection with it.
    private var trustStoreInUse: LoadedTrustStore?

    init(systemTrust: SystemTrustStore) throws(HTTPClientError) {
        self.systemTrust = systemTrust
        easy = try CurlEasy()
    }

    /// Sends `request`, handing each chunk of the body to `onData` as it arrives. Returns status and headers.
    func stream(_ request: HTTPRequest, onData: (UnsafeRawBufferPointer) -> Void)
        throws(HTTPClientError) -> (status: Int, headers: [(name: String, value: String)]) {
        // Options of the previous request must not leak into this one; reset keeps the connection cache.
        easy.reset()
        do {
            try configure(request)
        } catch let error as HTTPClientError {
            throw error
        } catch {
            throw HTTPClientError(kind: .transport, message: "\(error)")
        }

        return try withoutActuallyEscaping(onData) { onData throws(HTTPClientError) in
            let sink = ResponseSink(onData: onData, maximumBytes: request.maximumResponseBytes)
            let unmanaged = Unmanaged.passRetained(sink)
            defer { unmanaged.release() }
            do {
                try easy.set(CURLOPT_WRITEDATA, unmanaged.toOpaque())
                try easy.setWriteFunction { data, size, count, userdata in
                    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata!).takeUnretainedValue()
                    // Returning less than was offered makes libcurl abort the transfer (CURLE_WRITE_ERROR).
                    guard sink.receive(UnsafeRawBufferPointer(start: data, count: size * count)) else { return 0 }
                    return size * count
                }
                try easy.setHeaderFunction({ data, size, count, userdata in
                    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata!).takeUnretainedValue()
                    sink.headerLine(UnsafeRawBufferPointer(start: data, count: size * count))
                    return size * count
                }, userdata: unmanaged.toOpaque())
            } catch {
                throw HTTPClientError(kind: .transport, message: "\(error)")
            }
            do throws(HTTPClientError) {
                try easy.perform()
            } catch {
                guard !sink.exceeded else {
                    throw HTTPClientError.responseTooLarge(limit: request.maximumResponseBytes)
                }
                throw error
            }
            return (easy.responseCode(), sink.headers)
        }
    }

    private func configure(_ request: HTTPRequest) throws {
        try easy.set(CURLOPT_URL, request.url)
        try easy.set(CURLOPT_CUSTOMREQUEST, request.method.rawValue)
        if let socket = request.unixSocketPath { try easy.set(CURLOPT_UNIX_SOCKET_PATH, socket) }
        try easy.set(CURLOPT_NOSIGNAL, 1)
        try easy.set(CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout))
        try easy.set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.timeout))
        try easy.restrictProtocolsToHTTP()
        try easy.set(CURLOPT_HTTP_VERSION, CurlEasy.http2OverTLS)
        if request.bypassesProxy { try easy.set(CURLOPT_NOPROXY, "*") }
        // An empty CURLOPT_PROXY means "no proxy", environment variables included.
        if request.usesOutboundProxy { try easy.set(CURLOPT_PROXY, OutboundProxy.current ?? "") }
        // TLS verification is always on; only the CA bundle is configurable.
        try easy.set(CURLOPT_SSL_VERIFYPEER, 1)
        try easy.set(CURLOPT_SSL_VERIFYHOST, 2)
        trustStoreInUse = nil
        if request.tls?.caBundlePEM == nil, let store = systemTrust.current(), easy.useTrustStore(store) {
            trustStoreInUse = store
        }
        if let tls = request.tls {
            if let ca = tls.caBundlePEM { try easy.set(CURLOPT_CAINFO_BLOB, blob: ca) }
            if tls.trustsOnlyBundle {
                // CAINFO_BLOB replaces the CA file, not the CA directory compiled into libcurl: drop both.
                try easy.set(CURLOPT_CAINFO, nil as UnsafeMutableRawPointer?)
                try easy.set(CURLOPT_CAPATH, nil as UnsafeMutableRawPointer?)
            }
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
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}

private final class ResponseSink {
    let onData: (UnsafeRawBufferPointer) -> Void
    let maximumBytes: Int
    private(set) var received = 0
    /// The body grew past `maximumBytes`: nothing past the limit was handed on.
    private(set) var exceeded = false
    private(set) var headers: [(name: String, value: String)] = []

    init(onData: @escaping (UnsafeRawBufferPointer) -> Void, maximumBytes: Int) {
        self.onData = onData
        self.maximumBytes = maximumBytes
    }

    /// Hands `bytes` on unless they take the body past the limit; false stops the transfer.
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count <= maximumBytes - received else {
            exceeded = true
            return false
        }
        received += bytes.count
        onData(bytes)
        return true
    }

    /// libcurl calls this once per header line, for every response it reads (redirects, 100 Continue);
    /// a status line starts a new response, so only the last response's headers survive.
    func headerLine(_ bytes: UnsafeRawBufferPointer) {
        // Cut on bytes, one String for the name and one for the value: slicing and trimming Strings cost several
        // copies per line (header handling was a tenth of a sync's CPU in perf, then 4%).
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        if end >= 5, bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "T"), bytes[2] == UInt8(ascii: "T"),
           bytes[3] == UInt8(ascii: "P"), bytes[4] == UInt8(ascii: "/") {
            headers.removeAll()
            return
        }
        guard let colon = bytes[..<end].firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = Self.text(bytes, 0..<colon)
        guard !name.isEmpty else { return }
        headers.append((name, Self.text(bytes, (colon + 1)..<end)))
    }

    /// The bytes in `range` without leading and trailing spaces and tabs, as text.
    private static func text(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        var lower = range.lowerBound, upper = range.upperBound
        while lower < upper, bytes[lower] == UInt8(ascii: " ") || bytes[lower] == UInt8(ascii: "\t") { lower += 1 }
        while upper > lower, bytes[upper - 1] == UInt8(ascii: " ") || bytes[upper - 1] == UInt8(ascii: "\t") { upper -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[lower..<upper]), as: UTF8.self)
    }
}
