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
        return digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
