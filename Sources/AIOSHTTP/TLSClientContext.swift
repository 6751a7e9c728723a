internal import CTLS

/// OpenSSL's client context for one set of TLS settings: what the server is verified against, and the client
/// certificate if any. Verification of the server is always on.
final class TLSClientContext {
    let pointer: UnsafeMutableRawPointer

    /// - Parameters:
    ///   - credentials: the request's CA bundle and client certificate; nil: the system's trust only.
    ///   - systemTrust: the host's trust anchors, used when the request brings no CA bundle; its CA directory also
    ///     completes a request's bundle unless the request trusts only that bundle (as libcurl's CAINFO_BLOB does).
    init(credentials: TLSCredentials?, systemTrust: SystemTrustStore) throws(HTTPClientError) {
        aios_tls_clear_errors()
        guard let pointer = aios_tls_context_new() else { throw HTTPClientError(kind: .transport, message: "could not create a TLS context") }
        self.pointer = pointer
        if let bundle = credentials?.caBundlePEM {
            let directory = credentials?.trustsOnlyBundle == true ? nil : systemTrust.directory
            let trusted = bundle.withUnsafeBytes { bytes in
                aios_tls_context_trust_pem(pointer, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(clamping: bytes.count), directory)
            }
            guard trusted == 1 else { throw Self.failure("the CA bundle holds no certificate that could be read") }
        } else if let store = systemTrust.current() {
            guard aios_tls_context_use_store(pointer, store.pointer) == 1 else { throw Self.failure("the system trust store could not be used") }
        } else if let directory = systemTrust.directory {
            guard aios_tls_context_trust_directory(pointer, directory) == 1 else { throw Self.failure("no system trust anchors could be read") }
        } else {
            throw Self.failure("no system trust anchors could be read")
        }
        if let certificate = credentials?.clientCertificatePEM {
            guard let key = credentials?.clientKeyPEM else { throw Self.failure("a client certificate was given without its key") }
            let used = certificate.withUnsafeBytes { certificate in
                key.withUnsafeBytes { key in
                    aios_tls_context_use_certificate(pointer, certificate.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(clamping: certificate.count),
                                                     key.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(clamping: key.count))
                }
            }
            guard used == 1 else { throw Self.failure("the client certificate or its key could not be read, or they do not match") }
        }
        aios_tls_clear_errors()
    }

    deinit { aios_tls_context_free(pointer) }

    private static func failure(_ message: String) -> HTTPClientError {
        aios_tls_clear_errors()
        return HTTPClientError(kind: .transport, message: message)
    }
}
