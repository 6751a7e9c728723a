/// A configuration that cannot be used, located as precisely as the file allows.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    /// 1-based; nil when the problem is the file as a whole (unreadable, unsafe permissions).
    public var line: Int?
    public var column: Int?
    /// The dotted key, e.g. `control.maxConnections`.
    public var key: String?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    /// `/etc/aios/aiosd.yaml:7:3: control.maxConnections: expected a positive integer, got "lots"`
    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        if let key { return "\(location): \(key): \(message)" }
        return "\(location): \(message)"
    }
}
