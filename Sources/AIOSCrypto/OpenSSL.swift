internal import COpenSSL

/// The few OpenSSL services the agent needs, behind Swift types.
public enum OpenSSL {
    /// The OpenSSL version at run time.
    public static var versionText: String { String(cString: aios_openssl_version_text()) }

    /// SHA-256 of `bytes`, as lowercase hex.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        let ok = bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { output in
                aios_openssl_sha256(input.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, input.count, output.baseAddress!)
            }
        }
        precondition(ok == 1, "EVP_Digest(SHA-256) failed")
        return hex(digest)
    }

    /// HMAC-SHA-256 of `data` under `key`, as lowercase hex.
    public static func hmacSHA256Hex(key: [UInt8], data: [UInt8]) -> String {
        var mac = [UInt8](repeating: 0, count: 32)
        let ok = key.withUnsafeBytes { key in
            data.withUnsafeBytes { data in
                mac.withUnsafeMutableBufferPointer { output in
                    // HMAC() wants non-null pointers even for empty input.
                    aios_openssl_hmac_sha256(key.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(key.count),
                                             data.baseAddress?.assumingMemoryBound(to: UInt8.self)
                                                 ?? UnsafePointer(bitPattern: 1)!,
                                             data.count, output.baseAddress!)
                }
            }
        }
        precondition(ok == 1, "HMAC(SHA-256) failed")
        return hex(mac)
    }

    /// `count` cryptographically secure random bytes (for salts and nonces).
    public static func randomBytes(count: Int) -> [UInt8] {
        precondition(count >= 0 && count <= Int(Int32.max), "randomBytes(count:) out of range")
        var bytes = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return bytes }
        let ok = bytes.withUnsafeMutableBufferPointer { aios_openssl_random_bytes($0.baseAddress!, Int32(count)) }
        // A failing CSPRNG leaves nothing safe to fall back to.
        precondition(ok == 1, "RAND_bytes failed")
        return bytes
    }

    /// Lowercase hex, written into the string's storage at once (a String per byte, joined, was half the cost
    /// of a content hash: two per Secret written).
    private static func hex(_ bytes: [UInt8]) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            digits.withUTF8Buffer { digits in
                for (i, byte) in bytes.enumerated() {
                    buffer[2 * i] = digits[Int(byte >> 4)]
                    buffer[2 * i + 1] = digits[Int(byte & 0x0f)]
                }
            }
            return bytes.count * 2
        }
    }
}
