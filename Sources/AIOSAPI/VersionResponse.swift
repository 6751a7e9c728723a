/// `GET /v1/version`.
public struct VersionResponse: Codable, Sendable, Equatable {
    public var version: String
    /// Versions of the C libraries the daemon runs with, e.g. `libcurl`, `openssl`, `systemd`.
    public var libraries: [String: String]

    public init(version: String, libraries: [String: String]) {
        self.version = version
        self.libraries = libraries
    }
}
