/// One entry of `GET /secrets/{name}/versions`.
public struct KeyVaultSecretVersionItem: Sendable, Equatable {
    public let version: String
    public let enabled: Bool
    /// Unix seconds.
    public let created: Int?
    public let updated: Int?

    public init(version: String, enabled: Bool, created: Int?, updated: Int?) {
        self.version = version
        self.enabled = enabled
        self.created = created
        self.updated = updated
    }
}
