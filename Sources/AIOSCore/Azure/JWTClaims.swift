import FoundationEssentials

/// The claims of a JWT that say whose it is, read without verifying the signature: only to explain an
/// error (which issuer, subject and audience were presented), never to trust anything.
struct JWTClaims: Sendable, Equatable {
    var issuer: String?
    var subject: String?
    var audiences: [String]
    /// `oid`: the object id of the identity an Entra token was issued to (what role assignments name).
    var objectId: String?

    /// Decodes the payload (second dot-separated part, base64url) of `jwt`; nil if it is not a JWT.
    static func decodeUnverified(_ jwt: String) -> JWTClaims? {
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = base64URLDecode(parts[1]),
              let object = JSONValue.object(parsing: data) else { return nil }
        let audiences: [String] = switch object["aud"] {
        case .string(let single): [single]
        case .array(let many): many.compactMap(\.string)
        default: []
        }
        return JWTClaims(issuer: object["iss"]?.string, subject: object["sub"]?.string, audiences: audiences,
                         objectId: object["oid"]?.string)
    }

    private static func base64URLDecode(_ text: Substring) -> Data? {
        var base64 = text.replacingAll("-", with: "+").replacingAll("_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
