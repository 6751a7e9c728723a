import FoundationEssentials

/// A bearer token for one resource. `description` never shows the token itself.
public struct AccessToken: Sendable, CustomStringConvertible {
    /// The bearer token. Secret: never log or print it.
    public let value: String
    public let expiresOn: Date

    public init(value: String, expiresOn: Date) {
        self.value = value
        self.expiresOn = expiresOn
    }

    public var description: String { "AccessToken(expiresOn: \(expiresOn))" }
}

extension AccessToken: CustomReflectable {
    // Keeps the value out of `dump` and debugger descriptions too.
    public var customMirror: Mirror { Mirror(self, children: ["expiresOn": expiresOn]) }
}
