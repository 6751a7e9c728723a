/// A connection's bytes in both directions, plain or through TLS, with waits bounded by a deadline.
protocol ByteStream: AnyObject {
    /// Reads what has arrived, waiting for it until `deadline`; 0 when the peer ended the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: ContinuousClock.Instant) throws(HTTPClientError) -> Int
    /// Writes all of `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer, until deadline: ContinuousClock.Instant) throws(HTTPClientError)
    /// Nothing to read and not closed: the connection may carry another request.
    var isIdleAndOpen: Bool { get }
}

extension ByteStream {
    /// Writes all of `bytes`.
    func write(_ bytes: [UInt8], until deadline: ContinuousClock.Instant) throws(HTTPClientError) {
        var failure: HTTPClientError?
        bytes.withUnsafeBytes { buffer in
            do throws(HTTPClientError) { try write(buffer, until: deadline) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}

extension ClientSocket: ByteStream {}
