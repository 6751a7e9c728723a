/// One kept HTTP/1.1 connection: requests go out one at a time, each answer read whole before the next request.
final class HTTP1Channel {
    /// What the connection was opened for; a request for anything else needs another connection.
    struct Key: Equatable {
        var secure: Bool
        var host: String
        var port: Int
        var unixSocketPath: String?
        var caBundlePEM: [UInt8]?
        var trustsOnlyBundle: Bool
        var clientCertificatePEM: [UInt8]?
        var clientKeyPEM: [UInt8]?

        init(_ target: RequestTarget, _ request: HTTPRequest) {
            secure = target.secure
            host = target.host
            port = target.port
            unixSocketPath = request.unixSocketPath
            caBundlePEM = request.tls?.caBundlePEM
            trustsOnlyBundle = request.tls?.trustsOnlyBundle ?? false
            clientCertificatePEM = request.tls?.clientCertificatePEM
            clientKeyPEM = request.tls?.clientKeyPEM
        }
    }

    let key: Key
    private let stream: ByteStream
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 << 10, alignment: 1)
    /// False once the connection may not carry another request (closed, cut off, or said so by the server).
    private(set) var reusable = true

    /// Opens the connection (and completes the TLS handshake for `https`).
    init(key: Key, systemTrust: SystemTrustStore, tls: TLSCredentials?, deadline: ContinuousClock.Instant) throws(HTTPClientError) {
        let socket = if let path = key.unixSocketPath {
            try ClientSocket.connect(unixPath: path, deadline: deadline)
        } else {
            try ClientSocket.connect(host: key.host, port: key.port, deadline: deadline)
        }
        if key.secure {
            let context = try TLSClientContext(credentials: tls, systemTrust: systemTrust)
            stream = try TLSStream(socket: socket, context: context, host: key.host, deadline: deadline)
        } else {
            stream = socket
        }
        self.key = key
    }

    deinit { buffer.deallocate() }

    /// Still open and idle: the server has not closed it, and sent nothing unasked.
    var isReady: Bool { reusable && stream.isIdleAndOpen }

    /// Why the last exchange failed, when it failed before any byte of an answer: the request may be sent again
    /// on a new connection (a kept connection the server had closed, as libcurl retries).
    private(set) var failedBeforeAnswer = false

    /// Sends `request` and reads its answer, handing the final response's body to `onData` as it arrives.
    func exchange(_ request: HTTPRequest, target: RequestTarget, deadline: ContinuousClock.Instant,
                  onData: (UnsafeRawBufferPointer) -> Void) throws(HTTPClientError) -> (status: Int, headers: [(name: String, value: String)]) {
        reusable = false  // until the answer was read whole
        failedBeforeAnswer = false
        let head = try Self.head(of: request, target: target)
        var parser = HTTP1ResponseParser()
        do throws(HTTPClientError) {
            // Head and body in one write: one system call (one TLS record) per request.
            try stream.write(request.body.map { head + $0 } ?? head, until: deadline)
            var received = 0
            let limit = request.maximumResponseBytes
            while !parser.isComplete {
                let count = try stream.read(into: buffer, until: deadline)
                guard count > 0 else {
                    try parse(limit: limit) { try parser.endOfStream() }
                    break
                }
                let consumed = try parse(limit: limit) {
                    try parser.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { bytes in
                        guard bytes.count <= limit - received else { throw BodyTooLarge() }
                        received += bytes.count
                        onData(bytes)
                    }
                }
                // Bytes past the answer were never asked for: the connection's framing cannot be trusted.
                if consumed < count { return (parser.status, parser.headers) }
            }
        } catch {
            failedBeforeAnswer = !parser.receivedAny
            throw error
        }
        reusable = parser.keepAlive
        return (parser.status, parser.headers)
    }

    private struct BodyTooLarge: Error {}

    /// Runs a step of the parser; its failures become transport errors that say what was wrong with the answer.
    private func parse<T>(limit: Int, _ step: () throws -> T) throws(HTTPClientError) -> T {
        do {
            return try step()
        } catch is BodyTooLarge {
            throw HTTPClientError.responseTooLarge(limit: limit)
        } catch let failure as HTTP1ResponseParser.Failure {
            throw HTTPClientError(kind: .transport, message: failure.message)
        } catch {
            throw HTTPClientError(kind: .transport, message: "\(error)")
        }
    }

    /// The request line and headers. libcurl's defaults are kept: `Accept: */*` unless the caller set one, and no
    /// header with an empty value.
    static func head(of request: HTTPRequest, target: RequestTarget) throws(HTTPClientError) -> [UInt8] {
        var text = "\(request.method.rawValue) \(target.path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\n"
        var hasAccept = false
        for (name, value) in request.headers where !value.isEmpty {
            guard !name.isEmpty, !(name + value).utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }), !name.contains(":") else {
                throw HTTPClientError(kind: .transport, message: "the request header \(name.debugDescription) is malformed")
            }
            if name.caseInsensitiveEquals("Accept") { hasAccept = true }
            guard !name.caseInsensitiveEquals("Content-Length"), !name.caseInsensitiveEquals("Host") else { continue }
            text += "\(name): \(value)\r\n"
        }
        if !hasAccept { text += "Accept: */*\r\n" }
        if let body = request.body {
            text += "Content-Length: \(body.count)\r\n"
        } else if request.method == .post || request.method == .put || request.method == .patch {
            text += "Content-Length: 0\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }
}
