/// Loads and validates `aiosd.yaml`. A missing file means defaults; anything wrong is a `ConfigurationError`
/// naming the file, line and key.
public struct ConfigurationLoader: Sendable {
    public init() {}

    public func load(path: String) throws(ConfigurationError) -> AgentConfiguration {
        let text: String
        do {
            guard let contents = try SecureFileReader.readIfPresent(path: path, maximumBytes: 1 << 20) else {
                return AgentConfiguration()
            }
            text = contents
        } catch {
            throw ConfigurationError(file: path, message: error.description)
        }
        return try parse(text, file: path)
    }

    public func parse(_ text: String, file: String) throws(ConfigurationError) -> AgentConfiguration {
        var root = try YAMLReader(file: file).rootMapping(of: text)
        var configuration = AgentConfiguration()

        if var control = try root.mapping("control") {
            var c = configuration.control
            if let socket = try control.nonEmptyString("socket") {
                guard socket.hasPrefix("/") else {
                    throw ConfigurationError(file: file, key: "control.socket", message: "must be an absolute path, got \"\(socket)\"")
                }
                // sun_path holds 108 bytes including the terminating NUL.
                guard socket.utf8.count <= 107 else {
                    throw ConfigurationError(file: file, key: "control.socket", message: "longer than the 107 bytes a Unix socket path may have")
                }
                c.socket = socket
            }
            if let group = try control.nonEmptyString("socketGroup") { c.socketGroup = group }
            if let group = try control.nonEmptyString("adminGroup") { c.adminGroup = group }
            if let value = try control.positiveInt("maxConnections", max: 4096) { c.maxConnections = value }
            if let value = try control.duration("headerTimeout", minimum: .milliseconds(100)) { c.headerTimeout = value }
            if let value = try control.duration("idleTimeout", minimum: .seconds(1)) { c.idleTimeout = value }
            if let value = try control.positiveInt("maxBodyBytes", max: 64 << 20) { c.maxBodyBytes = value }
            try control.finish(known: ["socket", "socketGroup", "adminGroup", "maxConnections", "headerTimeout", "idleTimeout", "maxBodyBytes"])
            configuration.control = c
        }
        if var k3s = try root.mapping("k3s") {
            if let value = try k3s.duration("readyTimeout", minimum: .seconds(10)) { configuration.k3s.readyTimeout = value }
            try k3s.finish(known: ["readyTimeout"])
        }
        if let level = try root.choice("logLevel", of: AgentConfiguration.LogLevel.self) { configuration.logLevel = level }
        if let timeout = try root.duration("shutdownTimeout", minimum: .seconds(1)) { configuration.shutdownTimeout = timeout }
        try root.finish(known: ["control", "k3s", "logLevel", "shutdownTimeout"])
        return configuration
    }
}
