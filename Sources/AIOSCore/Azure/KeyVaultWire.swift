import FoundationEssentials

/// Key Vault's JSON, decoded defensively: every field optional (Key Vault omits rather than nulls them),
/// timestamps integer Unix seconds (a fractional number is truncated).
enum KeyVaultWire {
    struct Attributes: Decodable, Equatable {
        var enabled: Bool?
        var created: Int?
        var updated: Int?
        /// Expiry and not-before; Key Vault does not enforce them on read (a GET of an expired secret is a 200).
        var exp: Int?
        var nbf: Int?

        enum CodingKeys: String, CodingKey { case enabled, created, updated, exp, nbf }

        init(enabled: Bool?, created: Int?, updated: Int?, exp: Int?, nbf: Int?) {
            self.enabled = enabled
            self.created = created
            self.updated = updated
            self.exp = exp
            self.nbf = nbf
        }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled)
            created = try Self.unixTime(container, .created)
            updated = try Self.unixTime(container, .updated)
            exp = try Self.unixTime(container, .exp)
            nbf = try Self.unixTime(container, .nbf)
        }

        private static func unixTime(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Int? {
            if let value = try? container.decodeIfPresent(Int.self, forKey: key) { return value }
            guard let value = try container.decodeIfPresent(Double.self, forKey: key) else { return nil }
            guard value.isFinite, abs(value) < 1e15 else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "not a Unix time")
            }
            return Int(value)
        }
    }

    struct Item: Decodable, Equatable {
        var id: String?
        var contentType: String?
        var managed: Bool?
        var attributes: Attributes?
        var tags: [String: String]?
    }

    struct ListResult: Decodable, Equatable {
        var value: [Item]?
        var nextLink: String?
    }

    struct Bundle: Decodable, Equatable {
        var id: String?
        var value: String?
        var contentType: String?
        var kid: String?
        var managed: Bool?
        var attributes: Attributes?
        var tags: [String: String]?
    }

    struct ErrorResponse: Decodable {
        var error: ErrorDetail?
    }

    final class ErrorDetail: Decodable {
        var code: String?
        var message: String?
        var innererror: ErrorDetail?

        /// The most specific code: the innermost `innererror.code`, else `code`.
        var innermostCode: String? { innererror?.innermostCode ?? code }
    }

    /// The path segments after `/secrets/` of a secret id: `[name]` or `[name, version]`.
    static func secretPath(of id: String?) -> [String]? {
        guard let id else { return nil }
        return plainSecretPath(of: id) ?? parsedSecretPath(of: id)
    }

    static func parsedSecretPath(of id: String) -> [String]? {
        guard let url = URLComponents(string: id) else { return nil }
        let segments = url.path.split(separator: "/").map(String.init)
        guard segments.count >= 2, segments.count <= 3, segments[0] == "secrets", !segments[1].isEmpty else { return nil }
        return Array(segments.dropFirst())
    }

    /// `secretPath` of the ids Key Vault writes, `https://HOST/secrets/NAME[/VERSION]` with letters, digits and
    /// dashes only, cut by hand: URLComponents parsed every id of a first sync (1.5% of its CPU). Anything else
    /// (nil here) goes through URLComponents, whose answer for these ids is the same.
    static func plainSecretPath(of id: String) -> [String]? {
        let scheme = "https://".utf8
        guard id.utf8.starts(with: scheme) else { return nil }
        let bytes = Array(id.utf8)
        func plain(_ byte: UInt8) -> Bool {
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D
        }
        // The host: letters, digits, dashes and dots, then the path.
        var index = scheme.count
        while index < bytes.count, plain(bytes[index]) || bytes[index] == 0x2E { index += 1 }
        guard index > scheme.count, index < bytes.count, bytes[index] == 0x2F else { return nil }
        var segments: [String] = []
        for segment in bytes[(index + 1)...].split(separator: 0x2F, omittingEmptySubsequences: false) {
            guard !segment.isEmpty, segment.allSatisfy(plain) else { return nil }
            segments.append(String(decoding: segment, as: UTF8.self))
        }
        guard segments.count >= 2, segments.count <= 3, segments[0] == "secrets" else { return nil }
        return Array(segments.dropFirst())
    }
}
