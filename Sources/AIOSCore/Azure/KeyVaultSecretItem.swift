/// One entry of `GET /secrets`: a secret's metadata without its value.
public struct KeyVaultSecretItem: Sendable, Equatable {
    public let name: String
    public let enabled: Bool
    /// Unix seconds of the last change (a new version or new attributes).
    public let updated: Int?
    public let contentType: String?
    /// True for secrets that back a certificate (their lifetime belongs to the certificate).
    public let managed: Bool
    public let tags: [String: String]

    public init(name: String, enabled: Bool, updated: Int?, contentType: String?, managed: Bool, tags: [String: String]) {
        self.name = name
        self.enabled = enabled
        self.updated = updated
        self.contentType = contentType
        self.managed = managed
        self.tags = tags
    }
}
