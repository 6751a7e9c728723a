/// A secret with its value. `description` and mirrors never show the value.
public struct KeyVaultSecret: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    public let name: String
    /// Secret: never log, print or put it in an error.
    public let value: String
    public let version: String
    public let contentType: String?
    /// The key identifier of a certificate-backed secret (`https://<vault>/keys/<name>/<version>`).
    public let kid: String?
    public let managed: Bool
    public let enabled: Bool
    /// Unix seconds.
    public let updated: Int?
    public let tags: [String: String]
    /// The version's `exp` and `nbf` (Unix seconds), when set.
    public let expires: Int?
    public let notBefore: Int?

    public init(name: String, value: String, version: String, contentType: String?, kid: String?, managed: Bool, enabled: Bool, updated: Int?,
                tags: [String: String], expires: Int? = nil, notBefore: Int? = nil) {
        self.expires = expires
        self.notBefore = notBefore
        self.name = name
        self.value = value
        self.version = version
        self.contentType = contentType
        self.kid = kid
        self.managed = managed
        self.enabled = enabled
        self.updated = updated
        self.tags = tags
    }

    public var description: String {
        "KeyVaultSecret(name: \(name), version: \(version), contentType: \(contentType ?? "none"), managed: \(managed), enabled: \(enabled))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "version": version, "contentType": contentType as Any, "kid": kid as Any,
                                "managed": managed, "enabled": enabled, "updated": updated as Any, "tags": tags,
                                "expires": expires as Any, "notBefore": notBefore as Any])
    }
}
