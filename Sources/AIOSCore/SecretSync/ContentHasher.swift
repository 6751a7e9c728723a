import AIOSCrypto
import FoundationEssentials

/// Keyed hashes of synced content: HMAC-SHA-256 with a random key kept on this host only (0600), so a hash in a
/// status or an annotation cannot be used to guess a low-entropy secret.
public struct ContentHasher: Sendable {
    public static let defaultKeyPath = "/var/lib/aiosd/content-hash.key"
    private let key: [UInt8]

    public init(key: [UInt8]) { self.key = key }

    /// The key at `path`, created on first use.
    public static func loadOrCreate(path: String = defaultKeyPath) throws(AtomicFile.Error) -> ContentHasher {
        if let data = FileManager.default.contents(atPath: path), data.count == 32 {
            return ContentHasher(key: Array(data))
        }
        let key = OpenSSL.randomBytes(count: 32)
        try AtomicFile.write(bytes: key, to: path, mode: 0o600)
        return ContentHasher(key: key)
    }

    /// Plain SHA-256 (hex), for names, never for content.
    public static func digest(_ bytes: [UInt8]) -> String { OpenSSL.sha256Hex(bytes) }

    public func hash(_ bytes: [UInt8]) -> String {
        "hmac-sha256:" + OpenSSL.hmacSHA256Hex(key: key, data: bytes)
    }

    /// The hash of a whole Secret: its type and every key and value, in key order.
    public func hash(type: String, data: [String: [UInt8]]) -> String {
        var canonical = Array(type.utf8) + [0]
        for key in data.keys.sorted() {
            let value = data[key]!
            canonical += Array(key.utf8) + [0] + Array(String(value.count).utf8) + [0] + value
        }
        return hash(canonical)
    }
}
