import AIOSAPI
import AIOSCore
import FoundationEssentials
import Synchronization

/// What the daemon knows about itself, shared by its services and the API handlers.
public final class DaemonState: Sendable {
    public struct Snapshot: Sendable {
        public var configuration: AgentConfiguration
        public var configLoadedAt: Date
        public var lastReload: ReloadOutcome?
        public var services: [String: ServiceStatus]
        public var socketActivated = false
    }

    public let configPath: String
    public let socketPath: String
    public let startedAt: Date
    public let underSystemd: Bool
    public let watchdogInterval: Duration?
    private let snapshot: Mutex<Snapshot>

    public init(configPath: String, socketPath: String, configuration: AgentConfiguration, underSystemd: Bool,
                watchdogInterval: Duration?, startedAt: Date = Date()) {
        self.configPath = configPath
        self.socketPath = socketPath
        self.startedAt = startedAt
        self.underSystemd = underSystemd
        self.watchdogInterval = watchdogInterval
        self.snapshot = Mutex(Snapshot(configuration: configuration, configLoadedAt: startedAt, services: [:]))
    }

    public var current: Snapshot { snapshot.withLock { $0 } }
    public var configuration: AgentConfiguration { snapshot.withLock { $0.configuration } }

    public func update(_ body: (inout Snapshot) -> Void) {
        snapshot.withLock { body(&$0) }
    }

    public func setService(_ name: String, _ state: ServiceStatus.State, detail: String? = nil) {
        snapshot.withLock { $0.services[name] = ServiceStatus(name: name, state: state, detail: detail) }
    }
}
