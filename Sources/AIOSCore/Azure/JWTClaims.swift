import Foundation

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
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        let audiences: [String] = switch object["aud"] {
        case let single as String: [single]
        case let many as [Any]: many.compactMap { $0 as? String }
        default: []
        }
        return JWTClaims(issuer: object["iss"] as? String, subject: object["sub"] as? String, audiences: audiences,
                         objectId: object["oid"] as? String)
    }

    private static func base64URLDecode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
