import FoundationEssentials

/// `POST /v1/config/reload`: the configuration was re-read and is now in force.
/// A refused configuration is an error response with code `config_invalid` instead.
public struct ConfigReloadResponse: Codable, Sendable, Equatable {
    public var configPath: String
    public var loadedAt: Date
    /// Settings whose new values only take effect at the next restart of aiosd.
    public var needsRestart: [String]

    public init(configPath: String, loadedAt: Date, needsRestart: [String]) {
        self.configPath = configPath
        self.loadedAt = loadedAt
        self.needsRestart = needsRestart
    }
}
