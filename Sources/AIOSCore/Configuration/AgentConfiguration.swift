/// aiosd's configuration, as loaded from `/etc/aios/aiosd.yaml`. Every field has a default, so a missing
/// file means a working agent.
public struct AgentConfiguration: Sendable, Equatable {
    public var control = ControlConfiguration()
    public var k3s = K3sAgentConfiguration()
    public var logLevel: LogLevel = .info
    /// How long a graceful shutdown (SIGTERM) may take before aiosd exits anyway.
    public var shutdownTimeout: Duration = .seconds(10)

    public init() {}

    public enum LogLevel: String, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }
}

public struct ControlConfiguration: Sendable, Equatable {
    /// Where aiosd binds the control socket when not socket-activated (`--socket` overrides).
    public var socket = "/run/aiosd/aiosd.sock"
    /// Group owning the socket it binds itself (mode 0660).
    public var socketGroup = "aios"
    /// Members of this group (and root) may make mutating requests.
    public var adminGroup = "aios"
    public var maxConnections = 64
    /// A client must send its request head within this time.
    public var headerTimeout: Duration = .seconds(5)
    /// A connection with no traffic for this long is closed.
    public var idleTimeout: Duration = .seconds(60)
    public var maxBodyBytes = 1 << 20

    public init() {}
}

public struct K3sAgentConfiguration: Sendable, Equatable {
    /// How long aiosd waits for K3s' API server to answer /readyz after a restart before it rolls back.
    public var readyTimeout: Duration = .seconds(300)

    public init() {}
}

extension AgentConfiguration {
    /// Settings that only take effect when aiosd restarts; a reload reports which of them changed.
    public func settingsNeedingRestart(comparedTo old: AgentConfiguration) -> [String] {
        var names: [String] = []
        if control.socket != old.control.socket { names.append("control.socket") }
        if control.socketGroup != old.control.socketGroup { names.append("control.socketGroup") }
        if control.maxConnections != old.control.maxConnections { names.append("control.maxConnections") }
        if control.headerTimeout != old.control.headerTimeout { names.append("control.headerTimeout") }
        if control.idleTimeout != old.control.idleTimeout { names.append("control.idleTimeout") }
        if control.maxBodyBytes != old.control.maxBodyBytes { names.append("control.maxBodyBytes") }
        if shutdownTimeout != old.shutdownTimeout { names.append("shutdownTimeout") }
        return names
    }
}
