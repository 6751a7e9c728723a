import AIOSCore
import Logging
import Synchronization

/// The daemon-wide log level, changed by a config reload without re-bootstrapping swift-log.
public final class LogLevelControl: Sendable {
    public static let shared = LogLevelControl()
    private let level = Mutex<Logger.Level>(.info)

    public var current: Logger.Level {
        get { level.withLock { $0 } }
        set { level.withLock { $0 = newValue } }
    }
}

/// Wraps a handler so its level follows `LogLevelControl.shared`.
struct ReloadableLevelLogHandler: LogHandler {
    var wrapped: any LogHandler

    var logLevel: Logger.Level {
        get { LogLevelControl.shared.current }
        set { LogLevelControl.shared.current = newValue }
    }

    var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) { wrapped.log(event: event) }
}

extension Logger.Level {
    init(_ level: AgentConfiguration.LogLevel) {
        self = Logger.Level(rawValue: level.rawValue) ?? .info
    }
}
