internal import CTLS
import Glibc

/// TLS over a connected `ClientSocket`, driven by OpenSSL on the non-blocking socket: each call that needs the
/// network waits for the socket with the request's deadline.
final class TLSStream: ByteStream {
    private let socket: ClientSocket
    private let ssl: UnsafeMutableRawPointer
    /// Held while the connection lives: OpenSSL's connection refers to its context.
    private let context: TLSClientContext

    /// Completes the handshake, verifying the server's certificate against `context`'s trust and its name (or IP
    /// address) against `host`.
    init(socket: ClientSocket, context: TLSClientContext, host: String, deadline: ContinuousClock.Instant) throws(HTTPClientError) {
        aios_tls_clear_errors()
        guard let ssl = aios_tls_new(context.pointer, socket.descriptor) else {
            throw HTTPClientError(kind: .transport, message: "could not set up TLS for \(host)")
        }
        guard aios_tls_expect_name(ssl, host, Self.isAddress(host) ? 1 : 0) == 1 else { aios_tls_free(ssl); throw Self.unusableName(host) }
        self.socket = socket
        self.ssl = ssl
        self.context = context
        guard try drive(until: deadline, { aios_tls_handshake(ssl) }) > 0 else {
            throw HTTPClientError(kind: .transport, message: "the server closed the connection during the TLS handshake")
        }
    }

    deinit { aios_tls_free(ssl) }

    func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: ContinuousClock.Instant) throws(HTTPClientError) -> Int {
        let count = Int32(clamping: buffer.count)
        return try drive(until: deadline) { aios_tls_read(ssl, buffer.baseAddress!, count) }
    }

    func write(_ bytes: UnsafeRawBufferPointer, until deadline: ContinuousClock.Instant) throws(HTTPClientError) {
        var offset = 0
        while offset < bytes.count {
            let count = Int32(clamping: bytes.count - offset)
            let written = try drive(until: deadline) { aios_tls_write(ssl, bytes.baseAddress! + offset, count) }
            guard written > 0 else { throw HTTPClientError(kind: .transport, message: "the server closed the TLS connection") }
            offset += written
        }
    }

    var isIdleAndOpen: Bool { socket.isIdleAndOpen }

    /// Repeats `call` until it succeeds, waiting for the socket as OpenSSL asks. 0 when the peer ended the stream.
    @discardableResult
    private func drive(until deadline: ContinuousClock.Instant, _ call: () -> Int32) throws(HTTPClientError) -> Int {
        while true {
            let result = call()
            if result > 0 { return Int(result) }
            switch aios_tls_next_step(ssl, result) {
            case 1: guard socket.wait(for: Int16(POLLIN), until: deadline) else { throw HTTPClientError.timedOut }
            case 2: guard socket.wait(for: Int16(POLLOUT), until: deadline) else { throw HTTPClientError.timedOut }
            case 0: return 0
            case -2:
                let code = errno
                aios_tls_clear_errors()
                throw HTTPClientError(kind: .transport, message: "the TLS connection failed: \(String(cString: strerror(code == 0 ? ECONNRESET : code)))")
            default:
                var text = [CChar](repeating: 0, count: 256)
                aios_tls_error_text(ssl, &text, text.count)
                throw HTTPClientError(kind: .transport, message: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
    }

    private static func unusableName(_ host: String) -> HTTPClientError {
        aios_tls_clear_errors()
        return HTTPClientError(kind: .transport, message: "the host name \(host.debugDescription) cannot be checked against a certificate")
    }

    /// An IPv4 or IPv6 literal: checked against the certificate's IP SANs and never sent as SNI.
    static func isAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
