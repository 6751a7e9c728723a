import AIOSAPI
import AIOSCore
import AIOSHTTP
import AIOSSystemd
import FoundationEssentials
import Logging
import Synchronization

/// Reloads the configuration for SIGHUP and `POST /v1/config/reload`, one reload at a time.
/// A refused configuration changes nothing: the old one stays in force and the reason is logged.
public final class ConfigurationManager: Sendable {
    private let state: DaemonState
    private let notifier: Notifier
    private let logger: Logger
    private let loader = ConfigurationLoader()
    private let reloading = Mutex(false)
    /// Called after a new configuration is in force, with the old one (e.g. a changed SecretSync selection
    /// takes effect at once).
    private let onReload: @Sendable (_ old: AgentConfiguration, _ new: AgentConfiguration) -> Void

    public init(state: DaemonState, notifier: Notifier, logger: Logger,
                onReload: @escaping @Sendable (_ old: AgentConfiguration, _ new: AgentConfiguration) -> Void = { _, _ in }) {
        self.state = state
        self.notifier = notifier
        self.logger = logger
        self.onReload = onReload
    }

    public enum Trigger: String, Sendable { case signal = "SIGHUP", api = "api" }

    /// Returns the settings that changed but need a restart, or throws why the new configuration was refused.
    @discardableResult
    public func reload(trigger: Trigger) throws(ConfigurationError) -> [String] {
        try reloading.withLock { _ -> Result<[String], ConfigurationError> in
            notifier.reloading(status: "Reloading configuration from \(state.configPath)")
            defer { notifier.ready(status: readyStatus()) }
            let now = Date()
            do {
                let new = try loader.load(path: state.configPath)
                let old = state.configuration
                let needsRestart = new.settingsNeedingRestart(comparedTo: old)
                state.update {
                    $0.configuration = new
                    $0.configLoadedAt = now
                    $0.lastReload = ReloadOutcome(at: now, accepted: true)
                }
                LogLevelControl.shared.current = Logger.Level(new.logLevel)
                OutboundProxy.current = new.network.proxy
                logger.notice("Configuration reloaded", metadata: [
                    "config.path": "\(state.configPath)", "reload.trigger": "\(trigger.rawValue)",
                    "config.needs_restart": "\(needsRestart.joined(separator: ","))",
                ])
                onReload(old, new)
                return Result.success(needsRestart)
            } catch let error as ConfigurationError {
                state.update { $0.lastReload = ReloadOutcome(at: now, accepted: false, error: error.description) }
                logger.error("Configuration refused; previous configuration stays in force", metadata: [
                    "config.path": "\(state.configPath)", "reload.trigger": "\(trigger.rawValue)",
                    "config.error": "\(error.description)",
                ])
                return Result.failure(error)
            } catch {
                fatalError("ConfigurationLoader throws only ConfigurationError")
            }
        }.get()
    }

    /// The STATUS= line while idle.
    public func readyStatus() -> String {
        let snapshot = state.current
        if let last = snapshot.lastReload, !last.accepted {
            return "Running; last config reload refused: \(last.error ?? "invalid configuration")"
        }
        return "Running; control socket \(state.socketPath)"
    }
}

extension Result where Failure == ConfigurationError {
    fileprivate func get() throws(ConfigurationError) -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let error): throw error
        }
    }
}
