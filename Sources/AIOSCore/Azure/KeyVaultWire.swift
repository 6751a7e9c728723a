import FoundationEssentials

/// Key Vault's JSON, decoded defensively: every field optional (Key Vault omits rather than nulls them),
/// timestamps integer Unix seconds (a fractional number is truncated).
enum KeyVaultWire {
    struct Attributes: Decodable {
        var enabled: Bool?
        var created: Int?
        var updated: Int?
        /// Expiry and not-before; Key Vault does not enforce them on read (a GET of an expired secret is a 200).
        var exp: Int?
        var nbf: Int?

        enum CodingKeys: String, CodingKey { case enabled, created, updated, exp, nbf }

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

    struct Item: Decodable {
        var id: String?
        var contentType: String?
        var managed: Bool?
        var attributes: Attributes?
        var tags: [String: String]?
    }

    struct ListResult: Decodable {
        var value: [Item]?
        var nextLink: String?
    }

    struct Bundle: Decodable {
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
        guard let id, let url = URLComponents(string: id) else { return nil }
        let segments = url.path.split(separator: "/").map(String.init)
        guard segments.count >= 2, segments.count <= 3, segments[0] == "secrets", !segments[1].isEmpty else { return nil }
        return Array(segments.dropFirst())
    }
}
