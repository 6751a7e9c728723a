import AIOSCrypto
import FoundationEssentials

/// Turns a Key Vault secret's value into the bytes a definition's object stands for, the way the Azure provider
/// of the Secrets Store does: `objectEncoding` decodes plain secrets; certificate-backed secrets become PEM
/// (key first, then the certificates from leaf to root) unless `objectFormat: pfx` asks for the PKCS#12 itself;
/// `objectType: cert` keeps the leaf certificate only.
public enum ObjectContent {
    public static let pkcs12ContentType = "application/x-pkcs12"
    public static let pemContentType = "application/x-pem-file"

    /// `value` is never part of an error.
    public static func materialize(_ object: SyncObject, value: String, contentType: String?) throws(SyncIssue) -> [UInt8] {
        let type = contentType?.lowercased()
        switch object.objectType {
        case .cert:
            return Array(try bundle(value: value, contentType: type, object: object).leafCertificatePEM.utf8)
        case .secret:
            if type == pkcs12ContentType {
                if object.objectFormat == .pfx { return try decode(value, as: object.objectEncoding, object: object) }
                let bundle = try bundle(value: value, contentType: type, object: object)
                return Array((bundle.privateKeyPEM + bundle.tlsCertificatePEM).utf8)
            }
            if object.objectFormat == .pfx {
                throw SyncIssue(code: "FormatMismatch", message: "\(object.objectName): objectFormat pfx needs a certificate stored as PKCS#12 (content type \(pkcs12ContentType)), this one is \(contentType ?? "untyped")",
                                hint: "remove objectFormat, or import the certificate into Key Vault as PKCS#12")
            }
            return try decode(value, as: object.objectEncoding, object: object)
        }
    }

    /// The leaf certificate's notAfter (Unix seconds) when `value` is a certificate bundle (PKCS#12 or PEM with its
    /// key, as Key Vault serves a certificate-backed secret); nil for anything else. Never throws: expiry is advisory.
    public static func certificateNotAfter(value: String, contentType: String?) -> Int? {
        switch contentType?.lowercased() {
        case pkcs12ContentType:
            guard let der = Data(base64Encoded: value.trimmingWhitespaceAndNewlines()) else { return nil }
            return (try? CertificateBundle.fromPKCS12(Array(der)))?.leafNotAfter
        case pemContentType:
            return (try? CertificateBundle.fromPEM(value))?.leafNotAfter
        default:
            return nil
        }
    }

    /// Splits a PEM bundle (key and certificates) into the two keys of a `kubernetes.io/tls` Secret.
    public static func tlsPair(fromPEM bytes: [UInt8], sourcePath: String) throws(SyncIssue) -> (certificate: [UInt8], key: [UInt8]) {
        do {
            let bundle = try CertificateBundle.fromPEM(String(decoding: bytes, as: UTF8.self))
            return (Array(bundle.tlsCertificatePEM.utf8), Array(bundle.privateKeyPEM.utf8))
        } catch {
            throw SyncIssue(code: "NotACertificate", message: "\(sourcePath) cannot fill a kubernetes.io/tls Secret: \(error)",
                            hint: "map a certificate-backed secret (objectType secret, objectFormat pem) to tls.crt")
        }
    }

    private static func bundle(value: String, contentType: String?, object: SyncObject) throws(SyncIssue) -> CertificateBundle {
        do {
            if contentType == pkcs12ContentType {
                guard let der = base64(value) else {
                    throw SyncIssue(code: "DecodeFailed", message: "\(object.objectName): the PKCS#12 value is not base64")
                }
                return try CertificateBundle.fromPKCS12(Array(der))
            }
            return try CertificateBundle.fromPEM(value)
        } catch let issue as SyncIssue {
            throw issue
        } catch {
            throw SyncIssue(code: "NotACertificate", message: "\(object.objectName) is not a usable certificate: \(error)",
                            hint: "objectType cert and kubernetes.io/tls need a certificate-backed secret (PEM or PKCS#12 with its key)")
        }
    }

    static func decode(_ value: String, as encoding: SyncObject.Encoding, object: SyncObject) throws(SyncIssue) -> [UInt8] {
        switch encoding {
        case .utf8:
            return Array(value.utf8)
        case .base64:
            guard let data = base64(value) else {
                throw SyncIssue(code: "DecodeFailed", message: "\(object.objectName): objectEncoding is base64 but the value is not valid base64",
                                hint: "check the secret in the vault, or set objectEncoding to utf-8")
            }
            return Array(data)
        case .hex:
            let digits = Array(value.trimmingWhitespaceAndNewlines().utf8)
            guard digits.count % 2 == 0, let bytes = hexBytes(digits) else {
                throw SyncIssue(code: "DecodeFailed", message: "\(object.objectName): objectEncoding is hex but the value is not hexadecimal",
                                hint: "check the secret in the vault (AIO tags hex files file-encoding=hex), or set objectEncoding to utf-8")
            }
            return bytes
        }
    }

    /// Standard base64 as Go's `base64.StdEncoding` reads it (the Azure provider's decoder): CR and LF anywhere
    /// are ignored (values stored with line breaks every 64 or 76 characters), any other stray character is an
    /// error; surrounding blanks are trimmed as the provider trims its input.
    static func base64(_ value: String) -> Data? {
        let text = value.trimmingWhitespace().filter { $0 != "\r" && $0 != "\n" && $0 != "\r\n" }
        return Data(base64Encoded: text)
    }

    private static func hexBytes(_ digits: [UInt8]) -> [UInt8]? {
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
