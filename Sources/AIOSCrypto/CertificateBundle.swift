internal import COpenSSL

/// A private key with its certificate chain, in the PEM form TLS servers and Kubernetes TLS secrets take.
///
/// `description` and `dump` never show the key: a bundle can end up in a log line.
public struct CertificateBundle: Sendable, Equatable {
    /// The private key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    public let privateKeyPEM: String
    /// One PEM block per certificate: the leaf first, then its chain towards the root, then any
    /// certificates that are not part of that chain, in their original order.
    public let certificatesPEM: [String]

    /// The leaf then the chain, one PEM text (the `tls.crt` of a Kubernetes TLS secret).
    public var tlsCertificatePEM: String { certificatesPEM.joined() }
    /// The certificate whose public key belongs to `privateKeyPEM`.
    public var leafCertificatePEM: String { certificatesPEM.first ?? "" }
    /// The leaf certificate's notAfter (Unix seconds), when the bundle was parsed from PEM or PKCS#12.
    public private(set) var leafNotAfter: Int?

    /// A bundle from parts already in order; `fromPEM` and `fromPKCS12` check and order them.
    public init(privateKeyPEM: String, certificatesPEM: [String]) {
        self.privateKeyPEM = privateKeyPEM
        self.certificatesPEM = certificatesPEM
    }

    /// A PEM bundle as Key Vault returns for a certificate-backed secret (`application/x-pem-file`):
    /// one private key (PKCS#8, or traditional RSA or EC, re-encoded to PKCS#8) and certificates in any order.
    public static func fromPEM(_ text: String) throws(CertificateError) -> CertificateBundle {
        let source = "the PEM bundle"
        aios_openssl_clear_errors()
        let input = try MemoryBIO(bytes: Array(text.utf8))
        var key: PrivateKey?
        var certificates: [Certificate] = []
        while true {
            var name: UnsafeMutablePointer<CChar>?
            var header: UnsafeMutablePointer<CChar>?
            var data: UnsafeMutablePointer<UInt8>?
            var length = 0
            guard aios_openssl_pem_read_block(input.pointer, &name, &header, &data, &length) == 1 else {
                let error = OpenSSLError.take()
                if error.isEndOfPEM || error.reason == nil { break }
                throw CertificateError("\(source) has a malformed PEM block", error)
            }
            defer { aios_openssl_free_pem_block(name, header, data, length) }
            guard let name, let data else { continue }
            switch String(cString: name) {
            case "CERTIFICATE", "X509 CERTIFICATE":
                guard let certificate = aios_openssl_x509_from_der(data, length) else {
                    throw CertificateError("a certificate in \(source) does not parse", .take())
                }
                certificates.append(Certificate(owning: certificate))
            case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
                guard key == nil else { throw CertificateError("more than one private key in \(source)") }
                guard aios_openssl_pem_header_is_encrypted(header) == 0 else {
                    throw CertificateError("the private key in \(source) is encrypted")
                }
                guard let parsed = aios_openssl_private_key_from_der(data, length) else {
                    throw CertificateError("the private key in \(source) does not parse", .take())
                }
                key = PrivateKey(owning: parsed)
            case "ENCRYPTED PRIVATE KEY":
                throw CertificateError("the private key in \(source) is encrypted")
            default:
                // EC PARAMETERS and the like travel with keys; they add nothing here.
                continue
            }
        }
        return try assemble(key: key, certificates: certificates, source: source)
    }

    /// A PKCS#12 (PFX) file, as Key Vault returns base64-decoded for `application/x-pkcs12` secrets
    /// (empty password). OpenSSL 3 (AES-256-CBC) and 3DES files decrypt; RC2-40 ones need OpenSSL's
    /// legacy provider, which is not loaded, and fail with an error that says so.
    public static func fromPKCS12(_ der: [UInt8], password: String = "") throws(CertificateError) -> CertificateBundle {
        let source = "the PKCS#12 file"
        aios_openssl_clear_errors()
        guard !der.isEmpty else { throw CertificateError("\(source) is empty") }
        let parsed = der.withUnsafeBufferPointer { aios_openssl_pkcs12_from_der($0.baseAddress!, $0.count) }
        guard let p12 = parsed else { throw CertificateError("the data is not a PKCS#12 file", .take()) }
        defer { aios_openssl_pkcs12_free(p12) }

        // Checked apart from PKCS12_parse so a wrong password is named as such.
        guard aios_openssl_pkcs12_verify_mac(p12, password) == 1 else {
            _ = OpenSSLError.take()
            throw CertificateError(password.isEmpty
                ? "the PKCS#12 MAC does not verify with an empty password"
                : "the PKCS#12 MAC does not verify with the given password")
        }

        var keyPointer: OpaquePointer?
        var leafPointer: OpaquePointer?
        var stack: OpaquePointer?
        let ok = aios_openssl_pkcs12_parse(p12, password, &keyPointer, &leafPointer, &stack)
        // Owned from here whether or not parsing finished.
        let key = keyPointer.map(PrivateKey.init(owning:))
        let leaf = leafPointer.map(Certificate.init(owning:))
        defer { aios_openssl_x509_stack_free(stack) }
        guard ok == 1 else {
            let error = OpenSSLError.take()
            if error.isUnsupportedAlgorithm {
                throw CertificateError("""
                    \(source) is encrypted with an algorithm that needs OpenSSL's legacy provider \
                    (RC2-40, as in older Windows and OpenSSL 1.x exports), which is not loaded; \
                    re-export it with AES-256-CBC
                    """)
            }
            throw CertificateError("\(source) does not decrypt", error)
        }

        // PKCS12_parse's pick (by localKeyID) goes first, so it wins among certificates for the same key.
        var certificates = leaf.map { [$0] } ?? []
        for index in 0..<aios_openssl_x509_stack_count(stack) {
            guard let certificate = aios_openssl_x509_stack_get(stack!, index),
                  aios_openssl_x509_up_ref(certificate) == 1 else { continue }
            certificates.append(Certificate(owning: certificate))
        }
        return try assemble(key: key, certificates: certificates, source: source)
    }

    /// Checks the parts, orders the certificates leaf → root, and writes them as PEM.
    private static func assemble(key: PrivateKey?, certificates: [Certificate],
                                 source: String) throws(CertificateError) -> CertificateBundle {
        guard let key else { throw CertificateError("no private key in \(source)") }
        guard !certificates.isEmpty else { throw CertificateError("no certificate in \(source)") }
        var remaining = certificates
        guard let leafIndex = remaining.firstIndex(where: { aios_openssl_x509_matches_key($0.pointer, key.pointer) == 1 })
        else {
            throw CertificateError("no certificate in \(source) matches the private key")
        }
        var chain = [remaining.remove(at: leafIndex)]
        // Walk issuer by issuer; a self-issued certificate is a root and ends the chain.
        while let current = chain.last, aios_openssl_x509_issued(current.pointer, current.pointer) == 0,
              let issuerIndex = remaining.firstIndex(where: { aios_openssl_x509_issued($0.pointer, current.pointer) == 1 }) {
            chain.append(remaining.remove(at: issuerIndex))
        }
        // What does not fit the chain stays, in its original order, as the Azure provider keeps it.
        chain += remaining
        aios_openssl_clear_errors()

        let keyOutput = try MemoryBIO(secure: true)
        guard aios_openssl_private_key_write_pkcs8_pem(keyOutput.pointer, key.pointer) == 1 else {
            throw CertificateError("the private key does not encode as PKCS#8", .take())
        }
        var certificatesPEM: [String] = []
        for certificate in chain {
            let output = try MemoryBIO(secure: false)
            guard aios_openssl_x509_write_pem(output.pointer, certificate.pointer) == 1 else {
                throw CertificateError("a certificate does not encode as PEM", .take())
            }
            certificatesPEM.append(output.text)
        }
        var bundle = CertificateBundle(privateKeyPEM: keyOutput.text, certificatesPEM: certificatesPEM)
        var notAfter: Int64 = 0
        if aios_openssl_x509_not_after(chain[0].pointer, &notAfter) == 1 { bundle.leafNotAfter = Int(notAfter) }
        return bundle
    }
}

extension CertificateBundle: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "CertificateBundle(private key redacted, \(certificatesPEM.count) certificate(s))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["privateKeyPEM": "<redacted>", "certificatesPEM": certificatesPEM], displayStyle: .struct)
    }
}

/// Why a certificate bundle could not be read. The message names the problem, never the input.
public struct CertificateError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String

    init(_ message: String) {
        description = message
    }

    init(_ message: String, _ error: OpenSSLError) {
        description = error.reason.map { "\(message): \($0)" } ?? message
    }
}

// MARK: OpenSSL objects, freed on deinit

/// The first entry of OpenSSL's per-thread error queue, taken off it.
struct OpenSSLError {
    var reason: String?
    var isEndOfPEM: Bool
    var isUnsupportedAlgorithm: Bool

    /// Empties the queue, keeping what the caller needs to explain the failure.
    static func take() -> OpenSSLError {
        var flags: Int32 = 0
        let reason = aios_openssl_take_error(&flags).map { String(cString: $0) }
        return OpenSSLError(reason: reason,
                            isEndOfPEM: flags & AIOS_OPENSSL_ERROR_PEM_END != 0,
                            isUnsupportedAlgorithm: flags & AIOS_OPENSSL_ERROR_UNSUPPORTED != 0)
    }
}

private final class PrivateKey {
    let pointer: OpaquePointer
    init(owning pointer: OpaquePointer) { self.pointer = pointer }
    deinit { aios_openssl_private_key_free(pointer) }
}

private final class Certificate {
    let pointer: OpaquePointer
    init(owning pointer: OpaquePointer) { self.pointer = pointer }
    deinit { aios_openssl_x509_free(pointer) }
}

/// A memory BIO; the secure kind lives in OpenSSL's secure heap if one is set up and is wiped when freed.
private final class MemoryBIO {
    let pointer: OpaquePointer

    init(secure: Bool) throws(CertificateError) {
        guard let pointer = aios_openssl_bio_new_memory(secure ? 1 : 0) else {
            throw CertificateError("out of memory for an OpenSSL BIO")
        }
        self.pointer = pointer
    }

    /// A secure BIO holding a copy of `bytes` (input may hold a key).
    convenience init(bytes: [UInt8]) throws(CertificateError) {
        try self.init(secure: true)
        let written = bytes.withUnsafeBytes { raw in
            raw.isEmpty ? 0 : aios_openssl_bio_write(pointer, raw.baseAddress!, Int32(raw.count))
        }
        guard written == bytes.count else { throw CertificateError("out of memory for an OpenSSL BIO") }
    }

    /// What has been written so far, as text (PEM is ASCII).
    var text: String {
        var contents: UnsafePointer<CChar>?
        let length = aios_openssl_bio_contents(pointer, &contents)
        guard let contents, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: contents, count: length), as: UTF8.self)
    }

    deinit { aios_openssl_bio_free(pointer) }
}
